//! One background thread that runs callbacks at their due time, for the simulated launcher's
//! scripted delays. Started on first use; a script with no delays never starts it, so model
//! checkers (which forbid real threads) can use the simulated launcher with zero delays.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

struct Due {
    at: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Timer {
    queue: Mutex<(BinaryHeap<Reverse<Due>>, u64)>,
    wake: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new((BinaryHeap::new(), 0)),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("procman-sim-timer".into())
            .spawn(move || t.run())
            .expect("spawn the simulated launcher's timer thread");
        t
    })
}

impl Timer {
    fn run(&self) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                loop {
                    let now = Instant::now();
                    match q.0.peek() {
                        Some(Reverse(d)) if d.at <= now => break q.0.pop().map(|Reverse(d)| d.job),
                        Some(Reverse(d)) => {
                            let at = d.at;
                            self.wake.wait_until(&mut q, at);
                        }
                        None => self.wake.wait(&mut q),
                    }
                }
            };
            // The job runs without the queue lock, so it may schedule more jobs.
            if let Some(job) = job {
                job();
            }
        }
    }
}

/// Runs `job` on the timer thread after `delay`.
pub(crate) fn after(delay: Duration, job: impl FnOnce() + Send + 'static) {
    let t = timer();
    let mut q = t.queue.lock();
    q.1 += 1;
    let seq = q.1;
    q.0.push(Reverse(Due {
        at: Instant::now() + delay,
        seq,
        job: Box::new(job),
    }));
    drop(q);
    t.wake.notify_one();
}
