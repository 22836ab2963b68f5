//! Fetching CPython's source through Debian's `python3.X` source package.
//!
//! gilscope never hard-codes a mirror: it reads the Debian archive URIs from
//! the system's apt configuration, writes a private `deb-src` list for the
//! release that carries the wanted Python, and lets apt verify the signed
//! index. `apt-get source --print-uris` then names the orig tarball with its
//! SHA-256, which gilscope downloads and checks itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian release whose `python3.X` source package gilscope asks for.
pub fn debian_suite_for(minor_version: &str) -> Option<&'static str> {
    match minor_version {
        "3.13" => Some("trixie"),
        // Only unstable has them (python3.14 3.14.10-1, python3.15 3.15.2-1
        // on 2026-11-30); its pool answered 404 for their orig tarballs.
        "3.14" | "3.15" => Some("sid"),
        _ => None,
    }
}

/// Seconds apt waits on a silent mirror (connect, each read) before it gives
/// up, so a blocked or unreachable archive fails an install in seconds.
const APT_TIMEOUT_SECS: u32 = 10;

/// Debian's archive keyring, used when a source entry names none.
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Debian release names that mark an entry as the Debian archive.
const DEBIAN_SUITES: [&str; 11] = [
    "buster",
    "bullseye",
    "bookworm",
    "trixie",
    "forky",
    "duke",
    "sid",
    "stable",
    "testing",
    "unstable",
    "oldstable",
];

/// One archive entry of the system's apt configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    pub uri: String,
    pub signed_by: Option<String>,
}

/// Parses deb822 `.sources` text, keeping Debian archive entries.
pub fn parse_deb822(text: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut types = "";
        let mut uris = "";
        let mut suites = "";
        let mut signed_by = None;
        let mut enabled = true;
        for line in para.lines() {
            if line.starts_with('#') || line.starts_with(' ') || line.starts_with('\t') {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "types" => types = value,
                "uris" => uris = value,
                "suites" => suites = value,
                "signed-by" => signed_by = Some(value.to_string()).filter(|v| v.starts_with('/')),
                "enabled" => enabled = value != "no",
                _ => {}
            }
        }
        if !enabled
            || !types
                .split_whitespace()
                .any(|t| t == "deb" || t == "deb-src")
        {
            continue;
        }
        if !suites.split_whitespace().any(is_debian_suite) {
            continue;
        }
        for uri in uris.split_whitespace() {
            out.push(AptSource {
                uri: uri.to_string(),
                signed_by: signed_by.clone(),
            });
        }
    }
    out
}

/// Parses one-line-style `.list` text, keeping Debian archive entries.
pub fn parse_list(text: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut rest = match line.split_once(char::is_whitespace) {
            Some(("deb" | "deb-src", rest)) => rest.trim(),
            _ => continue,
        };
        let mut signed_by = None;
        if let Some(opts) = rest.strip_prefix('[') {
            let Some((opts, after)) = opts.split_once(']') else {
                continue;
            };
            signed_by = opts
                .split_whitespace()
                .find_map(|o| o.strip_prefix("signed-by="))
                .map(str::to_string);
            rest = after.trim();
        }
        let mut words = rest.split_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        if is_debian_suite(suite) {
            out.push(AptSource {
                uri: uri.to_string(),
                signed_by,
            });
        }
    }
    out
}

/// `bookworm` and `bookworm-updates` are; `bookworm-security` is not (that
/// archive carries no other release's packages).
fn is_debian_suite(suite: &str) -> bool {
    let base = suite.split('-').next().unwrap_or(suite);
    !suite.ends_with("-security") && DEBIAN_SUITES.contains(&base)
}

/// Reads the Debian archive URIs from `/etc/apt` (deduplicated, in order).
pub fn system_sources(etc_apt: &Path) -> Vec<AptSource> {
    let mut found = Vec::new();
    if let Ok(text) = std::fs::read_to_string(etc_apt.join("sources.list")) {
        found.extend(parse_list(&text));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(etc_apt.join("sources.list.d"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => found.extend(parse_deb822(&text)),
            Some("list") => found.extend(parse_list(&text)),
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|s| seen.insert(s.uri.clone()));
    found
}

/// The orig tarball of a source package, as apt names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrigTarball {
    pub url: String,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    /// Upstream version, from the file name (`python3.13_3.13.5.orig.tar.xz`).
    pub version: String,
}

/// Finds the `.orig.tar.*` line in `apt-get source --print-uris` output:
/// `'URL' NAME SIZE SHA256:HEX`.
pub fn parse_print_uris(output: &str) -> Option<OrigTarball> {
    output.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        let url = words.next()?.trim_matches('\'').to_string();
        let file_name = words.next()?.to_string();
        let size = words.next()?.parse().ok()?;
        let sha256 = words.next()?.strip_prefix("SHA256:")?.to_ascii_lowercase();
        let (_, after) = file_name.split_once('_')?;
        let (version, ext) = after.split_once(".orig.tar.")?;
        if ext.ends_with(".asc") || ext.contains('.') {
            return None;
        }
        let version = version.to_string();
        Some(OrigTarball {
            url,
            file_name,
            size,
            sha256,
            version,
        })
    })
}

/// A private apt setup in `dir` that can see `suite`'s sources.
pub struct PrivateApt {
    dir: PathBuf,
    uris: Vec<String>,
}

impl PrivateApt {
    /// Writes the `deb-src` list for `suite` from the system's Debian URIs.
    pub fn new(dir: &Path, suite: &str) -> Result<Self, String> {
        let sources = system_sources(Path::new("/etc/apt"));
        if sources.is_empty() {
            return Err("no Debian archive found in /etc/apt (not a Debian system?)".into());
        }
        std::fs::create_dir_all(dir.join("lists/partial"))
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut list = String::new();
        for src in &sources {
            let key = src.signed_by.clone().or_else(|| {
                Path::new(DEBIAN_KEYRING)
                    .exists()
                    .then(|| DEBIAN_KEYRING.to_string())
            });
            match key {
                Some(key) => list.push_str(&format!(
                    "deb-src [signed-by={key}] {} {suite} main\n",
                    src.uri
                )),
                None => list.push_str(&format!("deb-src {} {suite} main\n", src.uri)),
            }
        }
        std::fs::write(dir.join("sources.list"), list)
            .map_err(|e| format!("cannot write {}: {e}", dir.join("sources.list").display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            uris: sources.into_iter().map(|s| s.uri).collect(),
        })
    }

    /// The archive URIs the private list names.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// `apt-get` with the private list and state.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("apt-get");
        cmd.arg("-q")
            .arg("-o")
            .arg(format!(
                "Dir::Etc::SourceList={}",
                self.dir.join("sources.list").display()
            ))
            .args(["-o", "Dir::Etc::SourceParts=/dev/null"])
            .arg("-o")
            .arg(format!(
                "Dir::State::Lists={}",
                self.dir.join("lists").display()
            ))
            .arg("-o")
            .arg(format!("Acquire::http::Timeout={APT_TIMEOUT_SECS}"))
            .arg("-o")
            .arg(format!("Acquire::https::Timeout={APT_TIMEOUT_SECS}"))
            .args(["-o", "Acquire::Retries=0"])
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_keeps_debian_archives_only() {
        let text = "Types: deb\n# mirror comment\nURIs: http://deb.example.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.example.org/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n\nTypes: deb\nURIs: http://off.example.org/debian\nSuites: bookworm\nEnabled: no\n";
        assert_eq!(
            parse_deb822(text),
            [AptSource {
                uri: "http://deb.example.org/debian".into(),
                signed_by: Some("/usr/share/keyrings/debian-archive-keyring.gpg".into()),
            }]
        );
    }

    #[test]
    fn list_lines_with_options() {
        let text = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\ndeb http://m2.example/debian-security bookworm-security main\ndeb https://packages.example.com/apt cloud-sdk main\ndeb-src http://m3.example/debian sid main contrib\n";
        assert_eq!(
            parse_list(text),
            [
                AptSource {
                    uri: "http://m.example/debian".into(),
                    signed_by: Some("/k.gpg".into())
                },
                AptSource {
                    uri: "http://m3.example/debian".into(),
                    signed_by: None
                },
            ]
        );
    }

    #[test]
    fn print_uris_finds_the_orig_tarball() {
        let out = "Need to get 23.2 MB of source archives.\n'http://m.example/debian/pool/main/p/python3.13/python3.13_3.13.5-2%2bdeb13u5.dsc' python3.13_3.13.5-2+deb13u5.dsc 4298 SHA256:4be84e20fb902354fa86955e2fbea6e8bdbd158f54833423488308a9b3532662\n'http://m.example/debian/pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz' python3.13_3.13.5.orig.tar.xz 22856016 SHA256:93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640\n'http://m.example/debian/pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz.asc' python3.13_3.13.5.orig.tar.xz.asc 963 SHA256:da6e013d98dcf8fc6696cdb2872b0051fc8fdeb632f73ef9f54d7b5a68647401\n";
        let orig = parse_print_uris(out).unwrap();
        assert_eq!(
            orig.url,
            "http://m.example/debian/pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz"
        );
        assert_eq!(orig.version, "3.13.5");
        assert_eq!(orig.size, 22856016);
        assert_eq!(
            orig.sha256,
            "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"
        );
    }

    #[test]
    fn this_machine_has_a_debian_archive() {
        // The project's machines are Debian; this keeps the parser honest
        // against the real configuration.
        if Path::new("/etc/debian_version").exists() {
            assert!(!system_sources(Path::new("/etc/apt")).is_empty());
        }
    }
}
