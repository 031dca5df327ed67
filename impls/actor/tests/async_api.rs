//! The async API on tokio runtimes: it answers while stops and spawns are in flight on the
//! same single runtime thread, because it never blocks that thread.
#![cfg(not(any(feature = "loom", feature = "shuttle")))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{LIVENESS, checked, sim, spec};
use procman_actor::ActorManager;
use procman_core::{
    IfRunning, LogQuery, ManagerConfig, ProcessManager, Signal, SimLauncher, SimScript, Status,
    StopOptions,
};

const NEVER: Duration = Duration::from_secs(3600);

/// Fails the test if `work` never finishes: a liveness bound, not a timing assertion.
async fn within_liveness<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIVENESS, work)
        .await
        .expect("the async call never completed: something blocked the runtime thread")
}

#[tokio::test]
async fn every_async_method_answers_on_a_current_thread_runtime() {
    let (launcher, manager) = sim();
    launcher.script("web", SimScript::long_running().with_output(["ready ok"]));
    within_liveness(async {
        let started = manager
            .start_async(spec("web"), IfRunning::default())
            .await
            .unwrap();
        assert_eq!(checked(started).status, Status::Running);
        assert_eq!(manager.status_async("web".into()).await.unwrap(), started);
        assert_eq!(manager.list_async().await, vec![started]);
        let chunk = manager.logs_tail_async("web".into(), 0, 10).await.unwrap();
        assert_eq!(&*chunk.lines[0].text, "ready ok");
        let hits = manager
            .logs_search_async(&LogQuery::substring("ok", 5))
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        let restarted = manager.restart_async("web".into()).await.unwrap();
        assert_eq!(restarted.restarts, 1);
        let stopped = manager
            .stop_async("web".into(), StopOptions::default())
            .await
            .unwrap();
        assert_eq!(stopped.status, Status::Stopped);
        let stats = manager.stats_async().await;
        assert_eq!((stats.started, stats.restarted, stats.active), (2, 1, 0));
    })
    .await;
}

#[test]
fn a_stop_in_flight_holds_up_neither_the_runtime_nor_readers_while_the_owner_is_busy() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    manager
        .start(
            spec("stubborn").with_stop_timeout(NEVER),
            IfRunning::default(),
        )
        .unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Keep the owner busy with a stream of requests from another thread throughout.
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let _ = manager.status("stubborn".into());
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(within_liveness(async {
            // The leader waits out a one-hour stop timeout — by awaiting, not by blocking.
            let leader = manager.stop_async("stubborn".into(), StopOptions::default());
            let observer = async {
                loop {
                    let now = manager.status_async("stubborn".into()).await.unwrap();
                    if now.status == Status::Stopping {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                assert_eq!(manager.list_async().await[0].status, Status::Stopping);
                manager
                    .stop_async("stubborn".into(), StopOptions { force: true })
                    .await
            };
            let (led, joined) = tokio::join!(leader, observer);
            assert_eq!(led, joined);
            assert_eq!(led.unwrap().status, Status::Killed(Signal::KILL));
        }));
        done.store(true, Ordering::Relaxed);
    });
}

#[tokio::test]
async fn an_async_start_spawns_off_the_runtime_thread() {
    let (launcher, manager) = sim();
    launcher.script("slow", SimScript::slow_spawn(Duration::from_millis(200)));
    within_liveness(async {
        let starter = manager.start_async(spec("slow"), IfRunning::default());
        let observer = async {
            // Seen while the spawn is in flight: the runtime thread is not the one sleeping in it.
            loop {
                let now = manager.status_async("slow".into()).await;
                if now.is_ok_and(|s| s.status == Status::Starting) {
                    break;
                }
                tokio::task::yield_now().await;
            }
        };
        let (started, ()) = tokio::join!(starter, observer);
        assert_eq!(started.unwrap().status, Status::Running);
    })
    .await;
}

#[tokio::test]
async fn an_async_stop_escalates_to_sigkill_at_its_deadline() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    let spec = spec("stubborn").with_stop_timeout(Duration::from_millis(20));
    within_liveness(async {
        manager
            .start_async(spec, IfRunning::default())
            .await
            .unwrap();
        let ended = manager
            .stop_async("stubborn".into(), StopOptions::default())
            .await
            .unwrap();
        assert_eq!(ended.status, Status::Killed(Signal::KILL));
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_async_stop_kills_rather_than_leave_the_run_stopping() {
    let (launcher, manager) = sim();
    launcher.script("stubborn", SimScript::ignores_term());
    let spec = spec("stubborn").with_stop_timeout(NEVER);
    within_liveness(async {
        manager
            .start_async(spec, IfRunning::default())
            .await
            .unwrap();
        let mut stop = Box::pin(manager.stop_async("stubborn".into(), StopOptions::default()));
        // Drive the stop until the run is Stopping (its one-hour timeout running), then drop it.
        loop {
            tokio::select! {
                biased;
                ended = &mut stop => panic!("the stop cannot end by itself: {ended:?}"),
                now = manager.status_async("stubborn".into()) => {
                    if now.unwrap().status == Status::Stopping {
                        break;
                    }
                }
            }
            tokio::task::yield_now().await;
        }
        drop(stop);
        // Events from the kill reach the owner before this request: it sees the end at once.
        let now = manager.status_async("stubborn".into()).await.unwrap();
        assert_eq!(checked(now).status, Status::Killed(Signal::KILL));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_are_send_and_serve_many_tasks_at_once() {
    let launcher = SimLauncher::new();
    let manager = Arc::new(ActorManager::new(
        Arc::new(launcher),
        ManagerConfig::default(),
    ));
    manager.start(spec("web"), IfRunning::default()).unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let manager = manager.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let now = manager.status_async("web".into()).await.unwrap();
                    assert_eq!(now.status, Status::Running);
                }
            })
        })
        .collect();
    within_liveness(async {
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
}
