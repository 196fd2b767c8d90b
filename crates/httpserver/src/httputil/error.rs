//! [`HttpInputError`] and [`HttpOutputError`].

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// Malformed input from the peer (Tornado's `HTTPInputError`). At the connection level it
/// is answered with a bare `400 Bad Request` and a close; in body-argument parsing, with a
/// 400 from the handler. The message is for logs, not API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpInputError {
    message: String,
}

impl HttpInputError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        HttpInputError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HttpInputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for HttpInputError {}

impl From<HttpInputError> for io::Error {
    fn from(e: HttpInputError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// The application produced an invalid response (Tornado's `HTTPOutputError`): more or fewer
/// bytes than its `Content-Length`, a header value with CR or LF, a body where none is
/// allowed. The connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutputError {
    message: String,
}

impl HttpOutputError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        HttpOutputError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HttpOutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for HttpOutputError {}

impl From<HttpOutputError> for io::Error {
    fn from(e: HttpOutputError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// `true` if `e` carries an [`HttpInputError`].
pub fn is_http_input_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<HttpInputError>())
}

/// `true` if `e` carries an [`HttpOutputError`].
pub fn is_http_output_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<HttpOutputError>())
}
