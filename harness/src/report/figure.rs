//! A rendered chart and the raw data beside it: `charts/NAME.svg` and `charts/NAME.csv`.

/// One chart of the report.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem under `charts/` (`status_storm.agents.p99`).
    pub name: String,
    /// What it shows, one line (the HTML caption and the Markdown link text).
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The data plotted (and a little context), as CSV with a header row.
    pub csv: String,
}

/// A CSV table built row by row; fields are quoted when they need it (RFC 4180).
#[derive(Clone, Debug, Default)]
pub struct Csv {
    text: String,
}

impl Csv {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Csv {
        let mut c = Csv::default();
        c.row(header.iter().map(|s| s.to_string()));
        c
    }

    /// Appends a row.
    pub fn row(&mut self, fields: impl IntoIterator<Item = String>) {
        let line: Vec<String> = fields.into_iter().map(|f| quote(&f)).collect();
        self.text.push_str(&line.join(","));
        self.text.push('\n');
    }

    /// The CSV text.
    pub fn finish(self) -> String {
        self.text
    }
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// A number for CSV: as is, full precision, empty when absent.
pub fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_needed() {
        let mut c = Csv::new(&["a", "b"]);
        c.row(["x,y".to_string(), "say \"hi\"".to_string()]);
        assert_eq!(c.finish(), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }
}
