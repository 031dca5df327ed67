//! What the actor's spinning costs and buys (see `src/spin.rs`): the back-to-back `status`
//! round trip, the CPU an idle manager uses, and what the first request after an idle pause pays.
//!
//! ```sh
//! cargo run --release -p procman-actor --example idle_cpu            # 10 idle seconds
//! cargo run --release -p procman-actor --example idle_cpu -- 2       # 2 idle seconds
//! ```
//!
//! Prints figures; asserts nothing (timings live in benches and examples, never in tests).

use std::hint::black_box;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use procman_actor::ActorManager;
use procman_core::{IfRunning, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, Target};

/// CPU time (user + system) this process has used so far, from `getrusage`.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes one `rusage` into the zeroed value we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// The median of `samples` (sorted in place).
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let idle_secs: u64 = std::env::args()
        .nth(1)
        .map(|a| {
            a.parse()
                .expect("the argument is the idle time in whole seconds")
        })
        .unwrap_or(10);
    let launcher = SimLauncher::new();
    let manager = ActorManager::new(Arc::new(launcher), ManagerConfig::default());
    for i in 0..10 {
        manager
            .start(
                ProcessSpec::new(&format!("p{i}"), ["sim"]),
                IfRunning::Error,
            )
            .expect("a simulated start succeeds");
    }

    let mut round_trips: Vec<Duration> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(manager.status(Target::Name(black_box("p3"))).ok());
            t.elapsed()
        })
        .collect();
    println!(
        "back-to-back status round trip: p50 {:?} over {} calls",
        median(&mut round_trips),
        round_trips.len()
    );

    // Let the owner's spin run out before the idle window starts.
    thread::sleep(Duration::from_millis(50));
    let before = cpu_time();
    thread::sleep(Duration::from_secs(idle_secs));
    let used = cpu_time() - before;
    println!("idle for {idle_secs} s: the process used {used:?} of CPU");

    let mut first = Vec::new();
    for pause_ms in [1u64, 10, 100, 100, 100] {
        thread::sleep(Duration::from_millis(pause_ms));
        let t = Instant::now();
        black_box(manager.status(Target::Name("p3")).ok());
        first.push((pause_ms, t.elapsed()));
    }
    for (pause_ms, took) in first {
        println!("first status after a {pause_ms} ms pause: {took:?}");
    }
    manager.shutdown(Duration::from_secs(1));
}
