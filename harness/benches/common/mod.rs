//! Shared pieces of the benchmarks: the designs under test and a reader pool that keeps thread
//! start-up out of the timed region.

#![allow(dead_code)] // each bench binary uses a different subset

pub mod alloc;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use procman_core::{Launcher, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher};

/// A design under test: its name and a constructor over a launcher.
pub type Make = fn(Arc<dyn Launcher>, ManagerConfig) -> Arc<dyn ProcessManager>;

/// The three designs, in the order every chart uses.
pub fn designs() -> Vec<(&'static str, Make)> {
    vec![
        ("mutex", |l, c| {
            Arc::new(procman_mutex::MutexManager::new(l, c))
        }),
        ("actor", |l, c| {
            Arc::new(procman_actor::ActorManager::new(l, c))
        }),
        ("atomic", |l, c| {
            Arc::new(procman_atomic::AtomicManager::new(l, c))
        }),
    ]
}

/// A manager of `design` with `n` running simulated processes named `proc-0..n`.
pub fn manager_with(make: Make, n: usize) -> (Arc<dyn ProcessManager>, SimLauncher) {
    let launcher = SimLauncher::new();
    let m = make(Arc::new(launcher.clone()), ManagerConfig::default());
    for i in 0..n {
        m.start(
            ProcessSpec::new(&format!("proc-{i}"), ["sim"]),
            procman_core::IfRunning::Error,
        )
        .expect("start a simulated process");
    }
    (m, launcher)
}

/// Threads that run `op` `iters` times each on command, so criterion's `iter_custom` times only
/// the operations (the threads exist before the clock starts).
pub struct ReaderPool {
    go: Arc<Barrier>,
    done: Arc<Barrier>,
    iters: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl ReaderPool {
    /// `threads` workers, each calling `op(thread_index)` once per iteration.
    pub fn new(threads: usize, op: impl Fn(usize) + Send + Sync + 'static) -> Self {
        let op = Arc::new(op);
        let go = Arc::new(Barrier::new(threads + 1));
        let done = Arc::new(Barrier::new(threads + 1));
        let iters = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..threads)
            .map(|t| {
                let (op, go, done, iters, stop) = (
                    op.clone(),
                    go.clone(),
                    done.clone(),
                    iters.clone(),
                    stop.clone(),
                );
                std::thread::spawn(move || {
                    loop {
                        go.wait();
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        for _ in 0..iters.load(Ordering::Acquire) {
                            op(t);
                        }
                        done.wait();
                    }
                })
            })
            .collect();
        ReaderPool {
            go,
            done,
            iters,
            stop,
            handles,
        }
    }

    /// Wall time for every worker to run `iters` operations (criterion divides by `iters`: the
    /// figure is the time per operation *per thread*).
    pub fn run(&self, iters: u64) -> Duration {
        self.iters.store(iters, Ordering::Release);
        let start = Instant::now();
        self.go.wait();
        self.done.wait();
        start.elapsed()
    }
}

impl Drop for ReaderPool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.go.wait();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// A background writer: calls `write` in a loop, sleeping `pause` between writes (the seed's
/// shape) or not at all, until dropped.
pub struct Writer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl Writer {
    /// Starts the writer thread.
    pub fn start(pause: Option<Duration>, write: impl Fn() + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut n = 0;
            while !s.load(Ordering::Relaxed) {
                write();
                n += 1;
                if let Some(p) = pause {
                    std::thread::sleep(p);
                }
            }
            n
        });
        Writer {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Reader thread counts for concurrent groups: the machine's cores and the seed's 10.
pub fn reader_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut v = vec![cores, 10];
    v.dedup();
    v
}
