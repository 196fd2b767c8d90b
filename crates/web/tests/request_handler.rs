//! The handler core, from Tornado 6.6.1's `web_test.py`: `WSGISafeWebTest` (`test_types`
//! aside: Rust's types make it moot), `NonWSGIWebTests::test_empty_flush`,
//! `ErrorResponseTest`, `AuthRedirectTest`, `ConnectionCloseTest`, `RequestEncodingTest`
//! (`test_error` is the decoding case), plus the parts of `RequestHandler._execute` and
//! `finish` they rely on: 405 with `Allow`, ETag and 304, HEAD, JSON output, streaming
//! bodies, `Finish`.
//!
//! Not here: cookies, signed values, XSRF, static files, gzip, templates and UI modules
//! (their own files as they land); `test_uimodule_*` (UI modules are not ported).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use support::{gen_test, get, send, serve};
use tornado_web::{
    Application, Error, Finish, Handler, HttpError, RedirectHandler, RequestHandler, Result,
    Router, Settings,
};

struct Hello;

impl RequestHandler for Hello {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("Hello world");
        Ok(())
    }
}

struct Echo;

impl RequestHandler for Echo {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let args = h.path_args().to_vec();
        h.write_json(&serde_json::json!({ "path": args, "query": h.get_arguments("foo")? }))
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        let body = h.get_body_arguments("foo")?;
        h.write_json(&serde_json::json!({ "body": body }))
    }
}

struct Arguments;

impl RequestHandler for Arguments {
    async fn get(&mut self, h: &mut Handler) -> Result {
        match h.request().path() {
            "/get_argument" => {
                let v = h.get_argument_or("foo", "default")?;
                h.write(v);
            }
            "/get_argument_required" => {
                let v = h.get_argument("foo")?;
                h.write(v);
            }
            "/get_query_arguments" => {
                let v = h.get_query_arguments("foo")?;
                h.write(v.join(","));
            }
            _ => {}
        }
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        let query = h.get_query_arguments("foo")?.join(",");
        let body = h.get_body_arguments("foo")?.join(",");
        let all = h.get_arguments("foo")?.join(",");
        h.write(format!("{query}|{body}|{all}"));
        Ok(())
    }
}

struct Headers;

impl RequestHandler for Headers {
    async fn get(&mut self, h: &mut Handler) -> Result {
        match h.request().path() {
            "/multi_header" => {
                h.set_header("x-overwrite", "1")?;
                h.set_header("X-Overwrite", 2)?;
                h.add_header("x-multi", 3)?;
                h.add_header("X-Multi", "4")?;
            }
            "/header_injection" => {
                // Tornado's handler turns the ValueError into a 400 (security corpus).
                match h.set_header("X-Foo", "foo\r\nX-Bar: baz") {
                    Ok(()) => h.write("injected"),
                    Err(_) => return Err(HttpError::new(400).into()),
                }
            }
            "/set_header" => {
                h.set_header("Content-Language", "en_US")?;
                h.set_header("Content-Language", "de_DE")?;
                h.add_header("Content-Language", "en_US")?;
            }
            _ => {}
        }
        Ok(())
    }
}

struct Redirect;

impl RequestHandler for Redirect {
    async fn get(&mut self, h: &mut Handler) -> Result {
        if h.get_argument_or("permanent", "")? == "1" {
            h.redirect("/", true)
        } else if let Ok(status) = h.get_argument("status") {
            h.redirect_with_status("/", status.parse().unwrap())
        } else {
            Err(HttpError::new(400).into())
        }
    }
}

struct Errors;

impl RequestHandler for Errors {
    async fn get(&mut self, h: &mut Handler) -> Result {
        match h.get_argument_or("kind", "")?.as_str() {
            "http" => Err(HttpError::new(403).with_log_message("secret").into()),
            "reason" => Err(HttpError::new(682).with_reason("Foo").into()),
            "finish" => {
                h.write("partial");
                Err(Finish.into())
            }
            "other" => Err(std::io::Error::other("boom").into()),
            _ => Err(Error::msg("plain")),
        }
    }
}

struct CustomErrorPage;

impl RequestHandler for CustomErrorPage {
    async fn get(&mut self, _h: &mut Handler) -> Result {
        Err(HttpError::new(503).into())
    }

    async fn write_error(
        &mut self,
        h: &mut Handler,
        status: u16,
        _error: Option<&Error>,
    ) -> Result {
        if h.request().query().contains("fail") {
            return Err(Error::msg("write_error failed"));
        }
        h.write(format!("Status: {status}"));
        Ok(())
    }
}

struct GetOnly;

impl RequestHandler for GetOnly {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

struct Auth;

impl RequestHandler for Auth {
    async fn get(&mut self, h: &mut Handler) -> Result {
        self.authenticated(h)?;
        h.write("secret");
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        self.authenticated(h)?;
        Ok(())
    }
}

struct EmptyFlush;

impl RequestHandler for EmptyFlush {
    async fn get(&mut self, h: &mut Handler) -> Result {
        // Tornado's EmptyFlushCallbackHandler: flushing nothing, twice, then some text.
        h.flush().await?;
        h.flush().await?;
        h.write("o");
        h.flush().await?;
        h.flush().await?;
        h.finish_with("k")
    }
}

/// A body streamed to the handler: its length, counted as it arrives.
#[derive(Default)]
struct Upload {
    chunks: usize,
    bytes: usize,
}

impl RequestHandler for Upload {
    const STREAM_REQUEST_BODY: bool = true;

    async fn data_received(&mut self, _h: &mut Handler, chunk: Bytes) -> Result {
        self.chunks += 1;
        self.bytes += chunk.len();
        Ok(())
    }

    async fn put(&mut self, h: &mut Handler) -> Result {
        assert!(h.request().body().is_empty(), "a streamed body is not kept");
        h.write(format!("{} bytes", self.bytes));
        Ok(())
    }
}

struct Prepared(Arc<AtomicUsize>);

impl RequestHandler for Prepared {
    async fn prepare(&mut self, h: &mut Handler) -> Result {
        self.0.fetch_add(1, Ordering::Relaxed);
        if h.get_argument_or("stop", "")? == "1" {
            h.set_status(401);
            h.finish_with("stopped in prepare")?;
        }
        Ok(())
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("reached get");
        Ok(())
    }

    fn on_finish(&mut self, _h: &mut Handler) {
        self.0.fetch_add(100, Ordering::Relaxed);
    }
}

fn app(prepared: Arc<AtomicUsize>) -> Application {
    Application::builder()
        .route("/", || Hello)
        .route_named("/echo/(.*)", "echo", || Echo)
        .route("/optional_path/(.+)?", || Echo)
        .route("/get_argument.*", || Arguments)
        .route("/get_query_arguments", || Arguments)
        .route("/get_body_arguments", || Arguments)
        .route("/multi_header", || Headers)
        .route("/header_injection", || Headers)
        .route("/set_header", || Headers)
        .route("/redirect", || Redirect)
        .route("/web_redirect_permanent", || {
            RedirectHandler::new("/web_redirect_newpath", true)
        })
        .route("/web_redirect", || {
            RedirectHandler::new("/web_redirect_newpath", false)
        })
        .route("//web_redirect_double_slash", || {
            RedirectHandler::new("/web_redirect_newpath", false)
        })
        .route("/errors", || Errors)
        .route("/custom_error", || CustomErrorPage)
        .route("/get_only", || GetOnly)
        .route("/auth", || Auth)
        .route("/empty_flush", || EmptyFlush)
        .route("/upload", Upload::default)
        .route("/prepared", move || Prepared(prepared.clone()))
        .router(
            Some("/nested/.*"),
            Router::builder()
                .route_named("/nested/(x|y)", "nested", || Echo)
                .build()
                .unwrap(),
        )
        .settings(Settings {
            login_url: Some("/login".into()),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

fn with_app<F, Fut>(f: F)
where
    F: FnOnce(std::net::SocketAddr, Application, Arc<AtomicUsize>) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    gen_test(|| async move {
        let prepared = Arc::new(AtomicUsize::new(0));
        let app = app(prepared.clone());
        let (_server, addr) = serve(&app);
        f(addr, app, prepared).await;
    });
}

#[test]
fn hello_world_with_tornado_headers() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello world");
        assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
        assert_eq!(r.header("content-length"), Some("11"));
        assert!(r.header("server").unwrap().starts_with("TornadoServer/"));
        assert!(r.header("date").is_some());
        assert!(r.header("etag").unwrap().starts_with('"'));
    });
}

#[test]
fn unknown_path_is_404() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/nowhere", "").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.text(),
            "<html><title>404: Not Found</title><body>404: Not Found</body></html>"
        );
    });
}

#[test]
fn test_reverse_url() {
    with_app(|_, app, _| async move {
        assert_eq!(app.reverse_url("echo", &["foo"]).unwrap(), "/echo/foo");
        assert_eq!(app.reverse_url("echo", &["1 2"]).unwrap(), "/echo/1%202");
        assert_eq!(app.reverse_url("nested", &["x"]).unwrap(), "/nested/x");
        assert!(app.reverse_url("missing", &[]).is_err());
    });
}

#[test]
fn test_decode_argument() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/echo/%C3%A9?foo=%C3%A9", "").await;
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["path"][0], "é");
        assert_eq!(v["query"][0], "é");
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
    });
}

#[test]
fn test_decode_argument_invalid_unicode() {
    with_app(|addr, _, _| async move {
        // Invalid UTF-8 in the path or in an argument is a 400.
        assert_eq!(get(addr, "/echo/%C3", "").await.status, 400);
        assert_eq!(get(addr, "/echo/a?foo=%C3", "").await.status, 400);
    });
}

#[test]
fn test_decode_argument_plus() {
    with_app(|addr, _, _| async move {
        // `+` is a space in the query, but not in the path.
        let r = get(addr, "/echo/1+2?foo=1+2", "").await;
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["path"][0], "1+2");
        assert_eq!(v["query"][0], "1 2");
    });
}

#[test]
fn test_optional_path() {
    with_app(|addr, _, _| async move {
        let v: serde_json::Value =
            serde_json::from_slice(&get(addr, "/optional_path/foo", "").await.body).unwrap();
        assert_eq!(v["path"], serde_json::json!(["foo"]));
        // A group that took no part gives an empty argument (Tornado's None).
        let v: serde_json::Value =
            serde_json::from_slice(&get(addr, "/optional_path/", "").await.body).unwrap();
        assert_eq!(v["path"], serde_json::json!([""]));
    });
}

#[test]
fn test_multi_header() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/multi_header", "").await;
        assert_eq!(r.header("x-overwrite"), Some("2"));
        let multi: Vec<_> = r.headers.get_all("x-multi").iter().collect();
        assert_eq!(multi, ["3", "4"]);
    });
}

#[test]
fn test_redirect() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/redirect?permanent=1", "").await;
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("/"));
        let r = get(addr, "/redirect?status=307", "").await;
        assert_eq!(r.status, 307);
        assert_eq!(get(addr, "/redirect?status=200", "").await.status, 500);
    });
}

#[test]
fn test_web_redirect() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/web_redirect_permanent", "").await;
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("/web_redirect_newpath"));
        let r = get(addr, "/web_redirect?a=b", "").await;
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("/web_redirect_newpath?a=b"));
    });
}

#[test]
fn test_web_redirect_double_slash() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "//web_redirect_double_slash", "").await;
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("/web_redirect_newpath"));
    });
}

#[test]
fn test_header_injection() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/header_injection", "").await;
        assert_eq!(r.status, 400);
        assert!(r.header("x-bar").is_none());
    });
}

#[test]
fn test_set_header() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/set_header", "").await;
        let values: Vec<_> = r.headers.get_all("content-language").iter().collect();
        assert_eq!(values, ["de_DE", "en_US"]);
    });
}

#[test]
fn test_get_argument() {
    with_app(|addr, _, _| async move {
        assert_eq!(get(addr, "/get_argument?foo=bar", "").await.text(), "bar");
        assert_eq!(get(addr, "/get_argument?foo=", "").await.text(), "");
        assert_eq!(get(addr, "/get_argument", "").await.text(), "default");
        // Whitespace is stripped; other control characters become spaces first.
        assert_eq!(
            get(addr, "/get_argument?foo=%20a%01b%20", "").await.text(),
            "a b"
        );
        let r = get(addr, "/get_argument_required", "").await;
        assert_eq!(r.status, 400);
        // The body and the query both count; the last value wins.
        let r = send(
            addr,
            "POST",
            "/get_argument?foo=query",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            "foo=body",
        )
        .await;
        assert_eq!(r.text(), "query|body|query,body");
    });
}

#[test]
fn test_get_query_arguments() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/get_query_arguments?foo=1&foo=2", "").await;
        assert_eq!(r.text(), "1,2");
        assert_eq!(get(addr, "/get_query_arguments", "").await.text(), "");
    });
}

#[test]
fn test_get_body_arguments() {
    with_app(|addr, _, _| async move {
        let r = send(
            addr,
            "POST",
            "/get_body_arguments?foo=hello",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            "foo=bar&foo=baz",
        )
        .await;
        assert_eq!(r.text(), "hello|bar,baz|hello,bar,baz");
    });
}

#[test]
fn test_empty_flush() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/empty_flush", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "ok");
        // Flushed output is chunked: no ETag, no Content-Length.
        assert!(r.header("etag").is_none());
    });
}

#[test]
fn error_responses() {
    // ErrorResponseTest::test_default, with Tornado's page and logging.
    with_app(|addr, _, _| async move {
        let r = get(addr, "/errors?kind=http", "").await;
        assert_eq!(r.status, 403);
        assert!(!r.text().contains("secret"), "log messages stay in the log");
        let r = get(addr, "/errors?kind=reason", "").await;
        assert_eq!((r.status, r.reason.as_str()), (682, "Foo"));
        assert_eq!(
            r.text(),
            "<html><title>682: Foo</title><body>682: Foo</body></html>"
        );
        let r = get(addr, "/errors?kind=finish", "").await;
        assert_eq!((r.status, r.text().as_str()), (200, "partial"));
        let r = get(addr, "/errors?kind=other", "").await;
        assert_eq!(r.status, 500);
        assert!(
            !r.text().contains("boom"),
            "no details without serve_traceback"
        );
        assert_eq!(get(addr, "/errors", "").await.status, 500);
    });
}

#[test]
fn test_write_error() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/custom_error", "").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.text(), "Status: 503");
    });
}

#[test]
fn test_failed_write_error() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/custom_error?fail", "").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.text(), "");
    });
}

#[test]
fn serve_traceback_shows_the_error() {
    gen_test(|| async {
        let app = Application::builder()
            .route("/errors", || Errors)
            .settings(Settings {
                debug: true,
                ..Settings::default()
            })
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let r = get(addr, "/errors?kind=other", "").await;
        assert_eq!(r.status, 500);
        assert!(r.text().contains("boom"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
    });
}

#[test]
fn unimplemented_methods_get_405_with_allow() {
    with_app(|addr, _, _| async move {
        let r = send(addr, "POST", "/get_only", "", "").await;
        assert_eq!(r.status, 405);
        let allow = r.header("allow").unwrap().to_owned();
        assert!(allow.contains("GET"), "{allow}");
        assert!(!allow.contains("POST"), "{allow}");
        // Methods outside SUPPORTED_METHODS: 405 before anything runs.
        let r = send(addr, "TRACE", "/get_only", "", "").await;
        assert_eq!(r.status, 405);
    });
}

#[test]
fn etag_and_304() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/", "").await;
        let etag = r.header("etag").unwrap().to_owned();
        let r = get(addr, "/", &format!("If-None-Match: {etag}\r\n")).await;
        assert_eq!(r.status, 304);
        assert!(r.body.is_empty());
        assert!(
            r.header("content-type").is_none(),
            "304 has no representation headers"
        );
        let r = get(
            addr,
            "/",
            &format!("If-None-Match: \"other\", W/{etag}\r\n"),
        )
        .await;
        assert_eq!(r.status, 304, "weak comparison");
        let r = get(addr, "/", "If-None-Match: *\r\n").await;
        assert_eq!(r.status, 304);
        let r = get(addr, "/", "If-None-Match: \"other\"\r\n").await;
        assert_eq!(r.status, 200);
    });
}

#[test]
fn head_gets_the_length_but_no_body() {
    with_app(|addr, _, _| async move {
        let r = support::fetch_raw(addr, "HEAD /get_only HTTP/1.1\r\nHost: x\r\n\r\n").await;
        // GetOnly has no `head`: 405, as in Tornado.
        assert_eq!(r.status, 405);
    });
}

#[test]
fn test_relative_auth_redirect() {
    with_app(|addr, _, _| async move {
        let r = get(addr, "/auth?a=b", "").await;
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("/login?next=%2Fauth%3Fa%3Db"));
        let r = send(addr, "POST", "/auth", "", "").await;
        assert_eq!(r.status, 403);
    });
}

#[test]
fn streamed_body_reaches_data_received() {
    with_app(|addr, _, _| async move {
        let body = "x".repeat(300_000);
        let r = send(addr, "PUT", "/upload", "", &body).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "300000 bytes");
    });
}

#[test]
fn prepare_can_finish_the_request() {
    with_app(|addr, _, prepared| async move {
        let r = get(addr, "/prepared?stop=1", "").await;
        assert_eq!((r.status, r.text().as_str()), (401, "stopped in prepare"));
        let r = get(addr, "/prepared", "").await;
        assert_eq!(r.text(), "reached get");
        assert_eq!(
            prepared.load(Ordering::Relaxed),
            202,
            "prepare twice, on_finish twice"
        );
    });
}

#[test]
fn nested_router() {
    with_app(|addr, _, _| async move {
        assert_eq!(get(addr, "/nested/x", "").await.status, 200);
        assert_eq!(get(addr, "/nested/z", "").await.status, 404);
    });
}

#[test]
fn host_routes_come_first() {
    gen_test(|| async {
        let app = Application::builder()
            .host(
                r"www\.example\.com",
                Router::builder().route("/", || GetOnly),
            )
            .route("/", || Hello)
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let r =
            support::fetch_raw(addr, "GET / HTTP/1.1\r\nHost: www.example.com:80\r\n\r\n").await;
        assert_eq!(r.text(), "ok");
        let r = support::fetch_raw(addr, "GET / HTTP/1.1\r\nHost: other.com\r\n\r\n").await;
        assert_eq!(r.text(), "Hello world");
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    with_app(|addr, _, _| async move {
        let stream = tornado_iostream::IoStream::connect(addr).await.unwrap();
        stream.write(
            &b"GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        );
        assert_eq!(support::read_response(&stream, false).await.status, 200);
        assert_eq!(support::read_response(&stream, false).await.status, 404);
        assert_eq!(
            support::read_response(&stream, false).await.text(),
            "Hello world"
        );
    });
}

struct Big;

impl RequestHandler for Big {
    async fn get(&mut self, h: &mut Handler) -> Result {
        if h.get_argument_or("stream", "")? == "1" {
            h.write("a".repeat(600));
            h.flush().await?;
            h.write("b".repeat(600));
            return Ok(());
        }
        h.write("x".repeat(h.get_argument_or("n", "2000")?.parse::<usize>().unwrap()));
        Ok(())
    }
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn test_gzip() {
    // GzipTestCase: compress_response, whole and streamed, with Vary.
    gen_test(|| async {
        let app = Application::builder()
            .route("/", || Big)
            .settings(Settings {
                compress_response: true,
                ..Settings::default()
            })
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let r = get(addr, "/", "Accept-Encoding: gzip\r\n").await;
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        assert_eq!(gunzip(&r.body), vec![b'x'; 2000]);
        assert_eq!(
            r.header("content-length").unwrap(),
            r.body.len().to_string()
        );
        // Too short to bother, or not accepted: plain, still with Vary.
        let r = get(addr, "/?n=100", "Accept-Encoding: gzip\r\n").await;
        assert_eq!((r.header("content-encoding"), r.body.len()), (None, 100));
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        let r = get(addr, "/", "").await;
        assert_eq!((r.header("content-encoding"), r.body.len()), (None, 2000));
        // Streamed: chunked, compressed piece by piece.
        let r = get(addr, "/?stream=1", "Accept-Encoding: gzip\r\n").await;
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        let mut want = vec![b'a'; 600];
        want.extend(vec![b'b'; 600]);
        assert_eq!(gunzip(&r.body), want);
    });
}

#[test]
fn test_no_gzip() {
    // Without the setting nothing is compressed and no Vary is added.
    with_app(|addr, _, _| async move {
        let r = get(addr, "/", "Accept-Encoding: gzip\r\n").await;
        assert!(r.header("content-encoding").is_none());
        assert!(r.header("vary").is_none());
    });
}

#[test]
fn fallback_handler_hands_over_to_the_http_layer() {
    gen_test(|| async {
        let legacy = Arc::new(|req: tornado_httpserver::HttpServerRequest| async move {
            let body = format!("legacy saw {}", req.uri());
            let _ = req.respond(
                http::StatusCode::OK,
                http::HeaderMap::new(),
                body.as_bytes(),
            );
        });
        let app = Application::builder()
            .route("/legacy/.*", move || {
                tornado_web::FallbackHandler::new(legacy.clone())
            })
            .route("/", || Hello)
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let stream = tornado_iostream::IoStream::connect(addr).await.unwrap();
        stream.write(
            &b"GET /legacy/x?y=1 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        );
        let r = support::read_response(&stream, false).await;
        assert_eq!(r.text(), "legacy saw /legacy/x?y=1");
        assert!(r.header("server").is_none(), "the web layer wrote nothing");
        assert_eq!(
            support::read_response(&stream, false).await.text(),
            "Hello world"
        );
    });
}
