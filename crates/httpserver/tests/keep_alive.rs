//! `httpserver_test.py::KeepAliveTest`: keep-alive on HTTP/1.1 and 1.0, pipelining (answers
//! in order, in one write), cancellation, chunked and HEAD responses on a kept connection.

mod support;

use std::time::Duration;

use support::{connect, gen_test, raw, raw_all, read_response, start_default};

#[test]
fn test_two_requests() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        for _ in 0..2 {
            stream.write(&b"GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"[..]);
            assert_eq!(
                &read_response(&stream, false).await.unwrap().body[..],
                b"Hello world"
            );
        }
    });
}

#[test]
fn test_request_close() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET / HTTP/1.1\r\nHost:127.0.0.1\r\nConnection: close\r\n\r\n"[..]);
        let r = read_response(&stream, false).await.unwrap();
        assert_eq!(r.header("connection"), Some("close"));
        assert!(stream.read_until_close().await.unwrap().is_empty());
    });
}

#[test]
fn test_http10() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET / HTTP/1.0\r\n\r\n"[..]);
        let r = read_response(&stream, false).await.unwrap();
        assert!(r.status_line.starts_with("HTTP/1.1 200"));
        assert!(r.header("connection").is_none());
        assert!(stream.read_until_close().await.unwrap().is_empty());
    });
}

#[test]
fn test_http10_keepalive() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        for _ in 0..2 {
            stream.write(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]);
            let r = read_response(&stream, false).await.unwrap();
            assert_eq!(r.header("connection"), Some("Keep-Alive"));
        }
    });
}

#[test]
fn test_http10_keepalive_extra_crlf() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\r\n"[..]);
        assert_eq!(
            read_response(&stream, false)
                .await
                .unwrap()
                .header("connection"),
            Some("Keep-Alive")
        );
        stream.write(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]);
        assert_eq!(
            read_response(&stream, false)
                .await
                .unwrap()
                .header("connection"),
            Some("Keep-Alive")
        );
    });
}

#[test]
fn test_pipelined_requests() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(
            &b"GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\nGET /ip HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"
                [..],
        );
        assert_eq!(
            &read_response(&stream, false).await.unwrap().body[..],
            b"Hello world"
        );
        assert_eq!(
            &read_response(&stream, false).await.unwrap().body[..],
            b"127.0.0.1 http"
        );
    });
}

#[test]
fn pipelined_answers_leave_in_order_in_one_write() {
    // Many pipelined requests at once: answered strictly in order.
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        let mut reqs = Vec::new();
        for i in 0..50 {
            let path = if i % 2 == 0 { "/" } else { "/ip" };
            reqs.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        }
        stream.write(reqs);
        for i in 0..50 {
            let body = read_response(&stream, false).await.unwrap().body;
            let want: &[u8] = if i % 2 == 0 {
                b"Hello world"
            } else {
                b"127.0.0.1 http"
            };
            assert_eq!(&body[..], want);
        }
    });
}

#[test]
fn test_pipelined_cancel() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"[..]);
        read_response(&stream, false).await.unwrap();
        stream.close(None);
        tornado_gen::sleep(Duration::from_millis(10)).await;
    });
}

#[test]
fn test_cancel_during_download() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET /large HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"[..]);
        stream.read_until(b"\r\n\r\n", None).await.unwrap();
        stream.read_bytes(1024, false).await.unwrap();
        stream.close(None);
        tornado_gen::sleep(Duration::from_millis(10)).await;
    });
}

#[test]
fn test_finish_while_closed() {
    // The response is finished from a close callback, after the client left.
    gen_test(|| async {
        let (server, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(&b"GET /finish_on_close HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"[..]);
        stream.read_until(b"\r\n\r\n", None).await.unwrap();
        stream.close(None);
        tornado_gen::sleep(Duration::from_millis(50)).await;
        drop(server);
    });
}

#[test]
fn test_keepalive_chunked() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        stream.write(
            &b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"[..],
        );
        assert_eq!(
            read_response(&stream, false)
                .await
                .unwrap()
                .header("connection"),
            Some("Keep-Alive")
        );
        stream.write(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]);
        assert_eq!(
            read_response(&stream, false)
                .await
                .unwrap()
                .header("connection"),
            Some("Keep-Alive")
        );
    });
}

#[test]
fn test_keepalive_chunked_head_no_body() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let stream = connect(addr).await;
        for _ in 0..2 {
            stream.write(&b"HEAD /chunked HTTP/1.1\r\nHost:127.0.0.1\r\n\r\n"[..]);
            let r = read_response(&stream, true).await.unwrap();
            assert_eq!(r.status, 200);
            assert!(
                r.header("transfer-encoding").is_none(),
                "no chunking for HEAD"
            );
        }
    });
}

#[test]
fn chunked_response_to_http11_streamed_response_to_http10() {
    gen_test(|| async {
        let (_s, addr) = start_default();
        let r = raw(addr, b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(r.header("transfer-encoding"), Some("chunked"));
        assert_eq!(&r.body[..], b"qwerty");
        // HTTP/1.0 gets neither chunking nor a length: the body ends at the close.
        let all = raw_all(addr, b"GET /chunked HTTP/1.0\r\n\r\n").await;
        let text = String::from_utf8_lossy(&all);
        assert!(text.ends_with("\r\n\r\nqwerty"), "{text}");
        assert!(!text.contains("Transfer-Encoding"));
    });
}
