//! The facade's model backends behave like the production primitives they stand for.
//! Runs under `--features loom` or `--features shuttle`; compiles to nothing otherwise.
#![cfg(any(feature = "loom", feature = "shuttle"))]

use std::sync::Arc;

use procman_core::sync::{self, ConcurrentMap, SwapCell, Upsert, channel, thread};

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
