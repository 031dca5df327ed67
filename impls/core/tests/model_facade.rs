//! The facade's model backends behave like the production primitives they stand for.
//! Runs under `--features loom` or `--features shuttle`; compiles to nothing otherwise.
#![cfg(any(feature = "loom", feature = "shuttle"))]

use std::sync::Arc;
use std::time::Duration;

use procman_core::supervise::ExitLatch;
use procman_core::sync::{self, ConcurrentMap, SwapCell, Upsert, channel, thread};

#[test]
fn exit_latch_zero_timeout_only_reads() {
    // An automatic restart with no backoff waits `wait_for(ZERO)` on its cancel latch, and must
    // restart at once, also under the checkers, whose timed waits never time out: a zero wait
    // reads the latch and returns without waiting (else this deadlocks).
    sync::check(|| {
        let latch = Arc::new(ExitLatch::new());
        // Nobody else exists yet: a zero wait that waited would never return.
        assert!(!latch.wait_for(Duration::ZERO));
        let setter = latch.clone();
        let t = thread::spawn(move || setter.set());
        // Racing the set: either answer, but no wait.
        let _ = latch.wait_for(Duration::ZERO);
        latch.wait();
        assert!(latch.wait_for(Duration::ZERO));
        t.join().unwrap();
    });
}

#[test]
fn swap_cell_cas_admits_exactly_one_winner() {
    sync::check(|| {
        let cell = Arc::new(SwapCell::new(0u32));
        let handles: Vec<_> = (1..=2)
            .map(|i| {
                let cell = cell.clone();
                thread::spawn(move || {
                    let seen = cell.load();
                    cell.compare_and_swap(&seen, Arc::new(i)).is_ok()
                })
            })
            .collect();
        let wins: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let now = *cell.load();
        // Both may win only in sequence; the final value is one of theirs either way.
        assert!(wins.iter().any(|w| *w));
        assert!(now == 1 || now == 2);
    });
}

#[test]
fn map_upsert_is_atomic_per_key() {
    sync::check(|| {
        let map = Arc::new(ConcurrentMap::<u8, u32>::new());
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let map = map.clone();
                thread::spawn(move || {
                    map.upsert(1, |old| match old {
                        None => Upsert::Put(1, true),
                        Some(_) => Upsert::Keep(false),
                    })
                })
            })
            .collect();
        let inserted = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|b| *b)
            .count();
        assert_eq!(inserted, 1, "exactly one insert-if-absent wins");
        assert_eq!(map.len(), 1);
    });
}

#[test]
fn channel_delivers_every_message_and_disconnects() {
    sync::check(|| {
        let (tx, rx) = channel::unbounded::<u32>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || {
            tx2.send(1).unwrap();
        });
        tx.send(2).unwrap();
        drop(tx);
        t.join().unwrap();
        let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort();
        assert_eq!(got, vec![1, 2]);
        assert!(rx.recv().is_err());
    });
}
