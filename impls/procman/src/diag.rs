//! Diagnostics for agents: the error block in a run's output, the URLs it printed, the TCP
//! ports its processes listen on, and who holds a port a run could not bind.
//!
//! Everything here reads `/proc` (Linux): `/proc/net/tcp` and `/proc/net/tcp6` for listening
//! sockets, `/proc/<pid>/fd` to tie a socket to a process.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regex::Regex;

/// Most URLs remembered per run.
pub const MAX_URLS: usize = 8;
/// Most lines an error block holds.
pub const MAX_BLOCK: usize = 40;
/// How far back from the end of a run's output an error block may start, in lines.
const BLOCK_WINDOW: usize = 80;

fn ansi() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07").expect("valid"))
}

fn url() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"https?://[^\s'"<>()\[\]{}`]+"#).expect("valid"))
}

fn error_start() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)(panicked at|^traceback \(most recent call last\)|^\s*(error|fatal)(\[\w+\])?\s*[:!]|\b\w*(error|exception)\b:|\beaddrinuse\b|address already in use|^\s*at .+:\d+)",
        )
        .expect("valid")
    })
}

fn addr_in_use() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(eaddrinuse|address already in use|port \d+ is (already )?in use)")
            .expect("valid")
    })
}

fn port_number() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)(?:port\s*|:)(\d{2,5})\b").expect("valid"))
}

/// `text` without terminal escape sequences (colours, hyperlinks).
pub fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\x1b') {
        ansi().replace_all(text, "")
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The URLs in one line of output (terminal escapes removed first; a trailing `.` or `,`
/// belongs to the sentence, not the URL).
pub fn urls_in(text: &str) -> Vec<String> {
    if !text.contains("://") {
        return Vec::new();
    }
    let plain = strip_ansi(text);
    url()
        .find_iter(&plain)
        .map(|m| m.as_str().trim_end_matches(['.', ',', ';', ':']).to_owned())
        .collect()
}

/// The error block of a run's last lines: from the first line in the last [`BLOCK_WINDOW`]
/// that looks like the start of an error (a panic, a traceback, `error:` / `Error:` lines,
/// EADDRINUSE, a stack frame), up to [`MAX_BLOCK`] lines. Empty when nothing looks like one.
pub fn error_block(lines: &[String]) -> Vec<String> {
    let from = lines.len().saturating_sub(BLOCK_WINDOW);
    let Some(start) = (from..lines.len()).find(|&i| error_start().is_match(&strip_ansi(&lines[i])))
    else {
        return Vec::new();
    };
    lines[start..lines.len().min(start + MAX_BLOCK)]
        .iter()
        .map(|l| strip_ansi(l).into_owned())
        .collect()
}

/// The port a line reports as already in use, if it reports one.
pub fn port_in_use(text: &str) -> Option<u16> {
    let plain = strip_ansi(text);
    if !addr_in_use().is_match(&plain) {
        return None;
    }
    port_number()
        .captures_iter(&plain)
        .filter_map(|c| c[1].parse::<u16>().ok())
        .find(|&p| p > 0)
}

/// Parses `since`: an RFC 3339 time (`2025-01-31T23:59:07Z`, fractions and offsets allowed)
/// or a duration back from now (`90s`, `5m`, `2h`, `1500ms`).
pub fn parse_since(since: &str, now: SystemTime) -> Result<SystemTime, String> {
    let s = since.trim();
    let units: [(&str, u64); 4] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
    for (unit, ms) in units {
        if let Some(n) = s.strip_suffix(unit)
            && let Ok(n) = n.trim().parse::<u64>()
        {
            return Ok(now
                .checked_sub(Duration::from_millis(n.saturating_mul(ms)))
                .unwrap_or(UNIX_EPOCH));
        }
    }
    parse_rfc3339(s).ok_or_else(|| {
        format!(
            "since {since:?} is neither an RFC 3339 time (2025-01-31T23:59:07Z) nor a duration \
             back from now (90s, 5m, 2h, 1500ms)"
        )
    })
}

fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, u32, u32) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let mut t = time.split(':');
    let (h, min): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let sec_text = t.next()?;
    let (whole, frac) = sec_text.split_once('.').unwrap_or((sec_text, ""));
    let sec: i64 = whole.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").get(..9)?.parse().ok()?
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, m, day);
    let secs = days * 86_400 + h * 3600 + min * 60 + sec - offset_secs;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The processes of the run led by `leader`: its descendants (by parent, and the groups and
/// sessions they lead) and the processes carrying its `PROCMAN_RUN` marker.
pub fn run_pids(leader: u32) -> Vec<u32> {
    let leader = leader as i32;
    let Ok(all) = procman_core::launcher::os::procfs::processes() else {
        return vec![leader as u32];
    };
    let marker = fs::read(format!("/proc/{leader}/environ"))
        .ok()
        .and_then(|env| {
            env.split(|&b| b == 0)
                .find(|kv| kv.starts_with(b"PROCMAN_RUN="))
                .map(<[u8]>::to_vec)
        });
    let mut ours: HashSet<i32> = HashSet::from([leader]);
    if let Some(marker) = &marker {
        for p in &all {
            if fs::read(format!("/proc/{}/environ", p.pid))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|kv| kv == marker.as_slice()))
            {
                ours.insert(p.pid);
            }
        }
    }
    loop {
        let before = ours.len();
        for p in &all {
            if ours.contains(&p.ppid) || ours.contains(&p.pgid) || ours.contains(&p.session) {
                ours.insert(p.pid);
            }
        }
        if ours.len() == before {
            break;
        }
    }
    let me = std::process::id() as i32;
    let mut pids: Vec<u32> = ours
        .into_iter()
        .filter(|&p| p != me)
        .map(|p| p as u32)
        .collect();
    pids.sort_unstable();
    pids
}

/// Socket inodes open in process `pid`.
fn socket_inodes(pid: u32) -> Vec<u64> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let link = fs::read_link(e.ok()?.path()).ok()?;
        let link = link.to_str()?;
        link.strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// Listening TCP sockets: (port, inode), from `/proc/net/tcp` and `/proc/net/tcp6`.
fn listening() -> Vec<(u16, u64)> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue;
            }
            let port = f[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if let (Some(port), Ok(inode)) = (port, f[9].parse::<u64>()) {
                out.push((port, inode));
            }
        }
    }
    out
}

/// The TCP ports the processes `pids` listen on, sorted.
pub fn listening_ports(pids: &[u32]) -> Vec<u16> {
    let inodes: HashSet<u64> = pids.iter().flat_map(|&p| socket_inodes(p)).collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    listening()
        .into_iter()
        .filter(|(_, inode)| inodes.contains(inode))
        .map(|(port, _)| port)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A process that listens on a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortHolder {
    /// Its pid.
    pub pid: u32,
    /// Its command line, arguments joined by spaces.
    pub command: String,
}

/// The processes listening on TCP `port` (any address), as far as `/proc` lets this process
/// see their descriptors.
pub fn port_holders(port: u16) -> Vec<PortHolder> {
    let inodes: HashSet<u64> = listening()
        .into_iter()
        .filter(|(p, _)| *p == port)
        .map(|(_, inode)| inode)
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut holders = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if socket_inodes(pid).iter().any(|i| inodes.contains(i)) {
            let command = fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    c.split(|&b| b == 0)
                        .filter(|a| !a.is_empty())
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            holders.push(PortHolder { pid, command });
        }
    }
    holders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_found_through_colours() {
        let vite = "  \x1b[32m➜\x1b[39m  \x1b[1mLocal\x1b[22m:   \x1b[36mhttp://localhost:\x1b[1m5173\x1b[22m/\x1b[39m";
        assert_eq!(urls_in(vite), ["http://localhost:5173/"]);
        assert_eq!(
            urls_in("listening on https://127.0.0.1:8443/api."),
            ["https://127.0.0.1:8443/api"]
        );
        assert!(urls_in("no url here").is_empty());
    }

    #[test]
    fn error_blocks_start_at_the_error() {
        let lines: Vec<String> = [
            "compiling",
            "ok",
            "thread 'main' panicked at src/main.rs:4:5:",
            "boom",
            "note: run with `RUST_BACKTRACE=1`",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(error_block(&lines), lines[2..].to_vec());
        let node: Vec<String> = [
            "server starting",
            "Error: listen EADDRINUSE: address already in use :::3000",
            "    at Server.setupListenHandle [as _listen2] (node:net:1817:16)",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(error_block(&node), node[1..].to_vec());
        assert_eq!(port_in_use(&node[1]), Some(3000));
        assert_eq!(
            port_in_use("Error: Address already in use (os error 98) on port 8080"),
            Some(8080)
        );
        assert!(error_block(&["all good".to_owned()]).is_empty());
    }

    #[test]
    fn since_takes_rfc3339_or_a_duration() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            parse_since("90s", now).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_000_000 - 90)
        );
        assert_eq!(
            parse_since("2h", now).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_000_000 - 7200)
        );
        assert_eq!(
            parse_since("2000-02-29T00:00:00.123Z", now).unwrap(),
            UNIX_EPOCH + Duration::from_millis(951_782_400_123)
        );
        assert_eq!(
            parse_since("2000-02-29T01:00:00+01:00", now).unwrap(),
            UNIX_EPOCH + Duration::from_secs(951_782_400)
        );
        assert!(
            parse_since("yesterday", now)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn a_runs_pids_include_a_setsid_grandchild() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 7791.3 & echo $!; exec sleep 7791.4"])
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        let pids = run_pids(child.id());
        // Both are this test's own processes: kill them before asserting.
        let _ = std::process::Command::new("kill")
            .arg(grandchild.to_string())
            .status();
        let _ = child.kill();
        let _ = child.wait();
        assert!(pids.contains(&child.id()), "{pids:?}");
        assert!(pids.contains(&grandchild), "{pids:?}");
    }

    #[test]
    fn a_listening_socket_is_found_with_its_holder() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id();
        assert!(listening_ports(&[me]).contains(&port));
        assert!(port_holders(port).iter().any(|h| h.pid == me));
    }
}
