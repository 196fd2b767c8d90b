//! [`Lock`]: a non-reentrant lock for coroutines.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tornado_concurrent::TimeoutError;
use tornado_ioloop::Deadline;

use crate::error::Error;
use crate::expiry::{Expiry, deadline_instant};
use crate::semaphore::{Acquiring, Counter, Flavor, SemaphoreGuard, debug_counter};

/// A lock for coroutines (`tornado.locks.Lock`).
///
/// It begins unlocked; [`acquire`](Lock::acquire) locks it at once if it is free, else
/// waits until it is released, first come first served. The [`LockGuard`] unlocks it when
/// dropped: the Rust form of `async with lock:`. The lock is not reentrant: a coroutine
/// that acquires it twice waits for itself forever. It protects no data of its own; for
/// that, keep the data beside it (in a `RefCell`, since the loop is single-threaded).
///
/// A `Lock` is a cheap handle: clones share the same lock. It is `!Send`. Internally it is
/// a bounded semaphore of one, as Tornado's is.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use tornado_gen::moment;
/// use tornado_ioloop::IoLoop;
/// use tornado_locks::Lock;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let lock = Lock::new();
///             let history = Rc::new(RefCell::new(Vec::new()));
///             let tasks: Vec<_> = (0..3)
///                 .map(|i| {
///                     let (lock, history) = (lock.clone(), history.clone());
///                     IoLoop::current().spawn(async move {
///                         let _guard = lock.acquire().await;
///                         history.borrow_mut().push(format!("acquired {i}"));
///                         moment().await; // others run, but wait for the lock
///                         history.borrow_mut().push(format!("release {i}"));
///                     })
///                 })
///                 .collect();
///             for task in tasks {
///                 task.await.unwrap();
///             }
///             assert_eq!(history.borrow()[..2], ["acquired 0", "release 0"]);
///             assert!(lock.release().unwrap_err().is_not_locked());
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
#[derive(Clone)]
pub struct Lock {
    /// `Rc`: shared by the handles of one loop's thread, hence `!Send`.
    counter: Rc<Counter>,
}

impl Lock {
    /// An unlocked lock.
    pub fn new() -> Lock {
        Lock {
            counter: Counter::new(1, Flavor::Lock),
        }
    }

    /// Locks, waiting for the lock to be released if it is held.
    ///
    /// The lock (or the place in line) is taken when `acquire` is called, as in Tornado;
    /// dropping the future gives it back.
    pub fn acquire(&self) -> LockAcquire {
        LockAcquire {
            acquiring: self.counter.start_acquire(None),
        }
    }

    /// Locks, or fails with a [`TimeoutError`] at `timeout` (an
    /// [`Instant`](std::time::Instant) on the loop's clock or a
    /// [`Duration`](std::time::Duration) from now). A deadline already past answers at once.
    pub fn acquire_timeout(&self, timeout: impl Into<Deadline>) -> LockAcquireTimeout {
        let at = deadline_instant(timeout);
        let acquiring = self.counter.start_acquire(Some(at));
        LockAcquireTimeout {
            expiry: acquiring.expiry(at),
            acquiring,
        }
    }

    /// Unlocks; the first coroutine in line gets the lock. An error for which
    /// [`Error::is_not_locked`] is true if the lock is not locked (Tornado raises
    /// `RuntimeError`).
    ///
    /// For locks acquired with [`LockGuard::forget`]; a guard unlocks by being dropped.
    pub fn release(&self) -> Result<(), Error> {
        self.counter.release()
    }

    /// `true` while some coroutine holds the lock.
    pub fn is_locked(&self) -> bool {
        self.counter.value() == 0
    }

    /// How many coroutines wait for the lock.
    pub fn waiters(&self) -> usize {
        self.counter.waiters()
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_counter("Lock", &self.counter, f)
    }
}

/// Holds a [`Lock`]; dropping it unlocks.
#[must_use = "dropping the guard unlocks at once"]
pub struct LockGuard {
    guard: SemaphoreGuard,
}

impl LockGuard {
    /// Keeps the lock locked without a guard, to be unlocked later with
    /// [`Lock::release`]: Tornado's `await lock.acquire()` ... `lock.release()` style.
    pub fn forget(self) {
        self.guard.forget();
    }
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// The future of [`Lock::acquire`].
#[must_use = "dropping an acquire gives the lock or its place in line back"]
pub struct LockAcquire {
    acquiring: Acquiring,
}

impl Future for LockAcquire {
    type Output = LockGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard> {
        self.acquiring
            .poll_acquire(None, cx)
            .map(|guard| LockGuard {
                guard: guard.expect("an acquire without a deadline cannot time out"),
            })
    }
}

impl fmt::Debug for LockAcquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").finish_non_exhaustive()
    }
}

/// The future of [`Lock::acquire_timeout`].
#[must_use = "dropping an acquire gives the lock or its place in line back"]
pub struct LockAcquireTimeout {
    acquiring: Acquiring,
    expiry: Option<Expiry>,
}

impl Future for LockAcquireTimeout {
    type Output = Result<LockGuard, TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.acquiring
            .poll_acquire(this.expiry.as_mut(), cx)
            .map(|guard| {
                guard
                    .map(|guard| LockGuard { guard })
                    .ok_or_else(TimeoutError::new)
            })
    }
}

impl fmt::Debug for LockAcquireTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquireTimeout").finish_non_exhaustive()
    }
}
