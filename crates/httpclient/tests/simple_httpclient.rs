//! Port of Tornado 6.6.1's `tornado/test/simple_httpclient_test.py`, against `HttpServer`
//! (handlers in `tests/support/mod.rs`) and raw-socket servers. The TLS classes are in
//! `simple_https.rs`, the smaller test classes (1xx, gzip, 204, hostname mapping, size
//! limits) in `simple_httpclient_classes.rs`; the list below covers all three files.
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
use support::{
    TestServer, async_body_producer, client, echo_post, fetch, gen_test, get, raw_server,
    with_server,
};
use tornado_gen::sleep;
use tornado_httpclient::{AsyncHttpClient, ClientSettings, DEFAULT_USER_AGENT, HttpRequest};
use tornado_locks::Event;
use tornado_log::{APPLICATION, ExpectLog, GENERAL};
use tornado_tcpserver::{Addresses, Family, ResolveFuture, Resolver};

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
