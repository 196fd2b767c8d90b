//! Tornado's event loop, coroutines, networking and web stack, in Rust. This umbrella crate
//! only re-exports the workspace's layered crates under Tornado's module names.
//!
//! | module | crate | Tornado module |
//! |---|---|---|
//! | [`log`] | `tornado-log` | `tornado.log` |
//! | [`concurrent`] | `tornado-concurrent` | `tornado.concurrent` |
//! | [`ioloop`] | `tornado-ioloop` | `tornado.ioloop` |
//! | `r#gen` | `tornado-gen` | `tornado.gen` |
//! | [`locks`] | `tornado-locks` | `tornado.locks` |
//! | [`queues`] | `tornado-queues` | `tornado.queues` |
//! | [`iostream`] | `tornado-iostream` | `tornado.iostream` |
//! | [`tcpserver`] | `tornado-tcpserver` | `tornado.tcpserver`, `tornado.tcpclient`, `tornado.netutil` |
//! | [`httpserver`], [`httputil`] | `tornado-httpserver` | `tornado.httpserver`, `tornado.http1connection`, `tornado.httputil` |
//! | [`httpclient`] | `tornado-httpclient` | `tornado.httpclient`, `tornado.simple_httpclient` |
//! | [`web`] | `tornado-web` | `tornado.web`, `tornado.routing` |
//!
//! Each crate can also be used alone (`tornado-ioloop` for just the loop, say).
//!
//! The feature `tls` (on by default) turns on TLS over rustls in `iostream`, `tcpserver`,
//! `httpserver` and `httpclient`.
//!
//! `gen` is a reserved word since Rust 2024, so the module is written `tornado::r#gen` in
//! code (`use tornado::r#gen::sleep;`); it is still Tornado's `gen`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tornado::r#gen::{multi, sleep};
//! use tornado::ioloop::{IoLoop, PeriodicCallback};
//!
//! let io_loop = IoLoop::new();
//! let results = io_loop
//!     .run_sync(
//!         || async {
//!             let l = IoLoop::current();
//!             let ticker = PeriodicCallback::new(|| println!("tick"), Duration::from_millis(10));
//!             ticker.start();
//!             // Blocking work runs on the executor while the loop keeps ticking.
//!             let blocking = l.run_in_executor(None, || {
//!                 std::thread::sleep(Duration::from_millis(30));
//!                 "slept on a worker thread"
//!             });
//!             let quick = l.spawn(async {
//!                 sleep(Duration::from_millis(5)).await;
//!                 "slept on the loop"
//!             });
//!             let both = (blocking.await.unwrap(), quick.await.unwrap());
//!             ticker.stop();
//!             let squares = multi((1..=3u32).map(|n| l.spawn(async move { n * n })).collect::<Vec<_>>());
//!             (both, squares.await.unwrap())
//!         },
//!         Some(Duration::from_secs(5)),
//!     )
//!     .unwrap();
//! assert_eq!(results.1, [1, 4, 9]);
//! ```
//!
//! # Differences from Tornado
//!
//! Each crate's documentation lists its own; `docs/DIFFERENCES.md` collects them.
#![doc(test(attr(deny(warnings))))]

pub use bytes;
pub use http;
pub use tornado_concurrent as concurrent;
pub use tornado_gen as r#gen;
pub use tornado_httpclient as httpclient;
pub use tornado_httpserver as httpserver;
pub use tornado_httpserver::httputil;
pub use tornado_ioloop as ioloop;
pub use tornado_iostream as iostream;
pub use tornado_locks as locks;
pub use tornado_log as log;
pub use tornado_queues as queues;
pub use tornado_tcpserver as tcpserver;
pub use tornado_web as web;

/// The README's examples, compiled and run as doctests so that they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
