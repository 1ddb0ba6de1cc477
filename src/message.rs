//! Error text on one line: the SPEC's `error:` line, and reasons from libraries (kube, YAML
//! parsers) whose messages span lines or repeat their causes.

/// Puts text on one line: every run of whitespace that holds a line break or a tab becomes one
/// space, and the ends are trimmed. Runs of plain spaces are kept, so a quoted value the user
/// typed (`--name "  "`) is shown as typed.
pub fn fold_whitespace(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.trim().chars() {
        if c.is_whitespace() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            folded.push_str(if run.chars().all(|c| c == ' ') { &run } else { " " });
            run.clear();
        }
        folded.push(c);
    }
    folded
}

/// Text as a terminal may safely show it: control characters (an ESC that would recolour the
/// terminal, a BEL, a CR that would overwrite the line) and other invisible characters (bidi
/// overrides) escaped as Rust's `{:?}` escapes them; quotes and backslashes left as they are.
/// Every `error:` line goes through this, as it may quote a path or a value the user typed.
pub fn escape_controls(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\'' | '\\' => escaped.push(c),
            c => escaped.extend(c.escape_debug()),
        }
    }
    escaped
}

/// An error and its causes joined with `: `, skipping a cause its parent already quotes, on one
/// line with control characters escaped.
/// YAML errors lose their source snippet: the file may be a kubeconfig, whose lines hold
/// credentials, and the line and column already say where.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = text_of(err);
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = text_of(cause);
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    escape_controls(&fold_whitespace(&text))
}

fn text_of(err: &(dyn std::error::Error + 'static)) -> String {
    // Error types hold it boxed (`#[source] Box<serde_saphyr::Error>`) as often as not.
    let yaml = err
        .downcast_ref::<serde_saphyr::Error>()
        .or_else(|| err.downcast_ref::<Box<serde_saphyr::Error>>().map(|b| &**b));
    match yaml {
        Some(yaml) => yaml.without_snippet().to_string(),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot load {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn causes_are_joined_once_on_one_line() {
        let inner = std::io::Error::other("no such\n  file");
        assert_eq!(one_line(&Outer("x", inner)), "cannot load x: no such file");
        let quoted = std::io::Error::other("x");
        assert_eq!(one_line(&Outer("x", quoted)), "cannot load x", "a cause already quoted is not repeated");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("invalid file")]
    struct Yaml(#[source] Box<serde_saphyr::Error>);

    #[test]
    fn yaml_errors_say_where_without_quoting_the_file() {
        let text = "users:\n- name: u\n  user:\n    token: SECRET-TOKEN\n  oops: : [\n";
        let err = serde_saphyr::from_str::<serde_json::Value>(text).unwrap_err();
        let line = one_line(&Yaml(Box::new(err)));
        assert!(!line.contains("SECRET-TOKEN"), "{line}");
        assert!(line.starts_with("invalid file: "), "{line}");
        assert!(line.ends_with("at line 5, column 9"), "{line}");
    }

    #[test]
    fn line_breaks_fold_and_typed_spaces_stay() {
        assert_eq!(fold_whitespace("  a\n   b\tc  d \r\n"), "a b c  d");
        assert_eq!(one_line(&Outer("\"  \"", std::io::Error::other("must\nnot"))), "cannot load \"  \": must not");
    }

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        let path = std::io::Error::other("no such file");
        let line = one_line(&Outer("/tmp/\u{1b}[31mred\u{7}", path));
        assert_eq!(line, r"cannot load /tmp/\u{1b}[31mred\u{7}: no such file");
        assert_eq!(escape_controls("naïve \"名前\" 'a\\b' \u{202e}x"), r#"naïve "名前" 'a\b' \u{202e}x"#);
    }
}
