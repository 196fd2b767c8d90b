//! [`Semaphore`] and [`BoundedSemaphore`], and the counter they share with [`Lock`].
//!
//! [`Lock`]: crate::Lock

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use tornado_concurrent::TimeoutError;
use tornado_ioloop::Deadline;

use crate::error::Error;
use crate::expiry::{Expiry, Polled, deadline_instant, poll_waiter};
use crate::waitlist::{Status, WaitList};

/// Which primitive a counter serves: it decides what an excess release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Semaphore`: any number of releases is fine.
    Plain,
    /// `BoundedSemaphore`: not past the initial value.
    Bounded,
    /// `Lock`: a bounded semaphore of one, with its own error.
    Lock,
}

/// The counter of a semaphore and its line of waiters.
///
/// Invariant: `value > 0` only while nobody waits (a release serves the first waiter in
/// line directly, as Tornado's does, instead of counting the permit), so an acquire that
/// finds a permit never jumps the line.
pub(crate) struct Counter {
    value: Cell<usize>,
    initial: usize,
    flavor: Flavor,
    waiters: RefCell<WaitList<()>>,
}

impl Counter {
    pub(crate) fn new(value: usize, flavor: Flavor) -> Rc<Counter> {
        Rc::new(Counter {
            value: Cell::new(value),
            initial: value,
            flavor,
            waiters: RefCell::new(WaitList::new()),
        })
    }

    pub(crate) fn value(&self) -> usize {
        self.value.get()
    }

    pub(crate) fn waiters(&self) -> usize {
        self.waiters.borrow().len()
    }

    /// Takes a permit now, or takes a place in line.
    pub(crate) fn start_acquire(self: &Rc<Self>, deadline: Option<Instant>) -> Acquiring {
        let value = self.value.get();
        let state = if value > 0 {
            self.value.set(value - 1);
            State::Held
        } else {
            match deadline {
                Some(at) if at <= Instant::now() => State::TimedOut,
                _ => State::Waiting(self.waiters.borrow_mut().push_back((), deadline)),
            }
        };
        Acquiring {
            counter: self.clone(),
            state,
        }
    }

    /// Gives back a permit, checking the bound of a `BoundedSemaphore` or `Lock`.
    pub(crate) fn release(&self) -> Result<(), Error> {
        match self.flavor {
            Flavor::Plain => {}
            _ if self.value.get() < self.initial => {}
            Flavor::Bounded => return Err(Error::released_too_many_times()),
            Flavor::Lock => return Err(Error::not_locked()),
        }
        self.add_permit();
        Ok(())
    }

    /// Gives a permit to the first waiter in line, or counts it if nobody waits.
    fn add_permit(&self) {
        let waker = {
            let mut waiters = self.waiters.borrow_mut();
            match waiters.serve_front() {
                Some(key) => waiters.take_waker(key),
                None => {
                    self.value.set(self.value.get() + 1);
                    return;
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The release of a guard being dropped. It cannot return an error, so an excess
    /// release (the permit was already given back by an explicit `release`) is logged.
    fn release_from_guard(&self) {
        if let Err(e) = self.release() {
            log::error!(target: "application", "{e} (by a guard, after an explicit release)");
        }
    }
}

/// A permit being acquired: what [`Acquire`], [`AcquireTimeout`] and the lock's futures
/// share.
pub(crate) struct Acquiring {
    counter: Rc<Counter>,
    state: State,
}

enum State {
    Waiting(usize),
    /// The permit is ours (taken at once, or served); not yet handed out as a guard.
    Held,
    TimedOut,
    Taken,
}

impl Acquiring {
    /// The timer of a timed acquire: needed only if it had to wait in line.
    pub(crate) fn expiry(&self, at: Instant) -> Option<Expiry> {
        matches!(self.state, State::Waiting(_)).then(|| Expiry::new(at))
    }

    /// `Ready(Some(guard))` once acquired, `Ready(None)` at the deadline.
    pub(crate) fn poll_acquire(
        &mut self,
        expiry: Option<&mut Expiry>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<SemaphoreGuard>> {
        if let State::Waiting(key) = self.state {
            let polled = poll_waiter(&self.counter.waiters, key, expiry, cx);
            if polled == Polled::Pending {
                return Poll::Pending;
            }
            self.counter.waiters.borrow_mut().remove(key);
            self.state = match polled {
                Polled::Served => State::Held,
                _ => State::TimedOut,
            };
        }
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Held => Poll::Ready(Some(SemaphoreGuard {
                counter: Some(self.counter.clone()),
            })),
            State::TimedOut => Poll::Ready(None),
            State::Waiting(_) | State::Taken => {
                panic!("semaphore acquire polled after completion")
            }
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::Waiting(_) => "waiting",
            State::Held => "acquired",
            State::TimedOut => "timed out",
            State::Taken => "done",
        }
    }
}

impl Drop for Acquiring {
    fn drop(&mut self) {
        let held = match self.state {
            State::Waiting(key) => {
                self.counter.waiters.borrow_mut().remove(key).0 == Status::Served
            }
            State::Held => true,
            State::TimedOut | State::Taken => false,
        };
        if held {
            // Acquired but never handed out: the permit goes back (to the next in line).
            self.counter.add_permit();
        }
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases the permit
/// (Tornado's `async with sem:` block ends).
#[must_use = "dropping the guard releases the permit at once"]
pub struct SemaphoreGuard {
    /// `None` once forgotten.
    counter: Option<Rc<Counter>>,
}

impl SemaphoreGuard {
    /// Keeps the permit acquired without a guard, to be given back later with an explicit
    /// `release()`, Tornado's `await sem.acquire()` ... `sem.release()` style.
    pub fn forget(mut self) {
        self.counter = None;
    }
}

impl Drop for SemaphoreGuard {
    fn drop(&mut self) {
        if let Some(counter) = self.counter.take() {
            counter.release_from_guard();
        }
    }
}

impl fmt::Debug for SemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

/// A counter of permits that coroutines acquire and release (`tornado.locks.Semaphore`).
///
/// [`acquire`](Semaphore::acquire) takes a permit, waiting if none is left, and gives a
/// [`SemaphoreGuard`] that releases it when dropped: the Rust form of `async with sem:`.
/// Waiters are served first come, first served. A waiter that times out or is dropped
/// leaves the line at once; one dropped after a permit was given to it gives the permit
/// back, so a permit is never lost.
///
/// A `Semaphore` is a cheap handle: clones share the same counter. It is `!Send`.
///
/// # Examples
///
/// Two workers at a time:
///
/// ```
/// use std::time::Duration;
/// use tornado_gen::sleep;
/// use tornado_ioloop::IoLoop;
/// use tornado_locks::Semaphore;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let sem = Semaphore::new(2);
///             let workers: Vec<_> = (0..3)
///                 .map(|id| {
///                     let sem = sem.clone();
///                     IoLoop::current().spawn(async move {
///                         let _permit = sem.acquire().await;
///                         println!("Worker {id} is working");
///                         sleep(Duration::from_millis(1)).await;
///                         println!("Worker {id} is done");
///                     })
///                 })
///                 .collect();
///             for worker in workers {
///                 worker.await.unwrap();
///             }
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
#[derive(Clone)]
pub struct Semaphore {
    /// `Rc`: shared by the handles of one loop's thread, hence `!Send`.
    counter: Rc<Counter>,
}

impl Semaphore {
    /// A semaphore with `value` permits (`Semaphore(value)`; Tornado's default is 1, as is
    /// [`Semaphore::default`]). A negative value, Tornado's `ValueError`, cannot be written.
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            counter: Counter::new(value, Flavor::Plain),
        }
    }

    /// Takes a permit, waiting for a [`release`](Semaphore::release) if none is left.
    ///
    /// The permit is taken (or the place in line) when `acquire` is called, as in Tornado;
    /// dropping the future gives it back.
    pub fn acquire(&self) -> Acquire {
        Acquire {
            acquiring: self.counter.start_acquire(None),
        }
    }

    /// Takes a permit, or fails with a [`TimeoutError`] at `timeout` (an
    /// [`Instant`] on the loop's clock or a [`Duration`](std::time::Duration) from now). A
    /// deadline already past answers at once.
    pub fn acquire_timeout(&self, timeout: impl Into<Deadline>) -> AcquireTimeout {
        let at = deadline_instant(timeout);
        let acquiring = self.counter.start_acquire(Some(at));
        AcquireTimeout {
            expiry: acquiring.expiry(at),
            acquiring,
        }
    }

    /// Adds a permit and wakes the first waiter (`release`). Releasing more than was
    /// acquired raises the counter, as in Tornado; [`BoundedSemaphore`] forbids it.
    pub fn release(&self) {
        self.counter.add_permit();
    }

    /// Permits available now.
    pub fn value(&self) -> usize {
        self.counter.value()
    }

    /// How many coroutines wait for a permit.
    pub fn waiters(&self) -> usize {
        self.counter.waiters()
    }
}

impl Default for Semaphore {
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_counter("Semaphore", &self.counter, f)
    }
}

pub(crate) fn debug_counter(
    name: &str,
    counter: &Counter,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.debug_struct(name)
        .field("value", &counter.value())
        .field("waiters", &counter.waiters())
        .finish()
}

/// A [`Semaphore`] that may not be released past its initial value
/// (`tornado.locks.BoundedSemaphore`): semaphores mostly guard resources of limited
/// capacity, so a semaphore released too many times is a bug, reported as an [`Error`].
#[derive(Clone)]
pub struct BoundedSemaphore {
    counter: Rc<Counter>,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, at most (`BoundedSemaphore(value)`; the
    /// default is 1).
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            counter: Counter::new(value, Flavor::Bounded),
        }
    }

    /// As [`Semaphore::acquire`].
    pub fn acquire(&self) -> Acquire {
        Acquire {
            acquiring: self.counter.start_acquire(None),
        }
    }

    /// As [`Semaphore::acquire_timeout`].
    pub fn acquire_timeout(&self, timeout: impl Into<Deadline>) -> AcquireTimeout {
        let at = deadline_instant(timeout);
        let acquiring = self.counter.start_acquire(Some(at));
        AcquireTimeout {
            expiry: acquiring.expiry(at),
            acquiring,
        }
    }

    /// Adds a permit and wakes the first waiter; an error for which
    /// [`Error::is_released_too_many_times`] is true if that would take the counter past its
    /// initial value (Tornado raises `ValueError`).
    pub fn release(&self) -> Result<(), Error> {
        self.counter.release()
    }

    /// Permits available now.
    pub fn value(&self) -> usize {
        self.counter.value()
    }

    /// How many coroutines wait for a permit.
    pub fn waiters(&self) -> usize {
        self.counter.waiters()
    }
}

impl Default for BoundedSemaphore {
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_counter("BoundedSemaphore", &self.counter, f)
    }
}

/// The future of [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
#[must_use = "dropping an acquire gives its permit or its place in line back"]
pub struct Acquire {
    acquiring: Acquiring,
}

impl Future for Acquire {
    type Output = SemaphoreGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphoreGuard> {
        self.acquiring
            .poll_acquire(None, cx)
            .map(|guard| guard.expect("an acquire without a deadline cannot time out"))
    }
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("state", &self.acquiring.state_name())
            .finish()
    }
}

/// The future of [`Semaphore::acquire_timeout`] and [`BoundedSemaphore::acquire_timeout`].
#[must_use = "dropping an acquire gives its permit or its place in line back"]
pub struct AcquireTimeout {
    acquiring: Acquiring,
    expiry: Option<Expiry>,
}

impl Future for AcquireTimeout {
    type Output = Result<SemaphoreGuard, TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.acquiring
            .poll_acquire(this.expiry.as_mut(), cx)
            .map(|guard| guard.ok_or_else(TimeoutError::new))
    }
}

impl fmt::Debug for AcquireTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireTimeout")
            .field("state", &self.acquiring.state_name())
            .finish()
    }
}
