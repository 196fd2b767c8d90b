//! Helpers for the HTTP server tests: a server on a fresh loop, and raw-socket clients.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use tornado_httpserver::http1::parse_int;
use tornado_httpserver::httputil::{
    Arguments, Files, HttpInputError, ParseMultipartConfig, ResponseStartLine,
    parse_multipart_form_data,
};
use tornado_httpserver::{HttpServer, HttpServerRequest, HttpServerSettings};
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;

/// Runs `f` on a fresh loop, failing after 20 seconds.
pub(crate) fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(20)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// A response as a raw client saw it.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) status_line: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client connection.
pub(crate) async fn connect(addr: SocketAddr) -> IoStream {
    IoStream::connect(addr).await.expect("connect")
}

/// Reads one response from `stream` (`read_stream_body` in Tornado's tests): framed by
/// Content-Length, chunked, or until close. `head_only` for HEAD requests.
pub(crate) async fn read_response(stream: &IoStream, head_only: bool) -> Option<RawResponse> {
    let head = stream.read_until(b"\r\n\r\n", Some(1 << 20)).await.ok()?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?.to_owned();
    let status: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(':')?;
        headers.append(
            http::HeaderName::from_bytes(n.trim().as_bytes()).ok()?,
            HeaderValue::from_str(v.trim()).ok()?,
        );
    }
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let body = if no_body {
        Bytes::new()
    } else if let Some(cl) = headers.get("content-length") {
        let n = parse_int(cl.as_bytes())? as usize;
        stream.read_bytes(n, false).await.ok()?
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line = stream.read_until(b"\r\n", Some(100)).await.ok()?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&line[..line.len() - 2]).ok()?, 16)
                    .ok()?;
            let data = stream.read_bytes(size + 2, false).await.ok()?;
            body.extend_from_slice(&data[..size]);
            if size == 0 {
                break;
            }
        }
        Bytes::from(body)
    } else {
        stream.read_until_close().await.ok()?
    };
    Some(RawResponse {
        status,
        status_line,
        headers,
        body,
    })
}

/// Sends `request` on a new connection and reads one response; `None` if the server closed
/// without answering.
pub(crate) async fn raw(addr: SocketAddr, request: &[u8]) -> Option<RawResponse> {
    let stream = connect(addr).await;
    stream.write(request.to_vec()).await.ok()?;
    let r = read_response(&stream, false).await;
    stream.close(None);
    r
}

/// Everything the server sends on a new connection after `request`, until it closes.
pub(crate) async fn raw_all(addr: SocketAddr, request: &[u8]) -> Bytes {
    let stream = connect(addr).await;
    let _ = stream.write(request.to_vec()).await;
    stream.read_until_close().await.unwrap_or_default()
}

pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

/// The bytes of a request as Tornado's test client (`SimpleAsyncHTTPClient`, which
/// `AsyncHTTPTestCase.fetch` uses) sends it: HTTP/1.1 with `Host` and `Connection: close`,
/// a `Content-Length` when there is a body, and for a POST without a `Content-Type` the
/// form type.
pub(crate) fn request_bytes(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    let has_type = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    if method == "POST" && !has_type {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    if let Some(body) = body {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body.unwrap_or_default());
    req
}

/// [`request_bytes`] with a chunked body, one chunk per piece (the client's `body_producer`
/// writing each piece).
pub(crate) fn chunked_request_bytes(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    pieces: &[&[u8]],
) -> Vec<u8> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Transfer-Encoding", "chunked"));
    let mut req = request_bytes(method, path, &all, None);
    for piece in pieces {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    req
}

/// Sends one request as Tornado's test client would and reads its response (`fetch`).
pub(crate) async fn fetch(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> RawResponse {
    raw(addr, &request_bytes(method, path, headers, body))
        .await
        .expect("a response")
}

/// Sends `request` on a new connection, expecting the server to log that it is malformed
/// because of `reason` (Tornado's `ExpectLog(gen_log, ".*<reason>", level=logging.INFO)`: the
/// log names the client's address, which is known once connected). `None` if the server
/// closed without answering.
pub(crate) async fn raw_rejected(
    addr: SocketAddr,
    request: &[u8],
    reason: &str,
) -> Option<RawResponse> {
    let stream = connect(addr).await;
    let local = stream.local_addr().expect("a local address");
    let _e = tornado_log::ExpectLog::new(
        tornado_log::GENERAL,
        &format!("Malformed HTTP message from {local}: {reason}"),
    )
    .level(log::Level::Info);
    stream.write(request.to_vec());
    let r = read_response(&stream, false).await;
    stream.close(None);
    r
}

// The application of httpserver_test.py's raw, keep-alive and idle tests.

/// The application the tests talk to.
pub(crate) async fn app(req: HttpServerRequest) {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let known = [Method::GET, Method::POST, Method::HEAD, Method::PUT];
    if !known.contains(req.method()) {
        let _ = req.respond(StatusCode::METHOD_NOT_ALLOWED, h, b"");
        return;
    }
    match req.path() {
        "/echo" => {
            let body = req.body().clone();
            let _ = req.respond(StatusCode::OK, h, &body);
        }
        "/ip" => {
            let body = format!("{} {}", req.remote_ip(), req.protocol());
            let _ = req.respond(StatusCode::OK, h, body.as_bytes());
        }
        "/large" => {
            let _ = req.respond(StatusCode::OK, h, &vec![b'A'; 512 * 1024]);
        }
        "/chunked" => {
            let c = req.connection();
            if req.method() == Method::HEAD {
                // No body for HEAD (the web layer takes care of that; here the app does).
                let _ = c.write_headers(&ResponseStartLine::new(StatusCode::OK), h, None);
            } else {
                let _ = c.write_headers(&ResponseStartLine::new(StatusCode::OK), h, Some(b"qwer"));
                let _ = c.write(b"ty").await;
            }
            let _ = c.finish();
        }
        "/finish_on_close" => {
            let c = req.connection().clone();
            let _ = c.write_headers(&ResponseStartLine::new(StatusCode::OK), h, Some(b"x"));
            let _ = c.write(b"").await;
            let c2 = c.clone();
            c.set_close_callback(move || {
                let _ = c2.finish();
            });
        }
        "/bad_length" => {
            h.insert("content-length", HeaderValue::from_static("42"));
            let c = req.connection();
            let _ = c.write_headers(&ResponseStartLine::new(StatusCode::OK), h, Some(b"short"));
            let _ = c.finish();
        }
        _ => {
            let _ = req.respond(StatusCode::OK, h, b"Hello world");
        }
    }
}

/// Starts the test application with `settings` on the current loop.
pub(crate) fn start(settings: HttpServerSettings) -> (Rc<dyn std::any::Any>, SocketAddr) {
    let server = HttpServer::from_fn_with(app, settings);
    let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
    (Rc::new(server), addr)
}

pub(crate) fn start_default() -> (Rc<dyn std::any::Any>, SocketAddr) {
    start(HttpServerSettings::new())
}

// Helpers of the pure-function tests (httputil).

/// Each timing lasts at least this long, so that clock resolution and one-off stalls are
/// small next to it.
pub(crate) const MIN_MEASUREMENT: Duration = Duration::from_millis(20);

/// Runs `f(n)` `iterations` times and returns the time per call.
fn time_calls(f: &dyn Fn(usize), n: usize, iterations: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..iterations {
        f(black_box(n));
    }
    start.elapsed() / iterations
}

/// Doubles the iteration count until a measurement lasts [`MIN_MEASUREMENT`].
fn calibrate(f: &dyn Fn(usize), n: usize) -> (u32, Duration) {
    let mut iterations = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iterations {
            f(black_box(n));
        }
        let elapsed = start.elapsed();
        if elapsed >= MIN_MEASUREMENT || iterations >= 1 << 20 {
            return (iterations, elapsed / iterations);
        }
        iterations *= 2;
    }
}

/// Fails if `f(n2)` takes more than `max_ratio` times as long as `f(n1)` (Tornado's
/// `assert_linear_scaling`). This catches a change of complexity class, not constant factors:
/// with `n2 = 10 * n1`, linear code measures about 10 and quadratic code about 100.
///
/// The machine running the tests is busy (other tests run in parallel on two cores), so, as
/// in Tornado: each size is timed three times, alternately, and the *minimum* is kept
/// (interference only ever makes a run slower); the whole measurement is retried three times
/// before failing.
pub(crate) fn assert_linear_scaling(
    f: impl Fn(usize),
    n1: usize,
    n2: usize,
    max_ratio: f64,
    msg: &str,
) {
    let mut ratio = 0.0;
    for _attempt in 0..3 {
        let (iterations1, mut t1) = calibrate(&f, n1);
        let (iterations2, mut t2) = calibrate(&f, n2);
        for _round in 0..2 {
            t1 = t1.min(time_calls(&f, n1, iterations1));
            t2 = t2.min(time_calls(&f, n2, iterations2));
        }
        ratio = t2.as_secs_f64() / t1.as_secs_f64().max(1e-9);
        if ratio <= max_ratio {
            return;
        }
    }
    panic!("{msg}: n={n1} to n={n2} took {ratio:.1} times as long (limit {max_ratio})");
}

/// `parse_multipart_form_data` with Tornado's default limits, into fresh maps.
pub(crate) fn parse_multipart(
    boundary: &[u8],
    data: &[u8],
) -> (Result<(), HttpInputError>, Arguments, Files) {
    let (mut arguments, mut files) = (Arguments::new(), Files::new());
    let result = parse_multipart_form_data(
        boundary,
        &Bytes::copy_from_slice(data),
        &mut arguments,
        &mut files,
        &ParseMultipartConfig::default(),
    );
    (result, arguments, files)
}

/// Tornado's tests write bodies with LF line ends and turn them into CRLF.
pub(crate) fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}
