//! The timer heap: deadlines, lazy cancellation and compaction.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

/// When something should happen: at an instant on the loop's clock, or after a duration from
/// now.
///
/// This is Tornado's timeout convention in Rust form. Where Tornado takes "a number (an
/// absolute time on `IOLoop.time()`) or a `timedelta` (relative)", this crate and the ones
/// above it take `impl Into<Deadline>`: pass an [`Instant`] (for example
/// `io_loop.time() + Duration::from_secs(1)`) or a [`Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// At this instant (Tornado: a number on `IOLoop.time()`).
    At(Instant),
    /// This long from now (Tornado: a `timedelta`).
    After(Duration),
}

/// About 30 years: what "never" becomes when a duration would overflow `Instant`.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 86_400);

impl Deadline {
    /// The instant this deadline names, taking "now" as `now`.
    pub fn instant_from(self, now: Instant) -> Instant {
        match self {
            Deadline::At(at) => at,
            Deadline::After(d) => now.checked_add(d).unwrap_or_else(|| now + FAR_FUTURE),
        }
    }

    /// The instant this deadline names, taking "now" as [`Instant::now`].
    pub fn instant(self) -> Instant {
        self.instant_from(Instant::now())
    }

    /// `true` if the deadline has already passed (a zero duration has: since Tornado 6.6 a
    /// zero timeout answers at once).
    pub fn has_passed(self) -> bool {
        match self {
            Deadline::At(at) => at <= Instant::now(),
            Deadline::After(d) => d.is_zero(),
        }
    }
}

impl From<Instant> for Deadline {
    fn from(at: Instant) -> Self {
        Deadline::At(at)
    }
}

impl From<Duration> for Deadline {
    fn from(d: Duration) -> Self {
        Deadline::After(d)
    }
}

/// A scheduled timeout, returned by `add_timeout`, `call_at` and `call_later` and accepted by
/// `remove_timeout`. Removing a timeout that already ran, or was already removed, does
/// nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeoutHandle {
    key: usize,
    seq: u64,
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeoutHandle({})", self.seq)
    }
}

/// What a timer does when it fires.
pub(crate) enum TimerAction {
    Callback(Box<dyn FnOnce()>),
    /// Wake a future (`Sleep`); the future checks the clock itself when polled.
    Wake(Waker),
}

struct Entry {
    when: Instant,
    /// Insertion order: timers with equal deadlines fire in the order they were added.
    seq: u64,
    key: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.when, self.seq).cmp(&(other.when, other.seq))
    }
}

struct Slot {
    seq: u64,
    action: TimerAction,
}

/// Pending timers.
///
/// Invariants: every live timer has one slot in `slots` and one entry in `heap` with the same
/// `seq`; `cancelled` counts heap entries whose slot is gone (removed timers are left in the
/// heap and skipped when they reach the top, which makes removal O(1)).
pub(crate) struct TimerHeap {
    heap: BinaryHeap<Reverse<Entry>>,
    slots: Slab<Slot>,
    cancelled: usize,
    next_seq: u64,
}

/// Cancelled entries are purged from the heap only past this many, so a loop that sets and
/// cancels a few timers per request never pays for a rebuild (the rule of Tornado's
/// `PollIOLoop`: more than 512 cancellations *and* more than half the heap).
const COMPACT_MIN_CANCELLED: usize = 512;

impl TimerHeap {
    pub(crate) fn new() -> Self {
        TimerHeap {
            heap: BinaryHeap::new(),
            slots: Slab::new(),
            cancelled: 0,
            next_seq: 0,
        }
    }

    pub(crate) fn insert(&mut self, when: Instant, action: TimerAction) -> TimeoutHandle {
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = self.slots.insert(Slot { seq, action });
        self.heap.push(Reverse(Entry { when, seq, key }));
        TimeoutHandle { key, seq }
    }

    /// Removes a pending timer and returns its action (to be dropped by the caller outside
    /// any borrow of the loop, since dropping a callback may run arbitrary code).
    pub(crate) fn remove(&mut self, handle: TimeoutHandle) -> Option<TimerAction> {
        match self.slots.get(handle.key) {
            Some(slot) if slot.seq == handle.seq => {}
            _ => return None,
        }
        let slot = self.slots.remove(handle.key);
        self.cancelled += 1;
        if self.cancelled > COMPACT_MIN_CANCELLED && self.cancelled > self.heap.len() / 2 {
            let slots = &self.slots;
            self.heap
                .retain(|Reverse(e)| slots.get(e.key).is_some_and(|s| s.seq == e.seq));
            self.cancelled = 0;
        }
        Some(slot.action)
    }

    /// Replaces the waker of a `Wake` timer; `false` if the timer is no longer pending.
    pub(crate) fn update_waker(&mut self, handle: TimeoutHandle, waker: &Waker) -> bool {
        match self.slots.get_mut(handle.key) {
            Some(slot) if slot.seq == handle.seq => {
                if let TimerAction::Wake(w) = &mut slot.action
                    && !w.will_wake(waker)
                {
                    w.clone_from(waker);
                }
                true
            }
            _ => false,
        }
    }

    /// `true` if the timer has neither fired nor been removed.
    #[cfg(test)]
    fn contains(&self, handle: TimeoutHandle) -> bool {
        self.slots
            .get(handle.key)
            .is_some_and(|s| s.seq == handle.seq)
    }

    /// The deadline of the earliest live timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.skip_cancelled();
        self.heap.peek().map(|Reverse(e)| e.when)
    }

    /// Takes the earliest timer if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerAction> {
        self.skip_cancelled();
        match self.heap.peek() {
            Some(Reverse(e)) if e.when <= now => {}
            _ => return None,
        }
        let Reverse(e) = self.heap.pop()?;
        Some(self.slots.remove(e.key).action)
    }

    fn skip_cancelled(&mut self) {
        while let Some(Reverse(e)) = self.heap.peek() {
            if self.slots.get(e.key).is_some_and(|s| s.seq == e.seq) {
                return;
            }
            self.heap.pop();
            self.cancelled -= 1;
        }
    }

    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Takes every pending action out (on close).
    pub(crate) fn drain(&mut self) -> Vec<TimerAction> {
        self.heap.clear();
        self.cancelled = 0;
        self.slots.drain().map(|s| s.action).collect()
    }

    #[cfg(test)]
    fn heap_len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    fn cb(log: &Rc<RefCell<Vec<u32>>>, n: u32) -> TimerAction {
        let log = log.clone();
        TimerAction::Callback(Box::new(move || log.borrow_mut().push(n)))
    }

    fn fire_all(h: &mut TimerHeap, now: Instant) {
        while let Some(TimerAction::Callback(f)) = h.pop_due(now) {
            f();
        }
    }

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut h = TimerHeap::new();
        let t = Instant::now();
        for n in 0..100 {
            h.insert(t + Duration::from_millis(u64::from(n % 3)), cb(&log, n));
        }
        fire_all(&mut h, t + Duration::from_secs(1));
        let got = log.borrow().clone();
        let mut want: Vec<u32> = (0..100).filter(|n| n % 3 == 0).collect();
        want.extend((0..100).filter(|n| n % 3 == 1));
        want.extend((0..100).filter(|n| n % 3 == 2));
        assert_eq!(got, want);
    }

    #[test]
    fn not_due_stays() {
        let mut h = TimerHeap::new();
        let t = Instant::now();
        h.insert(
            t + Duration::from_secs(5),
            TimerAction::Callback(Box::new(|| ())),
        );
        assert!(h.pop_due(t).is_none());
        assert_eq!(h.next_deadline(), Some(t + Duration::from_secs(5)));
    }

    #[test]
    fn removal_is_lazy_then_compacted() {
        let mut h = TimerHeap::new();
        let t = Instant::now();
        let handles: Vec<_> = (0..2000)
            .map(|i| {
                h.insert(
                    t + Duration::from_secs(i),
                    TimerAction::Callback(Box::new(|| ())),
                )
            })
            .collect();
        for handle in &handles[..600] {
            assert!(h.remove(*handle).is_some());
        }
        // 600 cancelled is more than 512 but not more than half of 2000: still lazy.
        assert_eq!(h.heap_len(), 2000);
        for handle in &handles[600..1100] {
            h.remove(*handle);
        }
        // 1100 cancelled > 1000: compacted once it passed half the heap.
        assert!(
            h.heap_len() < 2000 - 512,
            "heap was compacted: {}",
            h.heap_len()
        );
        assert_eq!(h.len(), 900);
        assert!(
            h.remove(handles[0]).is_none(),
            "removing twice does nothing"
        );
        assert_eq!(h.next_deadline(), Some(t + Duration::from_secs(1100)));
    }

    #[test]
    fn handles_are_not_confused_after_slot_reuse() {
        let mut h = TimerHeap::new();
        let t = Instant::now();
        let a = h.insert(t, TimerAction::Callback(Box::new(|| ())));
        assert!(h.pop_due(t).is_some());
        let b = h.insert(t, TimerAction::Callback(Box::new(|| ())));
        assert!(!h.contains(a) && h.contains(b));
        assert!(
            h.remove(a).is_none(),
            "a stale handle must not cancel the new timer"
        );
        assert!(h.contains(b));
    }

    #[test]
    fn overflowing_durations_saturate() {
        let now = Instant::now();
        let far = Deadline::After(Duration::MAX).instant_from(now);
        assert!(far > now + Duration::from_secs(365 * 86_400));
        assert!(Deadline::After(Duration::ZERO).has_passed());
        assert!(!Deadline::After(Duration::from_secs(1)).has_passed());
    }
}
