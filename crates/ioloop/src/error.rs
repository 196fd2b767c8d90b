//! [`Error`]: why `run_sync` (or `start`) did not give a value.

use std::fmt;
use std::io;

use tornado_concurrent::TimeoutError;

/// Why [`IoLoop::run_sync`](crate::IoLoop::run_sync) or [`IoLoop::start`](crate::IoLoop::start)
/// failed. Ask with the `is_*` predicates; the message is not part of the API.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Timeout(TimeoutError),
    Stopped,
    Cancelled,
    AlreadyRunning,
    Closed,
    Io(io::Error),
}

impl Error {
    pub(crate) fn timeout() -> Self {
        Error {
            kind: Kind::Timeout(TimeoutError::with_message("Operation timed out")),
        }
    }
    pub(crate) fn stopped() -> Self {
        Error {
            kind: Kind::Stopped,
        }
    }
    pub(crate) fn cancelled() -> Self {
        Error {
            kind: Kind::Cancelled,
        }
    }
    pub(crate) fn already_running() -> Self {
        Error {
            kind: Kind::AlreadyRunning,
        }
    }
    pub(crate) fn closed() -> Self {
        Error { kind: Kind::Closed }
    }

    /// `run_sync` gave up at its timeout (Tornado raises `TimeoutError`).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// The loop was stopped before the future completed (Tornado: "Event loop stopped before
    /// Future completed.").
    pub fn is_stopped(&self) -> bool {
        matches!(self.kind, Kind::Stopped)
    }

    /// The future given to `run_sync` was cancelled by someone else.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, Kind::Cancelled)
    }

    /// The loop was already running (Tornado: "This event loop is already running").
    pub fn is_already_running(&self) -> bool {
        matches!(self.kind, Kind::AlreadyRunning)
    }

    /// The loop was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.kind, Kind::Closed)
    }

    /// Polling for I/O failed.
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Timeout(t) => fmt::Display::fmt(t, f),
            Kind::Stopped => f.write_str("Event loop stopped before Future completed."),
            Kind::Cancelled => f.write_str("the future was cancelled"),
            Kind::AlreadyRunning => f.write_str("This event loop is already running"),
            Kind::Closed => f.write_str("the event loop is closed"),
            Kind::Io(e) => write!(f, "polling for I/O failed: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Timeout(t) => Some(t),
            Kind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error { kind: Kind::Io(e) }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e.kind {
            Kind::Io(e) => e,
            Kind::Timeout(_) => io::Error::new(io::ErrorKind::TimedOut, e),
            _ => io::Error::other(e),
        }
    }
}
