//! Logs: tail by cursor, the bounded ring's drop counting, one ring per run, and search.

use std::thread;
use std::time::Duration;

use procman_core::{
    LogQuery, LogRingConfig, ManagerConfig, ProcessError, SimScript, Stream, Target,
};

use crate::support::{Fixture, MakeManager, assert_names, eventually, spec};

/// A tail from a cursor returns the lines from there on, with consecutive sequence numbers from
/// 0, and the cursor to resume from; a reader that resumes sees only new lines.
pub fn tail_reads_from_a_cursor(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim.script(
        "web",
        SimScript::long_running().with_output(["one", "two", "three"]),
    );
    let run = fx.start_ok(spec("web"));
    eventually(
        || fx.log_texts("web") == ["one", "two", "three"],
        "the scripted output of web",
    );

    let all = fx.logs_tail("web", 0, 100).unwrap();
    let seqs: Vec<u64> = all.lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, [0, 1, 2]);
    assert_eq!((all.next_cursor, all.missed), (3, 0));
    assert!(all.lines.iter().all(|l| l.stream == Stream::Stdout));

    let page = fx.logs_tail("web", 1, 1).unwrap();
    assert_eq!(page.lines.len(), 1);
    assert_eq!(&*page.lines[0].text, "two");
    assert_eq!(page.next_cursor, 2);

    let caught_up = fx.logs_tail("web", 3, 100).unwrap();
    assert!(caught_up.lines.is_empty());
    assert_eq!(
        caught_up.next_cursor, 3,
        "the cursor is kept when nothing is new"
    );

    fx.control("web").emit(Stream::Stderr, "four");
    let mut resumed = None;
    eventually(
        || {
            let chunk = fx.logs_tail(Target::Id(&run.id), 3, 100).unwrap();
            let done = !chunk.lines.is_empty();
            resumed = Some(chunk);
            done
        },
        "the line emitted after the first read",
    );
    let resumed = resumed.unwrap();
    assert_eq!(resumed.lines.len(), 1);
    assert_eq!((resumed.lines[0].seq, &*resumed.lines[0].text), (3, "four"));
    assert_eq!(resumed.lines[0].stream, Stream::Stderr);
    assert_eq!(resumed.next_cursor, 4);
    let counters = fx.status_ok("web").logs;
    assert_eq!((counters.lines, counters.dropped), (4, 0));
}

/// A ring bounded to 4 lines keeps the newest 4 and counts the rest as dropped; a reader whose
/// cursor fell behind learns how many lines it missed.
pub fn ring_drops_oldest_and_counts_them(make: &MakeManager) {
    let config = ManagerConfig {
        log_ring: LogRingConfig {
            max_lines: 4,
            ..LogRingConfig::default()
        },
        ..ManagerConfig::default()
    };
    let fx = Fixture::with_config(make, config);
    fx.start_ok(spec("web"));
    let child = fx.control("web");
    for i in 0..10 {
        child.emit(Stream::Stdout, &format!("line {i}"));
    }
    eventually(|| fx.status_ok("web").logs.lines == 10, "10 lines counted");
    assert_eq!(fx.status_ok("web").logs.dropped, 6);

    let chunk = fx.logs_tail("web", 0, 100).unwrap();
    assert_eq!(chunk.missed, 6);
    let texts: Vec<&str> = chunk.lines.iter().map(|l| &*l.text).collect();
    assert_eq!(texts, ["line 6", "line 7", "line 8", "line 9"]);
    assert_eq!(chunk.lines[0].seq, 6);
    assert_eq!(chunk.next_cursor, 10);

    let behind = fx.logs_tail("web", 2, 2).unwrap();
    assert_eq!(behind.missed, 4);
    assert_eq!(
        behind.lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        [6, 7]
    );
    assert_eq!(behind.next_cursor, 8);

    let current = fx.logs_tail("web", 8, 100).unwrap();
    assert_eq!((current.missed, current.lines.len()), (0, 2));
}

/// Each run has its own ring: after a restart the name's log starts again at sequence 0 with the
/// new run's lines only, the old run's log is superseded, and search sees current runs only.
pub fn logs_are_per_run(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.sim
        .script("web", SimScript::long_running().with_output(["boot"]));
    let first = fx.start_ok(spec("web"));
    fx.control("web").emit(Stream::Stdout, "only in run 1");
    eventually(
        || fx.log_texts("web") == ["boot", "only in run 1"],
        "the first run's output",
    );

    let second = fx.restart_ok("web");
    eventually(
        || fx.log_texts("web") == ["boot"],
        "the second run's output",
    );
    let chunk = fx.logs_tail("web", 0, 100).unwrap();
    assert_eq!(
        (chunk.lines[0].seq, chunk.next_cursor, chunk.missed),
        (0, 1, 0)
    );
    assert_eq!(fx.status_ok("web").logs.lines, 1);
    assert_eq!(
        fx.logs_tail(Target::Id(&first.id), 0, 100).unwrap_err(),
        ProcessError::Superseded {
            asked: first.id,
            current: second.id
        }
    );
    let hits = fx
        .search(&LogQuery::substring("only in run 1", 10))
        .unwrap();
    assert!(hits.is_empty(), "search found an old run's line: {hits:?}");

    // The log of an ended run stays readable until the name is started again.
    fx.stop_ok("web");
    assert_eq!(fx.log_texts("web"), ["boot"]);
    let hits = fx.search(&LogQuery::substring("boot", 10)).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, second.id);
}

fn two_services(fx: &Fixture) {
    fx.sim.script(
        "api",
        SimScript::long_running().with_output([
            "GET /users 200",
            "GET /orders 500 error",
            "POST /users 201",
        ]),
    );
    fx.sim.script(
        "worker",
        SimScript::long_running().with_output(["job 1 done", "job 2 error: timeout"]),
    );
    fx.start_ok(spec("api"));
    fx.start_ok(spec("worker"));
    eventually(
        || fx.log_texts("api").len() == 3 && fx.log_texts("worker").len() == 2,
        "the output of api and worker",
    );
}

/// Search by substring and by regex, across every current run, naming the run of each hit.
pub fn search_substring_and_regex(make: &MakeManager) {
    let fx = Fixture::new(make);
    two_services(&fx);
    let api = fx.status_ok("api").id;
    let worker = fx.status_ok("worker").id;

    let hits = fx.search(&LogQuery::substring("error", 10)).unwrap();
    let mut found: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.id.to_string(), h.line.text.to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (api.to_string(), "GET /orders 500 error".to_owned()),
            (worker.to_string(), "job 2 error: timeout".to_owned()),
        ]
    );

    let hits = fx
        .search(&LogQuery::regex(r"^GET /\w+ 5\d\d\b", 10))
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (&hits[0].id, &*hits[0].line.text, hits[0].line.seq),
        (&api, "GET /orders 500 error", 1)
    );

    let hits = fx.search(&LogQuery::regex(r"^job \d+ done$", 10)).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, worker);

    // A regex metacharacter in a substring query is literal.
    assert!(
        fx.search(&LogQuery::substring("GET /\\w+", 10))
            .unwrap()
            .is_empty()
    );
    assert!(
        fx.search(&LogQuery::substring("nowhere", 10))
            .unwrap()
            .is_empty()
    );
}

/// A name filter searches that process only; an unknown name is `NotFound`.
pub fn search_by_name(make: &MakeManager) {
    let fx = Fixture::new(make);
    two_services(&fx);
    let query = LogQuery {
        name: Some("worker".into()),
        ..LogQuery::substring("error", 10)
    };
    let hits = fx.search(&query).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id.name.as_ref(), "worker");

    let query = LogQuery {
        name: Some("ghost".into()),
        ..LogQuery::substring("error", 10)
    };
    let err = fx.search(&query).unwrap_err();
    assert_eq!(
        err,
        ProcessError::NotFound {
            name: "ghost".into()
        }
    );
    assert_names(&err, "ghost");
}

/// More matches than the limit: the newest are kept, returned oldest first, across runs.
pub fn search_limit_keeps_the_newest(make: &MakeManager) {
    let fx = Fixture::new(make);
    fx.start_ok(spec("a"));
    fx.start_ok(spec("b"));
    let (a, b) = (fx.control("a"), fx.control("b"));
    for i in 0..10 {
        let child = if i % 2 == 0 { &a } else { &b };
        child.emit(Stream::Stdout, &format!("tick {i}"));
        // Distinct timestamps, so "newest" and "ordered by time" have one answer.
        thread::sleep(Duration::from_millis(2));
    }
    eventually(
        || fx.log_texts("a").len() == 5 && fx.log_texts("b").len() == 5,
        "ten ticks logged",
    );

    let texts = |query: &LogQuery| -> Vec<String> {
        fx.search(query)
            .unwrap()
            .iter()
            .map(|h| h.line.text.to_string())
            .collect()
    };
    assert_eq!(
        texts(&LogQuery::substring("tick", 3)),
        ["tick 7", "tick 8", "tick 9"]
    );
    assert_eq!(
        texts(&LogQuery::regex(r"tick [0-4]$", 2)),
        ["tick 3", "tick 4"]
    );
    let only_a = LogQuery {
        name: Some("a".into()),
        ..LogQuery::substring("tick", 2)
    };
    assert_eq!(texts(&only_a), ["tick 6", "tick 8"]);
    assert_eq!(texts(&LogQuery::substring("tick", 100)).len(), 10);
}

/// A pattern that does not compile (or is empty) is `BadPattern`, naming the pattern.
pub fn search_rejects_bad_patterns(make: &MakeManager) {
    let fx = Fixture::new(make);
    two_services(&fx);
    let err = fx.search(&LogQuery::regex("(unclosed", 10)).unwrap_err();
    assert!(
        matches!(&err, ProcessError::BadPattern { pattern, .. } if pattern == "(unclosed"),
        "{err:?}"
    );
    assert_names(&err, "(unclosed");
    let err = fx.search(&LogQuery::substring("", 10)).unwrap_err();
    assert!(matches!(err, ProcessError::BadPattern { .. }), "{err:?}");
}
