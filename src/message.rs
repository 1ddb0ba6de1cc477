//! Error text on one line: the SPEC's `error:` line, and reasons from libraries (kube, YAML
//! parsers) whose messages span lines or repeat their causes.

/// Collapses every run of whitespace, newlines included, into one space.
pub fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error and its causes joined with `: `, skipping a cause its parent already quotes.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    fold_whitespace(&text)
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
}
