//! The bare floors each design stands on, measured the same way as the seed-table groups:
//! an uncontended RwLock read, an ArcSwap load, a DashMap get, a flume request/reply round trip,
//! and a tokio mpsc + oneshot round trip. Every result goes through `black_box`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

fn floors(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");

    let lock = parking_lot::RwLock::new((7u64, 9u64));
    g.bench_function("rwlock_read", |b| {
        b.iter(|| {
            let v = *black_box(&lock).read();
            black_box(v)
        })
    });

    let cell = arc_swap::ArcSwap::from_pointee((7u64, 9u64));
    g.bench_function("arcswap_load", |b| {
        b.iter(|| {
            let v = **black_box(&cell).load();
            black_box(v)
        })
    });

    let map: dashmap::DashMap<Arc<str>, u64, foldhash::fast::RandomState> =
        dashmap::DashMap::with_hasher(Default::default());
    for i in 0..100 {
        map.insert(Arc::from(format!("proc-{i}")), i);
    }
    let key = "proc-42";
    g.bench_function("dashmap_get", |b| {
        b.iter(|| black_box(black_box(&map).get(black_box(key)).map(|r| *r)))
    });

    // The read floor of a design whose status writes no shared memory: a copy-on-write map
    // (immutable, in an ArcSwap) of 100 names, each holding an ArcSwap of a `Copy` state; a read
    // loads the map, probes it, loads the state and copies it out. Both loads use arc-swap's
    // per-thread debt slots, no shared reference count.
    #[derive(Clone, Copy)]
    #[allow(dead_code)] // the fields are read only through `black_box`
    struct State {
        status: u8,
        pid: Option<u32>,
        started: Option<std::time::SystemTime>,
        ended: Option<std::time::SystemTime>,
        restarts: u32,
        lines: u64,
    }
    let state = State {
        status: 2,
        pid: Some(7),
        started: Some(std::time::SystemTime::now()),
        ended: None,
        restarts: 0,
        lines: 0,
    };
    let cow: arc_swap::ArcSwap<
        std::collections::HashMap<Arc<str>, arc_swap::ArcSwap<State>, foldhash::fast::RandomState>,
    > = arc_swap::ArcSwap::from_pointee(
        (0..100)
            .map(|i| {
                (
                    Arc::from(format!("proc-{i}")),
                    arc_swap::ArcSwap::from_pointee(state),
                )
            })
            .collect(),
    );
    g.bench_function("cow_map_arcswap_copy", |b| {
        b.iter(|| {
            let map = black_box(&cow).load();
            black_box(map.get(black_box(key)).map(|cell| **cell.load()))
        })
    });

    // A flume request/reply round trip to an owner thread, the actor design's floor: the reply
    // channel is reused (one per caller), as the best form of the design does.
    let (req_tx, req_rx) = flume::unbounded::<u64>();
    let (rep_tx, rep_rx) = flume::bounded::<u64>(1);
    let owner = std::thread::spawn(move || {
        while let Ok(x) = req_rx.recv() {
            if rep_tx.send(x + 1).is_err() {
                break;
            }
        }
    });
    g.bench_function("flume_round_trip", |b| {
        b.iter(|| {
            req_tx.send(black_box(1)).unwrap();
            black_box(rep_rx.recv().unwrap())
        })
    });
    drop(req_tx);
    owner.join().unwrap();

    // tokio: an mpsc request carrying a fresh oneshot for the reply, the idiomatic async actor.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(u64, tokio::sync::oneshot::Sender<u64>)>();
    rt.spawn(async move {
        while let Some((x, reply)) = rx.recv().await {
            let _ = reply.send(x + 1);
        }
    });
    g.bench_function("tokio_mpsc_oneshot_round_trip", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (otx, orx) = tokio::sync::oneshot::channel();
                tx.send((black_box(1), otx)).unwrap();
                black_box(orx.await.unwrap())
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(30);
    targets = floors
}
criterion_main!(benches);
