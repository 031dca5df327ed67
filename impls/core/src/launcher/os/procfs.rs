//! Reading `/proc`: who is in a process group, which children are zombies, how many file
//! descriptors and threads this process holds, how much memory it has resident.
//!
//! The OS launcher needs the first to know when a run's process group is empty (Linux has no
//! call that lists a group's members), and the fault tests need the rest to prove that nothing
//! leaks. Everything here is Linux-specific: it parses `/proc/<pid>/stat` (see proc(5)).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// The fields of `/proc/<pid>/stat` the launcher and its tests use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// Process id.
    pub pid: i32,
    /// One-letter state: `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead), ...
    pub state: char,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id.
    pub pgid: i32,
    /// Session id (field 6): a process that called `setsid` leads a session of its own.
    pub session: i32,
    /// Threads in the process (field 20, `num_threads`).
    pub threads: i64,
    /// When the process started, in clock ticks after boot (field 22). With the pid it names
    /// one process for good: a recycled pid has a later start time.
    pub start_time: u64,
}

impl ProcStat {
    /// Parses the text of `/proc/<pid>/stat`. The command name (field 2) may hold spaces and
    /// parentheses, so the fields after it are found from the *last* `)`.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let pid = text[..open].trim().parse().ok()?;
        // After ")": state(3) ppid(4) pgrp(5) session(6) ... num_threads(20) itrealvalue(21)
        // starttime(22).
        let mut fields = text.get(close + 1..)?.split_ascii_whitespace();
        let state = fields.next()?.chars().next()?;
        let ppid = fields.next()?.parse().ok()?;
        let pgid = fields.next()?.parse().ok()?;
        let session = fields.next()?.parse().ok()?;
        let threads = fields.nth(13)?.parse().ok()?;
        let start_time = fields.nth(1)?.parse().ok()?;
        Some(ProcStat {
            pid,
            state,
            ppid,
            pgid,
            session,
            threads,
            start_time,
        })
    }

    /// Reads `/proc/<pid>/stat`; `Ok(None)` when the process no longer exists.
    pub fn read(pid: i32) -> io::Result<Option<ProcStat>> {
        let mut buf = [0u8; 1024];
        read_stat(pid, &mut buf)
    }

    /// True while the process can still run code: not a zombie or dead, or a zombie thread-group
    /// leader whose other threads are still alive (`num_threads > 1`).
    pub fn is_live(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x') || self.threads > 1
    }

    /// True for a zombie: exited, waiting for its parent to reap it.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

fn read_stat(pid: i32, buf: &mut [u8]) -> io::Result<Option<ProcStat>> {
    let path = format!("/proc/{pid}/stat");
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(io::Error::new(e.kind(), format!("cannot open {path}: {e}"))),
    };
    // One read returns the whole line (it is generated at once); the fields we need come early.
    let n = match file.read(buf) {
        Ok(n) => n,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(io::Error::new(e.kind(), format!("cannot read {path}: {e}"))),
    };
    let text = String::from_utf8_lossy(&buf[..n]);
    match ProcStat::parse(&text) {
        Some(stat) => Ok(Some(stat)),
        // A process that exits between open and read can yield an empty read.
        None if n == 0 => Ok(None),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse {path}: {text:?}"),
        )),
    }
}

/// ENOENT and ESRCH: the process went away while we looked.
fn gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}

/// Every process visible in `/proc`, in pid order, skipping those that exit during the scan.
///
/// A scan is not atomic: a process created during it with a pid lower than the scan's position
/// is missed. A caller that needs certainty reads [`last_pid`] before and after: if it did not
/// change, no process was created during the scan, and the scan missed nobody.
pub fn processes() -> io::Result<Vec<ProcStat>> {
    let mut out = Vec::new();
    scan(|stat| out.push(stat))?;
    Ok(out)
}

/// Calls `each` for every process in `/proc`, reusing one read buffer.
pub(crate) fn scan(mut each: impl FnMut(ProcStat)) -> io::Result<()> {
    let dir = fs::read_dir("/proc")
        .map_err(|e| io::Error::new(e.kind(), format!("cannot list /proc: {e}")))?;
    let mut buf = [0u8; 1024];
    for entry in dir {
        let entry =
            entry.map_err(|e| io::Error::new(e.kind(), format!("cannot list /proc: {e}")))?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = read_stat(pid, &mut buf)? {
            each(stat);
        }
    }
    Ok(())
}

/// The processes whose process group is `pgid`, zombies included.
pub fn group_members(pgid: i32) -> io::Result<Vec<ProcStat>> {
    let mut out = Vec::new();
    scan(|stat| {
        if stat.pgid == pgid {
            out.push(stat);
        }
    })?;
    Ok(out)
}

/// The zombie children of `ppid`: exited processes that `ppid` has not reaped.
pub fn zombie_children(ppid: i32) -> io::Result<Vec<ProcStat>> {
    let mut out = Vec::new();
    scan(|stat| {
        if stat.ppid == ppid && stat.is_zombie() {
            out.push(stat);
        }
    })?;
    Ok(out)
}

/// Whether process `pid` exists and is live (see [`ProcStat::is_live`]).
pub fn is_live(pid: i32) -> io::Result<bool> {
    Ok(ProcStat::read(pid)?.is_some_and(|s| s.is_live()))
}

/// The pid most recently allocated in this process's pid namespace (the last field of
/// `/proc/loadavg`). Unchanged across an interval means no process was created during it.
pub fn last_pid() -> io::Result<i32> {
    let text = fs::read_to_string("/proc/loadavg")
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read /proc/loadavg: {e}")))?;
    text.split_ascii_whitespace()
        .nth(4)
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cannot parse /proc/loadavg: {text:?}"),
            )
        })
}

fn count_entries(path: &Path) -> io::Result<usize> {
    let dir = fs::read_dir(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot list {}: {e}", path.display())))?;
    Ok(dir.count())
}

/// Open file descriptors of this process (entries of `/proc/self/fd`, not counting the one
/// used to list them).
pub fn open_fd_count() -> io::Result<usize> {
    // The handle that lists the directory is itself an open descriptor and appears in it.
    Ok(count_entries(Path::new("/proc/self/fd"))?.saturating_sub(1))
}

/// Threads of this process (entries of `/proc/self/task`).
pub fn thread_count() -> io::Result<usize> {
    count_entries(Path::new("/proc/self/task"))
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read /proc/self/status: {e}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "no VmRSS line in /proc/self/status",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_command_name_with_spaces_and_parens() {
        let line =
            "4242 (we (ird) name) S 1 4240 4240 0 -1 4194560 10 0 0 0 0 0 0 0 20 0 3 0 1 0 0";
        let s = ProcStat::parse(line).unwrap();
        assert_eq!(
            s,
            ProcStat {
                pid: 4242,
                state: 'S',
                ppid: 1,
                pgid: 4240,
                session: 4240,
                threads: 3,
                start_time: 1,
            }
        );
        assert!(s.is_live());
    }

    #[test]
    fn a_zombie_with_live_threads_is_live() {
        let z = "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0";
        assert!(!ProcStat::parse(z).unwrap().is_live());
        let zt = "7 (x) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 4 0 1 0 0";
        assert!(ProcStat::parse(zt).unwrap().is_live());
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        let s = ProcStat::read(me).unwrap().unwrap();
        assert_eq!(s.pid, me);
        assert!(s.is_live());
        assert!(open_fd_count().unwrap() >= 3);
        assert!(thread_count().unwrap() >= 1);
        assert!(resident_bytes().unwrap() > 0);
        assert!(last_pid().unwrap() > 0);
        assert!(processes().unwrap().iter().any(|p| p.pid == me));
    }
}
