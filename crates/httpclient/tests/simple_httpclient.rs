//! Port of Tornado 6.6.1's `tornado/test/simple_httpclient_test.py`, against `HttpServer`
//! (handlers in `tests/support/mod.rs`) and raw-socket servers.
//!
//! Ported (`SimpleHTTPClientTestMixin`, over HTTP and, in `https_*`, over TLS):
//! test_singleton, test_connection_limit, test_redirect_connection_limit,
//! test_max_redirects, test_redirect_unsupported_scheme, test_default_user_agent,
//! test_see_other_redirect, test_connect_timeout, test_request_timeout, test_ipv6 (skipped
//! at run time without `::1`), test_multiple_content_length_accepted, test_head_request,
//! test_options_request, test_no_content, test_host_header, test_connection_refused,
//! test_queue_timeout, test_no_content_length, the six body-producer tests,
//! test_100_continue, test_100_continue_early_response (a raw server that answers 403 to
//! the head), test_streaming_follow_redirects, test_streaming_callback_coroutine,
//! test_streaming_callback_error and test_header_callback_error (a panicking callback:
//! Rust's exception), test_streaming_callback_coroutine_cancelled (the coroutine fails).
//! `SimpleHTTPSClientTestCase`: test_ssl_options, test_ssl_options_handshake_fail,
//! test_error_logging (test_ssl_context and test_ssl_context_handshake_fail are the same
//! cases here: there is one kind of TLS options). `CreateAsyncHTTPClientTestCase`:
//! test_max_clients. `HTTP100ContinueTestCase`, `HTTP1xxLimitTestCase`,
//! `GzipResponseTestCase`, `HTTP204NoContentTestCase`, `HostnameMappingTestCase`,
//! `ResolveTimeoutTestCase`, `TLSHandshakeTimeoutTestCase`, `MaxHeaderSizeTest`,
//! `MaxBodySizeUntilCloseTest`, `MaxBufferSizeUntilCloseTest`, `MaxBufferSizeTest`,
//! `ChunkedWithContentLengthTest`: all their tests.
//!
//! Added: `https_with_ca_certs` and `https_with_client_certificate` (`ca_certs`,
//! `client_cert`, `client_key` against rustls servers).
//!
//! Not ported: test_header_reuse (a request is moved or cloned into `fetch`; the caller's
//! copy cannot change), `SimpleHTTPClientCommonTestCase` (the common tests run once, in
//! `tests/httpclient.rs`: there is one implementation).

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use support::{TestServer, client, gen_test, get, gzip_members, raw_server};
use tornado_gen::{moment, sleep};
use tornado_httpclient::{
    AsyncHttpClient, ClientSettings, DEFAULT_USER_AGENT, HttpClientError, HttpRequest, HttpResponse,
};
use tornado_iostream::{IoStream, is_unsatisfiable_read};
use tornado_locks::Event;
use tornado_log::{APPLICATION, ExpectLog, GENERAL};
use tornado_tcpserver::{Addresses, Family, ResolveFuture, Resolver};

async fn fetch(c: &AsyncHttpClient, req: HttpRequest) -> HttpResponse {
    c.fetch(req, false).await.expect("no transport error")
}

fn with_server<Fut: std::future::Future<Output = ()> + 'static>(
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

#[test]
fn test_singleton() {
    gen_test(|| async {
        assert!(AsyncHttpClient::new().ptr_eq(&AsyncHttpClient::new()));
        assert!(
            !AsyncHttpClient::new().ptr_eq(&AsyncHttpClient::with_settings(ClientSettings::new()))
        );
    });
    // Different loops have different clients.
    let (l1, l2) = (tornado_ioloop::IoLoop::new(), tornado_ioloop::IoLoop::new());
    let c1 = l1
        .run_sync(|| async { AsyncHttpClient::new() }, None)
        .unwrap();
    let c2 = l2
        .run_sync(|| async { AsyncHttpClient::new() }, None)
        .unwrap();
    assert!(!c1.ptr_eq(&c2));
}

#[test]
fn test_connection_limit() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(2));
        assert_eq!(c.max_clients(), 2);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let done = Rc::new(tornado_locks::Condition::new());
        for i in 0..4 {
            let f = c.fetch(s.url("/trigger"), true);
            let (seen, done) = (seen.clone(), done.clone());
            tornado_ioloop::IoLoop::current().spawn_callback(async move {
                f.await.unwrap();
                seen.borrow_mut().push(i);
                done.notify_all();
            });
        }
        s.state.wait_triggers(2).await;
        assert_eq!(c.queued(), 2);
        // Finish the first two; the next two go through.
        s.state.pop_trigger();
        s.state.pop_trigger();
        while seen.borrow().len() < 2 {
            done.wait().await;
        }
        s.state.wait_triggers(2).await;
        let mut first: Vec<i32> = seen.borrow().clone();
        first.sort();
        assert_eq!(first, [0, 1]);
        assert_eq!(c.queued(), 0);
        s.state.pop_trigger();
        s.state.pop_trigger();
        while seen.borrow().len() < 4 {
            done.wait().await;
        }
        assert!(s.state.triggers.borrow().is_empty());
        c.close();
    });
}

#[test]
fn test_redirect_connection_limit() {
    // Following redirects takes no extra slot.
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(1));
        let r = c
            .fetch(get(s.url("/countdown/3")).max_redirects(3), true)
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"Zero");
        c.close();
    });
}

#[test]
fn test_max_redirects() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/countdown/5")).max_redirects(3)).await;
        assert_eq!(r.code(), 302);
        assert!(r.request_url().ends_with("/countdown/5"));
        assert!(r.effective_url().ends_with("/countdown/2"));
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with("/countdown/1")
        );
    });
}

#[test]
fn test_redirect_unsupported_scheme() {
    with_server(|s, c| async move {
        for location in ["ftp%3A%2F%2Fexample.com%2F", "h%3A5"] {
            let e = c
                .fetch(s.url(&format!("/redirect?url={location}")), false)
                .await
                .unwrap_err();
            assert!(e.is_invalid_request(), "{location}: {e:?}");
            assert!(e.to_string().contains("Unsupported url scheme"), "{e}");
        }
    });
}

#[test]
fn test_default_user_agent() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/user_agent"))).await;
        assert_eq!(r.code(), 200);
        assert_eq!(r.text(), DEFAULT_USER_AGENT);
    });
}

#[test]
fn test_see_other_redirect() {
    with_server(|s, c| async move {
        for code in ["302", "303"] {
            let r = fetch(
                &c,
                get(s.url("/see_other_post"))
                    .method(Method::POST)
                    .body(code),
            )
            .await;
            assert_eq!(r.code(), 200);
            assert!(r.request_url().ends_with("/see_other_post"));
            assert!(r.effective_url().ends_with("/see_other_get"));
            // The original request, still a POST.
            assert_eq!(r.request_method(), Method::POST);
        }
    });
}

/// A resolver that answers only once `release` is set (Tornado's `TimeoutResolver`).
struct HangingResolver {
    release: Event,
    port: u16,
}

impl Resolver for HangingResolver {
    fn resolve<'a>(&'a self, _host: &'a str, _port: u16, _family: Family) -> ResolveFuture<'a> {
        let release = self.release.clone();
        let port = self.port;
        Box::pin(async move {
            release.wait().await;
            let addrs: Addresses = vec![(Family::V4, ([127, 0, 0, 1], port).into())];
            Ok(addrs)
        })
    }
}

#[test]
fn test_connect_timeout() {
    gen_test(|| async {
        let s = TestServer::start();
        let release = Event::new();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().resolver(HangingResolver {
            release: release.clone(),
            port: s.port,
        }));
        let e = c
            .fetch(
                get(s.url("/hello"))
                    .connect_timeout(Duration::from_millis(100))
                    .request_timeout(Duration::from_secs(3600)),
                true,
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        assert_eq!(e.to_string(), "Timeout while resolving 127.0.0.1");
        release.set();
        c.close();
    });
}

#[test]
fn test_resolve_timeout() {
    // ResolveTimeoutTestCase.
    test_connect_timeout();
}

#[test]
fn test_request_timeout() {
    with_server(|s, c| async move {
        let e = c
            .fetch(
                get(s.url("/trigger?wake=false")).request_timeout(Duration::from_millis(100)),
                true,
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout());
        assert_eq!(e.to_string(), "Timeout during request");
        s.state.wait_triggers(1).await;
        s.state.pop_trigger();
    });
}

#[test]
fn test_ipv6() {
    gen_test(|| async {
        let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
            println!("skipped: no IPv6 loopback");
            return;
        };
        let s = TestServer::start();
        let port = listener.local_addr().unwrap().port();
        s.server.add_sockets([listener]).unwrap();
        let c = client();
        let url = format!("http://[::1]:{port}/hello");
        assert!(c.fetch(get(&url).allow_ipv6(false), true).await.is_err());
        let r = c.fetch(url.as_str(), true).await.unwrap();
        assert_eq!(&r.body()[..], b"Hello world!");
        c.close();
    });
}

#[test]
fn test_multiple_content_length_accepted() {
    with_server(|s, c| async move {
        assert_eq!(
            &fetch(&c, get(s.url("/content_length?value=2,2")))
                .await
                .body()[..],
            b"ok"
        );
        assert_eq!(
            &fetch(&c, get(s.url("/content_length?value=2,%202,2")))
                .await
                .body()[..],
            b"ok"
        );
        let _log = ExpectLog::new(GENERAL, "Malformed HTTP message").level(log::Level::Info);
        for v in ["2,4", "2,%202,3"] {
            let e = c
                .fetch(s.url(&format!("/content_length?value={v}")), true)
                .await
                .unwrap_err();
            assert!(e.is_stream_closed(), "{v}: {e:?}");
        }
    });
}

#[test]
fn test_head_request() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/head")).method(Method::HEAD)).await;
        assert_eq!(r.code(), 200);
        assert_eq!(r.headers()["content-length"], "7");
        assert!(r.body().is_empty());
    });
}

#[test]
fn test_options_request() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/options")).method(Method::OPTIONS)).await;
        assert_eq!(r.code(), 200);
        assert_eq!(r.headers()["content-length"], "2");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert_eq!(&r.body()[..], b"ok");
    });
}

#[test]
fn test_no_content() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/no_content"))).await;
        assert_eq!(r.code(), 204);
        assert!(r.headers().get("content-length").is_none());
    });
}

#[test]
fn test_host_header() {
    with_server(|s, c| async move {
        let is_host = |b: &Bytes| {
            let t = std::str::from_utf8(b).unwrap();
            t.strip_prefix("127.0.0.1:")
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        };
        assert!(is_host(fetch(&c, get(s.url("/host_echo"))).await.body()));
        let url = s.url("/host_echo").replace("http://", "http://me:secret@");
        assert!(is_host(fetch(&c, get(url)).await.body()));
    });
}

#[test]
fn test_connection_refused() {
    gen_test(|| async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = client();
        let e = c
            .fetch(format!("http://127.0.0.1:{port}/"), true)
            .await
            .unwrap_err();
        assert!(e.is_io(), "{e:?}");
        assert_eq!(
            e.io_error().unwrap().kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        assert!(e.to_string().contains("refused"), "{e}");
        c.close();
    });
}

#[test]
fn test_queue_timeout() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(1));
        let first = c.fetch(
            get(s.url("/trigger")).request_timeout(Duration::from_secs(10)),
            true,
        );
        s.state.wait_triggers(1).await;
        let e = c
            .fetch(
                get(s.url("/hello")).connect_timeout(Duration::from_millis(100)),
                true,
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout());
        assert_eq!(e.to_string(), "Timeout in request queue");
        s.state.pop_trigger();
        first.await.unwrap();
        c.close();
    });
}

#[test]
fn test_no_content_length() {
    with_server(|s, c| async move {
        assert_eq!(
            &fetch(&c, get(s.url("/no_content_length"))).await.body()[..],
            b"hello"
        );
    });
}

/// `sync_body_producer`: writes without waiting.
fn sync_body_producer(req: HttpRequest) -> HttpRequest {
    req.body_producer(|w| {
        drop(w.write(b"1234"));
        drop(w.write(b"5678"));
        async { Ok(()) }
    })
}

/// `async_body_producer`: waits for each write, and yields between them.
fn async_body_producer(req: HttpRequest) -> HttpRequest {
    req.body_producer(|w| async move {
        w.write(b"1234").await?;
        moment().await;
        w.write(b"5678").await?;
        Ok(())
    })
}

async fn echo_post(s: &TestServer, c: &AsyncHttpClient, req: HttpRequest) {
    let r = fetch(c, req).await;
    r.rethrow().unwrap();
    assert_eq!(&r.body()[..], b"12345678");
    let _ = s;
}

#[test]
fn test_sync_body_producer_chunked() {
    with_server(|s, c| async move {
        echo_post(
            &s,
            &c,
            sync_body_producer(get(s.url("/echo_post")).method(Method::POST)),
        )
        .await;
    });
}

#[test]
fn test_sync_body_producer_content_length() {
    with_server(|s, c| async move {
        let req = get(s.url("/echo_post"))
            .method(Method::POST)
            .header("Content-Length", "8");
        echo_post(&s, &c, sync_body_producer(req)).await;
    });
}

#[test]
fn test_async_body_producer_chunked() {
    with_server(|s, c| async move {
        echo_post(
            &s,
            &c,
            async_body_producer(get(s.url("/echo_post")).method(Method::POST)),
        )
        .await;
    });
}

#[test]
fn test_async_body_producer_content_length() {
    with_server(|s, c| async move {
        let req = get(s.url("/echo_post"))
            .method(Method::POST)
            .header("Content-Length", "8");
        echo_post(&s, &c, async_body_producer(req)).await;
    });
}

/// `native_body_producer`: an async block that sleeps between writes.
fn native_body_producer(req: HttpRequest) -> HttpRequest {
    req.body_producer(|w| async move {
        w.write(b"1234").await?;
        sleep(Duration::ZERO).await;
        w.write(b"5678").await?;
        Ok(())
    })
}

#[test]
fn test_native_body_producer_chunked() {
    with_server(|s, c| async move {
        echo_post(
            &s,
            &c,
            native_body_producer(get(s.url("/echo_post")).method(Method::POST)),
        )
        .await;
    });
}

#[test]
fn test_native_body_producer_content_length() {
    with_server(|s, c| async move {
        let req = get(s.url("/echo_post"))
            .method(Method::POST)
            .header("Content-Length", "8");
        echo_post(&s, &c, native_body_producer(req)).await;
    });
}

#[test]
fn test_100_continue() {
    with_server(|s, c| async move {
        let r = fetch(
            &c,
            get(s.url("/echo_post"))
                .method(Method::POST)
                .body("1234")
                .expect_100_continue(true),
        )
        .await;
        assert_eq!(&r.body()[..], b"1234");
    });
}

#[test]
fn test_100_continue_early_response() {
    gen_test(|| async {
        let (port, handle) =
            raw_server(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden");
        let called = Rc::new(Cell::new(false));
        let k = called.clone();
        let c = client();
        let req = get(format!("http://127.0.0.1:{port}/respond_in_prepare"))
            .method(Method::POST)
            .expect_100_continue(true)
            .body_producer(move |_| {
                k.set(true);
                async { Ok(()) }
            });
        let r = fetch(&c, req).await;
        assert_eq!(r.code(), 403);
        assert!(!called.get(), "the body producer must not be called");
        handle.remove();
        c.close();
    });
}

#[test]
fn test_streaming_follow_redirects() {
    with_server(|s, c| async move {
        let (headers, chunks) = (
            Rc::new(RefCell::new(Vec::<String>::new())),
            Rc::new(RefCell::new(Vec::new())),
        );
        let (h, k) = (headers.clone(), chunks.clone());
        fetch(
            &c,
            get(s.url("/redirect?url=/hello"))
                .header_callback(move |l| h.borrow_mut().push(l.to_owned()))
                .streaming_callback(move |b| k.borrow_mut().push(b)),
        )
        .await;
        assert_eq!(*chunks.borrow(), vec![Bytes::from_static(b"Hello world!")]);
        assert_eq!(
            headers
                .borrow()
                .iter()
                .filter(|h| h.starts_with("HTTP/"))
                .count(),
            1
        );
    });
}

#[test]
fn test_streaming_callback_coroutine() {
    with_server(|s, c| async move {
        let (headers, chunks) = (
            Rc::new(RefCell::new(Vec::<String>::new())),
            Rc::new(RefCell::new(Vec::new())),
        );
        let (h, k) = (headers.clone(), chunks.clone());
        fetch(
            &c,
            get(s.url("/chunk"))
                .header_callback(move |l| h.borrow_mut().push(l.to_owned()))
                .streaming_callback_async(move |b| {
                    let k = k.clone();
                    async move {
                        sleep(Duration::ZERO).await;
                        k.borrow_mut().push(b);
                        Ok(())
                    }
                }),
        )
        .await;
        assert_eq!(chunks.borrow().concat(), b"asdfqwer");
        assert_eq!(
            headers
                .borrow()
                .iter()
                .filter(|h| h.starts_with("HTTP/"))
                .count(),
            1
        );
    });
}

#[test]
fn test_streaming_callback_error() {
    with_server(|s, c| async move {
        let _log = ExpectLog::new(APPLICATION, "Uncaught exception");
        let e = c
            .fetch(
                get(s.url("/hello")).streaming_callback(|_| panic!("error in streaming_callback")),
                false,
            )
            .await
            .unwrap_err();
        assert!(e.is_stream_closed(), "{e:?}");
    });
}

#[test]
fn test_streaming_callback_coroutine_cancelled() {
    with_server(|s, c| async move {
        let _log = ExpectLog::new(APPLICATION, "Uncaught exception");
        let e = c
            .fetch(
                get(s.url("/hello")).streaming_callback_async(|_| async {
                    Err(std::io::Error::other("cancelled"))
                }),
                false,
            )
            .await
            .unwrap_err();
        assert!(e.is_stream_closed(), "{e:?}");
    });
}

#[test]
fn test_header_callback_error() {
    with_server(|s, c| async move {
        let _log = ExpectLog::new(APPLICATION, "Uncaught exception");
        let e = c
            .fetch(
                get(s.url("/hello")).header_callback(|_| panic!("error in header_callback")),
                false,
            )
            .await
            .unwrap_err();
        assert!(e.is_stream_closed(), "{e:?}");
    });
}

// SimpleHTTPSClientTestCase: the mixin's main cases over TLS, and the TLS options.

fn with_tls_server<Fut: std::future::Future<Output = ()> + 'static>(
    f: impl FnOnce(Rc<TestServer>, AsyncHttpClient) -> Fut + 'static,
) {
    gen_test(|| async move {
        let s = Rc::new(TestServer::start_tls());
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new().defaults(HttpRequest::new("").validate_cert(false)),
        );
        f(s.clone(), c.clone()).await;
        c.close();
        s.stop();
    });
}

#[test]
fn https_mixin_cases() {
    with_tls_server(|s, c| async move {
        assert_eq!(
            &fetch(&c, get(s.url("/hello"))).await.body()[..],
            b"Hello world!"
        );
        assert_eq!(
            &fetch(&c, get(s.url("/chunk"))).await.body()[..],
            b"asdfqwer"
        );
        let r = fetch(&c, get(s.url("/countdown/2"))).await;
        assert!(
            r.effective_url().starts_with("https://")
                && r.effective_url().ends_with("/countdown/0")
        );
        let r = fetch(
            &c,
            get(s.url("/echo_post"))
                .method(Method::POST)
                .body("1234")
                .expect_100_continue(true),
        )
        .await;
        assert_eq!(&r.body()[..], b"1234");
        echo_post(
            &s,
            &c,
            async_body_producer(get(s.url("/echo_post")).method(Method::POST)),
        )
        .await;
        assert_eq!(fetch(&c, get(s.url("/no_content"))).await.code(), 204);
    });
}

#[test]
fn test_ssl_options() {
    with_tls_server(|s, c| async move {
        let opts = tornado_iostream::TlsClientOptions::new().validate_cert(false);
        let r = fetch(&c, get(s.url("/hello")).tls_options(opts)).await;
        assert_eq!(&r.body()[..], b"Hello world!");
    });
}

#[test]
fn test_ssl_options_handshake_fail() {
    with_tls_server(|s, c| async move {
        // Validating against the default roots: the self-signed certificate fails.
        let opts = tornado_iostream::TlsClientOptions::new();
        let e = c
            .fetch(get(s.url("/hello")).tls_options(opts), true)
            .await
            .unwrap_err();
        assert!(e.is_io(), "{e:?}");
    });
}

#[test]
fn test_error_logging() {
    with_tls_server(|s, c| async move {
        let e = c
            .fetch(get(s.url("/")).validate_cert(true), true)
            .await
            .unwrap_err();
        assert!(e.is_io(), "{e:?}");
        assert_eq!(e.code(), 599);
    });
}

#[test]
fn https_with_ca_certs() {
    // Not in Tornado's file: `ca_certs` trusting the server's own certificate validates.
    gen_test(|| async {
        let (opts, cert_pem) = support::self_signed();
        let dir =
            std::env::temp_dir().join(format!("tornado-httpclient-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, cert_pem).unwrap();
        let server = tornado_httpserver::HttpServer::from_fn_with(
            |req: tornado_httpserver::HttpServerRequest| async move {
                let _ = req.respond(http::StatusCode::OK, http::HeaderMap::new(), b"trusted");
            },
            tornado_httpserver::HttpServerSettings::new().tls(opts),
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let c = client();
        let r = c
            .fetch(
                get(format!("https://localhost:{port}/")).ca_certs(&ca),
                true,
            )
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"trusted");
        server.stop();
        c.close();
        let _ = std::fs::remove_dir_all(dir);
    });
}

#[test]
fn test_max_clients() {
    gen_test(|| async {
        AsyncHttpClient::configure(ClientSettings::new());
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        assert_eq!(c.max_clients(), 10);
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(11));
        assert_eq!(c.max_clients(), 11);
        AsyncHttpClient::configure(ClientSettings::new().max_clients(12));
    });
    gen_test(|| async {
        // The shared client of a new loop takes the configured settings.
        assert_eq!(AsyncHttpClient::new().max_clients(), 12);
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(13));
        assert_eq!(c.max_clients(), 13);
        AsyncHttpClient::configure(ClientSettings::new());
    });
}

// HTTP100ContinueTestCase, HTTP1xxLimitTestCase.

#[test]
fn test_100_continue_raw() {
    with_server(|s, c| async move {
        assert_eq!(&fetch(&c, get(s.url("/1xx?num=1"))).await.body()[..], b"A");
    });
}

#[test]
fn test_1xx_within_limit() {
    with_server(|s, c| async move {
        let n = tornado_httpserver::http1::MAX_1XX_RESPONSES;
        assert_eq!(
            &fetch(&c, get(s.url(&format!("/1xx?num={n}")))).await.body()[..],
            b"A"
        );
    });
}

#[test]
fn test_too_many_1xx() {
    with_server(|s, c| async move {
        let _log = ExpectLog::new(
            GENERAL,
            "Malformed HTTP message from server: Too many 1xx responses",
        )
        .level(log::Level::Info);
        let n = tornado_httpserver::http1::MAX_1XX_RESPONSES + 1;
        let e = c
            .fetch(s.url(&format!("/1xx?num={n}")), true)
            .await
            .unwrap_err();
        assert!(e.is_stream_closed());
    });
}

#[test]
fn max_1xx_responses_setting() {
    // Not in Tornado (its limit is a constant): the limit is a setting.
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_1xx_responses(2));
        assert_eq!(
            &c.fetch(s.url("/1xx?num=2"), true).await.unwrap().body()[..],
            b"A"
        );
        let _log = ExpectLog::new(GENERAL, "Malformed HTTP message from server: Too many 1xx")
            .level(log::Level::Info);
        assert!(
            c.fetch(s.url("/1xx?num=3"), true)
                .await
                .unwrap_err()
                .is_stream_closed()
        );
        c.close();
    });
}

// GzipResponseTestCase.

#[test]
fn test_concatenated() {
    with_server(|s, c| async move {
        assert_eq!(
            fetch(&c, get(s.url("/gzip/concatenated"))).await.body(),
            &gzip_members().concat()
        );
    });
}

#[test]
fn test_head() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/gzip/concatenated")).method(Method::HEAD)).await;
        assert_eq!(r.code(), 200);
        assert!(r.body().is_empty());
    });
}

#[test]
fn test_invalid() {
    with_server(|s, c| async move {
        for kind in ["trailing_nul", "trailing_garbage", "truncated"] {
            let _log = ExpectLog::new(
                GENERAL,
                "Malformed HTTP message from server: invalid gzip data",
            )
            .level(log::Level::Info);
            let e = c
                .fetch(s.url(&format!("/gzip/{kind}")), true)
                .await
                .unwrap_err();
            assert!(e.is_stream_closed(), "{kind}: {e:?}");
        }
    });
}

// HTTP204NoContentTestCase.

#[test]
fn test_204_no_content() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/204"))).await;
        assert_eq!(r.code(), 204);
        assert!(r.body().is_empty());
    });
}

#[test]
fn test_204_invalid_content_length() {
    with_server(|s, c| async move {
        let _log = ExpectLog::new(
            GENERAL,
            "Malformed HTTP message from server: Response with code 204 should not have body",
        );
        let e = c.fetch(s.url("/204?error=1"), true).await.unwrap_err();
        assert!(e.is_stream_closed());
    });
}

// HostnameMappingTestCase.

#[test]
fn test_hostname_mapping() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new().map_host("www.example.com", "127.0.0.1"),
        );
        let r = c
            .fetch(format!("http://www.example.com:{}/hello", s.port), true)
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"Hello world!");
        c.close();
    });
}

#[test]
fn test_port_mapping() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new().map_host_port(("foo.example.com", 8000), ("127.0.0.1", s.port)),
        );
        let r = c
            .fetch("http://foo.example.com:8000/hello", true)
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"Hello world!");
        c.close();
    });
}

// TLSHandshakeTimeoutTestCase.

#[test]
fn test_tls_handshake_timeout() {
    gen_test(|| async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted: Rc<RefCell<Vec<IoStream>>> = Rc::default();
        let got = Rc::new(Event::new());
        let (a, g) = (accepted.clone(), got.clone());
        let handle = tornado_tcpserver::add_accept_handler(listener, move |conn| {
            if let tornado_tcpserver::Connection::Tcp(conn, _) = conn {
                a.borrow_mut().push(IoStream::from_tcp(conn).unwrap());
                g.set();
            }
        })
        .unwrap();
        let c = client();
        // Long enough for the TCP connect on a busy machine, so that it expires in the
        // handshake.
        let e = c
            .fetch(
                get(format!("https://127.0.0.1:{port}/"))
                    .connect_timeout(Duration::from_secs(2))
                    .validate_cert(false),
                true,
            )
            .await
            .unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("Timeout during TLS handshake with 127.0.0.1:{port}")
        );
        got.wait().await;
        let server_stream = accepted.borrow()[0].clone();
        // This completes only once the client has closed its socket.
        let _ = server_stream.read_until_close().await;
        handle.remove();
        c.close();
    });
}

// MaxHeaderSizeTest.

#[test]
fn test_small_headers() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_header_size(1024));
        let r = c.fetch(s.url("/filler?n=100"), true).await.unwrap();
        assert_eq!(&r.body()[..], b"ok");
        c.close();
    });
}

#[test]
fn test_large_headers() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_header_size(1024));
        let e: HttpClientError = c.fetch(s.url("/filler?n=1000"), true).await.unwrap_err();
        assert!(e.is_io(), "{e:?}");
        assert!(is_unsatisfiable_read(e.io_error().unwrap()));
        c.close();
    });
}

// MaxBodySizeUntilCloseTest, MaxBufferSizeUntilCloseTest, MaxBufferSizeTest.

#[test]
fn test_large_body_until_close() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_body_size(64 * 1024));
        let _log = ExpectLog::new(GENERAL, "Malformed HTTP message from server: Body too long")
            .level(log::Level::Info);
        let e = c
            .fetch(s.url("/large_until_close"), true)
            .await
            .unwrap_err();
        assert!(e.is_stream_closed());
        c.close();
    });
}

#[test]
fn test_large_body_until_close_buffer() {
    // MaxBufferSizeUntilCloseTest.test_large_body_until_close: the buffer limit bounds one
    // read, not the body.
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new()
                .max_body_size(1024 * 1024)
                .max_buffer_size(64 * 1024),
        );
        let r = c.fetch(s.url("/large_until_close"), true).await.unwrap();
        assert_eq!(&r.body()[..], &vec![b'a'; 100 * 1024][..]);
        c.close();
    });
}

#[test]
fn test_large_body_buffer() {
    // MaxBufferSizeTest.test_large_body.
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new()
                .max_body_size(100 * 1024)
                .max_buffer_size(64 * 1024),
        );
        let r = c.fetch(s.url("/a100k"), true).await.unwrap();
        assert_eq!(&r.body()[..], &vec![b'a'; 100 * 1024][..]);
        c.close();
    });
}

#[test]
fn test_chunked_with_content_length() {
    with_server(|s, c| async move {
        let _log =
            ExpectLog::new(GENERAL, "Malformed HTTP message from server").level(log::Level::Info);
        let e = c.fetch(s.url("/chunkwithcl"), true).await.unwrap_err();
        assert!(e.is_stream_closed());
    });
}

#[test]
fn https_with_client_certificate() {
    // Not in Tornado's file: `client_cert` / `client_key` against a server that requires a
    // certificate signed by its CA.
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::sync::Arc;
    gen_test(|| async {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let client_cert = CertificateParams::new(vec!["client".to_owned()])
            .unwrap()
            .signed_by(&client_key, &ca)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let server_ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let server_key =
            rustls::pki_types::PrivateKeyDer::try_from(server_ck.signing_key.serialize_der())
                .unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server_ck.cert.der().clone()], server_key)
            .unwrap();
        let server = tornado_httpserver::HttpServer::from_fn_with(
            |req: tornado_httpserver::HttpServerRequest| async move {
                let _ = req.respond(
                    http::StatusCode::OK,
                    http::HeaderMap::new(),
                    b"hello, client",
                );
            },
            tornado_httpserver::HttpServerSettings::new().tls(
                tornado_iostream::TlsServerOptions::from_config(Arc::new(config)),
            ),
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let dir =
            std::env::temp_dir().join(format!("tornado-httpclient-cc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("client.pem"), dir.join("client.key"));
        std::fs::write(&cert_path, client_cert.pem()).unwrap();
        std::fs::write(&key_path, client_key.serialize_pem()).unwrap();
        let c = client();
        let url = format!("https://127.0.0.1:{port}/");
        let r = c
            .fetch(
                get(&url)
                    .validate_cert(false)
                    .client_cert(&cert_path)
                    .client_key(&key_path),
                true,
            )
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"hello, client");
        // Without the certificate the server refuses the connection.
        let e = c
            .fetch(get(&url).validate_cert(false), true)
            .await
            .unwrap_err();
        assert_eq!(e.code(), 599);
        server.stop();
        c.close();
        let _ = std::fs::remove_dir_all(dir);
    });
}
