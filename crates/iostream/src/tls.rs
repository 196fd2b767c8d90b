//! TLS over a stream with rustls (feature `tls`): [`SslIoStream`], `start_tls`, and the
//! configurations that replace Tornado's `ssl_options`.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, Connection, DigitallySignedStruct, RootCertStore};
use rustls::{ServerConfig, ServerConnection, SignatureScheme};

use crate::buffer::{ReadBuffer, WriteBuffer};
use crate::socket::Socket;
use crate::stream::{Fill, Stream};
use crate::transport::{FlushProgress, ReadOutcome, Transport};
use crate::{IoStream, StreamSettings};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

fn pem_error(what: &str, e: rustls::pki_types::pem::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

/// A TLS server configuration: Tornado's `ssl_options` for `TCPServer` / `HTTPServer`.
#[derive(Clone)]
pub struct TlsServerOptions {
    config: Arc<ServerConfig>,
}

impl TlsServerOptions {
    /// From a PEM certificate chain file and a PEM private key file (`{"certfile": ...,
    /// "keyfile": ...}`). A missing file is an error, as in Tornado.
    pub fn from_pem_files(
        certfile: impl AsRef<Path>,
        keyfile: impl AsRef<Path>,
    ) -> io::Result<Self> {
        let certs = CertificateDer::pem_file_iter(certfile.as_ref())
            .map_err(|e| pem_error("certfile", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("certfile", e))?;
        let key =
            PrivateKeyDer::from_pem_file(keyfile.as_ref()).map_err(|e| pem_error("keyfile", e))?;
        TlsServerOptions::from_der(certs, key)
    }

    /// From a PEM certificate chain and a PEM private key in memory.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("certificate", e))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| pem_error("key", e))?;
        TlsServerOptions::from_der(certs, key)
    }

    fn from_der(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<Self> {
        if certs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no certificate found",
            ));
        }
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(tls_error)?;
        Ok(TlsServerOptions {
            config: Arc::new(config),
        })
    }

    /// From a rustls configuration built by hand (client authentication, ALPN, ...).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        TlsServerOptions { config }
    }

    /// Sets the ALPN protocols offered, most preferred first.
    pub fn with_alpn(mut self, protocols: &[&[u8]]) -> Self {
        Arc::make_mut(&mut self.config).alpn_protocols =
            protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

impl fmt::Debug for TlsServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerOptions").finish_non_exhaustive()
    }
}

/// A TLS client configuration: Tornado's client `ssl_options` / `validate_cert`,
/// `ca_certs`, `client_cert` and `client_key`.
///
/// [`TlsClientOptions::default`] validates certificates against Mozilla's root store
/// (`webpki-roots`), as Tornado's default context validates against the system's.
#[derive(Clone)]
pub struct TlsClientOptions {
    roots: Option<RootCertStore>,
    validate: bool,
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    alpn: Vec<Vec<u8>>,
    config: Option<Arc<ClientConfig>>,
}

impl Default for TlsClientOptions {
    fn default() -> Self {
        TlsClientOptions {
            roots: None,
            validate: true,
            client_auth: None,
            alpn: Vec::new(),
            config: None,
        }
    }
}

impl TlsClientOptions {
    /// Validating against Mozilla's roots.
    pub fn new() -> Self {
        TlsClientOptions::default()
    }

    /// Trusts the certificates of a PEM file instead of the default roots (`ca_certs`).
    pub fn with_ca_certs_file(self, path: impl AsRef<Path>) -> io::Result<Self> {
        let certs = CertificateDer::pem_file_iter(path.as_ref())
            .map_err(|e| pem_error("ca_certs", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("ca_certs", e))?;
        self.with_ca_certs_der(certs)
    }

    /// Trusts the certificates of a PEM string instead of the default roots.
    pub fn with_ca_certs_pem(self, pem: &[u8]) -> io::Result<Self> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("ca_certs", e))?;
        self.with_ca_certs_der(certs)
    }

    fn with_ca_certs_der(mut self, certs: Vec<CertificateDer<'static>>) -> io::Result<Self> {
        let mut store = RootCertStore::empty();
        for c in certs {
            store.add(c).map_err(tls_error)?;
        }
        self.roots = Some(store);
        Ok(self)
    }

    /// Presents a client certificate (`client_cert` and `client_key`, PEM).
    pub fn with_client_cert_pem(mut self, cert_pem: &[u8], key_pem: &[u8]) -> io::Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("client_cert", e))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| pem_error("client_key", e))?;
        self.client_auth = Some((certs, Arc::new(key)));
        Ok(self)
    }

    /// Whether the server's certificate is checked (`validate_cert`). Default is `true`.
    /// Turning it off accepts any certificate: for tests against self-signed servers only.
    pub fn validate_cert(mut self, validate: bool) -> Self {
        self.validate = validate;
        self
    }

    /// Sets the ALPN protocols offered, most preferred first.
    pub fn with_alpn(mut self, protocols: &[&[u8]]) -> Self {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// Uses a rustls configuration built by hand; the other settings are then ignored.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        TlsClientOptions {
            config: Some(config),
            ..TlsClientOptions::default()
        }
    }

    /// The rustls configuration these options describe.
    pub fn build(&self) -> io::Result<Arc<ClientConfig>> {
        if let Some(c) = &self.config {
            return Ok(c.clone());
        }
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?;
        let builder = if self.validate {
            let roots = self.roots.clone().unwrap_or_else(|| RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            });
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
        };
        let mut config = match &self.client_auth {
            Some((certs, key)) => builder
                .with_client_auth_cert(certs.clone(), key.clone_key())
                .map_err(tls_error)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn.clone();
        Ok(Arc::new(config))
    }
}

impl fmt::Debug for TlsClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientOptions")
            .field("validate_cert", &self.validate)
            .field("custom_roots", &self.roots.is_some())
            .field("client_cert", &self.client_auth.is_some())
            .finish_non_exhaustive()
    }
}

/// `validate_cert=False`: any certificate is accepted, but handshake signatures are still
/// checked (so the session keys are at least those of the certificate's owner).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A socket with a rustls connection over it (rustls is sans-I/O: this feeds it).
pub(crate) struct TlsTransport {
    sock: Socket,
    conn: RefCell<Connection>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport")
            .field("socket", &self.sock)
            .field("handshaking", &self.conn.borrow().is_handshaking())
            .finish()
    }
}

/// `io::Write` for a shared socket reference (rustls writes records through it).
struct SocketWriter<'a>(&'a Socket);

impl Write for SocketWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_vectored(&[io::IoSlice::new(buf)])
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TlsTransport {
    pub(crate) fn socket(&self) -> &Socket {
        &self.sock
    }

    pub(crate) fn wants_write(&self) -> bool {
        self.conn.borrow().wants_write()
    }

    /// Reads ciphertext into half of `scratch`, decrypts it, and appends the plaintext
    /// (through the other half) to `rbuf`.
    pub(crate) fn read(
        &self,
        scratch: &mut [u8],
        rbuf: &mut ReadBuffer,
    ) -> io::Result<ReadOutcome> {
        let half = scratch.len() / 2;
        let (cipher, plain) = scratch.split_at_mut(half.max(1));
        let mut conn = self.conn.borrow_mut();
        let received = match self.sock.read(cipher) {
            Ok(0) => return Ok(ReadOutcome::Eof),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(ReadOutcome::WouldBlock),
            Err(e) => return Err(e),
        };
        let drained = received < cipher.len();
        let mut input: &[u8] = &cipher[..received];
        let mut appended = 0;
        let mut peer_closed = false;
        loop {
            if !input.is_empty() {
                conn.read_tls(&mut input)?;
            }
            let state = conn.process_new_packets().map_err(tls_error)?;
            peer_closed |= state.peer_has_closed();
            // Drain the plaintext so that rustls accepts more ciphertext.
            loop {
                match conn.reader().read(plain) {
                    Ok(0) => {
                        peer_closed = true;
                        break;
                    }
                    Ok(n) => {
                        rbuf.extend(&plain[..n]);
                        appended += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // The peer closed without close_notify: a truncation attack is
                    // possible only for protocols without their own framing; HTTP has it.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        peer_closed = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if input.is_empty() {
                break;
            }
        }
        if appended > 0 {
            Ok(ReadOutcome::Data {
                n: appended,
                drained,
            })
        } else if peer_closed {
            Ok(ReadOutcome::Eof)
        } else {
            Ok(ReadOutcome::NoData)
        }
    }

    /// Encrypts from `wbuf` and writes records until everything is out or the socket is full.
    pub(crate) fn flush(&self, wbuf: &mut WriteBuffer) -> io::Result<FlushProgress> {
        let mut conn = self.conn.borrow_mut();
        let mut progress = FlushProgress::default();
        loop {
            while conn.wants_write() {
                match conn.write_tls(&mut SocketWriter(&self.sock)) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        progress.blocked = true;
                        return Ok(progress);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if wbuf.is_empty() {
                return Ok(progress);
            }
            let n = conn.writer().write(wbuf.front())?;
            if n == 0 && !conn.wants_write() {
                // rustls holds plaintext until the handshake is done; the read side will
                // drive the handshake and a later flush sends the rest.
                return Ok(progress);
            }
            wbuf.advance(n);
            progress.written += n;
        }
    }
}

/// A TLS stream (Tornado's `SSLIOStream`): an [`IoStream`] (to which it dereferences) whose
/// bytes are encrypted with rustls, plus the TLS-only methods.
///
/// The handshake runs lazily, driven by the first read and write, as in Tornado;
/// [`wait_for_handshake`](SslIoStream::wait_for_handshake) waits for it explicitly.
#[derive(Clone, Debug)]
pub struct SslIoStream {
    stream: IoStream,
}

impl Deref for SslIoStream {
    type Target = IoStream;
    fn deref(&self) -> &IoStream {
        &self.stream
    }
}

impl SslIoStream {
    /// The server side of TLS over an accepted TCP socket. The handshake happens with the
    /// first reads and writes (or [`wait_for_handshake`](SslIoStream::wait_for_handshake)).
    pub fn server(
        socket: std::net::TcpStream,
        options: &TlsServerOptions,
    ) -> io::Result<SslIoStream> {
        SslIoStream::server_with(socket, options, StreamSettings::default())
    }

    /// [`server`](SslIoStream::server) with other buffer limits.
    pub fn server_with(
        socket: std::net::TcpStream,
        options: &TlsServerOptions,
        settings: StreamSettings,
    ) -> io::Result<SslIoStream> {
        socket.set_nonblocking(true)?;
        SslIoStream::over(Socket::Tcp(socket), server_conn(options)?, settings)
    }

    /// Connects to `addr` and completes a TLS handshake, checking the certificate against
    /// `server_hostname` (`SSLIOStream.connect`).
    pub async fn connect(
        addr: std::net::SocketAddr,
        server_hostname: &str,
        options: &TlsClientOptions,
    ) -> io::Result<SslIoStream> {
        let stream = IoStream::connect(addr).await?;
        stream.start_tls_client(server_hostname, options).await
    }

    fn over(sock: Socket, conn: Connection, settings: StreamSettings) -> io::Result<SslIoStream> {
        let transport = Transport::Tls(Box::new(TlsTransport {
            sock,
            conn: RefCell::new(conn),
        }));
        let stream = IoStream::from_transport(transport, settings, false)?;
        // A client owes the server its hello: start sending it now.
        let _ = stream.inner.try_flush();
        Ok(SslIoStream { stream })
    }

    /// Resolves once the TLS handshake has completed (`wait_for_handshake`); fails with the
    /// TLS error (as the `real_error` of a `StreamClosedError`) if it failed. Counts as the
    /// stream's one outstanding read while it waits.
    pub async fn wait_for_handshake(&self) -> io::Result<()> {
        if self.stream.inner.reading.replace(true) {
            return Err(io::Error::other("Already reading"));
        }
        let result = poll_fn(|cx| poll_handshake(&self.stream.inner, cx)).await;
        self.stream.inner.end_read();
        result
    }

    /// `true` while the handshake is in progress.
    pub fn is_handshaking(&self) -> bool {
        self.with_conn(|c| c.is_handshaking()).unwrap_or(false)
    }

    /// The ALPN protocol agreed on, if any.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.with_conn(|c| c.alpn_protocol().map(<[u8]>::to_vec))
            .flatten()
    }

    /// The peer's certificate chain, DER-encoded, leaf first (`get_ssl_certificate(
    /// binary_form=True)`); `None` before the handshake or if the peer sent none.
    pub fn peer_certificates(&self) -> Option<Vec<Vec<u8>>> {
        self.with_conn(|c| {
            c.peer_certificates()
                .map(|certs| certs.iter().map(|c| c.as_ref().to_vec()).collect())
        })
        .flatten()
    }

    /// The plain stream handle (the bytes it carries are still encrypted).
    pub fn into_inner(self) -> IoStream {
        self.stream
    }

    fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        match self.stream.inner.transport.borrow().as_ref() {
            Some(Transport::Tls(t)) => Some(f(&t.conn.borrow())),
            _ => None,
        }
    }
}

fn poll_handshake(stream: &Stream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    loop {
        let handshaking = match stream.transport.borrow().as_ref() {
            Some(Transport::Tls(t)) => t.conn.borrow().is_handshaking(),
            Some(_) => false,
            None => return Poll::Ready(Err(stream.closed_error())),
        };
        if !handshaking {
            return Poll::Ready(Ok(()));
        }
        if let Err(e) = stream.try_flush() {
            return Poll::Ready(Err(e));
        }
        match stream.poll_fill(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Fill::Data) => {}
            Poll::Ready(Fill::Closed) => return Poll::Ready(Err(stream.closed_error())),
        }
    }
}

fn server_conn(options: &TlsServerOptions) -> io::Result<Connection> {
    Ok(Connection::Server(
        ServerConnection::new(options.config.clone()).map_err(tls_error)?,
    ))
}

fn client_conn(server_hostname: &str, options: &TlsClientOptions) -> io::Result<Connection> {
    let name = ServerName::try_from(server_hostname.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(Connection::Client(
        ClientConnection::new(options.build()?, name).map_err(tls_error)?,
    ))
}

impl IoStream {
    /// This stream as an [`SslIoStream`] (a handle to the same stream), if it uses TLS.
    pub fn as_ssl(&self) -> Option<SslIoStream> {
        match self.inner.transport.borrow().as_ref() {
            Some(Transport::Tls(_)) => Some(SslIoStream {
                stream: self.clone(),
            }),
            _ => None,
        }
    }

    /// Turns this (idle) stream into the server side of a TLS stream and completes the
    /// handshake (`start_tls(server_side=True, ssl_options)`). The stream must have nothing
    /// buffered or pending, as Tornado requires; this handle is closed and the returned one
    /// carries the connection on. Dropping the future before it completes closes the
    /// connection.
    pub async fn start_tls_server(self, options: &TlsServerOptions) -> io::Result<SslIoStream> {
        let tls = self.convert(server_conn(options)?)?;
        tls.wait_for_handshake().await?;
        Ok(tls)
    }

    /// Turns this (idle) stream into the client side of a TLS stream and completes the
    /// handshake, checking the server's certificate against `server_hostname`
    /// (`start_tls(server_side=False, ssl_options, server_hostname)`).
    pub async fn start_tls_client(
        self,
        server_hostname: &str,
        options: &TlsClientOptions,
    ) -> io::Result<SslIoStream> {
        let tls = self.convert(client_conn(server_hostname, options)?)?;
        tls.wait_for_handshake().await?;
        Ok(tls)
    }

    fn convert(self, conn: Connection) -> io::Result<SslIoStream> {
        let inner = &self.inner;
        let idle = !inner.reading.get()
            && inner.rbuf.borrow().is_empty()
            && !inner.has_pending_output()
            && !inner.connecting.get();
        if !idle {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "IOStream is not idle; cannot convert to SSL",
            ));
        }
        let settings = inner.settings;
        let sock = match inner.detach() {
            Some(Transport::Plain(sock)) => sock,
            Some(other) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the stream already uses TLS ({other:?})"),
                ));
            }
            None => return Err(inner.closed_error()),
        };
        SslIoStream::over(sock, conn, settings)
    }
}
