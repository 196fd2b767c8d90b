//! Coordination primitives for coroutines: [`Condition`], [`Event`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Lock`]. Port of `tornado.locks`.
//!
//! This is layer 3 of the workspace, on top of the loop. Like Tornado's, these primitives
//! are single-threaded: they coordinate coroutines (tasks) of one [`IoLoop`], are `!Send`,
//! and take no system lock. Each is a cheap handle; clone it to share it between tasks.
//!
//! Every wait has two forms: `wait()` / `acquire()`, and `wait_timeout(timeout)` /
//! `acquire_timeout(timeout)`, where `timeout` is an [`Instant`](std::time::Instant) on
//! [`IoLoop::time`] or a [`Duration`](std::time::Duration) from now (Tornado's "number or
//! `timedelta`"). A timeout fails with [`TimeoutError`], except [`Condition::wait_timeout`],
//! which answers `false`, as Tornado's does. A deadline already past (a zero duration)
//! answers at once, as in Tornado 6.6.
//!
//! Waiters are served first come, first served. A waiter that times out or whose future is
//! dropped leaves the line at once, and never swallows what it was given: a notification
//! passes on to the next waiter, a permit is released again.
//!
//! The handles hold an `Rc`, which makes them `!Send`: the compiler keeps them on their
//! loop's thread.
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(tornado_locks::Lock::new());
//! ```
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tornado_ioloop::IoLoop;
//! use tornado_locks::{Event, Semaphore};
//!
//! IoLoop::new()
//!     .run_sync(
//!         || async {
//!             let l = IoLoop::current();
//!             let (ready, sem) = (Event::new(), Semaphore::new(2));
//!             let workers: Vec<_> = (0..4)
//!                 .map(|id| {
//!                     let (ready, sem) = (ready.clone(), sem.clone());
//!                     l.spawn(async move {
//!                         ready.wait().await;
//!                         let _permit = sem.acquire().await; // two at a time
//!                         id * 10
//!                     })
//!                 })
//!                 .collect();
//!             ready.set();
//!             let mut total = 0;
//!             for worker in workers {
//!                 total += worker.await.unwrap();
//!             }
//!             assert_eq!(total, 60);
//!             // Nobody holds a permit now; a timed wait for a third would not wait.
//!             let (a, b) = (sem.acquire().await, sem.acquire().await);
//!             assert!(sem.acquire_timeout(Duration::ZERO).await.is_err());
//!             drop((a, b));
//!         },
//!         Some(Duration::from_secs(10)),
//!     )
//!     .unwrap();
//! ```
//!
//! # Differences from Tornado
//!
//! * `async with sem:` / `async with lock:` is a guard: [`Semaphore::acquire`] gives a
//!   [`SemaphoreGuard`], [`Lock::acquire`] a [`LockGuard`], released when dropped. The
//!   explicit `release()` stays for code written Tornado's other way (take the guard's
//!   [`forget`](LockGuard::forget) first). Plain `with lock:` raises `RuntimeError` in
//!   Tornado; there is no such misuse to catch in Rust.
//! * Errors are values: releasing a [`BoundedSemaphore`] too often or an unlocked [`Lock`]
//!   returns an [`Error`] (Tornado raises `ValueError` / `RuntimeError`). A negative
//!   semaphore value cannot be written (`usize`).
//! * Timed-out waiters leave the line as soon as their task sees the deadline (or when they
//!   would have been served), not in Tornado's periodic sweep every 100 timeouts. A waiter
//!   dropped after it was notified or given a permit passes it on; in Tornado a cancelled
//!   coroutine can lose it.
//! * A zero timeout answers when the future is first polled, without a trip through the
//!   loop (Tornado 6.6 resolves it on the next iteration).
//! * Timers need a running [`IoLoop`] (the current one when the wait is first polled);
//!   waits without a timeout need no loop at all and work under any executor.
//!
//! [`IoLoop`]: tornado_ioloop::IoLoop
//! [`IoLoop::time`]: tornado_ioloop::IoLoop::time
#![doc(test(attr(deny(warnings))))]

mod condition;
mod error;
mod event;
mod expiry;
mod lock;
mod semaphore;
mod waitlist;

pub use condition::{Condition, Wait};
pub use error::Error;
pub use event::{Event, EventWait, EventWaitTimeout};
pub use lock::{Lock, LockAcquire, LockAcquireTimeout, LockGuard};
pub use semaphore::{Acquire, AcquireTimeout, BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use tornado_concurrent::TimeoutError;

/// Building blocks shared with `tornado-queues`. Not public API: no documentation, no
/// stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::expiry::{Expiry, Polled, check, deadline_instant, poll_waiter};
    pub use crate::waitlist::{Status, WaitList};
}
