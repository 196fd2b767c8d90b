//! [`Expiry`] and [`poll_waiter`]: how a waiting future watches its place in line and its
//! deadline.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Instant;

use tornado_ioloop::{Deadline, IoLoop, Sleep};

use crate::waitlist::{Status, WaitList};

/// The instant a timeout names, fixed when the wait starts (as Tornado computes
/// `IOLoop.time() + timedelta` when `wait`/`acquire`/`get`/`put` is called).
pub fn deadline_instant(timeout: impl Into<Deadline>) -> Instant {
    timeout.into().instant()
}

/// A deadline and the timer that wakes the waiting task at it.
///
/// The timer is set on the current [`IoLoop`] at the first poll that finds the deadline
/// still ahead, and removed when the `Expiry` is dropped (the timer belongs to the loop's
/// heap; a [`Sleep`] removes its entry on drop).
pub struct Expiry {
    at: Instant,
    sleep: Option<Sleep>,
}

impl Expiry {
    /// Expires at `at`.
    pub fn new(at: Instant) -> Expiry {
        Expiry { at, sleep: None }
    }

    /// The deadline.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// `true` once the deadline has passed; until then, arranges for `cx` to be woken at
    /// the deadline.
    ///
    /// A deadline already past answers at once, without a trip through the loop: since
    /// Tornado 6.6 a zero timeout "returns or raises immediately".
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let sleep = match &mut self.sleep {
            Some(sleep) => sleep,
            None => {
                if self.at <= Instant::now() {
                    return true;
                }
                self.sleep.insert(IoLoop::current().sleep(self.at))
            }
        };
        Pin::new(sleep).poll(cx).is_ready()
    }
}

impl std::fmt::Debug for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expiry")
            .field("at", &self.at)
            .field("armed", &self.sleep.is_some())
            .finish()
    }
}

/// What a waiting future found when it looked at its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    /// It was served; the caller removes the slot and takes the payload.
    Served,
    /// Its deadline passed first; the caller removes the slot (leaving the line).
    Expired,
    /// Still in line; `cx` will be woken when served or at the deadline.
    Pending,
}

/// Polls the waiter `key` of `list`: served wins over a deadline that passed meanwhile,
/// since what was served is already the waiter's (an item, a permit, a notification).
pub fn poll_waiter<P>(
    list: &RefCell<WaitList<P>>,
    key: usize,
    expiry: Option<&mut Expiry>,
    cx: &mut Context<'_>,
) -> Polled {
    let status = list.borrow_mut().poll_status(key, cx.waker());
    check(status, expiry, cx)
}

/// What a waiter whose slot has `status` (from [`WaitList::poll_status`]) should do: for a
/// waiter kept in a list that is not alone in its `RefCell`.
pub fn check(status: Status, expiry: Option<&mut Expiry>, cx: &mut Context<'_>) -> Polled {
    match status {
        Status::Served => Polled::Served,
        Status::Expired => Polled::Expired,
        Status::Queued => match expiry {
            Some(expiry) => {
                if expiry.poll_expired(cx) {
                    Polled::Expired
                } else {
                    Polled::Pending
                }
            }
            None => Polled::Pending,
        },
    }
}
