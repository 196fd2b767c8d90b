//! The error a [`Future`](crate::Future) can hold, and Tornado's `TimeoutError`.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A boxed error that can cross threads: what [`Future::set_exception`] accepts.
///
/// [`Future::set_exception`]: crate::Future::set_exception
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a future, a task or an executor job did not produce a value.
///
/// This is the Rust form of the exception a Tornado `Future` holds. It is cheap to clone
/// (the exception is shared), because a future's outcome can be read by every clone of the
/// future, as in Python. Ask what happened with the `is_*` predicates; the message is not
/// part of the API.
#[derive(Clone)]
pub struct Error {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Cancelled,
    Panic(Arc<str>),
    Exception(Arc<dyn StdError + Send + Sync + 'static>),
    Taken,
}

impl Error {
    /// The error of a future or task that was cancelled (asyncio's `CancelledError`).
    pub fn cancelled() -> Self {
        Error {
            repr: Repr::Cancelled,
        }
    }

    /// An error that wraps `err`, as `Future.set_exception(err)` does.
    pub fn new(err: impl Into<BoxError>) -> Self {
        Error {
            repr: Repr::Exception(Arc::from(err.into())),
        }
    }

    /// The error of a task or job that panicked; `payload` is what `catch_unwind` returned.
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        Error {
            repr: Repr::Panic(Arc::from(panic_message(payload.as_ref()))),
        }
    }

    /// The error of [`Future::take`](crate::Future::take) when another handle already
    /// took the result.
    pub(crate) fn taken() -> Self {
        Error { repr: Repr::Taken }
    }

    /// `true` if the future or task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// `true` if the code that should have produced the value panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// `true` if the result was already moved out by [`Future::take`](crate::Future::take).
    pub fn is_taken(&self) -> bool {
        matches!(self.repr, Repr::Taken)
    }

    /// `true` if this wraps an error given to [`Future::set_exception`](crate::Future::set_exception)
    /// (or [`Error::new`]).
    pub fn is_exception(&self) -> bool {
        matches!(self.repr, Repr::Exception(_))
    }

    /// `true` if the wrapped exception is a [`TimeoutError`].
    pub fn is_timeout(&self) -> bool {
        self.downcast_ref::<TimeoutError>().is_some()
    }

    /// The wrapped exception, if this is one.
    pub fn exception(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        match &self.repr {
            Repr::Exception(e) => Some(&**e),
            _ => None,
        }
    }

    /// The wrapped exception as a concrete type, if it is one.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.exception().and_then(|e| e.downcast_ref::<E>())
    }

    /// The panic message, for an error made by [`Error::from_panic`].
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(msg) => Some(msg),
            _ => None,
        }
    }
}

/// The text of a panic payload (`&str` or `String`, as `panic!` produces).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("Error(Cancelled)"),
            Repr::Panic(msg) => write!(f, "Error(Panic({msg:?}))"),
            Repr::Exception(e) => write!(f, "Error(Exception({e:?}))"),
            Repr::Taken => f.write_str("Error(Taken)"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("cancelled"),
            Repr::Panic(msg) => write!(f, "panicked: {msg}"),
            Repr::Exception(e) => fmt::Display::fmt(e, f),
            Repr::Taken => f.write_str("the result was already taken"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.repr {
            Repr::Exception(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<TimeoutError> for Error {
    fn from(e: TimeoutError) -> Self {
        Error::new(e)
    }
}

/// An operation did not finish before its deadline: Tornado's `tornado.util.TimeoutError`.
///
/// Returned by `IoLoop::run_sync`, `gen::with_timeout` and the waits of locks and queues.
/// It lives in this lowest crate so that every layer returns the same type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeoutError {
    message: Option<String>,
}

impl TimeoutError {
    /// A timeout error with the default message (`"Timeout"`).
    pub fn new() -> Self {
        TimeoutError { message: None }
    }

    /// A timeout error with a message of the caller's (Tornado's `message=` argument).
    pub fn with_message(message: impl Into<String>) -> Self {
        TimeoutError {
            message: Some(message.into()),
        }
    }

    /// The message given to [`TimeoutError::with_message`], if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => f.write_str("Timeout"),
        }
    }
}

impl StdError for TimeoutError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        assert!(Error::cancelled().is_cancelled());
        assert!(Error::from_panic(Box::new("boom")).is_panic());
        assert_eq!(
            Error::from_panic(Box::new(String::from("boom"))).panic_message(),
            Some("boom")
        );
        let e = Error::new(TimeoutError::with_message("slow"));
        assert!(e.is_exception() && e.is_timeout());
        assert_eq!(
            e.downcast_ref::<TimeoutError>().unwrap().message(),
            Some("slow")
        );
        assert!(e.source().is_some());
        assert!(Error::taken().is_taken());
    }
}
