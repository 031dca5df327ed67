//! Model checks of the actor's own protocols, run under the facade's checker:
//! `cargo test -p procman-actor --features loom --lib` (every interleaving within the preemption
//! bound) or `--features shuttle` (randomized PCT schedules, plus the whole manager).
//!
//! A lost wake-up or a reply that never lands shows up as a deadlock, which both checkers
//! report.

use std::sync::Arc;

use procman_core::sync::{self, thread};
use procman_core::{ProcessError, ProcessId};

use crate::mailbox::{Post, mailbox};
use crate::messages::{Event, Msg};
use crate::reply::call;

fn event(generation: u64) -> Msg {
    Msg::Event(Event::SpawnAbandoned {
        id: ProcessId::new(Arc::from("m"), generation),
    })
}

/// The doorbell: however the owner's sleep interleaves with two senders' posts and rings, the
/// owner receives both messages, in each sender's order, and never sleeps through one.
#[test]
fn the_owner_never_sleeps_through_a_message() {
    sync::check(|| {
        let (mailbox, inbox) = mailbox();
        let mailbox = Arc::new(mailbox);
        let senders: Vec<_> = (1..=2)
            .map(|generation| {
                let mailbox = mailbox.clone();
                thread::spawn(move || assert!(mailbox.post(event(generation)).is_ok()))
            })
            .collect();
        let mut seen = Vec::new();
        for _ in 0..2 {
            match inbox.next(None) {
                Some(Msg::Event(Event::SpawnAbandoned { id })) => seen.push(id.generation),
                _ => panic!("an unexpected message"),
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 2]);
        for sender in senders {
            sender.join().unwrap();
        }
    });
}

/// A reply lands whether the handle is answered or dropped unanswered on another thread.
#[test]
fn a_reply_handle_always_fills_its_slot_once() {
    sync::check(|| {
        let (mailbox, inbox) = mailbox();
        let owner = thread::spawn(move || {
            for answer in [true, false] {
                let Some(Msg::Call(crate::messages::Call::Stats { reply })) = inbox.next(None)
                else {
                    panic!("expected a stats request");
                };
                if answer {
                    reply.send(procman_core::ManagerStats::default());
                } // else dropped unanswered: the caller must get `Gone`
            }
        });
        let ask = || {
            call(&mailbox, |reply| {
                Msg::Call(crate::messages::Call::Stats { reply })
            })
        };
        assert!(ask().is_ok());
        assert!(ask().is_err());
        owner.join().unwrap();
    });
}

/// A refused post answers `Gone` at once: nothing waits on a message nobody will read.
/// (Loom only: it has no schedule choices for shuttle's PCT scheduler to explore.)
#[cfg(feature = "loom")]
#[test]
fn a_post_to_a_closed_mailbox_answers_gone() {
    sync::check(|| {
        let (mailbox, inbox) = mailbox();
        drop(inbox);
        let answer: procman_core::Result<crate::messages::Attach> =
            crate::reply::call_result(&mailbox, |reply| {
                Msg::Call(crate::messages::Call::Attached {
                    id: ProcessId::new(Arc::from("m"), 1),
                    reply,
                })
            });
        assert!(matches!(answer, Err(ProcessError::ManagerGone)));
        assert!(mailbox.post(event(1)).is_err());
    });
}

/// The whole manager under shuttle's randomized schedules: two clients race to start one name,
/// read it and stop it; every snapshot keeps the invariants and shutdown leaves no child behind.
#[cfg(feature = "shuttle")]
#[test]
fn racing_clients_see_one_consistent_run() {
    use procman_core::{
        IfRunning, ManagerConfig, ProcessManager, ProcessSpec, SimLauncher, StopOptions,
    };

    use crate::ActorManager;

    sync::check(|| {
        let launcher = SimLauncher::new();
        let manager = Arc::new(ActorManager::new(
            Arc::new(launcher.clone()),
            ManagerConfig::default(),
        ));
        let clients: Vec<_> = (0..2)
            .map(|_| {
                let manager = manager.clone();
                thread::spawn(move || {
                    let started = manager
                        .start(ProcessSpec::new("web", ["x"]), IfRunning::ReturnExisting)
                        .unwrap();
                    started.check_invariants().unwrap();
                    let now = manager.status("web".into()).unwrap();
                    now.check_invariants().unwrap();
                    match manager.stop("web".into(), StopOptions::default()) {
                        Ok(end) => end.check_invariants().unwrap(),
                        // The other client's stop got there first, or its start is in flight.
                        Err(ProcessError::NotRunning { .. } | ProcessError::Busy { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        manager.shutdown(std::time::Duration::ZERO);
        assert_eq!(manager.stats().active, 0);
        assert_eq!(launcher.live_count(), 0);
    });
}
