//! [`HttpClientError`]: Tornado's `HTTPClientError`, `HTTPTimeoutError` and
//! `HTTPStreamClosedError` in one opaque type with `is_*` predicates.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

use crate::response::HttpResponse;

/// The code Tornado gives errors that are not an HTTP status: no response was received
/// (timeouts, refused or dropped connections, malformed responses).
pub const TRANSPORT_ERROR_CODE: u16 = 599;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status,
    Timeout,
    StreamClosed,
    Io,
    InvalidRequest,
    Closed,
}

/// Why a fetch failed (`tornado.httpclient.HTTPClientError`, alias `HTTPError`).
///
/// * a response whose status is outside 2xx: [`is_status`](Self::is_status), the status as
///   [`code`](Self::code), the response attached ([`response`](Self::response));
/// * a timeout (`HTTPTimeoutError`): [`is_timeout`](Self::is_timeout), code 599;
/// * the connection closed or the response was malformed (`HTTPStreamClosedError`):
///   [`is_stream_closed`](Self::is_stream_closed), code 599;
/// * another transport failure (refused connection, failed lookup, TLS error, oversized
///   head: Tornado raises these as they are): [`is_io`](Self::is_io), code 599, the
///   `io::Error` as [`source`](StdError::source);
/// * a request that cannot be sent (an unsupported URL scheme or method, a body where none
///   is allowed...: Tornado's `ValueError`, `KeyError`):
///   [`is_invalid_request`](Self::is_invalid_request);
/// * a fetch on a closed client (Tornado's `RuntimeError`): [`is_closed`](Self::is_closed).
///
/// Messages are for people, not for matching. It is cheap to clone (`Send + Sync`).
#[derive(Clone)]
pub struct HttpClientError {
    kind: Kind,
    code: u16,
    message: String,
    response: Option<Box<HttpResponse>>,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl HttpClientError {
    fn new(kind: Kind, code: u16, message: impl Into<String>) -> Self {
        HttpClientError {
            kind,
            code,
            message: message.into(),
            response: None,
            source: None,
        }
    }

    /// An error for an HTTP status (`HTTPClientError(code, message, response)`); the message
    /// defaults to the status's reason phrase.
    pub fn status(code: u16, message: Option<&str>) -> Self {
        let message = match message {
            Some(m) => m.to_owned(),
            None => http::StatusCode::from_u16(code)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Unknown")
                .to_owned(),
        };
        HttpClientError::new(Kind::Status, code, message)
    }

    /// A timeout (`HTTPTimeoutError(message)`), code 599.
    pub fn timeout(message: impl Into<String>) -> Self {
        HttpClientError::new(Kind::Timeout, TRANSPORT_ERROR_CODE, message)
    }

    /// A closed connection or malformed response (`HTTPStreamClosedError(message)`), code 599.
    pub fn stream_closed(message: impl Into<String>) -> Self {
        HttpClientError::new(Kind::StreamClosed, TRANSPORT_ERROR_CODE, message)
    }

    pub(crate) fn io(error: io::Error) -> Self {
        let mut e = HttpClientError::new(Kind::Io, TRANSPORT_ERROR_CODE, error.to_string());
        e.source = Some(Arc::new(error));
        e
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        HttpClientError::new(Kind::InvalidRequest, TRANSPORT_ERROR_CODE, message)
    }

    pub(crate) fn closed(message: impl Into<String>) -> Self {
        HttpClientError::new(Kind::Closed, TRANSPORT_ERROR_CODE, message)
    }

    pub(crate) fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub(crate) fn with_response(mut self, response: HttpResponse) -> Self {
        self.response = Some(Box::new(response));
        self
    }

    /// The HTTP status, or 599 when no response was received (`code`).
    pub fn code(&self) -> u16 {
        self.code
    }

    /// What went wrong (`message`): the reason phrase for a status error.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response, for a status error (`response`).
    pub fn response(&self) -> Option<&HttpResponse> {
        self.response.as_deref()
    }

    /// Takes the response out, for a status error.
    pub fn into_response(self) -> Option<HttpResponse> {
        self.response.map(|r| *r)
    }

    /// The server answered with a status outside 2xx.
    pub fn is_status(&self) -> bool {
        self.kind == Kind::Status
    }

    /// A connect, queue or request timeout (`HTTPTimeoutError`).
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// The connection closed before the response was complete, or the response was
    /// malformed (`HTTPStreamClosedError`).
    pub fn is_stream_closed(&self) -> bool {
        self.kind == Kind::StreamClosed
    }

    /// Another transport error; [`source`](StdError::source) is the `io::Error`.
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }

    /// The request could not be sent as given (Tornado's `ValueError`, `KeyError`,
    /// `NotImplementedError`).
    pub fn is_invalid_request(&self) -> bool {
        self.kind == Kind::InvalidRequest
    }

    /// The client was closed (Tornado's `RuntimeError`).
    pub fn is_closed(&self) -> bool {
        self.kind == Kind::Closed
    }

    /// The `io::Error` behind a transport error, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_deref()?.downcast_ref::<io::Error>()
    }
}

impl fmt::Display for HttpClientError {
    /// `HTTP 404: Not Found` for a status error (Tornado's `__str__`); the message alone for
    /// the others, as `HTTPTimeoutError` and `HTTPStreamClosedError` print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Status => write!(f, "HTTP {}: {}", self.code, self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl fmt::Debug for HttpClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientError")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl StdError for HttpClientError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<HttpClientError> for io::Error {
    fn from(e: HttpClientError) -> io::Error {
        let kind = match e.kind {
            Kind::Timeout => io::ErrorKind::TimedOut,
            Kind::InvalidRequest => io::ErrorKind::InvalidInput,
            _ => e.io_error().map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_plain_error() {
        // HTTPErrorTestCase.test_plain_error
        let e = HttpClientError::status(403, None);
        assert_eq!(e.to_string(), "HTTP 403: Forbidden");
        assert_eq!(e.code(), 403);
        assert!(e.is_status());
    }

    #[test]
    fn test_copy() {
        // HTTPErrorTestCase.test_copy
        let e = HttpClientError::status(403, None);
        let e2 = e.clone();
        assert_eq!(e.code(), e2.code());
    }

    #[test]
    fn timeout_prints_its_message() {
        let e = HttpClientError::timeout("Timeout in request queue");
        assert_eq!(e.to_string(), "Timeout in request queue");
        assert_eq!(e.code(), 599);
        assert!(e.is_timeout() && !e.is_status());
        fn send_sync<T: Send + Sync>() {}
        send_sync::<HttpClientError>();
    }
}
