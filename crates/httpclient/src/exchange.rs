//! One request and its response on one connection (Tornado's `_HTTPConnection`): the
//! request's headers made as Tornado makes them, the connection taken from the pool or
//! opened, the body written (after `100 Continue` when asked), the response read into a
//! delegate that keeps or streams the body.

use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HOST,
    HeaderMap, HeaderValue, LOCATION, USER_AGENT,
};
use http::{Method, StatusCode};
use tornado_httpserver::http1::{HttpClientConnection, HttpConnectionParameters, ResponseOutcome};
use tornado_httpserver::httputil::{
    HttpInputError, RequestStartLine, RequestTarget, split_host_and_port_ref,
};
use tornado_iostream::{
    IoStream, StreamSettings, is_connection_reset, is_stream_closed, is_unsatisfiable_read,
};
use tornado_tcpserver::{ConnectSettings, Family};

use crate::client::Inner;
use crate::collector::{Collector, PendingBody};
use crate::connect::{Proxy, Route, connect, connect_error};
use crate::error::HttpClientError;
use crate::pool::{KeyRef, Pooled};
use crate::request::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_USER_AGENT, HttpRequest,
};
use crate::url::{UrlParts, clean, split_parts};
use crate::util::basic_auth;

/// The methods a request may have without `allow_nonstandard_methods`.
const SUPPORTED_METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::OPTIONS,
];

/// The response to one request.
pub(crate) struct Exchanged {
    pub(crate) code: StatusCode,
    pub(crate) reason: std::borrow::Cow<'static, str>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// A redirect to follow: its `Location`.
    pub(crate) redirect: Option<String>,
    pub(crate) connect_time: Option<Duration>,
}

/// The smaller of two timeouts, zero meaning none (Tornado's "min but skip zero").
pub(crate) fn min_nonzero(a: Duration, b: Duration) -> Option<Duration> {
    match (a.is_zero(), b.is_zero()) {
        (true, true) => None,
        (true, false) => Some(b),
        (false, true) => Some(a),
        (false, false) => Some(a.min(b)),
    }
}

pub(crate) fn connect_timeout(req: &HttpRequest) -> Duration {
    req.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)
}

pub(crate) fn request_timeout(req: &HttpRequest) -> Duration {
    req.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT)
}

fn invalid(msg: impl Into<String>) -> HttpClientError {
    HttpClientError::invalid_request(msg)
}

fn set(
    headers: &mut HeaderMap,
    name: http::HeaderName,
    value: &str,
) -> Result<(), HttpClientError> {
    let v = HeaderValue::from_str(value)
        .map_err(|_| invalid(format!("invalid value for the {name} header: {value:?}")))?;
    headers.insert(name, v);
    Ok(())
}

/// Where a request goes, worked out from its URL (slices of it).
struct Target<'a> {
    url: UrlParts<'a>,
    https: bool,
    host: &'a str,
    port: u16,
}

fn parse_target(url: &str) -> Result<Target<'_>, HttpClientError> {
    let parsed = split_parts(url);
    let https = parsed.scheme.eq_ignore_ascii_case("https");
    if !https && !parsed.scheme.eq_ignore_ascii_case("http") {
        return Err(invalid(format!("Unsupported url scheme: {url}")));
    }
    // The authority goes into `Host` and `CONNECT` lines: no spaces or controls (CR and LF
    // never get this far: `clean` drops them, as Python's `urlsplit` does).
    if parsed.host_port().bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(invalid(format!("invalid host in the URL {url:?}")));
    }
    let (host, port) = split_host_and_port_ref(parsed.host_port());
    let port = port.unwrap_or(if https { 443 } else { 80 });
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(invalid(format!("no host in the URL {url:?}")));
    }
    Ok(Target {
        url: parsed,
        https,
        host,
        port,
    })
}

/// Checks the request and completes its headers in place, as Tornado's `_HTTPConnection.run`
/// does (the headers carry over to a redirect, minus some).
fn prepare_headers(
    req: &mut HttpRequest,
    t: &Target<'_>,
    keep_alive: bool,
) -> Result<(), HttpClientError> {
    let nonstandard = req.allow_nonstandard_methods.unwrap_or(false);
    if !nonstandard && !SUPPORTED_METHODS.contains(&req.method) {
        return Err(invalid(format!("unknown method {}", req.method)));
    }
    let h = &mut req.headers;
    if !keep_alive && !h.contains_key(CONNECTION) {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if !h.contains_key(HOST) {
        set(h, HOST, t.url.host_port())?;
    }
    let credentials = match t.url.userinfo() {
        Some((user, password)) => Some((user.to_owned(), password.unwrap_or("").to_owned())),
        None => req.auth_username.clone().map(|u| {
            let p = req.auth_password.clone().unwrap_or_default();
            (u, p)
        }),
    };
    if let Some((user, password)) = credentials {
        if let Some(mode) = req.auth_mode.as_deref().filter(|m| *m != "basic") {
            return Err(invalid(format!("unsupported auth_mode {mode}")));
        }
        set(h, AUTHORIZATION, &basic_auth(&user, &password))?;
    }
    if let Some(ua) = &req.user_agent {
        set(h, USER_AGENT, ua)?;
    } else if !h.contains_key(USER_AGENT) {
        h.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    if !nonstandard {
        let expected = [Method::POST, Method::PATCH, Method::PUT].contains(&req.method);
        let present = req.body.is_some() || req.body_producer.is_some();
        if expected != present {
            return Err(invalid(format!(
                "Body must {}be None for method {} (unless allow_nonstandard_methods is true)",
                if expected { "not " } else { "" },
                req.method
            )));
        }
    }
    if req.expect_100_continue {
        h.insert(EXPECT, HeaderValue::from_static("100-continue"));
    }
    if let Some(body) = &req.body {
        h.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    if req.method == Method::POST && !h.contains_key(CONTENT_TYPE) {
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    if req.decompress_response.unwrap_or(true) {
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(())
}

/// Closes the connection unless disarmed: a request given up (a timeout, an error, a
/// dropped fetch) never leaves a half-used connection behind.
struct CloseOnDrop(Option<IoStream>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            // A pooled connection's callback would look for it in the pool: it is not there.
            s.clear_close_callback();
            s.close(None);
        }
    }
}

/// Sends `req` and reads its response. `start` is when this request began (after the
/// queue), from which its connect timeout counts.
pub(crate) async fn exchange(
    inner: &Rc<Inner>,
    req: &mut HttpRequest,
    start: Instant,
) -> Result<Exchanged, HttpClientError> {
    if let Some(e) = &req.invalid {
        return Err(invalid(e.clone()));
    }
    // A copy of the URL (cleaned as `urlsplit` cleans it), which the target's parts borrow
    // while the request's headers are completed.
    let url = clean(&req.url).into_owned();
    let target = parse_target(&url)?;
    let source_ip = req.source_ip().map_err(invalid)?;
    let keep_alive = inner.settings.keep_alive;
    prepare_headers(req, &target, keep_alive)?;
    let proxy = match (&req.proxy_host, req.proxy_port) {
        (Some(host), Some(port)) if !host.is_empty() => {
            if let Some(mode) = req.proxy_auth_mode.as_deref().filter(|m| *m != "basic") {
                return Err(invalid(format!("unsupported proxy_auth_mode {mode}")));
            }
            Some((host.clone(), port))
        }
        (Some(host), None) if !host.is_empty() => {
            return Err(invalid("proxy_host needs proxy_port"));
        }
        _ => None,
    };
    let proxy_credentials = req
        .proxy_username
        .clone()
        .map(|u| (u, req.proxy_password.clone().unwrap_or_default()));
    // A plain request through a proxy names the whole URL (RFC 9112 §3.2.2).
    let request_target = if proxy.is_some() && !target.https {
        let mut absolute = target.url.to_owned();
        absolute.netloc = Some(target.url.host_port().to_owned());
        absolute.fragment = None;
        if absolute.path.is_empty() {
            absolute.path = "/".to_owned();
        }
        if let Some((user, password)) = &proxy_credentials {
            set(
                &mut req.headers,
                http::header::PROXY_AUTHORIZATION,
                &basic_auth(user, password),
            )?;
        }
        RequestTarget::new(absolute.unsplit())
    } else {
        RequestTarget::new(target.url.target())
    };
    let ipv4_only = req.allow_ipv6 == Some(false);
    let (tls, tls_key) = inner.tls_for(req, target.https)?;
    // Without the `tls` feature there are no options (`https` fails in `connect`).
    #[cfg(not(feature = "tls"))]
    let () = tls;
    let key = KeyRef {
        https: target.https,
        host: target.host,
        port: target.port,
        proxy: proxy.as_ref().map(|(h, p)| {
            (
                h.as_str(),
                *p,
                proxy_credentials
                    .as_ref()
                    .map(|(u, p)| (u.as_str(), p.as_str())),
            )
        }),
        tls: tls_key.as_deref().unwrap_or(""),
        source_ip,
        ipv4_only,
    };
    // A request with TLS options of the caller's is not pooled: they cannot be compared.
    let poolable = keep_alive && (!target.https || tls_key.is_some());
    let idempotent = [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::DELETE,
    ]
    .contains(&req.method);
    let params = HttpConnectionParameters::new()
        .max_header_size(inner.settings.max_header_size)
        .max_body_size(inner.max_body_size())
        .max_1xx_responses(inner.settings.max_1xx_responses)
        .decompress(req.decompress_response.unwrap_or(true));
    let start_line = RequestStartLine {
        method: req.method.clone(),
        path: request_target,
        version: http::Version::HTTP_11,
    };
    let mut may_retry = true;
    loop {
        let reused = if poolable {
            inner.pool.checkout(key)
        } else {
            None
        };
        let was_reused = reused.is_some();
        let pool_id = reused.as_ref().map(|p| p.id);
        let mut connect_time = None;
        let stream = match reused {
            Some(Pooled { stream, .. }) => stream,
            None => {
                let connect_start = Instant::now();
                let deadline =
                    min_nonzero(connect_timeout(req), request_timeout(req)).map(|t| start + t);
                let mut settings = ConnectSettings::new().stream_settings(
                    StreamSettings::new().max_buffer_size(inner.settings.max_buffer_size),
                );
                if ipv4_only {
                    settings = settings.family(Family::V4);
                }
                if let Some(ip) = source_ip {
                    settings = settings.source_ip(ip);
                }
                let authority = target.url.host_port().to_owned();
                let route = Route {
                    https: target.https,
                    host: target.host,
                    port: target.port,
                    authority: &authority,
                    proxy: proxy.as_ref().map(|(h, p)| Proxy {
                        host: h,
                        port: *p,
                        credentials: proxy_credentials
                            .as_ref()
                            .map(|(u, p)| (u.as_str(), p.as_str())),
                    }),
                    settings,
                    #[cfg(feature = "tls")]
                    tls: tls.clone(),
                    deadline,
                    max_header_size: inner.settings.max_header_size,
                };
                // Boxed: connecting (DNS, TCP, TLS, a proxy's tunnel) is a large future
                // that a pooled request does not need room for.
                let s = Box::pin(connect(&inner.tcp, route)).await?;
                inner
                    .connections_opened
                    .set(inner.connections_opened.get() + 1);
                connect_time = Some(connect_start.elapsed());
                s
            }
        };
        if !was_reused {
            // Requests are written whole: Nagle would only delay them (once per connection:
            // it is a system call).
            let _ = stream.set_nodelay(true);
        }
        let mut guard = CloseOnDrop(Some(stream.clone()));
        let conn = Rc::new(HttpClientConnection::new(stream.clone(), params.clone()));
        conn.write_headers_ref(&start_line, &req.headers, None)
            .map_err(|e| write_error(&stream, e))?;
        let pending = PendingBody {
            conn: conn.clone(),
            body: req.body.clone(),
            producer: req.body_producer.clone(),
        };
        let mut delegate = Collector::new(req);
        if req.expect_100_continue {
            // The head waits in the stream's buffer until flushed: send it now, the body
            // after `100 Continue`.
            drop(stream.flush());
            delegate.pending = Some(pending);
        } else {
            pending.send().await.map_err(|e| write_error(&stream, e))?;
            delegate.body_sent = true;
        }
        let outcome = conn.read_response(&mut delegate).await;
        if let Some(e) = delegate.callback_error.take() {
            return Err(HttpClientError::stream_closed("Stream closed").with_source(e));
        }
        match outcome {
            ResponseOutcome::Failed => {
                let error = conn.take_error();
                let dropped = error
                    .as_ref()
                    .is_none_or(|e| is_stream_closed(e) || is_connection_reset(e));
                if was_reused && may_retry && idempotent && dropped && delegate.code.is_none() {
                    // A pooled connection the server closed just as it was reused: say so
                    // and try once more on a new one (RFC 9110 §9.2.2 allows it for
                    // idempotent requests).
                    log::debug!(
                        target: "general",
                        "retrying {} on a new connection: {error:?}",
                        req.url
                    );
                    may_retry = false;
                    continue;
                }
                return Err(read_error(error, &stream));
            }
            ResponseOutcome::Reusable
                if poolable && delegate.body_sent && !says_close(&req.headers) =>
            {
                guard.0 = None;
                inner.pool.checkin(key, stream.clone(), pool_id);
            }
            ResponseOutcome::Reusable | ResponseOutcome::Done => {}
        }
        drop(guard);
        let (Some(code), Some(headers)) = (delegate.code, delegate.headers.take()) else {
            return Err(HttpClientError::stream_closed("Connection closed"));
        };
        let redirect = delegate
            .redirect
            .then(|| {
                headers
                    .get(LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .flatten();
        return Ok(Exchanged {
            code,
            reason: std::mem::take(&mut delegate.reason),
            headers,
            body: delegate.body.take(),
            redirect,
            connect_time,
        });
    }
}

fn says_close(headers: &HeaderMap) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
}

fn write_error(stream: &IoStream, e: io::Error) -> HttpClientError {
    stream.close(None);
    match e.kind() {
        io::ErrorKind::InvalidInput => {
            HttpClientError::invalid_request(e.to_string()).with_source(e)
        }
        _ => connect_error(e),
    }
}

/// The error of a response that could not be read (Tornado: `HTTPStreamClosedError`, or
/// the stream's own error, such as `UnsatisfiableReadError` for an oversized head).
fn read_error(error: Option<io::Error>, stream: &IoStream) -> HttpClientError {
    match error {
        Some(e) if e.kind() == io::ErrorKind::InvalidData => {
            HttpClientError::stream_closed(format!("Stream closed: {e}")).with_source(e)
        }
        Some(e) if is_unsatisfiable_read(&e) => HttpClientError::io(e),
        Some(e)
            if e.kind() == io::ErrorKind::Other
                && e.get_ref().is_some_and(|i| i.is::<HttpInputError>()) =>
        {
            HttpClientError::stream_closed("Stream closed").with_source(e)
        }
        Some(e) => connect_error(e),
        None => match stream.error() {
            Some(e) => HttpClientError::stream_closed(format!("Connection closed: {e}")),
            None => HttpClientError::stream_closed("Connection closed"),
        },
    }
}
