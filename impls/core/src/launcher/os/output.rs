//! [`LineSplitter`]: turns the bytes of one output stream into [`OutputLine`]s.
//!
//! - A line ends at `\n`; the `\n` (and a `\r` before it) is not part of the text.
//! - A line longer than `max_line_bytes` is split into pieces of at most that many bytes, cut at
//!   a UTF-8 character boundary where there is one; every piece that did not end at a newline
//!   is marked `partial`. So a child that writes without newlines never makes the splitter hold
//!   more than `max_line_bytes` (plus at most one read) of memory.
//! - What is left when the stream ends is delivered as a last, `partial` line.
//! - Invalid UTF-8 is replaced with U+FFFD and the line marked `lossy`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::SystemTime;

use crate::logring::{OutputLine, Stream};

/// Splits one stream's bytes into lines. Holds at most one unfinished line.
#[derive(Debug)]
pub(super) struct LineSplitter {
    stream: Stream,
    max_line_bytes: usize,
    /// The unfinished line: bytes read since the last newline (or cut).
    pending: Vec<u8>,
}

impl LineSplitter {
    /// A splitter for `stream` that cuts lines longer than `max_line_bytes` (at least 4, so that
    /// any UTF-8 character fits in a piece).
    pub(super) fn new(stream: Stream, max_line_bytes: usize) -> Self {
        LineSplitter {
            stream,
            max_line_bytes: max_line_bytes.max(4),
            pending: Vec::new(),
        }
    }

    /// Feeds `data`, read at `at`, calling `emit` for every line it completes.
    pub(super) fn feed(&mut self, data: &[u8], at: SystemTime, emit: &mut impl FnMut(OutputLine)) {
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let (head, tail) = rest.split_at(nl);
            rest = &tail[1..];
            if self.pending.is_empty() {
                self.emit_line(head, at, emit);
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(head);
                self.emit_line(&line, at, emit);
                // Keep the allocation for the next unfinished line.
                line.clear();
                self.pending = line;
            }
        }
        self.pending.extend_from_slice(rest);
        // Without a newline in sight, cut what exceeds the bound now; a line of exactly
        // `max_line_bytes` waits, as its newline may be the next byte.
        let mut start = 0;
        while self.pending.len() - start > self.max_line_bytes {
            let cut = self.cut_point(&self.pending[start..]);
            let piece = &self.pending[start..start + cut];
            emit(make_line(self.stream, piece, at, true));
            start += cut;
        }
        if start > 0 {
            self.pending.drain(..start);
        }
    }

    /// Delivers what is left as a last, partial line (the stream ended without a newline).
    pub(super) fn finish(&mut self, at: SystemTime, emit: &mut impl FnMut(OutputLine)) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            emit(make_line(self.stream, &rest, at, true));
        }
    }

    /// Emits a complete line (its newline already removed), in pieces if it is too long.
    fn emit_line(&self, line: &[u8], at: SystemTime, emit: &mut impl FnMut(OutputLine)) {
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        while line.len() > self.max_line_bytes {
            let cut = self.cut_point(line);
            emit(make_line(self.stream, &line[..cut], at, true));
            line = &line[cut..];
        }
        emit(make_line(self.stream, line, at, false));
    }

    /// Where to cut `bytes` (longer than the bound): at the bound, moved back to the start of a
    /// UTF-8 character if the bound falls inside one (at most 3 bytes back), so that a valid
    /// character is never split into two lossy halves.
    fn cut_point(&self, bytes: &[u8]) -> usize {
        let max = self.max_line_bytes;
        let mut cut = max;
        while cut > max - 3 && is_continuation(bytes[cut]) {
            cut -= 1;
        }
        if is_continuation(bytes[cut]) {
            max
        } else {
            cut
        }
    }
}

/// One output pipe and the splitter that turns its bytes into lines.
#[derive(Debug)]
pub(super) struct Pipe {
    fd: OwnedFd,
    lines: LineSplitter,
}

impl Pipe {
    /// A pipe read end and the splitter for its stream.
    pub(super) fn new(fd: OwnedFd, lines: LineSplitter) -> Self {
        Pipe { fd, lines }
    }

    /// The read end, to poll.
    pub(super) fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Reads once from a ready pipe and feeds the splitter. False at EOF or on a read error, after
    /// delivering the unfinished line: the pipe is done.
    pub(super) fn read_once(&mut self, buf: &mut [u8], emit: &mut impl FnMut(OutputLine)) -> bool {
        // SAFETY: `buf` is valid and writable for `buf.len()` bytes for the whole call; the fd is
        // owned by `self` and open.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match n {
            n if n > 0 => {
                self.lines.feed(&buf[..n as usize], SystemTime::now(), emit);
                true
            }
            0 => {
                self.lines.finish(SystemTime::now(), emit);
                false
            }
            _ => {
                let err = std::io::Error::last_os_error();
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) {
                    return true;
                }
                tracing::warn!(error = %err, "reading a child's output failed; closing the pipe");
                self.lines.finish(SystemTime::now(), emit);
                false
            }
        }
    }

    /// Delivers the unfinished line, if any, as the stream's last (the pipe is being closed).
    pub(super) fn finish(&mut self, at: SystemTime, emit: &mut impl FnMut(OutputLine)) {
        self.lines.finish(at, emit);
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0b1100_0000 == 0b1000_0000
}

fn make_line(stream: Stream, bytes: &[u8], at: SystemTime, partial: bool) -> OutputLine {
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    };
    OutputLine {
        stream,
        text,
        at,
        partial,
        lossy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<(String, bool, bool)> {
        let mut s = LineSplitter::new(Stream::Stdout, max);
        let mut out = Vec::new();
        let now = SystemTime::now();
        let mut emit = |l: OutputLine| out.push((l.text, l.partial, l.lossy));
        for c in chunks {
            s.feed(c, now, &mut emit);
        }
        s.finish(now, &mut emit);
        out
    }

    fn l(text: &str, partial: bool) -> (String, bool, bool) {
        (text.to_owned(), partial, false)
    }

    #[test]
    fn lines_across_reads_and_a_partial_last_line() {
        assert_eq!(
            split(100, &[b"a\nb", b"c\r\n\nlast-without-newline"]),
            vec![
                l("a", false),
                l("bc", false),
                l("", false),
                l("last-without-newline", true)
            ]
        );
    }

    #[test]
    fn long_lines_are_split_and_marked_partial() {
        assert_eq!(
            split(4, &[b"abcdefghij\nxy"]),
            vec![
                l("abcd", true),
                l("efgh", true),
                l("ij", false),
                l("xy", true)
            ]
        );
        // A line of exactly the bound is one complete line, even when its newline comes later.
        assert_eq!(split(4, &[b"abcd", b"\n"]), vec![l("abcd", false)]);
    }

    #[test]
    fn a_flood_without_newlines_never_holds_more_than_the_bound() {
        let mut s = LineSplitter::new(Stream::Stdout, 1000);
        let mut pieces = 0usize;
        let chunk = vec![b'a'; 65536];
        for _ in 0..100 {
            s.feed(&chunk, SystemTime::now(), &mut |line: OutputLine| {
                assert!(line.text.len() <= 1000);
                assert!(line.partial);
                pieces += 1;
            });
            assert!(s.pending.len() <= 1000);
        }
        assert_eq!(pieces, 100 * 65536 / 1000);
    }

    #[test]
    fn cuts_never_split_a_character() {
        // "é" is two bytes; a bound of 5 falls inside the third one.
        let text = "éééé\n".as_bytes();
        let lines = split(5, &[text]);
        assert_eq!(lines, vec![l("éé", true), l("éé", false)]);
    }

    #[test]
    fn invalid_utf8_is_kept_lossily_and_marked() {
        let lines = split(100, &[b"ok\n\xff\xfebad\n"]);
        assert_eq!(lines[0], l("ok", false));
        assert_eq!(lines[1], ("\u{fffd}\u{fffd}bad".to_owned(), false, true));
    }
}
