//! Port of `tornado/test/tcpclient_test.py`'s `TCPClientTest` on real sockets, plus TLS with
//! a certificate made by rcgen, and happy eyeballs falling through real failures.
//!
//! `ConnectorTest`, `TestConnectorSplit` and `TestFormatAddr` are unit tests of the connector
//! (`src/connector/tests.rs`); `test_connect_timeout_during_tcp_connect` needs connects that
//! never complete and is a unit test of `src/tcpclient.rs`. IPv6 cases run only where `::1`
//! can be bound and `localhost` resolves to it, decided at run time as Tornado's
//! `skipIfNoIPv6` and `skipIfLocalhostV4` do.

mod common;

use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::rc::Rc;
use std::time::Duration;

use common::{TestTcpServer, gen_test, have_ipv6, localhost_has_ipv6, self_signed, skip};
use tornado_concurrent::TimeoutError;
use tornado_ioloop::IoLoop;
use tornado_iostream::{IoStream, TlsClientOptions, TlsServerOptions, stream_closed_error};
use tornado_log::{ExpectLog, GENERAL};
use tornado_tcpserver::{
    Addresses, ConnectSettings, Family, ResolveFuture, Resolver, ServerSettings, StreamHandler,
    TcpClient, TcpServer,
};

/// `do_test_connect`: a client connects to a `TestTCPServer` of `family`; one message goes
/// through.
fn do_test_connect(family: Family, host: &'static str, settings: ConnectSettings) {
    gen_test(move || async move {
        let server = TestTcpServer::new(family);
        let client = TcpClient::new();
        let stream = client
            .connect_with(host, server.port, &settings.family(family))
            .await
            .unwrap();
        let server_stream = server.next_stream().await;
        stream.write(&b"hello"[..]);
        let data = server_stream.read_bytes(5, false).await.unwrap();
        assert_eq!(&data[..], b"hello");
        stream.close(None);
        client.close();
        server.stop();
    });
}

/// `do_test_connect`'s outcome when it must fail.
fn connect_error(family: Family, host: &'static str, settings: ConnectSettings) -> io::Error {
    let io_loop = IoLoop::new();
    let err = io_loop
        .run_sync(
            move || async move {
                let server = TestTcpServer::new(family);
                let result = TcpClient::new()
                    .connect_with(host, server.port, &settings.family(family))
                    .await;
                server.stop();
                result.unwrap_err()
            },
            Some(Duration::from_secs(60)),
        )
        .unwrap();
    io_loop.close().unwrap();
    err
}

fn ipv6_localhost_available() -> bool {
    if !have_ipv6() {
        skip("no IPv6 on this host (skipIfNoIPv6)");
        return false;
    }
    if !localhost_has_ipv6() {
        skip("localhost does not resolve to ipv6 (skipIfLocalhostV4)");
        return false;
    }
    true
}

#[test]
fn test_connect_ipv4_ipv4() {
    do_test_connect(Family::V4, "127.0.0.1", ConnectSettings::new());
}

#[test]
fn test_connect_ipv4_dual() {
    do_test_connect(Family::V4, "localhost", ConnectSettings::new());
}

#[test]
fn test_connect_ipv6_ipv6() {
    if ipv6_localhost_available() {
        do_test_connect(Family::V6, "::1", ConnectSettings::new());
    }
}

#[test]
fn test_connect_ipv6_dual() {
    if ipv6_localhost_available() {
        do_test_connect(Family::V6, "localhost", ConnectSettings::new());
    }
}

#[test]
fn test_connect_unspec_ipv4() {
    do_test_connect(Family::Unspecified, "127.0.0.1", ConnectSettings::new());
}

#[test]
fn test_connect_unspec_ipv6() {
    if ipv6_localhost_available() {
        do_test_connect(Family::Unspecified, "::1", ConnectSettings::new());
    }
}

#[test]
fn test_connect_unspec_dual() {
    do_test_connect(Family::Unspecified, "localhost", ConnectSettings::new());
}

/// A port on which nothing listens (`refusing_port`).
fn refusing_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn test_refused_ipv4() {
    gen_test(|| async {
        let port = refusing_port();
        let err = TcpClient::new()
            .connect("127.0.0.1", port)
            .await
            .unwrap_err();
        let closed = stream_closed_error(&err).expect("a StreamClosedError");
        assert_eq!(
            closed.real_error().unwrap().kind(),
            io::ErrorKind::ConnectionRefused
        );
    });
}

/// `tls_context`: TLS that accepts any certificate (the server never answers anyway).
fn tls_no_verify() -> TlsClientOptions {
    TlsClientOptions::new().validate_cert(false)
}

// In the next three tests the server accepts the connection but never answers the TLS
// handshake. The client's socket must be closed when the attempt is abandoned (Tornado
// #3614): the server's read_until_close completes only once the client has closed it.

#[test]
fn test_connect_tls_timeout_closes_stream() {
    gen_test(|| async {
        let server = TestTcpServer::new(Family::V4);
        let port = server.port;
        // Long enough for the TCP connect to finish even on a busy machine (Tornado: 0.5 s),
        // so that it expires in the handshake, which the server never answers.
        let settings = ConnectSettings::new()
            .tls(tls_no_verify())
            .timeout(Duration::from_secs(2));
        let err = TcpClient::new()
            .connect_with("127.0.0.1", port, &settings)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let timeout = err.get_ref().unwrap().downcast_ref::<TimeoutError>();
        assert_eq!(
            timeout.unwrap().to_string(),
            format!("Timeout during TLS handshake with 127.0.0.1:{port}")
        );
        let server_stream = server.next_stream().await;
        server_stream.read_until_close().await.unwrap();
        server.stop();
    });
}

fn do_test_connect_tls_cancel(timeout: Option<Duration>) {
    gen_test(move || async move {
        let server = TestTcpServer::new(Family::V4);
        let mut settings = ConnectSettings::new().tls(tls_no_verify());
        if let Some(t) = timeout {
            settings = settings.timeout(t);
        }
        let port = server.port;
        let connect = IoLoop::current().spawn(async move {
            TcpClient::new()
                .connect_with("127.0.0.1", port, &settings)
                .await
        });
        let server_stream = server.next_stream().await;
        // The handshake has started: the client is past the TCP connect.
        server_stream.read_bytes(1, true).await.unwrap();
        connect.cancel();
        server_stream.read_until_close().await.unwrap();
        server.stop();
    });
}

#[test]
fn test_connect_tls_cancel_closes_stream() {
    do_test_connect_tls_cancel(None);
}

#[test]
fn test_connect_tls_cancel_with_timeout_closes_stream() {
    // A timeout is set, but the caller gives up first.
    do_test_connect_tls_cancel(Some(Duration::from_secs(3600)));
}

#[test]
fn test_source_ip_fail() {
    // 8.8.8.8 is not an address of this host: binding it fails.
    let settings = ConnectSettings::new().source_ip("8.8.8.8".parse().unwrap());
    let err = connect_error(Family::V4, "127.0.0.1", settings);
    assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable);
}

/// Answers every name with the same addresses.
struct FixedResolver(Addresses);

impl Resolver for FixedResolver {
    fn resolve<'a>(&'a self, _host: &'a str, _port: u16, _family: Family) -> ResolveFuture<'a> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

#[test]
fn test_source_ip_mixed_families() {
    // Binding an IPv4 source address on an IPv6 socket fails (as does making the socket,
    // without IPv6): the client falls back to the IPv4 address at once.
    gen_test(|| async {
        let server = TestTcpServer::new(Family::V4);
        let port = server.port;
        let client = TcpClient::with_resolver(FixedResolver(vec![
            (Family::V6, SocketAddr::new("::1".parse().unwrap(), port)),
            (
                Family::V4,
                SocketAddr::new("127.0.0.1".parse().unwrap(), port),
            ),
        ]));
        let settings = ConnectSettings::new().source_ip("127.0.0.1".parse().unwrap());
        let stream = client
            .connect_with("localhost", port, &settings)
            .await
            .unwrap();
        assert!(stream.local_addr().unwrap().is_ipv4());
        stream.close(None);
        server.stop();
    });
}

#[test]
fn test_source_ip_success() {
    do_test_connect(
        Family::V4,
        "127.0.0.1",
        ConnectSettings::new().source_ip("127.0.0.1".parse().unwrap()),
    );
}

#[test]
fn test_source_port_fail() {
    if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
        // Root may bind any port, so this cannot be made to fail.
        skip("running as root");
        return;
    }
    let settings = ConnectSettings::new().source_port(1);
    let err = connect_error(Family::V4, "127.0.0.1", settings);
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
}

#[test]
fn source_port_success() {
    // Beyond Tornado: the connection really leaves from the port asked for (with no source
    // IP, from the unspecified address of the destination's family).
    gen_test(|| async {
        let server = TestTcpServer::new(Family::V4);
        let free = refusing_port();
        let settings = ConnectSettings::new().source_port(free);
        let stream = TcpClient::new()
            .connect_with("127.0.0.1", server.port, &settings)
            .await
            .unwrap();
        assert_eq!(stream.local_addr().unwrap().port(), free);
        let server_stream = server.next_stream().await;
        assert_eq!(server_stream.peer_addr().unwrap().port(), free);
        stream.close(None);
        server.stop();
    });
}

/// A resolver whose answer never comes.
struct HangingResolver;

impl Resolver for HangingResolver {
    fn resolve<'a>(&'a self, _host: &'a str, _port: u16, _family: Family) -> ResolveFuture<'a> {
        Box::pin(std::future::pending())
    }
}

#[test]
fn test_connect_timeout() {
    gen_test(|| async {
        let settings = ConnectSettings::new().timeout(Duration::from_millis(50));
        let err = TcpClient::with_resolver(HangingResolver)
            .connect_with("example.com", 12345, &settings)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(err.to_string(), "Timeout while resolving example.com");
    });
}

#[test]
fn happy_eyeballs_falls_through_refused_addresses() {
    // Beyond Tornado: real refusals move the client on, within a family and (when IPv6 is
    // there) to the other family at once, without waiting 0.3 s.
    gen_test(|| async {
        let server = TestTcpServer::new(Family::V4);
        let refused = refusing_port();
        let mut addrs = vec![
            (Family::V4, SocketAddr::from(([127, 0, 0, 1], refused))),
            (Family::V4, SocketAddr::from(([127, 0, 0, 1], server.port))),
        ];
        if have_ipv6() {
            let v6 = TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap();
            addrs.insert(0, (Family::V6, v6));
        }
        let client = TcpClient::with_resolver(FixedResolver(addrs));
        let stream = client.connect("example.com", 0).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), server.port);
        let server_stream = server.next_stream().await;
        stream.write(&b"x"[..]);
        assert_eq!(&server_stream.read_bytes(1, false).await.unwrap()[..], b"x");
        server.stop();
    });
}

#[test]
fn resolve_error_is_reported() {
    gen_test(|| async {
        let err = TcpClient::new()
            .connect("an invalid domain", 80)
            .await
            .unwrap_err();
        assert!(tornado_tcpserver::is_resolve_error(&err), "{err}");
    });
}

/// Echoes lines.
struct Echo;

impl StreamHandler for Echo {
    async fn handle_stream(&self, stream: IoStream, _address: Option<SocketAddr>) {
        while let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
            if stream.write(line).await.is_err() {
                break;
            }
        }
    }
}

fn tls_echo_server() -> (TcpServer<Echo>, u16, String) {
    let (cert, key) = self_signed(&["localhost"]);
    let options = TlsServerOptions::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let server = TcpServer::with_settings(Echo, ServerSettings::new().tls(options));
    let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
    (server, port, cert)
}

#[test]
fn tls_connect_checks_the_certificate() {
    // The server's certificate is trusted (ca_certs) and names "localhost", the host given
    // to connect, which is the default server_hostname.
    gen_test(|| async {
        let (server, port, cert) = tls_echo_server();
        let tls = TlsClientOptions::new()
            .with_ca_certs_pem(cert.as_bytes())
            .unwrap();
        let settings = ConnectSettings::new()
            .tls(tls)
            .timeout(Duration::from_secs(30));
        let stream = TcpClient::new()
            .connect_with("localhost", port, &settings)
            .await
            .unwrap();
        let ssl = stream.as_ssl().expect("a TLS stream");
        assert!(!ssl.is_handshaking());
        assert!(ssl.peer_certificates().is_some());
        stream.write(&b"secret\n"[..]);
        let line = stream.read_until(b"\n", None).await.unwrap();
        assert_eq!(&line[..], b"secret\n");
        stream.close(None);
        server.stop();
    });
}

#[test]
fn tls_connect_rejects_wrong_name_and_untrusted_certificates() {
    gen_test(|| async {
        let (server, port, cert) = tls_echo_server();
        let _expect = ExpectLog::new(GENERAL, "SSL Error").required(false);
        let trusted = TlsClientOptions::new()
            .with_ca_certs_pem(cert.as_bytes())
            .unwrap();
        // Trusted, but the certificate does not name 127.0.0.1.
        let settings = ConnectSettings::new().tls(trusted.clone());
        let err = TcpClient::new()
            .connect_with("127.0.0.1", port, &settings)
            .await
            .unwrap_err();
        assert!(stream_closed_error(&err).is_some(), "{err}");
        // The same, with server_hostname set to the certificate's name: accepted.
        let named = settings.clone().server_hostname("localhost");
        let ok = TcpClient::new()
            .connect_with("127.0.0.1", port, &named)
            .await;
        ok.unwrap().close(None);
        // Not trusted at all (the default roots).
        let untrusted = ConnectSettings::new().tls(TlsClientOptions::new());
        let err = TcpClient::new()
            .connect_with("localhost", port, &untrusted)
            .await
            .unwrap_err();
        assert!(stream_closed_error(&err).is_some(), "{err}");
        server.stop();
    });
}

#[test]
fn shared_resolver_is_not_closed_by_the_client() {
    // TCPClient(resolver) leaves the resolver open; TCPClient() closes its own.
    struct Counting(Rc<Cell<u32>>);
    impl Resolver for Counting {
        fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
            tornado_tcpserver::BlockingResolver.resolve(host, port, family)
        }
        fn close(&self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let closes = Rc::new(Cell::new(0));
    let client = TcpClient::with_resolver(Counting(closes.clone()));
    client.close();
    assert_eq!(closes.get(), 0);
}
