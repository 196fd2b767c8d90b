//! From `simple_httpclient_test.py`: `SimpleHTTPSClientTestCase` (the mixin's main cases over
//! TLS, `test_ssl_options`, `test_ssl_options_handshake_fail`, `test_error_logging`),
//! `TLSHandshakeTimeoutTestCase`, and CA and client certificates (beyond Tornado's tests).

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use http::Method;
use support::{TestServer, async_body_producer, client, echo_post, fetch, gen_test, get};
use tornado_httpclient::{AsyncHttpClient, ClientSettings, HttpRequest};
use tornado_iostream::IoStream;
use tornado_locks::Event;

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
