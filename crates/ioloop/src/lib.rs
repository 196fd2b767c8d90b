//! A single-threaded event loop with timers, tasks and I/O handlers. Port of `tornado.ioloop`.
//!
//! This is layer 1 of the workspace. It gives
//!
//! * [`IoLoop`]: callbacks ([`add_callback`](IoLoop::add_callback)), timeouts
//!   ([`call_later`](IoLoop::call_later), [`call_at`](IoLoop::call_at),
//!   [`add_timeout`](IoLoop::add_timeout), [`remove_timeout`](IoLoop::remove_timeout)), tasks
//!   ([`spawn`](IoLoop::spawn), [`spawn_callback`](IoLoop::spawn_callback),
//!   [`add_future`](IoLoop::add_future)), raw I/O handlers
//!   ([`add_handler`](IoLoop::add_handler)), blocking work
//!   ([`run_in_executor`](IoLoop::run_in_executor)) and the ways to run it
//!   ([`start`](IoLoop::start), [`stop`](IoLoop::stop), [`run_sync`](IoLoop::run_sync));
//! * [`IoLoopHandle`]: the `Send + Sync` handle other threads use to reach a loop;
//! * [`PeriodicCallback`] with Tornado's scheduling rules;
//! * [`Task`], [`Sleep`], [`Deadline`], [`TimeoutHandle`], [`Events`], and [`Registration`],
//!   the readiness primitive the streams of higher layers poll.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tornado_ioloop::IoLoop;
//!
//! let io_loop = IoLoop::new();
//! let sum = io_loop
//!     .run_sync(
//!         || async {
//!             let io_loop = IoLoop::current();
//!             // Blocking work goes to the executor; the loop goes on meanwhile.
//!             let slow = io_loop.run_in_executor(None, || (1..=10u64).sum::<u64>());
//!             let quick = io_loop.spawn(async { 5u64 });
//!             slow.await.unwrap() + quick.await.unwrap()
//!         },
//!         Some(Duration::from_secs(10)),
//!     )
//!     .unwrap();
//! assert_eq!(sum, 60);
//! ```
//!
//! # Differences from Tornado
//!
//! * Deadlines are [`std::time::Instant`]s, [`IoLoop::time`] returns one, and durations are
//!   [`std::time::Duration`]s; wherever Tornado takes "a number or a `timedelta`", this
//!   crate takes `impl Into<Deadline>`.
//! * Coroutines are `async` blocks; tasks need not be `Send`. [`IoLoop::spawn`] returns a
//!   [`Task`] handle (asyncio's `create_task`); dropping it detaches the task.
//! * `add_handler` takes the descriptor's owner and keeps it; `close` drops it (Tornado's
//!   `close(all_fds=True)`). Pass a bare `RawFd` to keep ownership. There is no `all_fds`
//!   argument.
//! * `run_sync(f, timeout)` resumes a panic of the future on the caller's thread (Tornado
//!   re-raises the exception).
//! * Legacy names (`instance`, `install`, `make_current`, `clear_current`, `configure`,
//!   `add_callback_from_signal`) are not ported.
#![doc(test(attr(deny(warnings))))]

mod core;
mod error;
mod handle;
mod io;
mod ioloop;
mod periodic;
mod sleep;
mod task;
mod timers;

pub use crate::core::iteration_time;
pub use error::Error;
pub use handle::IoLoopHandle;
pub use io::{Events, Registration};
pub use ioloop::{IoLoop, spawn};
pub use periodic::PeriodicCallback;
pub use sleep::Sleep;
pub use task::Task;
pub use timers::{Deadline, TimeoutHandle};
pub use tornado_concurrent::TimeoutError;
