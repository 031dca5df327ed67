//! OsLauncher, spawning: argv and shell lines, cwd, environment, stdin, process groups, exit
//! codes and signals, and spawn errors that name the path and the OS error.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod os_support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use os_support::{Recorder, sh, start};
use procman_core::launcher::os::procfs::ProcStat;
use procman_core::{ExitInfo, Launcher, OsLauncher, ProcessSpec, Signal, Stream};

/// A fresh directory under the system temp dir, with a space in its name.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procman os {tag} {}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn argv_is_passed_as_given_without_reparsing() {
    let l = OsLauncher::new();
    let spec = ProcessSpec::new("t", ["printf", "%s|", "a b", "$HOME", "*"]);
    let (_child, rec) = start(&l, &spec);
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    assert_eq!(rec.texts(), vec!["a b|$HOME|*|"]);
}

#[test]
fn a_shell_line_runs_through_sh_with_streams_tagged() {
    let l = OsLauncher::new();
    let (_child, rec) = start(&l, &sh("echo out; echo err >&2; exit 3"));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(3));
    rec.with_recorded(|r| {
        let mut got: Vec<_> = r
            .lines
            .iter()
            .map(|l| (l.stream, l.text.as_str()))
            .collect();
        got.sort_by_key(|(s, _)| *s == Stream::Stderr);
        assert_eq!(got, vec![(Stream::Stdout, "out"), (Stream::Stderr, "err")]);
        assert!(r.lines.iter().all(|l| !l.partial && !l.lossy));
    });
}

#[test]
fn death_by_signal_is_reported_as_the_signal() {
    let l = OsLauncher::new();
    let (_child, rec) = start(&l, &sh("kill -USR1 $$"));
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::USR1));
}

#[test]
fn stdin_is_dev_null() {
    let l = OsLauncher::new();
    // `cat` ends at once on EOF; the link shows where fd 0 points.
    let (_child, rec) = start(&l, &sh("cat; readlink /proc/self/fd/0"));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    assert_eq!(rec.texts(), vec!["/dev/null"]);
}

#[test]
fn the_child_leads_its_own_process_group() {
    let l = OsLauncher::new();
    let (child, rec) = start(&l, &ProcessSpec::new("t", ["sleep", "1000"]));
    let pid = child.pid();
    let stat = ProcStat::read(pid as i32)
        .unwrap()
        .expect("the child is alive");
    let ours = ProcStat::read(std::process::id() as i32).unwrap().unwrap();
    assert_eq!(stat.pgid, pid as i32, "the child leads its group");
    assert_ne!(
        stat.pgid, ours.pgid,
        "the child is not in the manager's group"
    );
    child.signal(Signal::TERM).unwrap();
    assert_eq!(rec.wait_exit(), ExitInfo::Signal(Signal::TERM));
}

#[test]
fn cwd_is_set() {
    let dir = temp_dir("cwd");
    let l = OsLauncher::new();
    let (_child, rec) = start(&l, &ProcessSpec::new("t", ["pwd", "-P"]).with_cwd(&dir));
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    let want = dir.canonicalize().unwrap();
    assert_eq!(rec.texts(), vec![want.to_str().unwrap().to_owned()]);
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn env_is_inherited_with_set_and_unset_applied() {
    assert!(
        std::env::var_os("PATH").is_some(),
        "the test needs PATH in its environment"
    );
    let l = OsLauncher::new();
    let mut spec = ProcessSpec::new("t", ["/usr/bin/env"]);
    spec.env
        .set
        .insert("PROCMAN_TEST_VAR".into(), "a value".into());
    spec.env.unset.push("PATH".into());
    let (_child, rec) = start(&l, &spec);
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    let env = rec.texts();
    assert!(
        env.contains(&"PROCMAN_TEST_VAR=a value".to_owned()),
        "{env:?}"
    );
    assert!(
        !env.iter().any(|v| v.starts_with("PATH=")),
        "PATH was unset: {env:?}"
    );
    assert!(env.len() > 1, "the rest is inherited: {env:?}");
}

#[test]
fn env_can_start_empty() {
    let l = OsLauncher::new();
    let mut spec = ProcessSpec::new("t", ["/usr/bin/env"]);
    spec.env.inherit = false;
    spec.env.set.insert("ONLY".into(), "this".into());
    let (_child, rec) = start(&l, &spec);
    assert_eq!(rec.wait_exit(), ExitInfo::Code(0));
    // Besides what the spec sets, only the run's marker, which ties orphans to their run.
    let mut env = rec.texts();
    env.sort();
    assert_eq!(env.len(), 2, "{env:?}");
    assert_eq!(env[0], "ONLY=this");
    assert!(env[1].starts_with("PROCMAN_RUN="), "{env:?}");
}

#[test]
fn a_missing_program_names_it_and_the_os_error() {
    let err = OsLauncher::new()
        .spawn(&os_support::id("t"), &ProcessSpec::new("t", ["nope"]))
        .unwrap_err();
    assert_eq!(
        err.0,
        "cannot run \"nope\": No such file or directory (os error 2); \
         check the program name and PATH"
    );
    let err = OsLauncher::new()
        .spawn(
            &os_support::id("t"),
            &ProcessSpec::new("t", ["/no/such/prog"]),
        )
        .unwrap_err();
    assert!(
        err.0
            .starts_with("cannot run \"/no/such/prog\": No such file or directory (os error 2)"),
        "{err}"
    );
}

#[test]
fn a_missing_cwd_names_the_directory() {
    let spec = ProcessSpec::new("t", ["true"]).with_cwd("/no/such/dir");
    let err = OsLauncher::new()
        .spawn(&os_support::id("t"), &spec)
        .unwrap_err();
    assert!(
        err.0.starts_with(
            "cannot use working directory \"/no/such/dir\": No such file or directory (os error 2)"
        ),
        "{err}"
    );
}

#[test]
fn a_file_without_execute_permission_is_refused_by_name() {
    let dir = temp_dir("noexec");
    let file = dir.join("script.sh");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let path = file.to_str().unwrap().to_owned();
    let err = OsLauncher::new()
        .spawn(&os_support::id("t"), &ProcessSpec::new("t", [path.clone()]))
        .unwrap_err();
    assert!(
        err.0.starts_with(&format!(
            "cannot run {path:?}: Permission denied (os error 13)"
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_command_not_found_inside_a_shell_line_is_an_exit_not_a_spawn_error() {
    let l = OsLauncher::new();
    let rec = Recorder::new();
    let (_child, rec) = os_support::start_with(&l, &sh("procman-no-such-command"), rec);
    assert_eq!(rec.wait_exit(), ExitInfo::Code(127));
}
