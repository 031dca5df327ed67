//! The report as a list of blocks (headings, paragraphs, tables, figure references), built once
//! from the inputs and rendered twice: Markdown (`REPORT.md`) and HTML (`index.html`).

/// A piece of the report.
#[derive(Clone, Debug)]
pub enum Block {
    /// A heading of level 1..=3 and its anchor id.
    Heading(u8, String, String),
    /// A paragraph; `code` in backticks and **bold** are the only markup.
    Para(String),
    /// A bulleted list of such paragraphs.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// Charts, by their names under `charts/`, with captions.
    Figures(Vec<FigureRef>),
}

/// A chart in the report.
#[derive(Clone, Debug)]
pub struct FigureRef {
    /// File stem under `charts/`.
    pub name: String,
    /// One line on what it shows.
    pub caption: String,
}

/// A table: a header row and rows of cells (the same markup as paragraphs).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column titles.
    pub header: Vec<String>,
    /// Right-aligned columns (numbers).
    pub numeric: Vec<bool>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles; a title ending in `>` marks a numeric column (the
    /// marker is dropped).
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header
                .iter()
                .map(|h| h.trim_end_matches('>').to_owned())
                .collect(),
            numeric: header.iter().map(|h| h.ends_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// An anchor id for `text`: lower case, runs of other characters as one `-`.
pub fn anchor(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// A heading block with its anchor.
pub fn heading(level: u8, text: impl Into<String>) -> Block {
    let text = text.into();
    let id = anchor(&text);
    Block::Heading(level, text, id)
}
