//! Bakes into the binary what it was built with, for the provenance block of every result file:
//! the `rustc -V` line, the build profile, and the versions of the concurrency crates that the
//! designs are built on, read from the workspace's Cargo.lock.

use std::path::Path;
use std::process::Command;

/// The crates whose locked versions every result file records.
const TRACKED: &[&str] = &[
    "parking_lot",
    "arc-swap",
    "dashmap",
    "flume",
    "tokio",
    "hdrhistogram",
];

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("-V")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| format!("unknown ({rustc} -V failed)"));
    println!("cargo:rustc-env=PROCMAN_HARNESS_RUSTC={version}");

    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=PROCMAN_HARNESS_PROFILE={profile}");

    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let lock = Path::new(&manifest).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let versions: Vec<String> = TRACKED
        .iter()
        .map(|name| format!("{name}={}", locked_version(&text, name).unwrap_or("absent")))
        .collect();
    println!(
        "cargo:rustc-env=PROCMAN_HARNESS_LOCKED={}",
        versions.join(",")
    );
}

/// The version of the first `[[package]]` named `name` in a Cargo.lock text.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let next = lines.next()?.trim();
            return next
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'));
        }
    }
    None
}
