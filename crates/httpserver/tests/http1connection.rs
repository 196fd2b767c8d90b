//! Port of Tornado 6.6.1's `http1connection_test.py` (`HTTP1ConnectionTest`): the client
//! side of an HTTP/1 connection (`http1::HttpClientConnection`) reading responses that a
//! raw server stream writes.
//!
//! `test_error_in_finish` is not ported: `HttpMessageDelegate::finish` returns nothing, so
//! it cannot fail (Rust has no exception to raise from it); the other two delegate-error
//! tests return errors instead of raising.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::Bytes;
use http::HeaderMap;
use support::gen_test;
use tornado_httpserver::http1::{HttpClientConnection, ResponseOutcome};
use tornado_httpserver::httputil::HttpInputError;
use tornado_httpserver::{HttpConnectionParameters, HttpMessageDelegate, StartLine};
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;
use tornado_log::ExpectLog;

/// A connected pair: (server side, client side).
async fn pair() -> (IoStream, IoStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = IoStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().unwrap();
    (IoStream::from_tcp(server).unwrap(), client)
}

/// Records what the connection tells it; fails where told to.
#[derive(Default)]
struct Recorder {
    code: Rc<Cell<u16>>,
    body: Rc<RefCell<Vec<u8>>>,
    chunks: Rc<Cell<usize>>,
    finished: Rc<Cell<usize>>,
    closed: Rc<Cell<usize>>,
    fail_in: &'static str,
}

impl HttpMessageDelegate for Recorder {
    async fn headers_received(
        &mut self,
        start_line: StartLine,
        _headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        if let StartLine::Response(line) = start_line {
            self.code.set(line.code.as_u16());
        }
        if self.fail_in == "headers_received" {
            return Err(HttpInputError::new("error in headers_received"));
        }
        Ok(())
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        if self.fail_in == "data_received" {
            return Err(HttpInputError::new("error in data_received"));
        }
        self.chunks.set(self.chunks.get() + 1);
        self.body.borrow_mut().extend_from_slice(&chunk);
        Ok(())
    }

    async fn finish(&mut self) {
        self.finished.set(self.finished.get() + 1);
    }

    fn on_connection_close(&mut self) {
        self.closed.set(self.closed.get() + 1);
    }
}

#[test]
fn test_1xx_does_not_read_a_second_body() {
    gen_test(|| async {
        let (server, client) = pair().await;
        let conn = HttpClientConnection::new(client, HttpConnectionParameters::new());
        server.write(&b"HTTP/1.1 100 CONTINUE\r\n\r\n"[..]);
        server.write(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..]);
        server.close(None);
        let mut d = Recorder::default();
        conn.read_response(&mut d).await;
        assert_eq!(&d.body.borrow()[..], b"hello");
        assert_eq!(d.finished.get(), 1);
        assert_eq!(
            d.closed.get(),
            0,
            "a finished delegate is not also told of a close"
        );
    });
}

#[test]
fn test_http10_no_content_length() {
    gen_test(|| async {
        let (server, client) = pair().await;
        let conn = HttpClientConnection::new(client, HttpConnectionParameters::new());
        server.write(&b"HTTP/1.0 200 Not Modified\r\n\r\nhello"[..]);
        server.close(None);
        let mut d = Recorder::default();
        let outcome = conn.read_response(&mut d).await;
        assert_eq!(d.code.get(), 200);
        assert_eq!(&d.body.borrow()[..], b"hello");
        assert_eq!(d.finished.get(), 1);
        assert_eq!(outcome, ResponseOutcome::Done);
    });
}

async fn check_delegate_error(method: &'static str) {
    let (server, client) = pair().await;
    let conn = HttpClientConnection::new(client.clone(), HttpConnectionParameters::new());
    server.write(&b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..]);
    let mut d = Recorder {
        fail_in: method,
        ..Recorder::default()
    };
    let outcome = {
        let _log = ExpectLog::new("application", "Uncaught exception");
        conn.read_response(&mut d).await
    };
    assert_eq!(outcome, ResponseOutcome::Failed);
    assert_eq!(d.closed.get(), 1);
    assert!(client.closed());
    drop(server);
}

#[test]
fn test_error_in_headers_received() {
    gen_test(|| check_delegate_error("headers_received"));
}

#[test]
fn test_error_in_data_received() {
    gen_test(|| check_delegate_error("data_received"));
}

#[test]
fn test_chunked_body_tiny_chunks() {
    // Many tiny chunks arrive coalesced into a few data_received calls, and reading them
    // lets the loop run other work meanwhile.
    gen_test(|| async {
        let (server, client) = pair().await;
        let conn = HttpClientConnection::new(client, HttpConnectionParameters::new());
        let n = 5000;
        let mut data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..n {
            data.extend_from_slice(b"1\r\nx\r\n");
        }
        data.extend_from_slice(b"0\r\n\r\n");
        server.write(data).await.unwrap();
        server.close(None);
        tornado_gen::sleep(std::time::Duration::from_millis(100)).await;
        let ticks = Rc::new(Cell::new(0usize));
        let done = Rc::new(Cell::new(false));
        fn tick(ticks: Rc<Cell<usize>>, done: Rc<Cell<bool>>) {
            if !done.get() {
                ticks.set(ticks.get() + 1);
                IoLoop::current().add_callback(move || tick(ticks, done));
            }
        }
        tick(ticks.clone(), done.clone());
        let mut d = Recorder::default();
        conn.read_response(&mut d).await;
        done.set(true);
        assert_eq!(d.body.borrow().len(), n);
        assert!(
            d.chunks.get() < 10,
            "{} data_received calls",
            d.chunks.get()
        );
        assert!(
            ticks.get() > 10,
            "the loop ran {} times meanwhile",
            ticks.get()
        );
    });
}

#[test]
fn test_chunked_body_bad_chunk_terminator() {
    gen_test(|| async {
        let (server, client) = pair().await;
        let conn = HttpClientConnection::new(client, HttpConnectionParameters::new());
        server.write(
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfooXX0\r\n\r\n"[..],
        );
        let _log =
            ExpectLog::new("general", "Malformed HTTP message from server").level(log::Level::Info);
        let mut d = Recorder::default();
        assert_eq!(conn.read_response(&mut d).await, ResponseOutcome::Failed);
        drop(server);
    });
}
