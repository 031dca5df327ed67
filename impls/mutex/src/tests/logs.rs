//! Per-run log rings: tails from a cursor, counters in snapshots, search across runs.

use std::time::Duration;

use procman_core::{
    IfRunning, LogQuery, ProcessError, ProcessManager, SimLauncher, SimScript, Stream, Target,
};

use super::{manager, spec, status};

#[test]
fn tail_resumes_from_a_cursor_and_snapshots_count_lines() {
    let launcher = SimLauncher::new();
    launcher.script(
        "app",
        SimScript::long_running().with_output(["one", "two", "three"]),
    );
    let m = manager(&launcher);
    let started = m.start(spec("app"), IfRunning::Error).unwrap();
    assert_eq!(
        started.logs.lines, 3,
        "the script's output arrives inside attach"
    );

    let page = m.logs_tail(Target::Name("app"), 0, 2).unwrap();
    let texts: Vec<&str> = page.lines.iter().map(|l| &*l.text).collect();
    assert_eq!(texts, ["one", "two"]);
    let rest = m
        .logs_tail(Target::Id(&started.id), page.next_cursor, 10)
        .unwrap();
    assert_eq!(rest.lines.len(), 1);
    assert_eq!(&*rest.lines[0].text, "three");

    launcher
        .control("app")
        .unwrap()
        .emit(Stream::Stderr, "four");
    assert_eq!(status(&m, "app").logs.lines, 4);
    assert_eq!(
        m.logs_tail(Target::Name("app"), rest.next_cursor, 10)
            .unwrap()
            .lines[0]
            .stream,
        Stream::Stderr
    );
}

#[test]
fn each_run_has_its_own_ring() {
    let launcher = SimLauncher::new();
    launcher.script(
        "app",
        SimScript::exits(0, Duration::ZERO).with_output(["a", "b"]),
    );
    let m = manager(&launcher);
    let first = m.start(spec("app"), IfRunning::Error).unwrap();
    assert_eq!(first.logs.lines, 2);
    let second = m.start(spec("app"), IfRunning::Error).unwrap();
    let chunk = m.logs_tail(Target::Id(&second.id), 0, 10).unwrap();
    assert_eq!(
        chunk.lines.first().map(|l| l.seq),
        Some(0),
        "sequence numbers restart per run"
    );
    assert_eq!(chunk.lines.len(), 2);
}

#[test]
fn search_keeps_the_newest_matches_in_time_order() {
    let launcher = SimLauncher::new();
    let m = manager(&launcher);
    for name in ["a", "b"] {
        m.start(spec(name), IfRunning::Error).unwrap();
    }
    let a = launcher.control("a").unwrap();
    let b = launcher.control("b").unwrap();
    // Interleaved writes: a0 b1 a2 b3 a4 b5, plus lines that do not match.
    for i in 0..6 {
        let child = if i % 2 == 0 { &a } else { &b };
        child.emit(Stream::Stdout, &format!("req {i} ok"));
        child.emit(Stream::Stdout, "noise");
    }
    let hits = m.logs_search(&LogQuery::substring("ok", 4)).unwrap();
    let texts: Vec<&str> = hits.iter().map(|h| &*h.line.text).collect();
    assert_eq!(texts, ["req 2 ok", "req 3 ok", "req 4 ok", "req 5 ok"]);
    assert!(hits.windows(2).all(|w| w[0].line.at <= w[1].line.at));
    assert_eq!(hits[0].id.name.as_ref(), "a");

    let only_b = m
        .logs_search(&LogQuery {
            name: Some("b".into()),
            ..LogQuery::regex(r"req \d ok", 10)
        })
        .unwrap();
    assert_eq!(only_b.len(), 3);
    assert!(only_b.iter().all(|h| &*h.id.name == "b"));

    assert!(matches!(
        m.logs_search(&LogQuery {
            name: Some("zzz".into()),
            ..LogQuery::substring("ok", 10)
        }),
        Err(ProcessError::NotFound { .. })
    ));
    assert!(matches!(
        m.logs_search(&LogQuery::regex("(", 10)),
        Err(ProcessError::BadPattern { .. })
    ));
    assert!(
        m.logs_search(&LogQuery::substring("ok", 0))
            .unwrap()
            .is_empty()
    );
}
