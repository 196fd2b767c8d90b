//! [`IoStream`]: the public handle, its constructors and its state.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket as RawSocket, Type};
use tornado_ioloop::IoLoop;

use crate::settings::StreamSettings;
use crate::socket::Socket;
use crate::stream::Stream;
use crate::transport::Transport;

/// A non-blocking stream over a TCP or Unix socket or a pipe, with TLS optional
/// (Tornado's `IOStream`, `PipeIOStream`, and with the `tls` feature `SSLIOStream`).
///
/// An `IoStream` is a cheap handle (`Clone`); all clones are the same stream, so one task
/// can read while another writes. It belongs to the loop that was current when it was made,
/// and is `!Send`, like everything on a loop.
///
/// * Reads ([`read_until`](IoStream::read_until), [`read_until_regex`](IoStream::read_until_regex),
///   [`read_bytes`](IoStream::read_bytes), [`read_into`](IoStream::read_into),
///   [`read_until_close`](IoStream::read_until_close)) are `async fn`s; one may be outstanding
///   at a time. A read that the buffered data satisfies completes even after the stream closed.
/// * [`write`](IoStream::write) queues its data at once and returns a future that resolves
///   when the data has been handed to the OS; writes may be issued while connecting.
/// * A stream closes when either side closes it, on an I/O error, or when a limit is hit;
///   pending operations then fail with a [`StreamClosedError`](crate::StreamClosedError) that
///   keeps the real error. A connection reset counts as a quiet close.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_iostream::IoStream;
///
/// let io_loop = IoLoop::new();
/// io_loop.run_sync(|| async {
///     let (a, b) = IoStream::pair().unwrap();
///     a.write(&b"GET / HTTP/1.0\r\n\r\n"[..]).await.unwrap();
///     let head = b.read_until(b"\r\n\r\n", Some(64 * 1024)).await.unwrap();
///     assert_eq!(&head[..], b"GET / HTTP/1.0\r\n\r\n");
/// }, Some(Duration::from_secs(5))).unwrap();
/// ```
#[derive(Clone)]
pub struct IoStream {
    pub(crate) inner: Rc<Stream>,
}

/// Tornado's `PipeIOStream`: an [`IoStream`] over one end of a pipe (see
/// [`IoStream::from_pipe_reader`], [`IoStream::from_pipe_writer`], [`IoStream::pipe`]).
pub type PipeIoStream = IoStream;

impl IoStream {
    pub(crate) fn from_transport(
        transport: Transport,
        settings: StreamSettings,
        connecting: bool,
    ) -> io::Result<IoStream> {
        Ok(IoStream {
            inner: Stream::new(IoLoop::current(), transport, settings, connecting)?,
        })
    }

    /// A stream over a connected TCP socket (one from `accept`, say), on the current loop.
    pub fn from_tcp(stream: TcpStream) -> io::Result<IoStream> {
        IoStream::from_tcp_with(stream, StreamSettings::default())
    }

    /// [`from_tcp`](IoStream::from_tcp) with other buffer limits.
    pub fn from_tcp_with(stream: TcpStream, settings: StreamSettings) -> io::Result<IoStream> {
        stream.set_nonblocking(true)?;
        IoStream::from_transport(Transport::Plain(Socket::Tcp(stream)), settings, false)
    }

    /// A stream over a connected Unix socket, on the current loop.
    pub fn from_unix(stream: UnixStream) -> io::Result<IoStream> {
        IoStream::from_unix_with(stream, StreamSettings::default())
    }

    /// [`from_unix`](IoStream::from_unix) with other buffer limits.
    pub fn from_unix_with(stream: UnixStream, settings: StreamSettings) -> io::Result<IoStream> {
        stream.set_nonblocking(true)?;
        IoStream::from_transport(Transport::Plain(Socket::Unix(stream)), settings, false)
    }

    /// Two connected streams over a Unix socket pair, for tests and in-process plumbing.
    pub fn pair() -> io::Result<(IoStream, IoStream)> {
        let (a, b) = UnixStream::pair()?;
        Ok((IoStream::from_unix(a)?, IoStream::from_unix(b)?))
    }

    /// A stream reading from the read end of a pipe (`PipeIOStream(fd)`), e.g. a child
    /// process's stdout.
    pub fn from_pipe_reader(fd: impl Into<OwnedFd>) -> io::Result<PipeIoStream> {
        let receiver = mio::unix::pipe::Receiver::from(fd.into());
        receiver.set_nonblocking(true)?;
        IoStream::from_transport(
            Transport::Plain(Socket::PipeReader(receiver)),
            StreamSettings::default(),
            false,
        )
    }

    /// A stream writing to the write end of a pipe (`PipeIOStream(fd)`), e.g. a child
    /// process's stdin.
    pub fn from_pipe_writer(fd: impl Into<OwnedFd>) -> io::Result<PipeIoStream> {
        let sender = mio::unix::pipe::Sender::from(fd.into());
        sender.set_nonblocking(true)?;
        IoStream::from_transport(
            Transport::Plain(Socket::PipeWriter(sender)),
            StreamSettings::default(),
            false,
        )
    }

    /// A new pipe: (the stream that reads it, the stream that writes it).
    pub fn pipe() -> io::Result<(PipeIoStream, PipeIoStream)> {
        let (reader, writer) = std::io::pipe()?;
        Ok((
            IoStream::from_pipe_reader(reader)?,
            IoStream::from_pipe_writer(writer)?,
        ))
    }

    /// Connects to `addr` and gives the connected stream (`IOStream.connect`).
    ///
    /// A refused or failed connection is a [`StreamClosedError`](crate::StreamClosedError)
    /// whose [`real_error`](crate::StreamClosedError::real_error) is the OS error.
    pub async fn connect(addr: SocketAddr) -> io::Result<IoStream> {
        let stream = IoStream::start_connect(addr, None, StreamSettings::default())?;
        stream.wait_connected().await?;
        Ok(stream)
    }

    /// Starts connecting a new TCP socket to `addr` (bound first to `source`, if given) and
    /// returns the stream at once. Writes queue until the connection is made;
    /// [`wait_connected`](IoStream::wait_connected) waits for it.
    pub fn start_connect(
        addr: SocketAddr,
        source: Option<SocketAddr>,
        settings: StreamSettings,
    ) -> io::Result<IoStream> {
        let socket = RawSocket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        if let Some(source) = source {
            socket.bind(&source.into())?;
        }
        let connecting = match socket.connect(&addr.into()) {
            Ok(()) => false,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(EINPROGRESS) =>
            {
                true
            }
            Err(e) => {
                // Report it the way a connect that fails later is reported.
                let stream = IoStream::from_transport(
                    Transport::Plain(Socket::Tcp(socket.into())),
                    settings,
                    false,
                )?;
                stream.inner.close(Some(e));
                return Ok(stream);
            }
        };
        IoStream::from_transport(
            Transport::Plain(Socket::Tcp(socket.into())),
            settings,
            connecting,
        )
    }

    /// Connects to the Unix socket at `path`.
    pub async fn connect_unix(path: impl AsRef<Path>) -> io::Result<IoStream> {
        // Connecting a Unix socket completes at once (or fails at once).
        IoStream::from_unix(UnixStream::connect(path)?)
    }

    /// Resolves when a connect started by [`start_connect`](IoStream::start_connect) has
    /// finished; at once for a stream that was never connecting.
    pub async fn wait_connected(&self) -> io::Result<()> {
        poll_fn(|cx| self.inner.poll_connected(cx)).await
    }

    /// Closes the stream (`close`): the descriptor is closed at once, unsent data is dropped,
    /// pending operations fail, and the close callback runs after the callbacks already
    /// queued on the loop. `error`, if given, becomes [`error`](IoStream::error) and the
    /// `real_error` of the failures. Closing twice does nothing.
    pub fn close(&self, error: Option<io::Error>) {
        self.inner.close(error);
    }

    /// `true` once the stream is closed (`closed`).
    pub fn closed(&self) -> bool {
        self.inner.closed.get()
    }

    /// The error that closed the stream, if one did (`error`).
    pub fn error(&self) -> Option<Arc<io::Error>> {
        self.inner.error.borrow().clone()
    }

    /// `true` while a read is outstanding (`reading`).
    pub fn reading(&self) -> bool {
        self.inner.reading.get()
    }

    /// Runs `callback` once the stream closes, after the callbacks already queued on the loop
    /// (`set_close_callback`). While no read is outstanding, the stream then watches for the
    /// peer closing, as Tornado's does. Replaces any callback set before.
    pub fn set_close_callback(&self, callback: impl FnOnce() + 'static) {
        self.inner.set_close_callback(Some(Box::new(callback)));
    }

    /// Removes the close callback.
    pub fn clear_close_callback(&self) {
        self.inner.set_close_callback(None);
    }

    /// Turns Nagle's algorithm off (`true`) or on (`set_nodelay`). Only TCP streams have it;
    /// on others this does nothing.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        match self.inner.transport.borrow().as_ref() {
            Some(t) => t.socket().set_nodelay(nodelay),
            None => Err(self.inner.closed_error()),
        }
    }

    /// The peer's address, for TCP streams.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner
            .transport
            .borrow()
            .as_ref()
            .and_then(|t| t.socket().peer_addr())
    }

    /// This end's address, for TCP streams.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner
            .transport
            .borrow()
            .as_ref()
            .and_then(|t| t.socket().local_addr())
    }

    /// The descriptor (`fileno`), or `None` once closed.
    pub fn fd(&self) -> Option<RawFd> {
        self.inner.transport.borrow().as_ref().map(|t| t.fd())
    }

    /// Bytes received and not yet read.
    pub fn buffered_len(&self) -> usize {
        self.inner.rbuf.borrow().len()
    }

    /// The stream's buffer limits.
    pub fn settings(&self) -> &StreamSettings {
        &self.inner.settings
    }

    /// Shuts down the sending half (TCP `FIN`, after the write buffer is flushed by awaiting
    /// [`flush`](IoStream::flush) first); reading goes on.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self.inner.transport.borrow().as_ref() {
            Some(t) => t.socket().shutdown_write(),
            None => Err(self.inner.closed_error()),
        }
    }

    /// `true` if `self` and `other` are handles to the same stream.
    pub fn ptr_eq(&self, other: &IoStream) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

/// `EINPROGRESS`: a non-blocking connect has started (`io::ErrorKind::InProgress` is not
/// stable yet).
#[cfg(any(target_os = "linux", target_os = "android"))]
const EINPROGRESS: i32 = 115;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const EINPROGRESS: i32 = 36;

impl fmt::Debug for IoStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoStream")
            .field("fd", &self.fd())
            .field("closed", &self.closed())
            .field("buffered", &self.buffered_len())
            .finish()
    }
}
