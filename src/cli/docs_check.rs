//! The docs keep their promises: every `gilscope …` command quoted in
//! README.md and `docs/*.md` parses with the real [`Cli`], the README stays
//! a front door (≤ 250 lines, the test command CI runs), and every
//! relative link in them points at a file that exists.
//!
//! The files are read at run time from the crate's folder, so a page added
//! later is checked without touching this test. What counts as a quoted
//! command (written down in `docs/README.md`):
//!
//! * a fenced block marked `sh` holds commands, one a line: `\` at the end
//!   joins the next line, `#` starts a comment;
//! * a fenced block marked `console` is a transcript: only lines starting
//!   with `$ ` are commands, the rest is their output;
//! * in both, `&&`, `||`, `;` and `|` separate commands, and a command is
//!   checked when it runs gilscope: `gilscope …`, `…/gilscope …`,
//!   `uvx gilscope …`, `cargo run [--release] -- …`, after any `VAR=value`
//!   words, `sudo` or `xvfb-run -a`;
//! * a command holding a placeholder — a word with `<…>`, `$VAR` or `$(…)`
//!   — is counted as skipped, not checked;
//! * other blocks (` ```text `, unmarked) are not checked.

use super::Cli;
use clap::Parser;
use clap::error::ErrorKind;
use std::path::{Path, PathBuf};

/// The README's most lines: the front door, not the manual.
const README_MAX_LINES: usize = 250;

/// A command found in a doc, where it was.
#[derive(Debug)]
struct Quoted {
    file: String,
    line: usize,
    text: String,
}

/// A shell word, or an operator between commands.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `docs/*.md`, sorted.
fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    files.extend(docs);
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The commands of the `sh` and `console` blocks of one file.
fn quoted_commands(file: &str, text: &str) -> Vec<Quoted> {
    #[derive(PartialEq)]
    enum Block {
        None,
        Sh,
        Console,
        Other,
    }
    let mut out = Vec::new();
    let mut block = Block::None;
    let mut pending: Option<Quoted> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if let Some(info) = line.trim_start().strip_prefix("```") {
            block = match (&block, info.trim()) {
                (Block::None, "sh") => Block::Sh,
                (Block::None, "console") => Block::Console,
                (Block::None, _) => Block::Other,
                _ => Block::None,
            };
            if let Some(q) = pending.take() {
                out.push(q);
            }
            continue;
        }
        let command = match (&block, &mut pending) {
            (Block::Sh | Block::Console, Some(q)) => {
                q.text.push(' ');
                q.text.push_str(line.trim());
                None
            }
            (Block::Sh, None) => Some(line.trim()),
            (Block::Console, None) => line.strip_prefix("$ "),
            _ => None,
        };
        if let Some(command) = command {
            pending = Some(Quoted {
                file: file.to_string(),
                line: i + 1,
                text: command.to_string(),
            });
        }
        // A line ending in `\` goes on; any other ends the command.
        if let Some(q) = &mut pending
            && !q.text.ends_with('\\')
        {
            out.extend(pending.take());
        } else if let Some(q) = &mut pending {
            q.text.pop();
        }
    }
    out.extend(pending);
    out
}

/// Splits a command line as sh would (quotes, backslashes, `#` comments,
/// the operators `&&`, `||`, `;`, `|`), without expanding anything.
fn split(line: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unclosed '".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("unclosed \"".into()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("unclosed \"".into()),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.next());
            }
            '#' if word.is_none() => break,
            c if c.is_whitespace() => tokens.extend(word.take().map(Token::Word)),
            '&' | '|' | ';' => {
                tokens.extend(word.take().map(Token::Word));
                if (c == '&' || c == '|') && chars.peek() == Some(&c) {
                    chars.next();
                } else if c == '&' {
                    return Err("a command sent to the background (&)".into());
                }
                tokens.push(Token::Op);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    tokens.extend(word.map(Token::Word));
    Ok(tokens)
}

/// The arguments gilscope gets from one command (its name first), or
/// `None` when the command runs something else.
fn gilscope_args(words: &[String]) -> Option<Vec<String>> {
    let mut rest = words;
    loop {
        match rest {
            [w, tail @ ..] if is_assignment(w) || w == "sudo" => rest = tail,
            [w, flag, tail @ ..] if w == "xvfb-run" && flag == "-a" => rest = tail,
            [w, tail @ ..] if w == "xvfb-run" => rest = tail,
            _ => break,
        }
    }
    let args = match rest {
        [uvx, name, tail @ ..] if uvx == "uvx" && name == "gilscope" => tail,
        [cargo, run, tail @ ..] if cargo == "cargo" && run == "run" => {
            let dashes = tail.iter().position(|w| w == "--")?;
            &tail[dashes + 1..]
        }
        [program, tail @ ..] if program == "gilscope" || program.ends_with("/gilscope") => tail,
        _ => return None,
    };
    let mut argv = vec!["gilscope".to_string()];
    argv.extend(args.iter().cloned());
    Some(argv)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// A word the reader fills in: `<pid>`, `$PID`, `$(pgrep …)`.
fn is_placeholder(word: &str) -> bool {
    (word.contains('<') && word.contains('>')) || word.contains('$')
}

/// What became of one doc's command.
enum Checked {
    Parsed,
    Skipped,
    Failed(String),
}

fn check(args: &[String]) -> Checked {
    if args.iter().any(|w| is_placeholder(w)) {
        return Checked::Skipped;
    }
    match Cli::try_parse_from(args) {
        Ok(_) => Checked::Parsed,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Checked::Parsed
        }
        Err(e) => Checked::Failed(e.to_string()),
    }
}

#[test]
fn every_command_quoted_in_the_docs_parses() {
    let mut parsed = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for path in doc_files() {
        let file = shown(&path);
        for quoted in quoted_commands(&file, &read(&path)) {
            let at = format!("{}:{}", quoted.file, quoted.line);
            let tokens = match split(&quoted.text) {
                Ok(tokens) => tokens,
                Err(e) => {
                    failures.push(format!("{at}: cannot split `{}`: {e}", quoted.text));
                    continue;
                }
            };
            let commands = tokens.split(|t| *t == Token::Op).map(|words| {
                words
                    .iter()
                    .filter_map(|t| match t {
                        Token::Word(w) => Some(w.clone()),
                        Token::Op => None,
                    })
                    .collect::<Vec<_>>()
            });
            for args in commands.filter_map(|words| gilscope_args(&words)) {
                match check(&args) {
                    Checked::Parsed => parsed += 1,
                    Checked::Skipped => skipped.push(format!("{at}: {}", args.join(" "))),
                    Checked::Failed(e) => {
                        failures.push(format!("{at}: `{}`\n{e}", args.join(" ")));
                    }
                }
            }
        }
    }
    eprintln!(
        "{parsed} quoted commands parse; {} skipped (placeholders):",
        skipped.len()
    );
    for s in &skipped {
        eprintln!("  {s}");
    }
    assert!(
        failures.is_empty(),
        "commands in the docs that gilscope no longer takes (fix the doc, or the CLI):\n\n{}",
        failures.join("\n")
    );
    // The docs quote dozens; a handful means the blocks were not found.
    assert!(
        parsed >= 20,
        "only {parsed} gilscope commands found in ```sh / ```console blocks"
    );
}

#[test]
fn the_readme_is_a_front_door_with_the_test_command() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, at most {README_MAX_LINES}: move the detail to a page of docs/"
    );
    // `.ci/run` runs the README's test command.
    assert!(
        readme.contains("scripts/test"),
        "README.md no longer names scripts/test, the test command .ci/run runs"
    );
    assert!(
        readme.contains("](assets/race.gif)"),
        "README.md no longer shows the race animation (assets/race.gif)"
    );
}

/// The targets of `[text](target)` and `![alt](target)` in one line.
fn link_targets(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &line[at + 2..];
            rest.find(')').map(|end| rest[..end].trim())
        })
        .collect()
}

#[test]
fn every_relative_link_in_the_docs_points_at_a_file() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for path in doc_files() {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut in_code = false;
        for (i, line) in read(&path).lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for target in link_targets(line) {
                let file = target.split('#').next().unwrap_or_default();
                if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                if !dir.join(file).exists() {
                    broken.push(format!("{}:{}: {target}", shown(&path), i + 1));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to files that do not exist:\n{}",
        broken.join("\n")
    );
    assert!(checked > 0, "no relative links found: is the README there?");
}

#[test]
fn the_splitter_reads_sh_as_sh() {
    let words = |s: &str| -> Vec<String> {
        split(s)
            .unwrap_or_default()
            .into_iter()
            .map(|t| match t {
                Token::Word(w) => w,
                Token::Op => "<op>".into(),
            })
            .collect()
    };
    assert_eq!(
        words(r#"gilscope run -p 'a b' -p "c \"d\"" e\ f # comment"#),
        ["gilscope", "run", "-p", "a b", "-p", "c \"d\"", "e f"]
    );
    assert_eq!(
        words("a && b | c; d"),
        ["a", "<op>", "b", "<op>", "c", "<op>", "d"]
    );
    assert_eq!(words("x=a#b"), ["x=a#b"]);
    assert!(split("gilscope 'open").is_err());
}

#[test]
fn commands_are_found_in_sh_and_console_blocks_only() {
    let doc = "```sh\n# a comment\ngilscope demo \\\n  --seconds 2\n```\n\
               ```console\n$ gilscope pythons list\ngilscope output line\n```\n\
               ```\ngilscope not --checked\n```\n";
    let found: Vec<(usize, String)> = quoted_commands("x.md", doc)
        .into_iter()
        .map(|q| (q.line, q.text))
        .collect();
    let texts: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "# a comment",
            "gilscope demo  --seconds 2",
            "gilscope pythons list"
        ]
    );
    assert_eq!(found[1].0, 3);
    let argv = |s: &str| {
        let words: Vec<String> = s.split(' ').map(String::from).collect();
        gilscope_args(&words)
    };
    assert_eq!(
        argv("cargo run --release -- demo"),
        Some(vec!["gilscope".into(), "demo".into()])
    );
    assert_eq!(
        argv("GILSCOPE_PICTURE=0 xvfb-run -a target/release/gilscope gui"),
        Some(vec!["gilscope".into(), "gui".into()])
    );
    assert_eq!(argv("scripts/test"), None);
    assert!(matches!(
        check(&["gilscope".into(), "--help".into()]),
        Checked::Parsed
    ));
    assert!(matches!(
        check(&["gilscope".into(), "run".into(), "--no-such-flag".into()]),
        Checked::Failed(_)
    ));
    assert!(matches!(
        check(&["gilscope".into(), "attach".into(), "<pid>".into()]),
        Checked::Skipped
    ));
}
