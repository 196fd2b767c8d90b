//! Port of `web_test.py::IncorrectContentLengthTest` and `ClientCloseTest`: a handler whose
//! `Content-Length` does not match what it writes, and a client that goes away while its
//! request is handled. Neither may hang the server or hand the client a response that
//! looks complete.

mod support;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use support::{get, with_served};
use tornado_iostream::IoStream;
use tornado_log::ExpectLog;
use tornado_web::{Application, Handler, RequestHandler, Result};

thread_local! {
    /// What `finish` failed with (Tornado's `test.server_error`).
    static SERVER_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets `Content-Length` to `declared` and finishes with `body`, noting the error.
struct WrongLength {
    declared: &'static str,
    body: &'static str,
}

impl RequestHandler for WrongLength {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_header("Content-Length", self.declared)?;
        let finished = h.finish_with(self.body);
        if let Err(e) = &finished {
            SERVER_ERROR.with(|s| *s.borrow_mut() = Some(e.to_string()));
        }
        finished
    }
}

/// `ClientCloseTest.Handler`: the connection closes while the request is handled.
struct ClosesItsConnection;

impl RequestHandler for ClosesItsConnection {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.request().connection().stream().close(None);
        h.write("hello");
        Ok(())
    }
}

struct Ok200;

impl RequestHandler for Ok200 {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

fn app() -> Application {
    Application::builder()
        .route("/high", || WrongLength {
            declared: "42",
            body: "ok",
        })
        .route("/low", || WrongLength {
            declared: "2",
            body: "hello",
        })
        .route("/close", || ClosesItsConnection)
        .route("/ok", || Ok200)
        .build()
        .unwrap()
}

/// Sends `GET path` and reads until the server closes: what arrived.
async fn read_all(addr: SocketAddr, path: &str) -> String {
    let stream = IoStream::connect(addr).await.expect("connect");
    stream.write(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes());
    let read = tornado_gen::with_timeout(Duration::from_secs(10), stream.read_until_close());
    let data = read.await.expect("the server closes the connection");
    String::from_utf8_lossy(&data.unwrap_or_default()).into_owned()
}

fn with<F, Fut>(f: F)
where
    F: FnOnce(SocketAddr) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    SERVER_ERROR.with(|s| s.borrow_mut().take());
    with_served(app(), f);
}

fn server_error() -> Option<String> {
    SERVER_ERROR.with(|s| s.borrow().clone())
}

#[test]
fn test_content_length_too_high() {
    // The connection closes without completing the response, and the error is logged.
    with(|a| async move {
        let _uncaught = ExpectLog::new("application", "Uncaught exception");
        let _general = ExpectLog::new("general", "").required(false);
        let got = read_all(a, "/high").await;
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got:?}");
        assert!(got.contains("Content-Length: 42\r\n"), "{got:?}");
        assert!(
            got.ends_with("\r\n\r\nok"),
            "only the 2 bytes written: {got:?}"
        );
        let e = server_error().expect("finish failed");
        assert!(
            e.contains("Tried to write 40 bytes less than Content-Length"),
            "{e}"
        );
    });
}

#[test]
fn test_content_length_too_low() {
    // Nothing past the declared length is written, and the connection closes.
    with(|a| async move {
        let _uncaught = ExpectLog::new("application", "Uncaught exception");
        let _general = ExpectLog::new("general", "").required(false);
        let got = read_all(a, "/low").await;
        assert!(!got.contains("hello"), "{got:?}");
        let e = server_error().expect("finish failed");
        assert!(
            e.contains("Tried to write more data than Content-Length"),
            "{e}"
        );
    });
}

#[test]
fn test_client_close() {
    // The client sees the connection close with no response; the server carries on.
    with(|a| async move {
        let got = read_all(a, "/close").await;
        assert_eq!(got, "");
        // The server still answers other connections.
        let r = get(a, "/ok", "").await;
        assert_eq!((r.status, r.text()), (200, "ok".to_owned()));
    });
}
