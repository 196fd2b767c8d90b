//! [`TcpClient`]: connect to a host and port with happy eyeballs, a deadline and optional TLS
//! (`tornado.tcpclient`).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::time::Instant;

use tornado_concurrent::TimeoutError;
use tornado_gen::with_timeout;
use tornado_ioloop::Deadline;
#[cfg(feature = "tls")]
use tornado_iostream::TlsClientOptions;
use tornado_iostream::{IoStream, StreamSettings};

#[cfg(feature = "tls")]
use crate::connector::format_addr;
use crate::connector::{
    Abandon, AttemptFuture, ConnectFn, Connector, INITIAL_CONNECT_TIMEOUT, Outcome,
};
use crate::netutil::Family;
use crate::resolver::{DefaultLoopResolver, Resolver, resolve_error};

/// Options of [`TcpClient::connect_with`] (the keyword arguments of Tornado's
/// `TCPClient.connect`).
#[derive(Clone, Debug, Default)]
pub struct ConnectSettings {
    family: Family,
    #[cfg(feature = "tls")]
    tls: Option<TlsClientOptions>,
    #[cfg(feature = "tls")]
    server_hostname: Option<String>,
    stream: StreamSettings,
    source_ip: Option<IpAddr>,
    source_port: Option<u16>,
    timeout: Option<Deadline>,
}

impl ConnectSettings {
    /// Tornado's defaults: any family, no TLS, no source address, no timeout.
    pub fn new() -> Self {
        ConnectSettings::default()
    }

    /// Which address families to try (`af`). Default is [`Family::Unspecified`]: every
    /// address the host resolves to.
    pub fn family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// Speaks TLS over the connection, checking the server's certificate (`ssl_options`).
    /// Default: plain TCP.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, options: TlsClientOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// The name the server's certificate is checked against (and sent as SNI). Default: the
    /// host given to `connect`, as in Tornado.
    #[cfg(feature = "tls")]
    pub fn server_hostname(mut self, name: impl Into<String>) -> Self {
        self.server_hostname = Some(name.into());
        self
    }

    /// The buffer limits of the stream (`max_buffer_size`). Default:
    /// [`StreamSettings::default`].
    pub fn stream_settings(mut self, settings: StreamSettings) -> Self {
        self.stream = settings;
        self
    }

    /// The local address to connect from (`source_ip`). Default: the system chooses.
    pub fn source_ip(mut self, ip: IpAddr) -> Self {
        self.source_ip = Some(ip);
        self
    }

    /// The local port to connect from (`source_port`). Default: the system chooses.
    pub fn source_port(mut self, port: u16) -> Self {
        self.source_port = Some(port);
        self
    }

    /// A deadline for the whole connect: resolving, connecting and the TLS handshake
    /// (`timeout`); an [`Instant`] or a [`Duration`](std::time::Duration) from the call.
    /// Past it, every socket still connecting is closed and the connect fails with a
    /// [`TimeoutError`] (kind [`io::ErrorKind::TimedOut`]) whose message names the phase.
    /// Default: none.
    pub fn timeout(mut self, timeout: impl Into<Deadline>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    /// The address to bind before connecting to `addr`, if any. With a port and no IP, the
    /// unspecified address of `addr`'s family (Tornado binds the loopback address there,
    /// which fails for any other destination; see DIFFERENCES.md).
    fn source_for(&self, addr: &SocketAddr) -> Option<SocketAddr> {
        match (self.source_ip, self.source_port) {
            (None, None) => None,
            (Some(ip), port) => Some(SocketAddr::new(ip, port.unwrap_or(0))),
            (None, Some(port)) => {
                let any = if addr.is_ipv4() {
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                } else {
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                };
                Some(SocketAddr::new(any, port))
            }
        }
    }
}

/// A non-blocking TCP connection factory (`tornado.tcpclient.TCPClient`).
///
/// [`connect`](TcpClient::connect) resolves the host with the client's [`Resolver`], then
/// connects with happy eyeballs (RFC 6555) as Tornado does: the addresses of the first
/// address's family are tried one after another; the other family starts 0.3 s later, or as
/// soon as an attempt fails; the first connection made wins and every other socket is
/// closed. With TLS options, the TLS handshake follows.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_tcpserver::{ConnectSettings, TcpClient, bind_sockets};
///
/// let io_loop = IoLoop::new();
/// io_loop.run_sync(|| async {
///     let listener = bind_sockets(0, Some("127.0.0.1")).unwrap().remove(0);
///     let port = listener.local_addr().unwrap().port();
///     let client = TcpClient::new();
///     let settings = ConnectSettings::new().timeout(Duration::from_secs(5));
///     let stream = client.connect_with("localhost", port, &settings).await.unwrap();
///     assert_eq!(stream.peer_addr().unwrap().port(), port);
/// }, Some(Duration::from_secs(10))).unwrap();
/// ```
#[derive(Clone)]
pub struct TcpClient {
    resolver: Rc<dyn Resolver>,
    own_resolver: bool,
}

impl Default for TcpClient {
    fn default() -> Self {
        TcpClient::new()
    }
}

impl TcpClient {
    /// A client with the default resolver ([`DefaultLoopResolver`]) (`TCPClient()`).
    pub fn new() -> Self {
        TcpClient {
            resolver: Rc::new(DefaultLoopResolver),
            own_resolver: true,
        }
    }

    /// A client resolving with `resolver` (`TCPClient(resolver)`); [`close`](TcpClient::close)
    /// leaves it open. Pass an `Rc` to share one resolver between clients.
    pub fn with_resolver(resolver: impl Resolver + 'static) -> Self {
        TcpClient {
            resolver: Rc::new(resolver),
            own_resolver: false,
        }
    }

    /// Closes the resolver if the client made it (`TCPClient.close`).
    pub fn close(&self) {
        if self.own_resolver {
            self.resolver.close();
        }
    }

    /// Connects to `host` (a name or an IP address) and `port` with Tornado's defaults
    /// (`TCPClient.connect(host, port)`).
    pub async fn connect(&self, host: &str, port: u16) -> io::Result<IoStream> {
        self.connect_with(host, port, &ConnectSettings::default())
            .await
    }

    /// Connects to `host` and `port` (`TCPClient.connect(host, port, af, ssl_options,
    /// max_buffer_size, source_ip, source_port, timeout)`).
    ///
    /// Gives the connected stream, a TLS one (see
    /// [`IoStream::as_ssl`](tornado_iostream::IoStream::as_ssl)) when `settings` has TLS
    /// options. Fails with the error of the last address tried (a refused connection is a
    /// [`StreamClosedError`](tornado_iostream::StreamClosedError) keeping the OS error), a
    /// [`ResolveError`](crate::ResolveError), a TLS error, or a [`TimeoutError`] past the
    /// deadline. Dropping the future closes every socket it opened.
    pub async fn connect_with(
        &self,
        host: &str,
        port: u16,
        settings: &ConnectSettings,
    ) -> io::Result<IoStream> {
        let s = settings.clone();
        let connect: ConnectFn<IoStream> =
            Box::new(move |_family, addr| create_stream(addr, s.source_for(&addr), s.stream));
        self.connect_using(host, port, settings, connect).await
    }

    /// `connect_with`, with the way one address is connected given (Tornado's tests
    /// override `_create_stream` the same way).
    pub(crate) async fn connect_using(
        &self,
        host: &str,
        port: u16,
        settings: &ConnectSettings,
        connect: ConnectFn<IoStream>,
    ) -> io::Result<IoStream> {
        let deadline: Option<Instant> = settings.timeout.map(Deadline::instant);
        let resolving = self.resolver.resolve(host, port, settings.family);
        let addrinfo = match deadline {
            Some(at) => with_timeout(at, resolving)
                .message(format!("Timeout while resolving {host}"))
                .await
                .map_err(timed_out)??,
            None => resolving.await?,
        };
        if addrinfo.is_empty() {
            // A resolver of the user's may answer nothing; Tornado would fail on an index.
            return Err(resolve_error(host, port, None));
        }
        let mut connector = Connector::start(addrinfo, connect, INITIAL_CONNECT_TIMEOUT, deadline);
        let (_family, _addr, stream) = poll_fn(|cx| connector.poll_connect(cx)).await?;
        drop(connector);
        #[cfg(feature = "tls")]
        if let Some(tls) = &settings.tls {
            let server_hostname = settings.server_hostname.as_deref().unwrap_or(host);
            return start_tls(stream, _addr, server_hostname, tls, deadline).await;
        }
        Ok(stream)
    }
}

/// The TLS handshake of `connect`, within the deadline. Dropping the handshake (at the
/// deadline, or when the caller gives up) closes the stream.
#[cfg(feature = "tls")]
async fn start_tls(
    stream: IoStream,
    addr: SocketAddr,
    server_hostname: &str,
    tls: &TlsClientOptions,
    deadline: Option<Instant>,
) -> io::Result<IoStream> {
    let handshake = stream.start_tls_client(server_hostname, tls);
    let tls_stream = match deadline {
        Some(at) => {
            let addr = format_addr(&addr);
            with_timeout(at, handshake)
                .message_with(move || format!("Timeout during TLS handshake with {addr}"))
                .await
                .map_err(timed_out)??
        }
        None => handshake.await?,
    };
    Ok(tls_stream.into_inner())
}

fn timed_out(e: TimeoutError) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, e)
}

impl Abandon for IoStream {
    fn abandon(&self) {
        self.close(None);
    }
}

/// Starts one connect (Tornado's `TCPClient._create_stream`): always plain TCP; TLS starts
/// once a connection is made.
fn create_stream(
    addr: SocketAddr,
    source: Option<SocketAddr>,
    settings: StreamSettings,
) -> io::Result<(IoStream, AttemptFuture<IoStream>)> {
    let stream = IoStream::start_connect(addr, source, settings)?;
    let s = stream.clone();
    let attempt: AttemptFuture<IoStream> = Box::pin(async move {
        match s.wait_connected().await {
            Ok(()) => Outcome::Connected(s),
            Err(e) => Outcome::Failed(e),
        }
    });
    Ok((stream, attempt))
}

impl fmt::Debug for TcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("own_resolver", &self.own_resolver)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tornado_ioloop::IoLoop;

    use super::*;
    use crate::resolver::ResolveFuture;

    /// Resolves every name to one IPv6 and one IPv4 documentation address.
    struct FakeResolver;

    impl Resolver for FakeResolver {
        fn resolve<'a>(&'a self, _: &'a str, port: u16, _: Family) -> ResolveFuture<'a> {
            let v6 = SocketAddr::new("2001:db8::1".parse().unwrap(), port);
            let v4 = SocketAddr::new("192.0.2.1".parse().unwrap(), port);
            Box::pin(std::future::ready(Ok(vec![
                (Family::V6, v6),
                (Family::V4, v4),
            ])))
        }
    }

    #[test]
    fn test_connect_timeout_during_tcp_connect() {
        // TCPClientTest.test_connect_timeout_during_tcp_connect: connects that never
        // complete (Tornado's HangingTCPClient). The timeout is longer than the 0.3 s
        // happy-eyeballs timer, so both families are being tried when it expires; both
        // streams are closed then.
        let io_loop = IoLoop::new();
        let streams: Rc<std::cell::RefCell<Vec<IoStream>>> = Rc::default();
        let kept = streams.clone();
        let err = io_loop
            .run_sync(
                move || async move {
                    let hanging: ConnectFn<IoStream> = Box::new(move |_, _| {
                        let (stream, _peer) = IoStream::pair()?;
                        kept.borrow_mut().push(stream.clone());
                        let attempt: AttemptFuture<IoStream> = Box::pin(std::future::pending());
                        Ok((stream, attempt))
                    });
                    let settings = ConnectSettings::new().timeout(Duration::from_millis(500));
                    TcpClient::with_resolver(FakeResolver)
                        .connect_using("example.com", 443, &settings, hanging)
                        .await
                        .unwrap_err()
                },
                Some(Duration::from_secs(60)),
            )
            .unwrap();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            err.to_string(),
            "Timeout while connecting to 192.0.2.1:443, [2001:db8::1]:443"
        );
        let streams = streams.borrow();
        assert_eq!(streams.len(), 2);
        assert!(streams.iter().all(IoStream::closed));
    }
}
