//! The errors of a stream, carried inside `std::io::Error` (this is an I/O layer).

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

/// The stream was closed before the operation could complete (Tornado's
/// `StreamClosedError`). It keeps the OS error that closed the stream, if there was one.
///
/// Returned inside an [`io::Error`] of kind [`io::ErrorKind::NotConnected`]; test for it with
/// [`is_stream_closed`] and get it back with [`stream_closed_error`].
#[derive(Debug, Clone, Default)]
pub struct StreamClosedError {
    real_error: Option<Arc<io::Error>>,
}

impl StreamClosedError {
    pub(crate) fn new(real_error: Option<Arc<io::Error>>) -> Self {
        StreamClosedError { real_error }
    }

    /// The error that closed the stream (a reset, a TLS failure...), or `None` for a clean
    /// close by either side.
    pub fn real_error(&self) -> Option<&io::Error> {
        self.real_error.as_deref()
    }

    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::NotConnected, self)
    }
}

impl fmt::Display for StreamClosedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.real_error {
            Some(e) => write!(f, "Stream is closed: {e}"),
            None => f.write_str("Stream is closed"),
        }
    }
}

impl StdError for StreamClosedError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.real_error
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A `read_until` or `read_until_regex` with `max_bytes` could not be satisfied within that
/// many bytes; the stream has been closed (Tornado's `UnsatisfiableReadError`).
///
/// Returned inside an [`io::Error`] of kind [`io::ErrorKind::InvalidData`].
#[derive(Debug, Clone)]
pub struct UnsatisfiableReadError {
    pub(crate) max_bytes: usize,
}

impl fmt::Display for UnsatisfiableReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "delimiter not found within {} bytes", self.max_bytes)
    }
}

impl StdError for UnsatisfiableReadError {}

/// A buffer limit was reached: the read buffer grew past `max_buffer_size` (the stream is
/// closed), or a write would take the write buffer past `max_write_buffer_size` (Tornado's
/// `StreamBufferFullError`).
///
/// Returned inside an [`io::Error`] of kind [`io::ErrorKind::OutOfMemory`].
#[derive(Debug, Clone)]
pub struct StreamBufferFullError {
    pub(crate) what: &'static str,
}

impl fmt::Display for StreamBufferFullError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reached maximum {} buffer size", self.what)
    }
}

impl StdError for StreamBufferFullError {}

/// `true` if `e` is a [`StreamClosedError`].
pub fn is_stream_closed(e: &io::Error) -> bool {
    stream_closed_error(e).is_some()
}

/// The [`StreamClosedError`] inside `e`, if it is one.
pub fn stream_closed_error(e: &io::Error) -> Option<&StreamClosedError> {
    e.get_ref().and_then(|inner| inner.downcast_ref())
}

/// `true` if `e` is an [`UnsatisfiableReadError`], or a [`StreamClosedError`] caused by one
/// (which is what the failed read itself returns, as in Tornado).
pub fn is_unsatisfiable_read(e: &io::Error) -> bool {
    is_or_caused_by::<UnsatisfiableReadError>(e)
}

/// `true` if `e` is a [`StreamBufferFullError`], or a [`StreamClosedError`] caused by one.
pub fn is_buffer_full(e: &io::Error) -> bool {
    is_or_caused_by::<StreamBufferFullError>(e)
}

fn is_or_caused_by<E: StdError + 'static>(e: &io::Error) -> bool {
    if e.get_ref().is_some_and(|inner| inner.is::<E>()) {
        return true;
    }
    stream_closed_error(e)
        .and_then(StreamClosedError::real_error)
        .is_some_and(|real| real.get_ref().is_some_and(|inner| inner.is::<E>()))
}

/// Errors that mean the peer went away: treated as a quiet close, like end of file
/// (Tornado's `_ERRNO_CONNRESET`: ECONNRESET, ECONNABORTED, EPIPE, ETIMEDOUT).
pub fn is_connection_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::TimedOut
    )
}

pub(crate) fn unsatisfiable(max_bytes: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        UnsatisfiableReadError { max_bytes },
    )
}

pub(crate) fn buffer_full(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::OutOfMemory, StreamBufferFullError { what })
}

/// A copy of an `io::Error` good enough to report it twice (kind, OS code and message).
pub(crate) fn clone_io_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
