//! [`WaitList`]: the FIFO line of waiters behind every primitive of this crate (and the
//! getters and putters of `tornado-queues`).
//!
//! # Implementation
//!
//! A doubly linked list threaded through a [`Slab`]: a waiter is a slot, found by its key,
//! and it can leave the line from anywhere in O(1), which is what makes timeouts and
//! dropped futures cheap. Slots are reused, so a steady stream of waits allocates nothing
//! once the slab has grown to the peak number of simultaneous waiters.
//!
//! Ownership rule: a slot is created by a waiting future and removed only by that same
//! future (when it completes or is dropped). The primitive only *serves* a slot (unlinks it
//! and marks it [`Status::Served`], possibly leaving a payload in it) or *expires* it. So a
//! key can never be reused while the future holding it is alive, and no generation counter
//! is needed.
//!
//! Deadlines are stored in the slot, not only in the future's timer, so that a waiter whose
//! deadline has passed is skipped when the line is served even if its task has not run
//! yet: it never takes a notification, a permit or an item after its deadline (Tornado
//! skips futures its timeout callback already resolved).

use std::fmt;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

/// "No slot": the end of the line.
const NIL: usize = usize::MAX;

/// Where a waiter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// In line, waiting to be served.
    Queued,
    /// Served: taken out of the line and given what it waited for (its payload says what).
    Served,
    /// Its deadline passed before it was served; it left the line.
    Expired,
}

struct Slot<P> {
    /// Neighbours in the line; `NIL` at either end, and both `NIL` once out of the line.
    prev: usize,
    next: usize,
    status: Status,
    deadline: Option<Instant>,
    waker: Option<Waker>,
    payload: P,
}

/// A FIFO of waiters, each carrying a payload `P`. Not part of the public API: shared with
/// `tornado-queues`, with no stability promise.
pub struct WaitList<P> {
    slots: Slab<Slot<P>>,
    head: usize,
    tail: usize,
    /// Slots with status `Queued` (the length of the line).
    queued: usize,
}

impl<P> Default for WaitList<P> {
    fn default() -> Self {
        WaitList::new()
    }
}

impl<P> WaitList<P> {
    /// An empty line.
    pub const fn new() -> Self {
        WaitList {
            slots: Slab::new(),
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// Waiters in line (served and expired ones not counted).
    pub fn len(&self) -> usize {
        self.queued
    }

    /// `true` if nobody is in line.
    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Puts a waiter at the end of the line and returns its key.
    ///
    /// Waiters at the front whose deadline has passed leave the line first (Tornado's
    /// queues do the same in `_consume_expired`), so that a line of waiters whose tasks are
    /// not running does not grow without bound.
    pub fn push_back(&mut self, payload: P, deadline: Option<Instant>) -> usize {
        self.expire_front();
        let key = self.slots.insert(Slot {
            prev: self.tail,
            next: NIL,
            status: Status::Queued,
            deadline,
            waker: None,
            payload,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.slots[tail].next = key,
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// Serves the first waiter whose deadline has not passed: takes it out of the line,
    /// marks it [`Status::Served`] and returns its key. Waiters found expired on the way are
    /// marked [`Status::Expired`] and leave the line too. `None` if nobody is left.
    ///
    /// The caller puts what was served into the payload, then wakes the waiter (with
    /// [`take_waker`](WaitList::take_waker)) once it no longer borrows the list.
    pub fn serve_front(&mut self) -> Option<usize> {
        // The clock is read at most once, and only if a waiter in front has a deadline.
        let mut now = None;
        while self.head != NIL {
            let key = self.head;
            self.unlink(key);
            let slot = &mut self.slots[key];
            if let Some(deadline) = slot.deadline
                && deadline <= *now.get_or_insert_with(Instant::now)
            {
                // Its own timer wakes its task; no need to wake it here.
                slot.status = Status::Expired;
                continue;
            }
            slot.status = Status::Served;
            return Some(key);
        }
        None
    }

    /// Marks the waiters at the front whose deadline has passed as expired, up to the first
    /// that is still live.
    fn expire_front(&mut self) {
        let mut now = None;
        while self.head != NIL {
            let key = self.head;
            match self.slots[key].deadline {
                Some(deadline) if deadline <= *now.get_or_insert_with(Instant::now) => {
                    self.unlink(key);
                    self.slots[key].status = Status::Expired;
                }
                _ => return,
            }
        }
    }

    /// The waiter's status.
    ///
    /// # Panics
    ///
    /// If `key` is not a live slot (a bug in the caller: only the owner of a key uses it).
    pub fn status(&self, key: usize) -> Status {
        self.slots[key].status
    }

    /// The waiter's payload.
    pub fn payload_mut(&mut self, key: usize) -> &mut P {
        &mut self.slots[key].payload
    }

    /// The waiter's status; while it is still queued, also remembers `waker` to call when
    /// it is served (what a waiting future does when polled).
    pub fn poll_status(&mut self, key: usize, waker: &Waker) -> Status {
        let status = self.slots[key].status;
        if status == Status::Queued {
            self.register(key, waker);
        }
        status
    }

    /// Remembers the waker to call when the waiter is served.
    pub fn register(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.slots[key];
        match &mut slot.waker {
            Some(w) if w.will_wake(waker) => {}
            Some(w) => w.clone_from(waker),
            None => slot.waker = Some(waker.clone()),
        }
    }

    /// Takes the waker out, to be woken after the list is no longer borrowed (a waker may
    /// run arbitrary code).
    pub fn take_waker(&mut self, key: usize) -> Option<Waker> {
        self.slots[key].waker.take()
    }

    /// Removes the waiter (leaving the line if still in it) and returns its last status and
    /// payload. Called by the owner of the key only, when it completes or is dropped.
    pub fn remove(&mut self, key: usize) -> (Status, P) {
        if self.slots[key].status == Status::Queued {
            self.unlink(key);
        }
        let slot = self.slots.remove(key);
        (slot.status, slot.payload)
    }

    /// Takes a queued slot out of the line (its status is left to the caller).
    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let slot = &mut self.slots[key];
            let links = (slot.prev, slot.next);
            slot.prev = NIL;
            slot.next = NIL;
            links
        };
        match prev {
            NIL => self.head = next,
            prev => self.slots[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.slots[next].prev = prev,
        }
        self.queued -= 1;
    }

    /// Slots alive (in line, or served or expired and not yet collected by their future).
    #[cfg(test)]
    fn slots(&self) -> usize {
        self.slots.len()
    }
}

impl<P> fmt::Debug for WaitList<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("queued", &self.queued)
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn drain(list: &mut WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(key) = list.serve_front() {
            out.push(*list.payload_mut(key));
        }
        out
    }

    #[test]
    fn fifo_order() {
        let mut list = WaitList::new();
        for n in 0..5 {
            list.push_back(n, None);
        }
        assert_eq!(list.len(), 5);
        assert_eq!(drain(&mut list), [0, 1, 2, 3, 4]);
        assert!(list.is_empty());
        assert_eq!(
            list.slots(),
            5,
            "served slots stay until their owner removes them"
        );
    }

    #[test]
    fn remove_from_anywhere() {
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|n| list.push_back(n, None)).collect();
        assert_eq!(list.remove(keys[2]), (Status::Queued, 2));
        assert_eq!(list.remove(keys[0]), (Status::Queued, 0));
        assert_eq!(list.remove(keys[4]), (Status::Queued, 4));
        assert_eq!(list.len(), 2);
        assert_eq!(drain(&mut list), [1, 3]);
        let served = keys[1];
        assert_eq!(list.remove(served), (Status::Served, 1));
        assert_eq!(list.remove(keys[3]).0, Status::Served);
        assert_eq!(list.slots(), 0);
    }

    #[test]
    fn slots_are_reused() {
        let mut list = WaitList::new();
        for round in 0..100 {
            let a = list.push_back(round, None);
            let b = list.push_back(round + 1, None);
            list.remove(a);
            let served = list.serve_front().unwrap();
            assert_eq!(served, b);
            list.remove(b);
        }
        assert_eq!(list.slots(), 0);
        assert!(list.slots.capacity() <= 4);
    }

    #[test]
    fn expired_waiters_are_skipped() {
        let mut list = WaitList::new();
        let past = Instant::now();
        let future = Instant::now() + Duration::from_secs(3600);
        let a = list.push_back(0, Some(past));
        let b = list.push_back(1, Some(future));
        let c = list.push_back(2, Some(past));
        let d = list.push_back(3, None);
        assert_eq!(list.serve_front(), Some(b));
        assert_eq!(list.status(a), Status::Expired);
        assert_eq!(list.serve_front(), Some(d));
        assert_eq!(list.status(c), Status::Expired);
        assert_eq!(list.serve_front(), None);
        assert!(list.is_empty());
    }

    #[test]
    fn push_sweeps_expired_waiters_at_the_front() {
        let mut list = WaitList::new();
        let past = Instant::now();
        let expired: Vec<usize> = (0..3).map(|n| list.push_back(n, Some(past))).collect();
        let live = list.push_back(3, None);
        let late = list.push_back(4, Some(past));
        assert_eq!(
            list.len(),
            2,
            "each expired waiter left when the next one joined"
        );
        assert!(expired.iter().all(|&k| list.status(k) == Status::Expired));
        assert_eq!(list.status(live), Status::Queued);
        assert_eq!(list.status(late), Status::Queued, "only the front is swept");
    }

    #[test]
    fn wakers_are_kept_and_taken() {
        let mut list = WaitList::new();
        let a = list.push_back((), None);
        assert!(list.take_waker(a).is_none());
        list.register(a, Waker::noop());
        list.register(a, Waker::noop());
        assert!(list.take_waker(a).is_some());
        assert!(list.take_waker(a).is_none());
    }
}
