//! [`LogRing`]: a bounded, line-aware, drop-oldest buffer of one run's output.
//!
//! Each line gets a sequence number; readers hold a cursor (the next sequence number they want)
//! and resume from it. When the ring is over its line or byte bound it drops its oldest lines and
//! counts them, so a reader whose cursor fell behind learns how many lines it missed.
//! Appending never blocks on a reader and never grows the ring past its bound.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::ProcessError;

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The child's standard output.
    Stdout,
    /// The child's standard error.
    Stderr,
}

/// One line of output as a launcher delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputLine {
    /// Which stream.
    pub stream: Stream,
    /// The text, without its line terminator.
    pub text: String,
    /// When the line was read.
    pub at: SystemTime,
    /// True for a last line that ended without a newline.
    pub partial: bool,
    /// True if invalid UTF-8 was replaced (U+FFFD) to make `text`.
    pub lossy: bool,
}

impl OutputLine {
    /// A complete, valid line read now.
    pub fn new(stream: Stream, text: impl Into<String>) -> Self {
        OutputLine {
            stream,
            text: text.into(),
            at: SystemTime::now(),
            partial: false,
            lossy: false,
        }
    }
}

/// One stored line, with its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Position in the run's output, from 0; never reused.
    pub seq: u64,
    /// Which stream.
    pub stream: Stream,
    /// When it was read.
    pub at: SystemTime,
    /// The text.
    pub text: Arc<str>,
    /// The last line ended without a newline.
    pub partial: bool,
    /// Invalid UTF-8 was replaced.
    pub lossy: bool,
}

/// Bounds of a ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRingConfig {
    /// Most lines kept.
    pub max_lines: usize,
    /// Most bytes of text kept (the sum of line lengths).
    pub max_bytes: usize,
    /// Longer lines are cut to this many bytes (at a character boundary) and marked partial.
    pub max_line_bytes: usize,
}

impl Default for LogRingConfig {
    fn default() -> Self {
        LogRingConfig {
            max_lines: 10_000,
            max_bytes: 4 << 20,
            max_line_bytes: 16 << 10,
        }
    }
}

/// A page of lines read from a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogChunk {
    /// The lines, oldest first.
    pub lines: Vec<LogLine>,
    /// The cursor to pass next time.
    pub next_cursor: u64,
    /// Lines between the caller's cursor and the first line returned that were dropped.
    pub missed: u64,
}

/// The bounded ring itself. Not synchronised: each design guards it its own way.
#[derive(Debug)]
pub struct LogRing {
    config: LogRingConfig,
    lines: VecDeque<LogLine>,
    bytes: usize,
    next_seq: u64,
    dropped: u64,
}

impl LogRing {
    /// An empty ring with these bounds (each bound at least 1).
    pub fn new(config: LogRingConfig) -> Self {
        let config = LogRingConfig {
            max_lines: config.max_lines.max(1),
            max_bytes: config.max_bytes.max(1),
            max_line_bytes: config.max_line_bytes.max(1),
        };
        LogRing {
            config,
            lines: VecDeque::new(),
            bytes: 0,
            next_seq: 0,
            dropped: 0,
        }
    }

    /// Appends a line, dropping the oldest lines to stay in bounds. Returns its sequence number.
    pub fn push(&mut self, line: OutputLine) -> u64 {
        let mut text = line.text;
        let mut partial = line.partial;
        if text.len() > self.config.max_line_bytes {
            let mut cut = self.config.max_line_bytes;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            partial = true;
        }
        let len = text.len();
        while !self.lines.is_empty()
            && (self.lines.len() >= self.config.max_lines
                || self.bytes + len > self.config.max_bytes)
        {
            self.drop_oldest();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += len;
        self.lines.push_back(LogLine {
            seq,
            stream: line.stream,
            at: line.at,
            text: Arc::from(text),
            partial,
            lossy: line.lossy,
        });
        seq
    }

    fn drop_oldest(&mut self) {
        if let Some(old) = self.lines.pop_front() {
            self.bytes -= old.text.len();
            self.dropped += 1;
        }
    }

    /// Lines appended so far (the next sequence number).
    pub fn total(&self) -> u64 {
        self.next_seq
    }

    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lines held now.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of text held now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The sequence number of the oldest line held (== `total()` when empty).
    pub fn first_seq(&self) -> u64 {
        self.lines.front().map_or(self.next_seq, |l| l.seq)
    }

    /// Up to `limit` lines from `cursor` on. A cursor older than the ring reports the gap in
    /// `missed`; a cursor past the end returns nothing and keeps the cursor.
    pub fn tail(&self, cursor: u64, limit: usize) -> LogChunk {
        let first = self.first_seq();
        let start = cursor.max(first);
        let missed = first.saturating_sub(cursor);
        let skip = (start - first) as usize;
        let lines: Vec<LogLine> = self.lines.iter().skip(skip).take(limit).cloned().collect();
        let next_cursor = lines.last().map_or(start.min(self.next_seq), |l| l.seq + 1);
        LogChunk {
            lines,
            next_cursor,
            missed,
        }
    }

    /// The last `limit` lines held.
    pub fn last(&self, limit: usize) -> LogChunk {
        let cursor = self
            .next_seq
            .saturating_sub(limit as u64)
            .max(self.first_seq());
        self.tail(cursor, limit)
    }

    /// Lines matching `matcher`, oldest first, at most `limit`, newest kept when more match.
    pub fn search(&self, matcher: &LogMatcher, limit: usize) -> Vec<LogLine> {
        let mut hits: Vec<LogLine> = self
            .lines
            .iter()
            .rev()
            .filter(|l| matcher.is_match(&l.text))
            .take(limit)
            .cloned()
            .collect();
        hits.reverse();
        hits
    }
}

/// What to search the logs for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// A substring, or a regular expression when `regex` is true.
    pub pattern: String,
    /// Treat `pattern` as a regular expression (Rust `regex` syntax).
    pub regex: bool,
    /// Only this process (by name); all processes when `None`.
    pub name: Option<String>,
    /// Most matches returned (newest kept).
    pub limit: usize,
}

impl LogQuery {
    /// A substring query over every process.
    pub fn substring(pattern: &str, limit: usize) -> Self {
        LogQuery {
            pattern: pattern.to_owned(),
            regex: false,
            name: None,
            limit,
        }
    }

    /// A regex query over every process.
    pub fn regex(pattern: &str, limit: usize) -> Self {
        LogQuery {
            regex: true,
            ..LogQuery::substring(pattern, limit)
        }
    }
}

/// A compiled [`LogQuery`] pattern.
#[derive(Clone, Debug)]
pub enum LogMatcher {
    /// Plain substring.
    Substring(String),
    /// Compiled regex.
    Regex(regex::Regex),
}

/// Longest accepted search pattern, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;

impl LogMatcher {
    /// Compiles a query's pattern; a bad or oversized regex is a [`ProcessError::BadPattern`].
    pub fn new(query: &LogQuery) -> Result<Self, ProcessError> {
        let bad = |reason: String| ProcessError::BadPattern {
            pattern: query.pattern.chars().take(80).collect(),
            reason,
        };
        if query.pattern.is_empty() {
            return Err(bad("the pattern is empty; give text to search for".into()));
        }
        if query.pattern.len() > MAX_PATTERN_LEN {
            return Err(bad(format!(
                "the pattern is {} bytes; use at most {MAX_PATTERN_LEN}",
                query.pattern.len()
            )));
        }
        if query.regex {
            regex::RegexBuilder::new(&query.pattern)
                .size_limit(1 << 20)
                .build()
                .map(LogMatcher::Regex)
                .map_err(|e| bad(format!("{e}; fix the regex or search with regex=false")))
        } else {
            Ok(LogMatcher::Substring(query.pattern.clone()))
        }
    }

    /// True when `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            LogMatcher::Substring(s) => text.contains(s.as_str()),
            LogMatcher::Regex(r) => r.is_match(text),
        }
    }
}

/// One search hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogMatch {
    /// The run whose log matched.
    pub id: crate::ProcessId,
    /// The matching line.
    pub line: LogLine,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(lines: usize, bytes: usize) -> LogRing {
        LogRing::new(LogRingConfig {
            max_lines: lines,
            max_bytes: bytes,
            max_line_bytes: 64,
        })
    }

    fn push(r: &mut LogRing, text: &str) -> u64 {
        r.push(OutputLine::new(Stream::Stdout, text))
    }

    #[test]
    fn drops_oldest_by_count_and_resumes_from_cursor() {
        let mut r = ring(3, 1 << 20);
        for i in 0..5 {
            assert_eq!(push(&mut r, &format!("line {i}")), i);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.dropped(), 2);
        let chunk = r.tail(0, 10);
        assert_eq!(chunk.missed, 2);
        assert_eq!(chunk.lines.first().unwrap().seq, 2);
        assert_eq!(chunk.next_cursor, 5);
        let again = r.tail(chunk.next_cursor, 10);
        assert!(again.lines.is_empty());
        assert_eq!(again.next_cursor, 5);
        assert_eq!(again.missed, 0);
        let page = r.tail(3, 1);
        assert_eq!(page.lines.len(), 1);
        assert_eq!(page.lines[0].text.as_ref(), "line 3");
        assert_eq!(page.next_cursor, 4);
    }

    #[test]
    fn bounded_by_bytes_and_cuts_long_lines() {
        let mut r = ring(1000, 10);
        push(&mut r, "aaaa");
        push(&mut r, "bbbb");
        push(&mut r, "cccc");
        assert!(r.bytes() <= 10);
        assert_eq!(r.dropped(), 1);
        let mut r = ring(10, 1 << 20);
        push(&mut r, &"é".repeat(100));
        let line = &r.tail(0, 1).lines[0];
        assert!(line.partial);
        assert!(line.text.len() <= 64);
    }

    #[test]
    fn cursor_past_end_keeps_position() {
        let mut r = ring(10, 1 << 20);
        push(&mut r, "x");
        let chunk = r.tail(99, 10);
        assert!(chunk.lines.is_empty());
        assert_eq!(chunk.next_cursor, 1);
    }

    #[test]
    fn search_keeps_newest_matches() {
        let mut r = ring(100, 1 << 20);
        for i in 0..10 {
            push(&mut r, &format!("req {i} ok"));
        }
        let m = LogMatcher::new(&LogQuery::substring("ok", 3)).unwrap();
        let hits = r.search(&m, 3);
        assert_eq!(
            hits.iter().map(|l| l.seq).collect::<Vec<_>>(),
            vec![7, 8, 9]
        );
        let m = LogMatcher::new(&LogQuery::regex(r"req [0-2] ", 10)).unwrap();
        assert_eq!(r.search(&m, 10).len(), 3);
        assert!(LogMatcher::new(&LogQuery::regex("(", 1)).is_err());
        assert!(LogMatcher::new(&LogQuery::substring("", 1)).is_err());
    }
}
