//! [`Error`]: a release that has nothing to release.

use std::fmt;

/// A release that has nothing to release: [`BoundedSemaphore::release`] past the initial
/// value (Tornado raises `ValueError`), or [`Lock::release`] of an unlocked lock (Tornado
/// raises `RuntimeError`). Ask with the `is_*` predicates; the message is not part of the
/// API.
///
/// [`BoundedSemaphore::release`]: crate::BoundedSemaphore::release
/// [`Lock::release`]: crate::Lock::release
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ReleasedTooManyTimes,
    NotLocked,
}

impl Error {
    pub(crate) fn released_too_many_times() -> Self {
        Error {
            kind: Kind::ReleasedTooManyTimes,
        }
    }

    pub(crate) fn not_locked() -> Self {
        Error {
            kind: Kind::NotLocked,
        }
    }

    /// A [`BoundedSemaphore`](crate::BoundedSemaphore) was released more times than it was
    /// acquired.
    pub fn is_released_too_many_times(&self) -> bool {
        self.kind == Kind::ReleasedTooManyTimes
    }

    /// A [`Lock`](crate::Lock) was released while unlocked.
    pub fn is_not_locked(&self) -> bool {
        self.kind == Kind::NotLocked
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            // Tornado's messages.
            Kind::ReleasedTooManyTimes => f.write_str("Semaphore released too many times"),
            Kind::NotLocked => f.write_str("release unlocked lock"),
        }
    }
}

impl std::error::Error for Error {}
