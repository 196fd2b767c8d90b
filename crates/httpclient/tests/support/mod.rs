//! Test servers and helpers for the client tests: the handlers of Tornado's
//! `httpclient_test.py` and `simple_httpclient_test.py`, written against `HttpServer`
//! (the web framework does not exist yet), and raw-socket servers for malformed responses.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;
use std::net::TcpListener;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use tornado_httpclient::{AsyncHttpClient, ClientSettings, HttpRequest, HttpResponse};
use tornado_httpserver::httputil::ResponseStartLine;
use tornado_httpserver::{HttpServer, HttpServerRequest, HttpServerSettings};
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;
use tornado_iostream::TlsServerOptions;
use tornado_locks::{Condition, Event};
use tornado_tcpserver::{Connection, add_accept_handler};

/// Runs `f` on a fresh loop, failing after 60 seconds (generous: the machine is slow and
/// shared).
pub(crate) fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(60)))
        .expect("test finished in time");
    let _ = io_loop.close();
}

/// What the handlers share with the test.
#[derive(Default)]
pub(crate) struct State {
    /// Set by the test when the first chunk of `/chunk?wait=1` arrived.
    pub(crate) first_chunk_received: Event,
    /// One event per `/trigger` request waiting; setting it finishes that request.
    pub(crate) triggers: RefCell<VecDeque<Event>>,
    /// Notified whenever a trigger is queued.
    pub(crate) trigger_queued: Condition,
}

impl State {
    /// Waits until `n` triggers are queued.
    pub(crate) async fn wait_triggers(&self, n: usize) {
        while self.triggers.borrow().len() < n {
            self.trigger_queued.wait().await;
        }
    }

    /// Finishes the oldest waiting `/trigger` request.
    pub(crate) fn pop_trigger(&self) {
        let e = self.triggers.borrow_mut().pop_front().expect("a trigger");
        e.set();
    }
}

/// A test server on two ports (for cross-origin redirects).
pub(crate) struct TestServer {
    pub(crate) scheme: &'static str,
    pub(crate) server: HttpServer<tornado_httpserver::CallbackDelegate<Handler>>,
    pub(crate) port: u16,
    pub(crate) port2: u16,
    pub(crate) state: Rc<State>,
}

pub(crate) type Handler =
    Box<dyn Fn(HttpServerRequest) -> std::pin::Pin<Box<dyn Future<Output = ()>>>>;

impl TestServer {
    pub(crate) fn start() -> TestServer {
        TestServer::start_with("http", HttpServerSettings::new())
    }

    /// The same handlers over TLS, with a self-signed certificate for `127.0.0.1` and
    /// `localhost`.
    pub(crate) fn start_tls() -> TestServer {
        let (options, _) = self_signed();
        TestServer::start_with("https", HttpServerSettings::new().tls(options))
    }

    fn start_with(scheme: &'static str, settings: HttpServerSettings) -> TestServer {
        let state = Rc::new(State::default());
        let s = state.clone();
        let handler: Handler = Box::new(move |req| Box::pin(app(req, s.clone())));
        let server = HttpServer::from_fn_with(handler, settings);
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let port2 = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        TestServer {
            scheme,
            server,
            port,
            port2,
            state,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", self.scheme, self.port)
    }

    pub(crate) fn url2(&self, path: &str) -> String {
        format!("{}://127.0.0.1:{}{path}", self.scheme, self.port2)
    }

    pub(crate) fn stop(&self) {
        self.server.stop();
    }
}

/// TLS options for a self-signed certificate of `127.0.0.1` and `localhost`, and the
/// certificate's PEM.
pub(crate) fn self_signed() -> (TlsServerOptions, String) {
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    let cert_pem = ck.cert.pem();
    let key_pem = ck.signing_key.serialize_pem();
    let opts = TlsServerOptions::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    (opts, cert_pem)
}

/// A client of its own for a test.
pub(crate) fn client() -> AsyncHttpClient {
    AsyncHttpClient::with_settings(ClientSettings::new())
}

pub(crate) fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

fn arg(req: &HttpServerRequest, name: &str) -> Option<String> {
    req.arguments()
        .get(name)
        .and_then(|v| v.last())
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

fn respond(req: &HttpServerRequest, code: u16, hs: &[(&str, &[u8])], body: &[u8]) {
    let _ = req.respond(StatusCode::from_u16(code).unwrap(), headers(hs), body);
}

/// Writes `raw` on the request's connection, bypassing the HTTP layer, and closes it.
async fn raw(req: &HttpServerRequest, raw: Vec<u8>) {
    let stream = req.connection().detach();
    let _ = stream.write(raw).await;
    stream.close(None);
}

/// Gzip of `data`.
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A small gzip stream that expands to `size` zero bytes (`gzip_bomb`).
pub(crate) fn gzip_bomb(size: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1024 * 1024];
    for _ in 0..size / block.len() {
        e.write_all(&block).unwrap();
    }
    e.finish().unwrap()
}

/// A body big enough to arrive in several pieces, never repeating (`large_body`).
pub(crate) fn large_body() -> Vec<u8> {
    (0..100_000)
        .flat_map(|i| format!("{i:09}\n").into_bytes())
        .collect()
}

thread_local! {
    static BOMBS: RefCell<Vec<(usize, Rc<Vec<u8>>)>> = const { RefCell::new(Vec::new()) };
}

/// `gzip_bomb(size)`, made once per thread.
pub(crate) fn cached_bomb(size: usize) -> Rc<Vec<u8>> {
    BOMBS.with(|b| {
        if let Some((_, v)) = b.borrow().iter().find(|(s, _)| *s == size) {
            return v.clone();
        }
        let v = Rc::new(gzip_bomb(size));
        b.borrow_mut().push((size, v.clone()));
        v
    })
}

/// The handlers of both test files, by path.
async fn app(req: HttpServerRequest, state: Rc<State>) {
    let path = req.path().to_owned();
    let method = req.method().clone();
    match path.as_str() {
        "/hello" => {
            let name = arg(&req, "name").unwrap_or_else(|| "world".to_owned());
            respond(
                &req,
                200,
                &[("Content-Type", b"text/plain")],
                format!("Hello {name}!").as_bytes(),
            );
        }
        "/post" => {
            let (a, b) = (
                arg(&req, "arg1").unwrap_or_default(),
                arg(&req, "arg2").unwrap_or_default(),
            );
            respond(
                &req,
                200,
                &[],
                format!("Post arg1: {a}, arg2: {b}").as_bytes(),
            );
        }
        "/put" => {
            let mut body = b"Put body: ".to_vec();
            body.extend_from_slice(req.body());
            respond(&req, 200, &[], &body);
        }
        "/redirect" => {
            let url = arg(&req, "url").unwrap_or_default();
            let status: u16 = arg(&req, "status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(302);
            respond(
                &req,
                status,
                &[("Location", url.as_bytes())],
                b"redirects can have bodies too",
            );
        }
        "/redirect_without_location" => respond(&req, 301, &[], b""),
        "/chunk" => {
            let conn = req.connection().clone();
            let _ = conn.write_headers(
                &ResponseStartLine::new(StatusCode::OK),
                headers(&[("Content-Type", b"text/html; charset=UTF-8")]),
                None,
            );
            let _ = conn.write(b"asdf").await;
            if arg(&req, "wait").is_some() {
                // Not before the client has the first piece, so that the two cannot be
                // coalesced.
                state.first_chunk_received.wait().await;
            }
            let _ = conn.write(b"qwer").await;
            let _ = conn.finish();
        }
        "/auth" => {
            let auth = req
                .headers()
                .get("authorization")
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
            respond(&req, 200, &[], &auth);
        }
        "/echopost" | "/echo_post" | "/patch" => respond(&req, 200, &[], &req.body().clone()),
        "/user_agent" => {
            let ua = req
                .headers()
                .get("user-agent")
                .map_or(b"User agent not set".to_vec(), |v| v.as_bytes().to_vec());
            respond(&req, 200, &[], &ua);
        }
        "/304_with_content_length" => {
            raw(
                &req,
                b"HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n".to_vec(),
            )
            .await;
        }
        "/all_methods" => {
            let m = method.as_str().as_bytes().to_vec();
            respond(&req, 200, &[], &m);
        }
        "/set_header" => {
            // `?k=foo&v=%E9`: the value is the byte 0xE9 (é in Latin-1).
            let k = arg(&req, "k").unwrap_or_default();
            let v = req
                .arguments()
                .get("v")
                .and_then(|v| v.last())
                .cloned()
                .unwrap_or_default();
            respond(&req, 200, &[(k.as_str(), &v)], b"");
        }
        "/invalid_gzip" => {
            let text: String = (0..9000).map(|i| format!("Hello World {i}\n")).collect();
            let mut body = gzip(&text.as_bytes()[..149_051]);
            body.push(0);
            respond(
                &req,
                200,
                &[
                    ("Content-Type", b"text/plain"),
                    ("Content-Encoding", b"gzip"),
                ],
                &body,
            );
        }
        "/gzip_chunk" => {
            // "asdfqwer", gzipped by hand (there is no gzip transform in HttpServer).
            respond(
                &req,
                200,
                &[("Content-Encoding", b"gzip")],
                &gzip(b"asdfqwer"),
            );
        }
        "/header-encoding" => {
            let value = req
                .headers()
                .get("foo")
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
            respond(&req, 200, &[], &value);
        }
        "/echo_headers" => {
            let mut out = String::new();
            for (n, v) in req.headers() {
                out.push_str(&format!(
                    "{}: {}\n",
                    n,
                    String::from_utf8_lossy(v.as_bytes())
                ));
            }
            respond(&req, 200, &[], out.as_bytes());
        }
        "/gzip_bomb" | "/bomb" => {
            let size: usize = arg(&req, "size")
                .and_then(|s| s.parse().ok())
                .unwrap_or(16 << 20);
            respond(
                &req,
                200,
                &[("Content-Encoding", b"gzip")],
                &cached_bomb(size),
            );
        }
        "/brotli_bomb" => {
            respond(
                &req,
                200,
                &[("Content-Encoding", b"br")],
                b"\x1b\x03\x00\xf8not really brotli",
            );
        }
        "/large_body" => respond(
            &req,
            200,
            &[("Content-Type", b"application/octet-stream")],
            &large_body(),
        ),
        "/small" => respond(&req, 200, &[], &vec![b'a'; 64 * 1024]),
        "/large" => respond(&req, 200, &[], &vec![b'a'; 64 * 1024 + 1]),
        "/a100k" => respond(&req, 200, &[], &vec![b'a'; 100 * 1024]),
        "/trigger" => {
            let e = Event::new();
            state.triggers.borrow_mut().push_back(e.clone());
            state.trigger_queued.notify_all();
            e.wait().await;
            respond(&req, 200, &[], b"triggered");
        }
        p if p.starts_with("/countdown/") => {
            let n: u32 = p["/countdown/".len()..].parse().unwrap_or(0);
            if n > 0 {
                respond(
                    &req,
                    302,
                    &[("Location", format!("/countdown/{}", n - 1).as_bytes())],
                    b"",
                );
            } else {
                respond(&req, 200, &[], b"Zero");
            }
        }
        "/content_length" => {
            let value = arg(&req, "value").unwrap_or_default();
            raw(
                &req,
                format!("HTTP/1.0 200 OK\r\nContent-Length: {value}\r\n\r\nok").into_bytes(),
            )
            .await;
        }
        "/head" => respond(&req, 200, &[("Content-Length", b"7")], b""),
        "/options" => respond(&req, 200, &[("Access-Control-Allow-Origin", b"*")], b"ok"),
        "/no_content" => respond(&req, 204, &[], b""),
        "/see_other_post" => {
            let code: u16 = String::from_utf8_lossy(req.body()).parse().unwrap_or(0);
            assert!(code == 302 || code == 303, "unexpected body");
            respond(&req, code, &[("Location", b"/see_other_get")], b"");
        }
        "/see_other_get" => {
            assert!(req.body().is_empty(), "unexpected body");
            respond(&req, 200, &[], b"ok");
        }
        "/host_echo" => {
            let host = req
                .headers()
                .get("host")
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
            respond(&req, 200, &[], &host);
        }
        "/no_content_length" => raw(&req, b"HTTP/1.0 200 OK\r\n\r\nhello".to_vec()).await,
        "/chunkwithcl" => {
            raw(
                &req,
                [
                    &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"[..],
                    b"Content-Length: 11\r\n\r\nHello world",
                ]
                .concat(),
            )
            .await
        }
        "/large_until_close" => {
            let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
            r.extend(std::iter::repeat_n(b'a', 100 * 1024));
            raw(&req, r).await;
        }
        "/204" => {
            let cl = if arg(&req, "error").is_some() {
                "5"
            } else {
                "0"
            };
            raw(
                &req,
                format!("HTTP/1.1 204 No content\r\nContent-Length: {cl}\r\n\r\n").into_bytes(),
            )
            .await;
        }
        "/1xx" => {
            let n: usize = arg(&req, "num").and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut r = b"HTTP/1.1 100 CONTINUE\r\n\r\n".repeat(n);
            r.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
            raw(&req, r).await;
        }
        p if p.starts_with("/gzip/") => {
            let members = gzip_members();
            let mut body: Vec<u8> = members.iter().flat_map(|m| gzip(m)).collect();
            match &p["/gzip/".len()..] {
                "truncated" => {
                    body.pop();
                }
                "trailing_nul" => body.push(0),
                "trailing_garbage" => body.extend_from_slice(b"garbage"),
                _ => {}
            }
            if method == Method::HEAD {
                let len = body.len().to_string();
                respond(
                    &req,
                    200,
                    &[
                        ("Content-Encoding", b"gzip"),
                        ("Content-Length", len.as_bytes()),
                    ],
                    b"",
                );
            } else {
                respond(&req, 200, &[("Content-Encoding", b"gzip")], &body);
            }
        }
        "/filler" => {
            let n: usize = arg(&req, "n").and_then(|s| s.parse().ok()).unwrap_or(100);
            respond(&req, 200, &[("X-Filler", &vec![b'a'; n])], b"ok");
        }
        _ => respond(&req, 404, &[], b"Not Found"),
    }
}

/// Two gzip members, each larger than the 64 KiB chunk size (`gzip_members`): the first
/// incompressible (a fixed xorshift stream), the second repetitive.
pub(crate) fn gzip_members() -> Vec<Vec<u8>> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    vec![random, b"hello ".repeat(20_000)]
}

/// A raw server on a fresh port: each connection gets its request head read, then `reply`
/// written, then a close (Tornado's tests use `add_accept_handler` for these).
pub(crate) fn raw_server(reply: &'static [u8]) -> (u16, tornado_tcpserver::AcceptHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = add_accept_handler(listener, move |conn: Connection| {
        let Connection::Tcp(conn, _) = conn else {
            return;
        };
        let stream = IoStream::from_tcp(conn).unwrap();
        IoLoop::current().spawn_callback(async move {
            if stream.read_until(b"\r\n\r\n", Some(65536)).await.is_ok() {
                let _ = stream.write(Bytes::from_static(reply)).await;
            }
            stream.close(None);
        });
    })
    .unwrap();
    (port, handle)
}

/// A `GET` of `url` with `f` applied to the request.
pub(crate) fn get(url: impl Into<String>) -> HttpRequest {
    HttpRequest::new(url)
}

/// Tornado's `self.fetch`: `raise_error=False`, so only transport errors are errors.
pub(crate) async fn fetch(c: &AsyncHttpClient, req: HttpRequest) -> HttpResponse {
    c.fetch(req, false).await.expect("no transport error")
}

pub(crate) fn with_server<Fut: std::future::Future<Output = ()> + 'static>(
    f: impl FnOnce(Rc<TestServer>, AsyncHttpClient) -> Fut + 'static,
) {
    gen_test(|| async move {
        let s = Rc::new(TestServer::start());
        let c = client();
        f(s.clone(), c.clone()).await;
        c.close();
        s.stop();
    });
}

/// `async_body_producer`: waits for each write, and yields between them.
pub(crate) fn async_body_producer(req: HttpRequest) -> HttpRequest {
    req.body_producer(|w| async move {
        w.write(b"1234").await?;
        tornado_gen::moment().await;
        w.write(b"5678").await?;
        Ok(())
    })
}

pub(crate) async fn echo_post(s: &TestServer, c: &AsyncHttpClient, req: HttpRequest) {
    let r = fetch(c, req).await;
    r.rethrow().unwrap();
    assert_eq!(&r.body()[..], b"12345678");
    let _ = s;
}
