//! OsLauncher, output: drained to EOF before the exit, split into lines, partial and lossy lines
//! marked, long lines cut, and a flood that neither blocks nor grows memory.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use os_support::{Recorder, sh, start, start_with};
use procman_core::launcher::os::procfs;
use procman_core::{ExitInfo, LogRingConfig, OsLauncher, Stream};

#[test]
fn the_last_line_without_a_newline_is_kept_and_marked_partial() {
    let l = OsLauncher::new();
    let (_child, rec) = start(&l, &sh(r"printf 'a\nb\nlast-without-newline'"));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    rec.with_recorded(|r| {
        let got: Vec<_> = r
            .lines
            .iter()
            .map(|l| (l.text.as_str(), l.partial))
            .collect();
        assert_eq!(
            got,
            vec![("a", false), ("b", false), ("last-without-newline", true)]
        );
    });
}

#[test]
fn invalid_utf8_is_kept_lossily_and_marked() {
    let l = OsLauncher::new();
    let (_child, rec) = start(&l, &sh(r"printf 'ok\n\377\376bad\n'"));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    rec.with_recorded(|r| {
        assert_eq!(r.lines.len(), 2);
        assert_eq!((r.lines[0].text.as_str(), r.lines[0].lossy), ("ok", false));
        assert_eq!(r.lines[1].text, "\u{fffd}\u{fffd}bad");
        assert!(r.lines[1].lossy);
    });
}

#[test]
fn every_line_is_delivered_before_the_exit() {
    let l = OsLauncher::new();
    // Both streams, many lines, and an exit right after the last write.
    let (_child, rec) = start(&l, &sh("seq 1 100000; seq 1 1000 >&2; exit 7"));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(7));
    rec.with_recorded(|r| {
        let out: Vec<_> = r
            .lines
            .iter()
            .filter(|l| l.stream == Stream::Stdout)
            .collect();
        let err: Vec<_> = r
            .lines
            .iter()
            .filter(|l| l.stream == Stream::Stderr)
            .collect();
        assert_eq!(out.len(), 100_000);
        assert_eq!(err.len(), 1000);
        assert_eq!(out.last().unwrap().text, "100000");
        assert_eq!(err.last().unwrap().text, "1000");
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, l)| l.text == (i + 1).to_string())
        );
    });
}

#[test]
fn the_last_words_of_a_group_member_stopped_after_the_leader_exited_are_kept() {
    let l = OsLauncher::new();
    let flag = std::env::temp_dir().join(format!("procman-os-ready-{}", std::process::id()));
    let _ = std::fs::remove_file(&flag);
    // The job installs a TERM handler that writes a line, signals readiness through a file,
    // and runs until stopped; the leader waits for readiness and exits. The launcher then stops
    // the job (the orphan policy), and the job's last line must arrive before the exit.
    let line = format!(
        "( trap 'echo job-cleanup; exit 0' TERM; touch '{f}'; while :; do sleep 0.05; done ) & \
         while [ ! -e '{f}' ]; do sleep 0.01; done; echo leader-done",
        f = flag.display()
    );
    let (_child, rec) = start(&l, &sh(&line));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    let texts = rec.texts();
    assert!(texts.contains(&"leader-done".to_owned()), "{texts:?}");
    assert!(texts.contains(&"job-cleanup".to_owned()), "{texts:?}");
    std::fs::remove_file(&flag).unwrap();
}

#[test]
fn long_lines_are_split_at_the_bound() {
    let l = OsLauncher::new();
    let bound = LogRingConfig::default().max_line_bytes;
    let (_child, rec) = start(
        &l,
        &sh("head -c 100000 /dev/zero | tr '\\0' a; echo; echo short"),
    );
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    rec.with_recorded(|r| {
        let pieces = 100_000 / bound;
        assert_eq!(r.lines.len(), pieces + 2);
        for piece in &r.lines[..pieces] {
            assert_eq!((piece.text.len(), piece.partial), (bound, true));
        }
        let rest = &r.lines[pieces];
        assert_eq!((rest.text.len(), rest.partial), (100_000 % bound, false));
        assert_eq!(r.lines[pieces + 1].text, "short");
        assert_eq!(r.bytes, 100_000 + 5);
    });
}

#[test]
fn a_flood_of_100_mb_without_newlines_is_drained_in_bounded_memory() {
    const BOUND: u64 = 200 << 20;
    let l = OsLauncher::new();
    let before = procfs::resident_bytes().unwrap();
    let rec = Recorder::counting();
    let (_child, rec) = start_with(&l, &sh("head -c 100000000 /dev/zero | tr '\\0' a"), rec);
    // Sample the resident size while the flood runs.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(procfs::resident_bytes().unwrap());
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            peak
        })
    };
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    rec.with_recorded(|r| {
        assert_eq!(r.bytes, 100_000_000);
        let bound = LogRingConfig::default().max_line_bytes as u64;
        assert_eq!(r.line_count, 100_000_000_u64.div_ceil(bound));
    });
    assert!(
        peak < BOUND,
        "resident memory peaked at {peak} bytes (started at {before}); the bound is {BOUND}"
    );
}

#[test]
fn a_flood_of_short_lines_is_counted_exactly() {
    let l = OsLauncher::new();
    let rec = Recorder::counting();
    let (_child, rec) = start_with(&l, &sh("yes | head -n 1000000"), rec);
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    rec.with_recorded(|r| {
        assert_eq!(r.line_count, 1_000_000);
        assert_eq!(r.bytes, 1_000_000);
    });
}
