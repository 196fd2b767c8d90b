//! Helpers for coroutines: [`sleep`], [`moment`], [`with_timeout`], [`multi`],
//! [`WaitIterator`]. Port of `tornado.gen`.
//!
//! This is layer 2 of the workspace, on top of the loop. Tornado's coroutines are Rust
//! `async` blocks; what remains of `tornado.gen` are the helpers that combine them.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tornado_gen::{moment, multi, sleep, with_timeout};
//! use tornado_ioloop::IoLoop;
//!
//! let io_loop = IoLoop::new();
//! let total = io_loop
//!     .run_sync(
//!         || async {
//!             let l = IoLoop::current();
//!             let children: Vec<_> = (1..=3u64)
//!                 .map(|n| l.spawn(async move {
//!                     sleep(Duration::from_millis(n)).await;
//!                     n * 10
//!                 }))
//!                 .collect();
//!             moment().await;
//!             let results = with_timeout(Duration::from_secs(5), multi(children))
//!                 .await
//!                 .expect("in time")
//!                 .expect("no child failed");
//!             results.iter().sum::<u64>()
//!         },
//!         None,
//!     )
//!     .unwrap();
//! assert_eq!(total, 60);
//! ```
//!
//! # Differences from Tornado
//!
//! * `multi` takes futures that yield `Result`s (as [`Task`](tornado_ioloop::Task) and
//!   [`tornado_concurrent::Future`] do); a `Vec` gives a `Vec`, a `HashMap` or `BTreeMap` a
//!   map. `quiet_exceptions` is a predicate ([`Multi::quiet`]).
//! * `with_timeout` cannot log the failure of a future after its timeout, because it does not
//!   keep the future: either the caller does (`&mut fut`), or it was dropped.
//! * The legacy generator API (`@coroutine`, `Return`, `Runner`, `maybe_future`,
//!   `convert_yielded`) has no Rust counterpart: `async`/`.await` replace it.
#![doc(test(attr(deny(warnings))))]

mod multi;
mod sleep;
mod timeout;
mod unordered;
mod wait_iterator;

pub use multi::{Multi, MultiInput, multi};
pub use sleep::{Moment, moment, sleep};
pub use timeout::{WithTimeout, with_timeout};
pub use tornado_concurrent::TimeoutError;
pub use wait_iterator::WaitIterator;
