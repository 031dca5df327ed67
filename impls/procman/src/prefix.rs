//! Name-prefixed output for `procman up`: `web    | line`, coloured per process on a terminal.

use std::io::{self, Write};

/// The name procman's own messages are prefixed with.
pub const SYSTEM: &str = "system";

/// Colours given to processes in turn (ANSI foreground codes; red is kept for failures).
const PALETTE: [u8; 6] = [36, 33, 32, 35, 34, 96];
const RED: u8 = 31;

/// Formats prefixed lines for a fixed set of names.
#[derive(Clone, Debug)]
pub struct Painter {
    width: usize,
    color: bool,
}

/// How a message from procman itself looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Ordinary news (started, stopped).
    Info,
    /// Something failed.
    Failure,
}

impl Painter {
    /// A painter for `names`, with ANSI colour when `color`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>, color: bool) -> Self {
        let width = names
            .into_iter()
            .map(|n| n.chars().count())
            .chain([SYSTEM.len()])
            .max()
            .unwrap_or(0);
        Painter { width, color }
    }

    /// Writes one output line of the process at `index` (its position among the names).
    pub fn line(
        &self,
        out: &mut impl Write,
        index: usize,
        name: &str,
        text: &str,
    ) -> io::Result<()> {
        let code = PALETTE[index % PALETTE.len()];
        self.prefix(out, name, code)?;
        writeln!(out, "{}", strip_control(text))
    }

    /// Writes a message from procman itself.
    pub fn system(&self, out: &mut impl Write, tone: Tone, message: &str) -> io::Result<()> {
        let code = match tone {
            Tone::Info => 1,
            Tone::Failure => RED,
        };
        self.prefix(out, SYSTEM, code)?;
        writeln!(out, "{message}")
    }

    fn prefix(&self, out: &mut impl Write, name: &str, code: u8) -> io::Result<()> {
        let pad = self.width.saturating_sub(name.chars().count());
        if self.color {
            write!(out, "\x1b[{code}m{name}{:pad$} |\x1b[0m ", "")
        } else {
            write!(out, "{name}{:pad$} | ", "")
        }
    }
}

/// The line without carriage returns and other C0 controls except tab and ESC, so that a
/// child's progress bars cannot overwrite other processes' lines. ESC stays: children that
/// colour their own output keep their colours.
fn strip_control(text: &str) -> std::borrow::Cow<'_, str> {
    if text
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\x1b')
    {
        text.chars()
            .filter(|c| !c.is_control() || *c == '\t' || *c == '\x1b')
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Whether to colour: stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn want_color() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_names_and_colours_only_when_asked() {
        let plain = Painter::new(["web", "worker-long"], false);
        let mut out = Vec::new();
        plain.line(&mut out, 0, "web", "hello\r").unwrap();
        plain.system(&mut out, Tone::Info, "web started").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "web         | hello\nsystem      | web started\n"
        );
        let coloured = Painter::new(["web"], true);
        let mut out = Vec::new();
        coloured.line(&mut out, 1, "web", "x").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[33mweb    |\x1b[0m x\n"
        );
    }
}
