//! [`HttpResponse`] (`tornado.httpclient.HTTPResponse`).

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::error::HttpClientError;

/// Timing details of a fetch (`time_info`). Tornado's simple client leaves its dictionary
/// empty and documents `queue`; this one fills what it knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeInfo {
    /// Time spent waiting for a free slot under `max_clients` (`queue`).
    pub queue: Duration,
    /// Time spent connecting (resolving, TCP, TLS, proxy tunnel) for the last request of
    /// the fetch; `None` when it reused a pooled connection.
    pub connect: Option<Duration>,
}

/// The standard reason phrase of `code`, or `Unknown` (Tornado's `httputil.responses`).
fn canonical_reason(code: u16) -> &'static str {
    http::StatusCode::from_u16(code)
        .ok()
        .and_then(|c| c.canonical_reason())
        .unwrap_or("Unknown")
}

/// The response to a fetch (`tornado.httpclient.HTTPResponse`).
///
/// When a `streaming_callback` was given, [`body`](Self::body) is empty: the body went to
/// the callback. A status outside 2xx sets [`error`](Self::error) (whatever `raise_error`
/// said: with `raise_error = false` the fetch returns the response instead of the error).
#[derive(Clone)]
pub struct HttpResponse {
    pub(crate) request_url: String,
    pub(crate) request_method: Method,
    pub(crate) code: u16,
    pub(crate) reason: Cow<'static, str>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// `None`: the request's URL (no redirect was followed).
    pub(crate) effective_url: Option<String>,
    pub(crate) error: Option<HttpClientError>,
    pub(crate) request_time: Duration,
    pub(crate) start_time: SystemTime,
    pub(crate) time_info: TimeInfo,
}

impl Drop for HttpResponse {
    fn drop(&mut self) {
        // The map's allocation can hold the headers of this thread's next response.
        tornado_httpserver::recycle_header_map(std::mem::take(&mut self.headers));
    }
}

impl HttpResponse {
    /// A response made by hand (`HTTPResponse(request, code, ...)`), for tests and mocks: the
    /// reason is the status's canonical one, and a status outside 2xx sets the error.
    pub fn new(url: impl Into<String>, code: u16, headers: HeaderMap, body: Bytes) -> Self {
        let url = url.into();
        let reason = Cow::Borrowed(canonical_reason(code));
        HttpResponse::build(
            url,
            Method::GET,
            code,
            reason,
            headers,
            body,
            None,
            Duration::ZERO,
            SystemTime::now(),
            TimeInfo::default(),
        )
    }

    #[allow(clippy::too_many_arguments, reason = "the fields of one response")]
    pub(crate) fn build(
        request_url: String,
        request_method: Method,
        code: u16,
        reason: Cow<'static, str>,
        headers: HeaderMap,
        body: Bytes,
        effective_url: Option<String>,
        request_time: Duration,
        start_time: SystemTime,
        time_info: TimeInfo,
    ) -> Self {
        // Tornado: `reason or httputil.responses.get(code, "Unknown")`.
        let reason = if reason.is_empty() {
            Cow::Borrowed(canonical_reason(code))
        } else {
            reason
        };
        let error =
            (!(200..300).contains(&code)).then(|| HttpClientError::status(code, Some(&reason)));
        HttpResponse {
            request_url,
            request_method,
            code,
            reason,
            headers,
            body,
            effective_url,
            error,
            request_time,
            start_time,
            time_info,
        }
    }

    /// The status code (`code`).
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The reason phrase the server sent (`reason`).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The headers of the final response (`headers`). With `decompress_response`, a gzip
    /// body's `Content-Encoding` is renamed `X-Consumed-Content-Encoding`, as in Tornado.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body (`body`); empty when a `streaming_callback` took it.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as text, replacing invalid UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The URL of the final response, after any redirects (`effective_url`).
    pub fn effective_url(&self) -> &str {
        self.effective_url.as_deref().unwrap_or(&self.request_url)
    }

    /// The URL that was asked for (`request.url`).
    pub fn request_url(&self) -> &str {
        &self.request_url
    }

    /// The method that was asked for (`request.method`): a POST answered through a 303
    /// redirect is still a POST here.
    pub fn request_method(&self) -> &Method {
        &self.request_method
    }

    /// The status error, for a status outside 2xx (`error`).
    pub fn error(&self) -> Option<&HttpClientError> {
        self.error.as_ref()
    }

    /// `Err` with the status error (and this response attached) if there is one (`rethrow`).
    pub fn rethrow(&self) -> Result<(), HttpClientError> {
        match &self.error {
            None => Ok(()),
            Some(e) => Err(e.clone().with_response(self.clone())),
        }
    }

    /// From the start of the request (after any wait in the queue) to its last byte; with
    /// redirects, of the last request only (`request_time`).
    pub fn request_time(&self) -> Duration {
        self.request_time
    }

    /// When the request started, on the wall clock (`start_time`).
    pub fn start_time(&self) -> SystemTime {
        self.start_time
    }

    /// Timing details (`time_info`).
    pub fn time_info(&self) -> &TimeInfo {
        &self.time_info
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("code", &self.code)
            .field("reason", &self.reason)
            .field("effective_url", &self.effective_url())
            .field("body_len", &self.body.len())
            .field("request_time", &self.request_time)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_str() {
        // HTTPResponseTestCase.test_str
        let r = HttpResponse::new("http://example.com", 200, HeaderMap::new(), Bytes::new());
        let s = format!("{r:?}");
        assert!(s.starts_with("HttpResponse {"));
        assert!(s.contains("code: 200"));
    }

    #[test]
    fn empty_reason_is_the_standard_one() {
        let r = HttpResponse::build(
            "u".into(),
            Method::GET,
            404,
            Cow::Borrowed(""),
            HeaderMap::new(),
            Bytes::new(),
            Some("v".into()),
            Duration::ZERO,
            SystemTime::now(),
            TimeInfo::default(),
        );
        assert_eq!(r.reason(), "Not Found");
        assert_eq!(r.error().unwrap().to_string(), "HTTP 404: Not Found");
        assert_eq!((r.request_url(), r.effective_url()), ("u", "v"));
        let same = HttpResponse::new("u", 200, HeaderMap::new(), Bytes::new());
        assert_eq!((same.request_url(), same.effective_url()), ("u", "u"));
    }

    #[test]
    fn test_error_with_response() {
        // HTTPErrorTestCase.test_error_with_response
        let r = HttpResponse::new("http://example.com/", 403, HeaderMap::new(), Bytes::new());
        let e = r.rethrow().unwrap_err();
        assert_eq!(e.to_string(), "HTTP 403: Forbidden");
        assert_eq!(e.response().unwrap().code(), 403);
    }
}
