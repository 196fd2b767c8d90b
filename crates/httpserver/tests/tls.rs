//! Port of the TLS tests of `tornado/test/httpserver_test.py`: `SSLTest` (`test_ssl`,
//! `test_large_post`, `test_non_ssl_request`, `test_error_logging`),
//! `SSLXHeaderTest.test_request_without_xprotocol`, and `BadSSLOptionsTest`
//! (`test_missing_arguments`, `test_missing_key`) as their analogues for
//! [`TlsServerOptions`]. Certificates are made per test with rcgen.
//!
//! Differences:
//! - `BadSSLOptionsTest`: Tornado's `ssl_options` is a dict checked when the server is made;
//!   here the options are a [`TlsServerOptions`], so the errors come from its constructors, as
//!   `io::Error`s. `test_missing_arguments` (a `keyfile` without a `certfile`) cannot be
//!   written, both being parameters; its analogue is a certificate PEM with no certificate.
//! - `test_error_logging` checks that the SSL error is logged at warning level, as Tornado
//!   logs it; "no stack trace" has no analogue, Rust logs carrying none.
//! - Tornado's `SSLTest` runs once per `ssl_version`; rustls negotiates TLS 1.2 or 1.3 itself,
//!   so there is one run.

#![cfg(feature = "tls")]

mod support;

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use http::StatusCode;
use http::header::HeaderMap;
use serde_json::json;
use support::{RawResponse, gen_test, read_response, request_bytes};
use tornado_httpserver::{HttpServer, HttpServerRequest, HttpServerSettings};
use tornado_iostream::{IoStream, SslIoStream, TlsClientOptions, TlsServerOptions};
use tornado_log::{ExpectLog, GENERAL};

/// A self-signed certificate for `localhost`: (its PEM, its key's PEM).
fn certificate() -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}

/// `HelloWorldRequestHandler` (expecting `https`) at `/`, `XHeaderTest.Handler` at `/xheader`.
async fn app(req: HttpServerRequest) {
    let h = HeaderMap::new();
    match (req.path(), req.method().as_str()) {
        ("/xheader", _) => {
            let body = json!({
                "remote_ip": req.remote_ip().to_string(),
                "remote_protocol": req.protocol(),
            });
            let _ = req.respond(StatusCode::OK, h, body.to_string().as_bytes());
        }
        ("/", "GET") => {
            if req.protocol() != "https" {
                // Tornado's handler raises "unexpected protocol": a 500.
                let _ = req.respond(StatusCode::INTERNAL_SERVER_ERROR, h, b"");
                return;
            }
            let _ = req.respond(StatusCode::OK, h, b"Hello world");
        }
        ("/", "POST") => {
            let body = format!("Got {} bytes in POST", req.body().len());
            let _ = req.respond(StatusCode::OK, h, body.as_bytes());
        }
        ("/large", _) => {
            let _ = req.respond(StatusCode::OK, h, &vec![b'A'; 512 * 1024]);
        }
        _ => {
            let _ = req.respond(StatusCode::NOT_FOUND, h, b"");
        }
    }
}

/// An HTTPS server with `settings` (TLS added): (server, address, the PEM to trust).
fn start(settings: HttpServerSettings) -> (Rc<dyn std::any::Any>, SocketAddr, String) {
    let (cert, key) = certificate();
    let tls = TlsServerOptions::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let server = HttpServer::from_fn_with(app, settings.tls(tls));
    let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
    (Rc::new(server), addr, cert)
}

async fn connect_tls(addr: SocketAddr, ca: &str) -> SslIoStream {
    let opts = TlsClientOptions::new()
        .with_ca_certs_pem(ca.as_bytes())
        .unwrap();
    SslIoStream::connect(addr, "localhost", &opts)
        .await
        .expect("TLS connect")
}

/// `fetch` over HTTPS.
async fn fetch_tls(
    addr: SocketAddr,
    ca: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> RawResponse {
    let stream = connect_tls(addr, ca).await;
    stream.write(request_bytes(method, path, headers, body));
    let r = read_response(&stream, false).await.expect("a response");
    stream.close(None);
    r
}

/// A plain-HTTP request to the HTTPS port: everything the server sends back.
async fn plain_request(addr: SocketAddr) -> Vec<u8> {
    let stream = IoStream::connect(addr).await.unwrap();
    stream.write(request_bytes("GET", "/", &[], None));
    // The server may answer with a TLS alert or nothing; either way it closes.
    stream
        .read_until_close()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

// SSLTest

#[test]
fn test_ssl() {
    gen_test(|| async {
        let (_s, addr, ca) = start(HttpServerSettings::new());
        let r = fetch_tls(addr, &ca, "GET", "/", &[], None).await;
        assert_eq!(&r.body[..], b"Hello world");
    });
}

#[test]
fn test_large_post() {
    gen_test(|| async {
        let (_s, addr, ca) = start(HttpServerSettings::new());
        let r = fetch_tls(addr, &ca, "POST", "/", &[], Some(&[b'A'; 5000])).await;
        assert_eq!(&r.body[..], b"Got 5000 bytes in POST");
    });
}

#[test]
fn test_non_ssl_request() {
    // The server closes a connection that does not speak TLS, rather than waiting for a
    // timeout (gen_test's 20 s would catch that) or answering in HTTP.
    gen_test(|| async {
        let (_s, addr, _ca) = start(HttpServerSettings::new());
        let _e = ExpectLog::new(GENERAL, "SSL Error");
        let answer = plain_request(addr).await;
        assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    });
}

#[test]
fn test_error_logging() {
    // The SSL error is logged once, at warning level (Tornado: no stack trace).
    gen_test(|| async {
        let (_s, addr, _ca) = start(HttpServerSettings::new());
        let e = ExpectLog::new(GENERAL, "SSL Error").level(log::Level::Warn);
        let answer = plain_request(addr).await;
        assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
        assert_eq!(e.matched(), 1);
    });
}

#[test]
fn keep_alive_and_a_large_response_over_tls() {
    // Two requests on one TLS connection, the second answered with 512 KiB.
    gen_test(|| async {
        let (_s, addr, ca) = start(HttpServerSettings::new());
        let stream = connect_tls(addr, &ca).await;
        stream.write(&b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..]);
        let r = read_response(&stream, false).await.unwrap();
        assert_eq!(&r.body[..], b"Hello world");
        stream.write(&b"GET /large HTTP/1.1\r\nHost: localhost\r\n\r\n"[..]);
        let r = read_response(&stream, false).await.unwrap();
        assert_eq!(r.body.len(), 512 * 1024);
        assert!(r.body.iter().all(|&b| b == b'A'));
    });
}

// SSLXHeaderTest

#[test]
fn test_request_without_xprotocol() {
    gen_test(|| async {
        let (_s, addr, ca) = start(HttpServerSettings::new().xheaders(true));
        let protocol = |headers: &'static [(&'static str, &'static str)]| {
            let ca = ca.clone();
            async move {
                let r = fetch_tls(addr, &ca, "GET", "/xheader", headers, None).await;
                let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                v["remote_protocol"].as_str().unwrap().to_owned()
            }
        };
        assert_eq!(protocol(&[]).await, "https");
        assert_eq!(protocol(&[("X-Scheme", "http")]).await, "http");
        assert_eq!(protocol(&[("X-Scheme", "unknown")]).await, "https");
    });
}

// BadSSLOptionsTest

fn is_options_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::NotFound | io::ErrorKind::InvalidData
    )
}

#[test]
fn test_missing_arguments() {
    // A key with no certificate.
    let (_, key) = certificate();
    let e = TlsServerOptions::from_pem(b"", key.as_bytes()).unwrap_err();
    assert!(is_options_error(&e), "{e:?}");
}

#[test]
fn test_missing_key() {
    // A missing file gives an error at once, when the options are made.
    let dir = std::env::temp_dir().join(format!("tornado-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = certificate();
    let existing_certificate = dir.join("test.crt");
    let existing_key = dir.join("test.key");
    std::fs::write(&existing_certificate, &cert).unwrap();
    std::fs::write(&existing_key, &key).unwrap();

    let e = TlsServerOptions::from_pem_files("/__mising__.crt", &existing_key).unwrap_err();
    assert!(is_options_error(&e), "{e:?}");
    let e =
        TlsServerOptions::from_pem_files(&existing_certificate, "/__missing__.key").unwrap_err();
    assert!(is_options_error(&e), "{e:?}");

    // This works because both files exist.
    let tls = TlsServerOptions::from_pem_files(&existing_certificate, &existing_key).unwrap();
    let _server = HttpServer::from_fn_with(app, HttpServerSettings::new().tls(tls));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mismatched_or_garbled_key_is_refused() {
    // Beyond Tornado's test: a key that is not the certificate's, or that is not PEM.
    let (cert, _) = certificate();
    let (_, other_key) = certificate();
    let e = TlsServerOptions::from_pem(cert.as_bytes(), other_key.as_bytes()).unwrap_err();
    assert!(is_options_error(&e), "{e:?}");
    let e = TlsServerOptions::from_pem(cert.as_bytes(), b"not a key").unwrap_err();
    assert!(is_options_error(&e), "{e:?}");
}
