//! Allocations per request of the actor design, counted by a global allocator: on the calling
//! thread alone, and in the whole process (which includes the owner thread's side).
//!
//! Run with `--nocapture` to see the figures. One test function, so that no other test's
//! allocations land in the process-wide count.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use procman_actor::ActorManager;
use procman_core::{
    IfRunning, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, SimScript, Target,
};

/// The system allocator, counting calls and bytes (a `realloc` counts as one allocation).
struct Counting;

static PROCESS_ALLOCS: AtomicU64 = AtomicU64::new(0);
static PROCESS_BYTES: AtomicU64 = AtomicU64::new(0);

std::thread_local! {
    // Const-initialised and without a destructor: touching them never allocates.
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count(size: usize) {
    PROCESS_ALLOCS.fetch_add(1, Ordering::Relaxed);
    PROCESS_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    let _ = THREAD_ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only atomics and a const thread-local, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations per op: (on the calling thread, in the whole process, bytes in the whole process).
#[derive(Debug)]
struct PerOp {
    caller: f64,
    process: f64,
    bytes: f64,
}

fn measure(ops: u64, mut op: impl FnMut()) -> PerOp {
    for _ in 0..ops / 10 {
        op(); // warm-up: first-use allocations (thread slot, queue capacity) are not per-op costs
    }
    let thread_before = THREAD_ALLOCS.with(Cell::get);
    let allocs_before = PROCESS_ALLOCS.load(Ordering::SeqCst);
    let bytes_before = PROCESS_BYTES.load(Ordering::SeqCst);
    for _ in 0..ops {
        op();
    }
    let per = |n: u64| n as f64 / ops as f64;
    PerOp {
        caller: per(THREAD_ALLOCS.with(Cell::get) - thread_before),
        process: per(PROCESS_ALLOCS.load(Ordering::SeqCst) - allocs_before),
        bytes: per(PROCESS_BYTES.load(Ordering::SeqCst) - bytes_before),
    }
}

/// Wakes the thread that blocks on a future: an executor that does not allocate per poll.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(waker: &Waker, future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

#[test]
fn allocations_per_request() {
    let launcher = SimLauncher::new();
    launcher.default_script(SimScript::long_running().with_output(["one ok", "two ok"]));
    let manager = ActorManager::new(Arc::new(launcher), ManagerConfig::default());
    for name in ["web", "db"] {
        manager
            .start(ProcessSpec::new(name, ["sim"]), IfRunning::default())
            .unwrap();
    }
    let web: Target<'_> = "web".into();
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    const OPS: u64 = 20_000;

    // Every answer is dropped inside the measured loop, as a real caller would drop it.
    let status = measure(OPS, || {
        black_box(manager.status(web).unwrap());
    });
    let status_async = measure(OPS, || {
        black_box(block_on(&waker, manager.status_async(web)).unwrap());
    });
    let stats = measure(OPS, || {
        black_box(manager.stats());
    });
    let list = measure(OPS, || {
        black_box(manager.list());
    });
    let tail = measure(OPS, || {
        black_box(manager.logs_tail(web, 0, 10).unwrap());
    });
    for (what, per) in [
        ("status", &status),
        ("status_async", &status_async),
        ("stats", &stats),
        ("list (2 runs)", &list),
        ("logs_tail (2 lines)", &tail),
    ] {
        println!(
            "{what:>20}: {:.3} allocs/op on the caller, {:.3} allocs/op and {:.1} B/op in the process",
            per.caller, per.process, per.bytes
        );
    }

    // Reads of fixed-size answers allocate nothing, on either side of the mailbox. The
    // process-wide bound leaves room for one-off growth elsewhere in the process (a handful of
    // allocations in all), not for anything per request.
    for per in [&status, &stats] {
        assert_eq!(per.caller, 0.0, "{per:?}");
        assert!(per.process * (OPS as f64) <= 4.0, "{per:?}");
    }
    // An async call allocates its reply slot: one allocation, on the caller.
    assert!(status_async.caller <= 1.0, "{status_async:?}");
    assert!(
        status_async.process * (OPS as f64) <= OPS as f64 + 4.0,
        "{status_async:?}"
    );
    // An answer that carries a `Vec` allocates that `Vec` (on the owner, which builds it).
    for per in [&list, &tail] {
        assert!(per.process * (OPS as f64) <= OPS as f64 + 4.0, "{per:?}");
    }
}
