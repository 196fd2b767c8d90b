//! [`TcpServer`]: accept connections and hand each one, as a stream, to a handler.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;

use tornado_concurrent::Future as SharedFuture;
use tornado_ioloop::{IoLoop, IoLoopHandle};
use tornado_iostream::{IoStream, StreamSettings};
#[cfg(feature = "tls")]
use tornado_iostream::{SslIoStream, TlsServerOptions};

use crate::accept::{AcceptHandle, Connection, Listener, add_accept_handler};
use crate::netutil::BindOptions;

/// What a [`TcpServer`] does with each connection (Tornado's `TCPServer.handle_stream`,
/// which subclasses override).
///
/// `handle_stream` runs as its own task on the loop that accepted the connection; a panic in
/// it is logged on the `application` target. `address` is the peer's, for TCP.
pub trait StreamHandler: 'static {
    /// Serves one connection.
    fn handle_stream(
        &self,
        stream: IoStream,
        address: Option<SocketAddr>,
    ) -> impl Future<Output = ()>;
}

/// Settings of a [`TcpServer`] (`TCPServer(ssl_options=None, max_buffer_size=None,
/// read_chunk_size=None)`).
#[derive(Clone, Debug, Default)]
pub struct ServerSettings {
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsServerOptions>,
    pub(crate) stream: StreamSettings,
}

impl ServerSettings {
    /// No TLS, Tornado's buffer limits.
    pub fn new() -> Self {
        ServerSettings::default()
    }

    /// Serves TLS with these options (`ssl_options`). The handshake happens lazily after the
    /// connection is handed to `handle_stream`, as in Tornado. Default: no TLS.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, options: TlsServerOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// The buffer limits of each connection's stream (`max_buffer_size`,
    /// `read_chunk_size`). Default: [`StreamSettings::default`].
    pub fn stream_settings(mut self, settings: StreamSettings) -> Self {
        self.stream = settings;
        self
    }
}

/// A non-blocking TCP server (`tornado.tcpserver.TCPServer`).
///
/// Three ways to start it, as in Tornado:
/// * [`listen`](TcpServer::listen): bind and serve on the current loop;
/// * [`add_sockets`](TcpServer::add_sockets): serve sockets bound elsewhere (by
///   [`bind_sockets`](crate::bind_sockets), [`bind_unix_socket`](crate::bind_unix_socket));
/// * [`bind`](TcpServer::bind) then [`start(n)`](TcpServer::start): n threads, each with its
///   own loop and its own `SO_REUSEPORT` socket (Tornado forks n processes).
///
/// [`stop`](TcpServer::stop) stops accepting; open connections live on.
///
/// # Examples
///
/// ```no_run
/// use std::net::SocketAddr;
/// use tornado_ioloop::IoLoop;
/// use tornado_iostream::IoStream;
/// use tornado_tcpserver::{StreamHandler, TcpServer};
///
/// struct Echo;
///
/// impl StreamHandler for Echo {
///     async fn handle_stream(&self, stream: IoStream, _address: Option<SocketAddr>) {
///         while let Ok(line) = stream.read_until(b"\n", Some(64 * 1024)).await {
///             if stream.write(line).await.is_err() {
///                 break;
///             }
///         }
///     }
/// }
///
/// let server = TcpServer::new(Echo);
/// server.listen(8888, Some("127.0.0.1")).unwrap();
/// IoLoop::current().start().unwrap();
/// ```
pub struct TcpServer<H> {
    inner: Rc<Inner<H>>,
}

struct Inner<H> {
    handler: Arc<H>,
    settings: ServerSettings,
    accepting: RefCell<Vec<AcceptHandle>>,
    /// Sockets from `bind`, waiting for `start`.
    bound: RefCell<Vec<TcpListener>>,
    bind_options: RefCell<Option<BindOptions>>,
    /// Threads started by `start(n)`: their loops, and the signal that stops them accepting.
    threads: RefCell<Vec<ServerThread>>,
    stopped: Cell<bool>,
}

struct ServerThread {
    io_loop: IoLoopHandle,
    stop_accepting: SharedFuture<()>,
    join: JoinHandle<()>,
}

impl<H> Clone for TcpServer<H> {
    fn clone(&self) -> Self {
        TcpServer {
            inner: self.inner.clone(),
        }
    }
}

impl<H: StreamHandler> TcpServer<H> {
    /// A server handing connections to `handler`.
    pub fn new(handler: H) -> Self {
        TcpServer::with_settings(handler, ServerSettings::default())
    }

    /// A server with TLS or other buffer limits.
    pub fn with_settings(handler: H, settings: ServerSettings) -> Self {
        TcpServer::from_arc(Arc::new(handler), settings)
    }

    fn from_arc(handler: Arc<H>, settings: ServerSettings) -> Self {
        TcpServer {
            inner: Rc::new(Inner {
                handler,
                settings,
                accepting: RefCell::new(Vec::new()),
                bound: RefCell::new(Vec::new()),
                bind_options: RefCell::new(None),
                threads: RefCell::new(Vec::new()),
                stopped: Cell::new(false),
            }),
        }
    }

    /// The handler.
    pub fn handler(&self) -> &Arc<H> {
        &self.inner.handler
    }

    /// Binds `port` on `address` (every interface if `None`) and serves on the current loop
    /// (`listen`). Returns the addresses bound (port 0 picks a free port).
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        let sockets = crate::netutil::bind_sockets(port, address)?;
        self.add_sockets(sockets)
    }

    /// [`listen`](TcpServer::listen) with every binding option (backlog, family,
    /// `reuse_port`).
    pub fn listen_with(&self, port: u16, options: &BindOptions) -> io::Result<Vec<SocketAddr>> {
        let sockets = options.bind(port)?;
        self.add_sockets(sockets)
    }

    /// Serves already bound, listening sockets on the current loop (`add_sockets`).
    pub fn add_sockets<L: Into<Listener>>(
        &self,
        sockets: impl IntoIterator<Item = L>,
    ) -> io::Result<Vec<SocketAddr>> {
        let mut addrs = Vec::new();
        for s in sockets {
            if let Some(a) = self.add_socket(s)? {
                addrs.push(a);
            }
        }
        Ok(addrs)
    }

    /// Serves one listening socket on the current loop (`add_socket`).
    pub fn add_socket(&self, socket: impl Into<Listener>) -> io::Result<Option<SocketAddr>> {
        let inner = Rc::downgrade(&self.inner);
        let handle = add_accept_handler(socket, move |conn| {
            if let Some(inner) = inner.upgrade() {
                inner.handle_connection(conn);
            }
        })?;
        let addr = handle.local_addr();
        self.inner.accepting.borrow_mut().push(handle);
        self.inner.stopped.set(false);
        Ok(addr)
    }

    /// Binds the sockets that [`start`](TcpServer::start) will serve (`bind`). They get
    /// `SO_REUSEPORT`, so that each thread of `start(n)` can bind its own on the same port.
    pub fn bind(&self, port: u16, options: BindOptions) -> io::Result<Vec<SocketAddr>> {
        let options = options.reuse_port(true);
        let sockets = options.bind(port)?;
        let addrs = sockets.iter().filter_map(|s| s.local_addr().ok()).collect();
        self.inner.bound.borrow_mut().extend(sockets);
        *self.inner.bind_options.borrow_mut() = Some(options);
        Ok(addrs)
    }

    /// Stops accepting connections on every loop of this server, and closes the listening
    /// sockets (`stop`). Connections already open live on. Calling it twice does nothing.
    pub fn stop(&self) {
        if self.inner.stopped.replace(true) {
            return;
        }
        for handle in self.inner.accepting.borrow_mut().drain(..) {
            handle.remove();
        }
        for t in self.inner.threads.borrow().iter() {
            let _ = t.stop_accepting.set_result(());
        }
    }

    /// Stops the loops of the threads `start(n)` started (after [`stop`](TcpServer::stop),
    /// so that they finish what they do) and waits for them. Not in Tornado, whose workers are
    /// processes that the operator stops.
    pub fn join_threads(&self) {
        let threads = std::mem::take(&mut *self.inner.threads.borrow_mut());
        for t in &threads {
            t.io_loop.stop();
        }
        for t in threads {
            let _ = t.join.join();
        }
    }

    /// The loops of the threads [`start`](TcpServer::start) started (not the current one), for
    /// work that must run on each of them, such as a graceful shutdown.
    pub fn thread_loops(&self) -> Vec<IoLoopHandle> {
        self.inner
            .threads
            .borrow()
            .iter()
            .map(|t| t.io_loop.clone())
            .collect()
    }

    /// Addresses this server accepts on, on the current loop.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.inner
            .accepting
            .borrow()
            .iter()
            .filter_map(AcceptHandle::local_addr)
            .collect()
    }
}

impl<H: StreamHandler + Send + Sync> TcpServer<H> {
    /// Serves the sockets of [`bind`](TcpServer::bind) on `num_threads` loops: the current
    /// one plus `num_threads - 1` new threads, each with its own loop and its own
    /// `SO_REUSEPORT` socket on the same port, so the kernel spreads connections over them.
    /// `0` means one per CPU. Then run the current loop, as with Tornado's
    /// `server.bind(port); server.start(n); IOLoop.current().start()`.
    pub fn start(&self, num_threads: usize) -> io::Result<()> {
        let n = if num_threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            num_threads
        };
        let sockets = std::mem::take(&mut *self.inner.bound.borrow_mut());
        if sockets.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start() needs sockets from bind() first",
            ));
        }
        let options = self.inner.bind_options.borrow().clone().unwrap_or_default();
        let port = sockets[0].local_addr()?.port();
        self.add_sockets(sockets)?;
        for i in 1..n {
            let thread = self.spawn_thread(i, port, options.clone())?;
            self.inner.threads.borrow_mut().push(thread);
        }
        Ok(())
    }

    fn spawn_thread(&self, i: usize, port: u16, options: BindOptions) -> io::Result<ServerThread> {
        let handler = self.inner.handler.clone();
        let settings = self.inner.settings.clone();
        let stop_accepting = SharedFuture::new();
        let stop = stop_accepting.clone();
        let (tx, rx) = std::sync::mpsc::channel::<io::Result<IoLoopHandle>>();
        let join = std::thread::Builder::new()
            .name(format!("tornado-server-{i}"))
            .spawn(move || {
                let io_loop = IoLoop::new();
                let server = TcpServer::from_arc(handler, settings);
                let bound = io_loop.run_sync(
                    || {
                        let r = options.bind(port).and_then(|s| server.add_sockets(s));
                        async move { r }
                    },
                    None,
                );
                let ready = match bound {
                    Ok(Ok(_)) => Ok(io_loop.handle()),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(e.into()),
                };
                let failed = ready.is_err();
                let _ = tx.send(ready);
                if failed {
                    return;
                }
                let s = server.clone();
                io_loop.spawn_callback(async move {
                    let _ = stop.await;
                    s.stop();
                });
                if let Err(e) = io_loop.start() {
                    log::error!(target: "general", "server thread {i} stopped: {e}");
                }
                drop(server);
                let _ = io_loop.close();
            })?;
        let io_loop = rx
            .recv()
            .map_err(|_| io::Error::other("server thread exited"))??;
        Ok(ServerThread {
            io_loop,
            stop_accepting,
            join,
        })
    }
}

impl<H: StreamHandler> Inner<H> {
    fn handle_connection(&self, conn: Connection) {
        let (stream, address) = match self.wrap(conn) {
            Ok(s) => s,
            Err(e) => {
                log::error!(target: "general", "Error setting up a connection: {e}");
                return;
            }
        };
        let handler = self.handler.clone();
        IoLoop::current().spawn_callback(async move {
            handler.handle_stream(stream, address).await;
        });
    }

    fn wrap(&self, conn: Connection) -> io::Result<(IoStream, Option<SocketAddr>)> {
        let settings = self.settings.stream;
        match conn {
            Connection::Tcp(sock, addr) => {
                #[cfg(feature = "tls")]
                if let Some(tls) = &self.settings.tls {
                    let stream = SslIoStream::server_with(sock, tls, settings)?;
                    return Ok((stream.into_inner(), Some(addr)));
                }
                Ok((IoStream::from_tcp_with(sock, settings)?, Some(addr)))
            }
            Connection::Unix(sock) => Ok((IoStream::from_unix_with(sock, settings)?, None)),
        }
    }
}

impl<H> fmt::Debug for TcpServer<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpServer")
            .field("listening", &self.inner.accepting.borrow().len())
            .field("threads", &self.inner.threads.borrow().len())
            .field("stopped", &self.inner.stopped.get())
            .finish()
    }
}
