//! Settable futures and executors. Port of `tornado.concurrent`.
//!
//! This is layer 0 of the workspace: it knows no event loop. It gives
//!
//! * [`Future`], a settable one-shot result shared by all its clones, with done callbacks
//!   (Tornado's `Future`, which is `asyncio.Future`);
//! * [`chain_future`], [`future_set_result_unless_cancelled`],
//!   [`future_set_exception_unless_cancelled`], [`future_add_done_callback`];
//! * the [`Executor`] trait with [`ThreadPoolExecutor`] and [`DummyExecutor`], whose
//!   [`submit`](ExecutorExt::submit) returns a [`Future`];
//! * [`Error`], what a failed future holds, and [`TimeoutError`], shared by every layer.
//!
//! # Examples
//!
//! ```
//! use tornado_concurrent::{chain_future, Executor, ExecutorExt, Future, ThreadPoolExecutor};
//!
//! let pool = ThreadPoolExecutor::new(4);
//! let squares: Vec<Future<u64>> = (1..=4).map(|n| pool.submit(move || n * n)).collect();
//! let last = Future::new();
//! chain_future(&squares[3], &last);
//! pool.shutdown(true);
//! let total: u64 = squares.iter().map(|f| f.result().unwrap().unwrap()).sum();
//! assert_eq!(total, 30);
//! assert_eq!(last.result().unwrap().unwrap(), 16);
//! ```
//!
//! # Differences from Tornado
//!
//! * One `Future` type serves both roles Python splits in two (`asyncio.Future` and
//!   `concurrent.futures.Future`): it is thread-safe, and it never schedules anything on a
//!   loop; done callbacks run on the thread that completes it.
//! * Awaiting yields `Result<T, Error>`; the value is cloned for each awaiter. Values that are
//!   not `Clone` are moved out once with [`Future::take`].
//! * `result()` and `error()` return `None` for a pending future where Python raises
//!   `InvalidStateError`; setting a result twice returns [`InvalidStateError`].
//! * `run_on_executor` is a decorator in Python; in Rust call
//!   [`ExecutorExt::submit`] (or `IoLoop::run_in_executor`) directly.
#![doc(test(attr(deny(warnings))))]

mod error;
mod executor;
mod future;

pub use error::{BoxError, Error, TimeoutError, panic_message};
pub use executor::{DummyExecutor, Executor, ExecutorExt, Job, ShutdownError, ThreadPoolExecutor};
pub use future::{
    Future, InvalidStateError, Take, chain_future, future_add_done_callback,
    future_set_exception_unless_cancelled, future_set_result_unless_cancelled,
};
