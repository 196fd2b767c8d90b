//! From `simple_httpclient_test.py`: `HTTP100ContinueTestCase`, `HTTP1xxLimitTestCase`,
//! `GzipResponseTestCase`, `HTTP204NoContentTestCase`, `HostnameMappingTestCase`,
//! `MaxHeaderSizeTest`, `MaxBodySizeUntilCloseTest`, `MaxBufferSizeUntilCloseTest`,
//! `MaxBufferSizeTest`, `ChunkedWithContentLengthTest`.

mod support;

use http::Method;
use support::{TestServer, fetch, gen_test, get, gzip_members, with_server};
use tornado_httpclient::{AsyncHttpClient, ClientSettings, HttpClientError};
use tornado_iostream::is_unsatisfiable_read;
use tornado_log::{ExpectLog, GENERAL};

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
