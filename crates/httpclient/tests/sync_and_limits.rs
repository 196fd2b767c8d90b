//! From `httpclient_test.py`: `SyncHTTPClientTest` (the blocking client, with the server on
//! a loop of its own on another thread) and `HTTPClientMaxBodySizeTestCase` (as
//! `SimpleHTTPClientMaxBodySizeTestCase`: all six), plus malformed URLs failing cleanly.

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use support::{TestServer, client, gen_test, get};
use tornado_httpclient::{AsyncHttpClient, ClientSettings, HttpClient, HttpClientError};
use tornado_log::{ExpectLog, GENERAL};

const MAX_BODY_SIZE: u64 = 64 * 1024;

fn sync_server() -> (
    u16,
    std::thread::JoinHandle<()>,
    tornado_ioloop::IoLoopHandle,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let io_loop = tornado_ioloop::IoLoop::new();
        let handle = io_loop.handle();
        io_loop
            .run_sync(
                move || async move {
                    let server = TestServer::start();
                    tx.send((server.port, handle)).unwrap();
                    // Serve until stopped.
                    std::future::pending::<()>().await;
                },
                None,
            )
            .ok();
        let _ = io_loop.close();
    });
    let (port, handle) = rx.recv().unwrap();
    (port, thread, handle)
}

#[test]
fn test_sync_client() {
    let (port, thread, handle) = sync_server();
    let client = HttpClient::new();
    let r = client
        .fetch(format!("http://127.0.0.1:{port}/hello"))
        .unwrap();
    assert_eq!(&r.body()[..], b"Hello world!");
    client.close();
    handle.stop();
    thread.join().unwrap();
}

#[test]
fn test_sync_client_error() {
    let (port, thread, handle) = sync_server();
    let client = HttpClient::new();
    let e: HttpClientError = client
        .fetch(format!("http://127.0.0.1:{port}/notfound"))
        .unwrap_err();
    assert_eq!(e.code(), 404);
    client.close();
    handle.stop();
    thread.join().unwrap();
}

fn max_body_client() -> AsyncHttpClient {
    AsyncHttpClient::with_settings(ClientSettings::new().max_body_size(MAX_BODY_SIZE))
}

async fn assert_refused(c: &AsyncHttpClient, url: String, reason: &str, streaming: bool) {
    let _log = ExpectLog::new(
        GENERAL,
        &format!("Malformed HTTP message from server: {reason}"),
    )
    .level(log::Level::Info);
    let received = Rc::new(RefCell::new(0usize));
    let mut req = get(url);
    if streaming {
        let r = received.clone();
        req = req.streaming_callback(move |b| *r.borrow_mut() += b.len());
    }
    let e = c.fetch(req, true).await.unwrap_err();
    assert_eq!(e.code(), 599);
    assert!(*received.borrow() <= MAX_BODY_SIZE as usize);
}

#[test]
fn test_small_body() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        let r = c.fetch(s.url("/small"), true).await.unwrap();
        assert_eq!(&r.body()[..], &vec![b'a'; 64 * 1024][..]);
        c.close();
    });
}

#[test]
fn test_large_body() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        assert_refused(&c, s.url("/large"), "Content-Length too long", false).await;
        c.close();
    });
}

#[test]
fn test_decompressed_body_size() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        assert_refused(
            &c,
            s.url("/bomb?size=1048576"),
            "decompressed body too large",
            false,
        )
        .await;
        c.close();
    });
}

#[test]
fn test_streaming_callback_over_limit() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        assert_refused(&c, s.url("/large"), "Content-Length too long", true).await;
        c.close();
    });
}

#[test]
fn test_streaming_callback_decompressed_over_limit() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        assert_refused(
            &c,
            s.url("/bomb?size=1048576"),
            "decompressed body too large",
            true,
        )
        .await;
        c.close();
    });
}

#[test]
fn test_reuse_after_refusal() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = max_body_client();
        assert_refused(&c, s.url("/large"), "Content-Length too long", false).await;
        let r = c.fetch(s.url("/small"), true).await.unwrap();
        assert_eq!(r.body().len(), 64 * 1024);
        c.close();
    });
}

#[test]
fn invalid_urls_fail_cleanly() {
    // Not in Tornado's file: bad URLs are typed errors, before any connection.
    gen_test(|| async {
        let c = client();
        for url in [
            "http://exa mple.com/",
            "http:///nohost",
            "ftp://example.com/",
            "example.com/x",
            "",
        ] {
            let e = c.fetch(url, true).await.unwrap_err();
            assert!(e.is_invalid_request(), "{url:?}: {e:?}");
        }
        assert_eq!(c.connections_opened(), 0);
        c.close();
    });
}
