//! Port of the TLS parts of `tornado/test/iostream_test.py`: `TestIOStreamSSL` (a selection
//! of the read/write cases over TLS), `TestIOStreamStartTLS`, `WaitForHandshakeTest`,
//! `TestIOStreamCheckHostname`. Certificates are generated per test with rcgen.

use std::future::Future;
use std::net::TcpListener;
use std::time::Duration;

use tornado_gen::multi;
use tornado_ioloop::IoLoop;
use tornado_iostream::{
    IoStream, SslIoStream, StreamSettings, TlsClientOptions, TlsServerOptions, is_stream_closed,
    stream_closed_error,
};
use tornado_log::{ExpectLog, GENERAL};

fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(30)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// A self-signed certificate for `names`: (server options, its PEM to trust).
fn server_options(names: &[&str]) -> (TlsServerOptions, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    let cert_pem = ck.cert.pem();
    let key_pem = ck.signing_key.serialize_pem();
    let opts = TlsServerOptions::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    (opts, cert_pem)
}

/// Starts a TLS client connect to a fresh listener and accepts it: (client task, accepted
/// socket). The TCP connect is started before the (blocking) accept, so it cannot deadlock.
fn connect_tls(
    server_hostname: &'static str,
    opts: TlsClientOptions,
) -> (
    tornado_ioloop::Task<std::io::Result<SslIoStream>>,
    std::net::TcpStream,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain = IoStream::start_connect(
        listener.local_addr().unwrap(),
        None,
        StreamSettings::default(),
    )
    .unwrap();
    let (conn, _) = listener.accept().unwrap();
    let task = IoLoop::current().spawn(async move {
        plain.wait_connected().await?;
        plain.start_tls_client(server_hostname, &opts).await
    });
    (task, conn)
}

/// A connected plain pair: (server side, client side).
async fn plain_pair() -> (IoStream, IoStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = IoStream::start_connect(
        listener.local_addr().unwrap(),
        None,
        StreamSettings::default(),
    )
    .unwrap();
    let (conn, _) = listener.accept().unwrap();
    let server = IoStream::from_tcp(conn).unwrap();
    client.wait_connected().await.unwrap();
    (server, client)
}

/// A TLS pair over loopback: (server side, client side), handshake done.
async fn tls_pair() -> (SslIoStream, SslIoStream) {
    let (server_opts, ca) = server_options(&["localhost"]);
    let client_opts = TlsClientOptions::new()
        .with_ca_certs_pem(ca.as_bytes())
        .unwrap();
    let (plain_server, plain_client) = plain_pair().await;
    let client_fut = IoLoop::current().spawn(async move {
        plain_client
            .start_tls_client("localhost", &client_opts)
            .await
    });
    let server = plain_server.start_tls_server(&server_opts).await.unwrap();
    let client = client_fut.await.unwrap().unwrap();
    (server, client)
}

async fn send_line(from: &IoStream, to: &IoStream, line: &[u8]) {
    from.write(line.to_vec());
    assert_eq!(&to.read_until(b"\r\n", None).await.unwrap()[..], line);
}

#[test]
fn test_start_tls_smtp() {
    // Simplified from RFC 3207: plain text, then STARTTLS, then the same over TLS.
    gen_test(|| async {
        let (server, client) = plain_pair().await;
        send_line(&server, &client, b"220 mail.example.com ready\r\n").await;
        send_line(&client, &server, b"EHLO mail.example.com\r\n").await;
        send_line(&server, &client, b"250-mail.example.com welcome\r\n").await;
        send_line(&server, &client, b"250 STARTTLS\r\n").await;
        send_line(&client, &server, b"STARTTLS\r\n").await;
        send_line(&server, &client, b"220 Go ahead\r\n").await;
        let (server_opts, _) = server_options(&["localhost"]);
        let client_opts = TlsClientOptions::new().validate_cert(false);
        let client_tls = IoLoop::current()
            .spawn(async move { client.start_tls_client("localhost", &client_opts).await });
        let server = server.start_tls_server(&server_opts).await.unwrap();
        let client = client_tls.await.unwrap().unwrap();
        send_line(&client, &server, b"EHLO mail.example.com\r\n").await;
        send_line(&server, &client, b"250 mail.example.com welcome\r\n").await;
    });
}

#[test]
fn test_handshake_fail() {
    // Certificates are verified by default: a self-signed one is refused.
    gen_test(|| async {
        let (server, client) = plain_pair().await;
        let (server_opts, _) = server_options(&["localhost"]);
        let _expect = ExpectLog::new(GENERAL, "SSL Error");
        let server_tls =
            IoLoop::current().spawn(async move { server.start_tls_server(&server_opts).await });
        let err = client
            .start_tls_client("localhost", &TlsClientOptions::new())
            .await
            .unwrap_err();
        let real = stream_closed_error(&err)
            .and_then(|c| c.real_error())
            .unwrap();
        assert!(real.to_string().contains("certificate"), "{real}");
        assert!(server_tls.await.unwrap().is_err());
    });
}

#[test]
fn test_check_hostname() {
    // The certificate is for "localhost"; asking for 127.0.0.1 fails.
    gen_test(|| async {
        let (server, client) = plain_pair().await;
        let (server_opts, ca) = server_options(&["localhost"]);
        let _expect = ExpectLog::new(GENERAL, "SSL Error");
        let server_tls =
            IoLoop::current().spawn(async move { server.start_tls_server(&server_opts).await });
        let client_opts = TlsClientOptions::new()
            .with_ca_certs_pem(ca.as_bytes())
            .unwrap();
        assert!(
            client
                .start_tls_client("127.0.0.1", &client_opts)
                .await
                .is_err()
        );
        assert!(server_tls.await.unwrap().is_err());
    });
}

#[test]
fn test_start_tls_cancellation() {
    // The server never answers the handshake; dropping the client's start_tls future
    // closes its socket, which the server sees.
    gen_test(|| async {
        let (server, client) = plain_pair().await;
        let opts = TlsClientOptions::new().validate_cert(false);
        let handshake = IoLoop::current()
            .spawn(async move { client.start_tls_client("localhost", &opts).await });
        tornado_gen::sleep(Duration::from_millis(10)).await;
        assert!(handshake.cancel());
        // The client hello arrived, then the close.
        server.read_until_close().await.unwrap();
    });
}

#[test]
fn test_typed_memoryview() {
    gen_test(|| async {
        let (server, client) = tls_pair().await;
        server.write(vec![0u8; 80]).await.unwrap();
        assert_eq!(client.read_bytes(80, false).await.unwrap(), vec![0u8; 80]);
    });
}

#[test]
fn test_wait_for_handshake_future() {
    gen_test(|| async {
        let (server, client) = tls_pair().await;
        assert!(!server.is_handshaking() && !client.is_handshaking());
        assert!(client.peer_certificates().is_some_and(|c| !c.is_empty()));
    });
}

#[test]
fn test_wait_for_handshake_already_waiting_error() {
    gen_test(|| async {
        let (server_opts, _) = server_options(&["localhost"]);
        let (client, conn) = connect_tls("localhost", TlsClientOptions::new().validate_cert(false));
        let server = SslIoStream::server(conn, &server_opts).unwrap();
        let s2 = server.clone();
        let first = IoLoop::current().spawn(async move { s2.wait_for_handshake().await });
        tornado_gen::moment().await;
        tornado_gen::moment().await;
        let err = server.wait_for_handshake().await.unwrap_err();
        assert_eq!(err.to_string(), "Already reading");
        first.await.unwrap().unwrap();
        client.await.unwrap().unwrap();
    });
}

#[test]
fn test_wait_for_handshake_already_connected() {
    gen_test(|| async {
        let (server, _client) = tls_pair().await;
        server.wait_for_handshake().await.unwrap();
        server.wait_for_handshake().await.unwrap();
    });
}

#[test]
fn test_match() {
    // TestIOStreamCheckHostname
    gen_test(|| async {
        let (server_opts, ca) = server_options(&["foo.example.com"]);
        let opts = TlsClientOptions::new()
            .with_ca_certs_pem(ca.as_bytes())
            .unwrap();
        let (client, conn) = connect_tls("foo.example.com", opts);
        let server = SslIoStream::server(conn, &server_opts).unwrap();
        server.wait_for_handshake().await.unwrap();
        client.await.unwrap().unwrap();
    });
}

#[test]
fn test_no_match() {
    gen_test(|| async {
        let (server_opts, ca) = server_options(&["foo.example.com"]);
        let opts = TlsClientOptions::new()
            .with_ca_certs_pem(ca.as_bytes())
            .unwrap();
        let _expect = ExpectLog::new(GENERAL, "SSL Error");
        let (client, conn) = connect_tls("bar.example.com", opts);
        let server = SslIoStream::server(conn, &server_opts).unwrap();
        assert!(server.wait_for_handshake().await.is_err());
        assert!(client.await.unwrap().is_err());
    });
}

#[test]
fn test_check_disabled() {
    gen_test(|| async {
        let (server_opts, _) = server_options(&["foo.example.com"]);
        let opts = TlsClientOptions::new().validate_cert(false);
        let (client, conn) = connect_tls("bar.example.com", opts);
        let server = SslIoStream::server(conn, &server_opts).unwrap();
        server.wait_for_handshake().await.unwrap();
        client.await.unwrap().unwrap();
    });
}

// TestIOStreamSSL: the read/write cases over TLS.

#[test]
fn ssl_large_read_until() {
    gen_test(|| async {
        let (rs, ws) = tls_pair().await;
        for _ in 0..4096 {
            ws.write(vec![b'A'; 1024]);
        }
        ws.write(&b"\r\n"[..]);
        assert_eq!(
            rs.read_until(b"\r\n", None).await.unwrap().len(),
            4096 * 1024 + 2
        );
    });
}

#[test]
fn ssl_read_until_close_after_close() {
    gen_test(|| async {
        let (rs, ws) = tls_pair().await;
        ws.write(&b"1234"[..]);
        assert_eq!(rs.read_bytes(1, false).await.unwrap(), &b"1"[..]);
        ws.flush().await.unwrap();
        ws.close(None);
        assert_eq!(rs.read_until_close().await.unwrap(), &b"234"[..]);
    });
}

#[test]
fn ssl_read_bytes_partial_and_read_into() {
    gen_test(|| async {
        let (rs, ws) = tls_pair().await;
        ws.write(&b"hello"[..]);
        assert_eq!(rs.read_bytes(50, true).await.unwrap(), &b"hello"[..]);
        ws.write(&b"world!!"[..]);
        let mut buf = [0u8; 7];
        assert_eq!(rs.read_into(&mut buf, false).await.unwrap(), 7);
        assert_eq!(&buf, b"world!!");
    });
}

#[test]
fn ssl_future_write() {
    // Concurrent writers over TLS: every write future resolves and every byte arrives.
    gen_test(|| async {
        let (server, client) = tls_pair().await;
        const M: usize = 5000;
        const N: usize = 200;
        const PRODUCERS: usize = 5;
        let l = IoLoop::current();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let s = server.clone();
                l.spawn(async move {
                    for _ in 0..N {
                        s.write(vec![b'x'; M]).await.unwrap();
                    }
                })
            })
            .collect();
        let mut nread = 0;
        while nread < M * N * PRODUCERS {
            nread += client.read_bytes(M, true).await.unwrap().len();
        }
        multi(producers).await.unwrap();
    });
}

#[test]
fn ssl_peer_close_is_stream_closed() {
    gen_test(|| async {
        let (rs, ws) = tls_pair().await;
        ws.close(None);
        assert!(is_stream_closed(
            &rs.read_bytes(1, false).await.unwrap_err()
        ));
    });
}

#[test]
fn start_tls_refuses_a_busy_stream() {
    gen_test(|| async {
        let (server, client) = plain_pair().await;
        client.write(&b"unread"[..]);
        let _ = server.read_bytes(2, false).await.unwrap();
        let (opts, _) = server_options(&["localhost"]);
        let err = server.start_tls_server(&opts).await.unwrap_err();
        assert!(err.to_string().contains("not idle"));
    });
}
