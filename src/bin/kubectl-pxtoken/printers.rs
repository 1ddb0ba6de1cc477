//! kubectl's printers for listings that stream: the table of `kubectl get` and the `List` of
//! `-o json|yaml`, written as rows arrive so memory stays flat however many there are.

use std::io::{self, Write};

use serde::Serialize;

/// Rows held before a block is aligned and written: kubectl aligns the rows of one chunk
/// (`--chunk-size` 500) at a time, too.
const BLOCK: usize = 500;
/// kubectl's tabwriter: three spaces between columns, a column at least six wide.
const PADDING: usize = 3;
const MIN_WIDTH: usize = 6;

/// A `kubectl get` table: columns padded to the widest cell seen so far, written a block of
/// rows at a time. Widths only grow, so later blocks stay aligned with earlier ones unless a
/// cell is wider than any before it.
pub struct Table<W: Write> {
    out: W,
    widths: Vec<usize>,
    pending: Vec<Vec<String>>,
}

impl<W: Write> Table<W> {
    /// A table with `headers` as its first row.
    pub fn new(out: W, headers: &[&str]) -> Table<W> {
        let header = headers.iter().map(|h| h.to_string()).collect();
        Table { out, widths: vec![0; headers.len()], pending: vec![header] }
    }

    pub fn row(&mut self, cells: Vec<String>) -> io::Result<()> {
        self.pending.push(cells);
        if self.pending.len() >= BLOCK { self.flush() } else { Ok(()) }
    }

    /// Writes the rows held; call once at the end.
    pub fn flush(&mut self) -> io::Result<()> {
        for row in &self.pending {
            for (width, cell) in self.widths.iter_mut().zip(row) {
                *width = (*width).max((cell.chars().count() + PADDING).max(MIN_WIDTH));
            }
        }
        for row in self.pending.drain(..) {
            let mut line = String::new();
            let last = row.len().saturating_sub(1);
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i < last {
                    let pad = self.widths[i].saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }
}

/// `-o json|yaml` of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// A kubectl `List` (`apiVersion: v1`, `kind: List`, `items`), each item written as it comes,
/// byte for byte the layout `kubectl get -o json|yaml` prints.
pub struct ListWriter<W: Write> {
    out: W,
    format: Format,
    items: usize,
}

impl<W: Write> ListWriter<W> {
    pub fn begin(mut out: W, format: Format) -> io::Result<ListWriter<W>> {
        match format {
            Format::Json => write!(out, "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [")?,
            Format::Yaml => writeln!(out, "apiVersion: v1")?,
        }
        Ok(ListWriter { out, format, items: 0 })
    }

    pub fn item<T: Serialize>(&mut self, item: &T) -> anyhow::Result<()> {
        match self.format {
            Format::Json => {
                let text = json_pretty(item)?;
                let separator = if self.items == 0 { "\n" } else { ",\n" };
                let mut indented = String::with_capacity(text.len() + separator.len());
                indented.push_str(separator);
                for (i, line) in text.lines().enumerate() {
                    indented.push_str(if i == 0 { "        " } else { "\n        " });
                    indented.push_str(line);
                }
                self.out.write_all(indented.as_bytes())?;
            }
            Format::Yaml => {
                if self.items == 0 {
                    writeln!(self.out, "items:")?;
                }
                let text = serde_saphyr::to_string(item)?;
                let mut indented = String::with_capacity(text.len() + 16);
                for (i, line) in text.lines().enumerate() {
                    indented.push_str(if i == 0 { "- " } else { "  " });
                    indented.push_str(line);
                    indented.push('\n');
                }
                self.out.write_all(indented.as_bytes())?;
            }
        }
        self.items += 1;
        Ok(())
    }

    pub fn end(mut self) -> io::Result<()> {
        let tail = "\"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n";
        match (self.format, self.items) {
            (Format::Json, 0) => write!(self.out, "],\n    {tail}")?,
            (Format::Json, _) => write!(self.out, "\n    ],\n    {tail}")?,
            (Format::Yaml, n) => {
                if n == 0 {
                    writeln!(self.out, "items: []")?;
                }
                write!(self.out, "kind: List\nmetadata:\n  resourceVersion: \"\"\n")?;
            }
        }
        self.out.flush()
    }
}

/// JSON as kubectl prints it: pretty, four spaces a level.
pub fn json_pretty<T: Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, formatter))?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Time-independent checks of the layouts against what kubectl prints.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(format: Format, items: &[serde_json::Value]) -> String {
        let mut out = Vec::new();
        let mut list = ListWriter::begin(&mut out, format).unwrap();
        for item in items {
            list.item(item).unwrap();
        }
        list.end().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn empty_lists_read_as_kubectls() {
        // `kubectl get secrets -n empty -o json` and `-o yaml`.
        let json = "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n";
        assert_eq!(list(Format::Json, &[]), json);
        assert_eq!(
            list(Format::Yaml, &[]),
            "apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"
        );
    }

    #[test]
    fn items_are_indented_as_kubectl_does_and_parse_back() {
        let items = [json!({"a": 1, "b": {"c": [1, 2]}}), json!({"a": 2})];
        let text = list(Format::Json, &items);
        assert!(text.contains("    \"items\": [\n        {\n            \"a\": 1,\n"), "{text}");
        assert!(text.contains("        },\n        {\n            \"a\": 2\n        }\n    ],\n"), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["items"], json!(items));
        let yaml = list(Format::Yaml, &items);
        assert!(yaml.starts_with("apiVersion: v1\nitems:\n- a: 1\n  b:\n"), "{yaml}");
        let parsed: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!((parsed["kind"].as_str(), &parsed["items"]), (Some("List"), &json!(items)));
    }

    #[test]
    fn tables_pad_like_kubectls_tabwriter_a_block_at_a_time() {
        let mut out = Vec::new();
        let mut table = Table::new(&mut out, &["NAMESPACE", "NAME", "STATUS"]);
        table.row(vec!["team-a".into(), "px".into(), "valid".into()]).unwrap();
        table.row(vec!["b".into(), "px-k8s-user".into(), "expired".into()]).unwrap();
        table.flush().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "NAMESPACE   NAME          STATUS\nteam-a      px            valid\nb           px-k8s-user   expired\n"
        );
        let mut out = Vec::new();
        let mut table = Table::new(&mut out, &["A", "B"]);
        for i in 0..BLOCK + 1 {
            table.row(vec![if i == BLOCK { "wider-than-before".into() } else { "x".into() }, "y".into()]).unwrap();
        }
        assert_eq!(String::from_utf8_lossy(&table.out[..]).lines().count(), BLOCK, "a full block is written at once");
        table.flush().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("A     B\nx     y\n"), "at least six wide: {text}");
        assert!(text.ends_with("wider-than-before   y\n"), "{text}");
    }
}
