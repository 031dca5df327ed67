//! The owner's mailbox: a flume queue plus a doorbell that wakes the owner when it sleeps.
//!
//! Why a doorbell instead of flume's blocking `recv`: flume allocates a wait hook (an `Arc`)
//! every time a receiver blocks on an empty channel, and an owner serving one request at a time
//! blocks once per request. Here the owner only ever uses `try_recv`, and sleeps on a condvar
//! when the queue is empty. A sender pays one load of the `asleep` flag per message (a plain load
//! on x86) and takes the doorbell's lock only when the owner is actually asleep — and then only the first
//! sender to see it asleep (`swap`) does; the others find it already woken.
//!
//! No lost wake-up: the owner sets `asleep` *then* re-checks the queue under the doorbell lock;
//! a sender pushes *then* reads `asleep`. Both queue accesses take flume's channel lock, so if
//! the owner's re-check missed the message, the sender's push came after it and its read of
//! `asleep` sees `true`; and the owner holds the doorbell lock from the re-check until it waits,
//! so the sender's ring cannot fall between the two.

use std::time::{Duration, Instant};

use procman_core::sync::atomic::{AtomicBool, Ordering};
use procman_core::sync::channel::{self, Receiver, Sender, TryRecvError};
use procman_core::sync::{Arc, Condvar, Mutex, Weak};

use crate::messages::Msg;
use crate::reply::Gone;
use crate::spin::Adaptive;

/// Something a message can be posted through: the mailbox itself, or a weak handle to it.
pub(crate) trait Post {
    /// Queues `msg` for the owner. If the owner can no longer receive it, the message is
    /// dropped — which answers `Gone` to the reply handle it carries — and `Gone` returned.
    fn post(&self, msg: Msg) -> Result<(), Gone>;
}

/// The sending side, shared by every caller (and, weakly, by children and the launch worker).
pub(crate) struct Mailbox {
    /// The queue.
    tx: Sender<Msg>,
    /// Wakes the owner.
    bell: Arc<Doorbell>,
}

/// The receiving side, owned by the owner thread.
pub(crate) struct Inbox {
    /// The queue.
    rx: Receiver<Msg>,
    /// Where the owner sleeps.
    bell: Arc<Doorbell>,
    /// How long the owner spins on an empty queue before it parks (see [`crate::spin`]).
    spin: Adaptive,
}

/// The owner's sleep and wake-up.
struct Doorbell {
    /// True while the owner is (about to be) asleep and no sender has rung since.
    asleep: AtomicBool,
    /// Rung since the owner last looked.
    rung: Mutex<bool>,
    /// The owner waits here.
    ring: Condvar,
}

/// A new mailbox and its inbox.
pub(crate) fn mailbox() -> (Mailbox, Inbox) {
    let (tx, rx) = channel::unbounded();
    let bell = Arc::new(Doorbell {
        asleep: AtomicBool::new(false),
        rung: Mutex::new(false),
        ring: Condvar::new(),
    });
    (
        Mailbox {
            tx,
            bell: bell.clone(),
        },
        Inbox {
            rx,
            bell,
            spin: Adaptive::owner(),
        },
    )
}

impl Post for Mailbox {
    fn post(&self, msg: Msg) -> Result<(), Gone> {
        self.tx.send(msg).map_err(|_| Gone)?;
        self.bell.ring();
        Ok(())
    }
}

/// Children and the launch worker hold the mailbox weakly, so that once the manager is dropped
/// and the owner has exited, the channel (and any message stranded in it) is freed, which
/// answers `Gone` to whoever still waits on such a message.
impl Post for Weak<Mailbox> {
    fn post(&self, msg: Msg) -> Result<(), Gone> {
        match self.upgrade() {
            Some(mailbox) => mailbox.post(msg),
            None => Err(Gone),
        }
    }
}

impl Doorbell {
    fn ring(&self) {
        // SeqCst pairs with the owner's store before its re-check (see the module docs).
        if self.asleep.load(Ordering::SeqCst) && self.asleep.swap(false, Ordering::SeqCst) {
            let mut rung = self.rung.lock();
            *rung = true;
            self.ring.notify_one();
        }
    }
}

impl Inbox {
    /// The next message; `None` when `until` passes first. Spins briefly, then sleeps, while
    /// the queue is empty.
    pub(crate) fn next(&self, until: Option<Instant>) -> Option<Msg> {
        let bell = &*self.bell;
        loop {
            if let Some(msg) = self.try_next() {
                return Some(msg);
            }
            // Bounded and adaptive (crate::spin): a client sending back to back finds the owner
            // awake; an idle owner parks within the limit. A pending timer caps the spin.
            let cap = until.map_or(Duration::MAX, |at| {
                at.saturating_duration_since(Instant::now())
            });
            if let Some(msg) = self.spin.spin(cap, || self.try_next()) {
                return Some(msg);
            }
            let mut rung = bell.rung.lock();
            if std::mem::take(&mut *rung) {
                // A ring left over from a sleep that found its message on the re-check.
                continue;
            }
            bell.asleep.store(true, Ordering::SeqCst);
            // SEEDED BUG `seeded-bug-lost-wakeup` (procman-races catalogue): without this
            // re-check, a message posted after the first look but before `asleep` was set
            // never rings the doorbell (its sender read `asleep == false`), and the owner
            // sleeps through it while its caller waits for the answer.
            #[cfg(not(feature = "seeded-bug-lost-wakeup"))]
            if let Some(msg) = self.try_next() {
                bell.asleep.store(false, Ordering::SeqCst);
                return Some(msg);
            }
            while !*rung {
                match until {
                    None => bell.ring.wait(&mut rung),
                    Some(at) => {
                        let now = Instant::now();
                        if now >= at {
                            bell.asleep.store(false, Ordering::SeqCst);
                            return None;
                        }
                        bell.ring.wait_for(&mut rung, at - now);
                    }
                }
            }
            // The ringer cleared `asleep`.
            *rung = false;
        }
    }

    fn try_next(&self) -> Option<Msg> {
        match self.rx.try_recv() {
            Ok(msg) => Some(msg),
            Err(TryRecvError::Empty) => None,
            // Every sender is gone: nobody can ask anything any more.
            Err(TryRecvError::Disconnected) => Some(Msg::Close),
        }
    }
}
