//! Errors of request handlers: [`HttpError`] (Tornado's `HTTPError`), [`Finish`], and the
//! [`Error`] that handler methods return, into which both and any other error convert with
//! `?`.

use std::borrow::Cow;
use std::fmt;

/// An error that becomes an HTTP error response (`tornado.web.HTTPError`): raise it with
/// `return Err(HttpError::new(404).into())` or `Err(HttpError::new(403))?`.
///
/// `log_message` is logged (on target `general`, at warning) but never shown to the
/// client; `reason` replaces the status line's standard phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    status: u16,
    log_message: Option<String>,
    reason: Option<Cow<'static, str>>,
}

impl HttpError {
    /// An error answered with `status` (`HTTPError(status_code)`). Codes outside 100-999
    /// are answered with 500.
    pub fn new(status: u16) -> Self {
        HttpError {
            status,
            log_message: None,
            reason: None,
        }
    }

    /// Adds the message to log (`HTTPError(code, log_message)`).
    pub fn with_log_message(mut self, message: impl Into<String>) -> Self {
        self.log_message = Some(message.into());
        self
    }

    /// Sets the status line's reason phrase (`HTTPError(..., reason=...)`).
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// A required request argument is missing (`tornado.web.MissingArgumentError`): a 400
    /// whose log message names it.
    pub fn missing_argument(name: &str) -> Self {
        HttpError::new(400).with_log_message(format!("Missing argument {name}"))
    }

    /// The status code (`status_code`).
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// The message to log, if any (`log_message`).
    pub fn log_message(&self) -> Option<&str> {
        self.log_message.as_deref()
    }

    /// The reason phrase given, if any (`reason`).
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.reason.as_deref().unwrap_or_else(|| {
            http::StatusCode::from_u16(self.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Unknown")
        });
        write!(f, "HTTP {}: {}", self.status, reason)?;
        if let Some(m) = &self.log_message {
            write!(f, " ({m})")?;
        }
        Ok(())
    }
}

/// Ends the request without an error (`tornado.web.Finish`): the response is finished as it
/// stands, and nothing is logged. `Err(Finish)?` from any handler method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Finish;

/// What a handler method returns on failure: an [`HttpError`], a [`Finish`], or any other
/// error (answered with 500 and logged on target `application`, as Tornado does with an
/// uncaught exception).
///
/// Any `std::error::Error` converts into it with `?`. (`HttpError` and `Finish` are not
/// themselves `std::error::Error`s, which is what lets both conversions exist.)
pub enum Error {
    /// An HTTP error response.
    Http(HttpError),
    /// Finish the response without an error.
    Finish,
    /// Any other failure: a 500.
    Other(Box<dyn std::error::Error + 'static>),
    /// What the default verb methods return: a 405 with an `Allow` header.
    Unimplemented,
}

impl Error {
    /// The status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Error::Http(e) => e.status,
            Error::Finish => 200,
            Error::Other(_) => 500,
            Error::Unimplemented => 405,
        }
    }

    /// The [`HttpError`] this is, if it is one.
    pub fn as_http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(e) => Some(e),
            _ => None,
        }
    }

    /// An error of any other kind from a message (a 500).
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Other(message.into().into())
    }
}

impl<E: std::error::Error + 'static> From<E> for Error {
    fn from(e: E) -> Self {
        Error::Other(Box::new(e))
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::Http(e)
    }
}

impl From<Finish> for Error {
    fn from(_: Finish) -> Self {
        Error::Finish
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(e) => f.debug_tuple("Http").field(e).finish(),
            Error::Finish => f.write_str("Finish"),
            Error::Other(e) => f.debug_tuple("Other").field(e).finish(),
            Error::Unimplemented => f.write_str("Unimplemented"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(e) => e.fmt(f),
            Error::Finish => f.write_str("Finish"),
            Error::Other(e) => e.fmt(f),
            Error::Unimplemented => f.write_str("HTTP 405: Method Not Allowed"),
        }
    }
}

/// The result of handler methods.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;
