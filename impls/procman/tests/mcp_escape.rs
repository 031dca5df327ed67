//! A process that leaves its run's process group (`setsid sleep … &`) dies with the run: after
//! `scripts_stop`, and after every way procman is told to exit (stdin EOF, SIGTERM, SIGINT,
//! SIGHUP). The reproduction of issue 16, over stdio.
//!
//! Each test uses its own unusual sleep durations (88xx here, 77xx in procman-core's
//! `os_escape`, so the two binaries never see each other's when nextest runs them side by
//! side), so `/proc` is searched for exactly the processes it started.

mod common;

use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use procman_core::launcher::os::procfs;
use serde_json::json;

fn config(tag: u32) -> String {
    format!(
        r#"
[processes.escape]
command = ["sh", "-c", "setsid sleep 8874.{tag} & sleep 8875.{tag}"]
stop_timeout_ms = 2000
"#
    )
}

/// Live processes whose argv is exactly `sleep SECONDS` and that started after this test
/// process (a stray left on the machine by an earlier run killed midway is not this run's).
fn sleeps(seconds: &str) -> Vec<u32> {
    let want = format!("sleep\0{seconds}\0");
    let all = procfs::processes().unwrap();
    let me = std::process::id() as i32;
    let started = all
        .iter()
        .find(|p| p.pid == me)
        .expect("this process is in /proc")
        .start_time;
    all.iter()
        .filter(|p| p.start_time >= started)
        .filter_map(|p| u32::try_from(p.pid).ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes())
                && alive(*pid)
        })
        .collect()
}

/// Starts the escaping script and waits until both of its sleeps run.
async fn started(tag: u32) -> (Project, Server, [String; 2]) {
    let project = Project::new(&config(tag));
    let server = start(&project).await;
    server.ok("scripts_run", json!({"name": "escape"})).await;
    let tags = [format!("8874.{tag}"), format!("8875.{tag}")];
    eventually("both sleeps to run", || {
        tags.iter().all(|t| sleeps(t).len() == 1)
    })
    .await;
    (project, server, tags)
}

fn assert_nothing_left(tags: &[String; 2], after: &str) {
    for t in tags {
        assert_eq!(sleeps(t), Vec::<u32>::new(), "sleep {t} survived {after}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_stop_stops_the_setsid_child_too() {
    let (_project, server, tags) = started(1).await;
    let stopped = server.ok("scripts_stop", json!({"name": "escape"})).await;
    assert_eq!(stopped["process"]["status"], "stopped", "{stopped}");
    // Checked at once: a run is stopped only when nothing of it is left.
    assert_nothing_left(&tags, "scripts_stop");
    // The mechanism is logged once at start.
    let stderr = server.stderr.lock().unwrap().clone();
    assert_eq!(
        stderr.matches("how a run's descendants are held").count(),
        1,
        "{stderr}"
    );
    assert!(server.close().await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_eof_leaves_nothing() {
    let (_project, server, tags) = started(2).await;
    assert!(server.close().await.success());
    assert_nothing_left(&tags, "stdin EOF");
}

async fn signal_leaves_nothing(tag: u32, signal: Signal) {
    let (_project, mut server, tags) = started(tag).await;
    kill(Pid::from_raw(server.pid() as i32), signal).expect("signal procman");
    let status = tokio::time::timeout(BOUND, server.child.wait())
        .await
        .expect("procman exits after a signal")
        .expect("wait");
    assert!(status.success(), "{status:?}");
    assert_nothing_left(&tags, signal.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_leaves_nothing() {
    signal_leaves_nothing(3, Signal::SIGTERM).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_leaves_nothing() {
    signal_leaves_nothing(4, Signal::SIGINT).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_leaves_nothing() {
    signal_leaves_nothing(5, Signal::SIGHUP).await;
}
