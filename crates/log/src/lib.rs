//! Tornado's log targets, its log line format, and log capture for tests. Port of
//! `tornado.log` (plus `tornado.testing.ExpectLog`, which needs the logger's cooperation).
//!
//! Every crate of the workspace logs through the [`log`] facade on three targets, Tornado's
//! three loggers: [`ACCESS`] (one line per request), [`APPLICATION`] (errors in user code:
//! callbacks, tasks, handlers) and [`GENERAL`] (everything else: connection errors,
//! malformed requests).
//!
//! [`enable_pretty_logging`] installs a logger that writes Tornado's format to stderr:
//!
//! ```text
//! [I 261123 19:52:03 hello:12] Listening on 127.0.0.1:8888
//! ```
//!
//! [`ExpectLog`] captures and suppresses expected records in tests.
//!
//! # Examples
//!
//! ```
//! use tornado_log::{APPLICATION, ExpectLog};
//!
//! {
//!     let expected = ExpectLog::new(APPLICATION, "Exception in callback");
//!     log::error!(target: APPLICATION, "Exception in callback: boom");
//!     assert_eq!(expected.matched(), 1);
//! } // dropping an ExpectLog that saw nothing would panic
//! ```
//!
//! # Differences from Tornado
//!
//! * Targets are plain strings (`"access"`, `"application"`, `"general"`), not
//!   `tornado.*` logger objects.
//! * Timestamps are UTC (the standard library has no time zone database).
//! * `ExpectLog` matches a prefix of the message, as Tornado's `regex.match` does for the
//!   literal patterns its tests use; it sees records logged on the thread that created it
//!   (the loop's thread), which is where a single-threaded loop logs.
//! * `define_logging_options` belongs with `tornado.options`, which is not ported yet.
#![doc(test(attr(deny(warnings))))]

mod capture;
mod format;
mod logger;

pub use capture::ExpectLog;
pub use format::{LogFormatter, format_timestamp_utc};
pub use logger::{TornadoLogger, enable_pretty_logging, install_capture_logger};

/// Target of the access log: one line per finished request (`tornado.access`).
pub const ACCESS: &str = "access";
/// Target of errors raised by application code: callbacks, tasks, handlers
/// (`tornado.application`).
pub const APPLICATION: &str = "application";
/// Target of everything else the framework reports (`tornado.general`).
pub const GENERAL: &str = "general";
