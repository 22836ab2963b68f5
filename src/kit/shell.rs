//! Typed arguments split like a shell would, without running one: the
//! app's script arguments and the commands quoted in the docs.

/// Splits typed arguments like a shell would (whitespace separates, '…'
/// and "…" group, a backslash escapes the next character), without
/// running one.
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("arguments: a {q} is not closed"));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn splits_like_a_shell_without_one() {
        assert_eq!(
            split_args(r#"300000 "two words" 'it''s' a\ b "" $HOME"#).unwrap(),
            vec!["300000", "two words", "its", "a b", "", "$HOME"]
        );
        assert!(split_args("\"open").unwrap_err().contains("not closed"));
    }
}
