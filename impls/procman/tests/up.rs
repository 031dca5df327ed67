//! `procman up`: prefixed output, graceful stop on a signal, foreman-style failure handling.

mod common;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{BOUND, PROCMAN, Project, alive};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// `procman up ARGS` in `project`, its stdout collected as it arrives.
fn up(project: &Project, args: &[&str]) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(PROCMAN)
        .arg("up")
        .args(args)
        .current_dir(project.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn procman up");
    let mut stdout = child.stdout.take().unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&out);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (child, out)
}

fn wait_for(out: &Mutex<String>, needle: &str) {
    let start = Instant::now();
    while !out.lock().unwrap().contains(needle) {
        assert!(
            start.elapsed() < BOUND,
            "no {needle:?} in the output:\n{}",
            out.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn exit_code(child: &mut Child) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().expect("exited, not killed");
        }
        assert!(start.elapsed() < BOUND, "procman up did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pids(out: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| l.split("(pid ").nth(1))
        .map(|p| p.trim_end_matches(')').parse().unwrap())
        .collect()
}

fn assert_gone(pids: &[u32]) {
    let start = Instant::now();
    while pids.iter().any(|p| alive(*p)) {
        assert!(start.elapsed() < BOUND, "children outlived procman up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const TWO: &str = r#"
[processes.api]
command = ["sh", "-c", "echo api up; echo api warning >&2; exec sleep 300"]

[processes.worker]
command = ["sh", "-c", "echo tick 1; echo tick 2; exec sleep 300"]
"#;

#[test]
fn prefixes_output_without_colour_in_a_pipe_and_stops_on_sigint() {
    let project = Project::new(TWO);
    let (mut child, out) = up(&project, &[]);
    wait_for(&out, "api    | api up");
    wait_for(&out, "api    | api warning");
    wait_for(&out, "worker | tick 2");
    let started = pids(&out.lock().unwrap());
    assert_eq!(started.len(), 2);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(exit_code(&mut child), 0);
    assert_gone(&started);
    let out = out.lock().unwrap().clone();
    assert!(
        !out.contains('\x1b'),
        "no ANSI codes when stdout is not a terminal:\n{out}"
    );
    assert!(
        out.contains("system | SIGINT: stopping every process"),
        "{out}"
    );
    assert!(
        out.contains("api#1 stopped") || out.contains("api#2 stopped"),
        "{out}"
    );
}

#[test]
fn a_failure_stops_the_others_and_exits_1() {
    let project = Project::new(
        r#"
[processes.api]
command = ["sleep", "300"]

[processes.crash]
command = ["sh", "-c", "echo dying; exit 4"]
restart = "on-failure"
max_restarts = 1
backoff_ms = 10
"#,
    );
    let (mut child, out) = up(&project, &[]);
    assert_eq!(exit_code(&mut child), 1);
    let out = out.lock().unwrap().clone();
    assert_gone(&pids(&out));
    // The first run's end is announced with its restart delay (or, on a machine too loaded to
    // poll within that delay, as "ended"); the last run's end always is.
    assert!(out.contains("restarted as crash#3"), "{out}");
    assert!(out.contains("crash#3 exited with code 4"), "{out}");
    assert!(out.contains("crash failed; stopping the others"), "{out}");
}

#[test]
fn successful_one_shots_are_done_and_names_select_processes() {
    let project = Project::new(
        r#"
[processes.a]
command = ["echo", "from a"]

[processes.b]
command = ["echo", "from b"]

[processes.c]
command = ["sleep", "300"]
"#,
    );
    let (mut child, out) = up(&project, &["a", "b"]);
    assert_eq!(exit_code(&mut child), 0);
    let out = out.lock().unwrap().clone();
    assert!(
        out.contains("a      | from a") && out.contains("b      | from b"),
        "{out}"
    );
    assert!(out.contains("every process is done"), "{out}");
    assert!(!out.contains("c#"), "c was not asked for:\n{out}");
}

#[test]
fn unknown_names_are_refused() {
    let project = Project::new(TWO);
    let output = Command::new(PROCMAN)
        .args(["up", "apii"])
        .current_dir(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no script named \"apii\"") && stderr.contains("api, worker"),
        "{stderr}"
    );
}
