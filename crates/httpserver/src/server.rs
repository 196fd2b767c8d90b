//! [`HttpServer`]: an HTTP/1.1 server on a [`TcpServer`] (`tornado.httpserver.HTTPServer`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};

use slab::Slab;
use tornado_ioloop::{Deadline, IoLoop};
use tornado_iostream::IoStream;
use tornado_tcpserver::{BindOptions, Listener, ServerSettings, StreamHandler, TcpServer};

use crate::callback::CallbackDelegate;
use crate::context::RequestContext;
use crate::delegate::{HttpServerConnectionDelegate, ServerConnection};
use crate::http1::{ConnState, HttpConnectionParameters, ServeConfig, serve};
use crate::request::HttpServerRequest;
use crate::settings::HttpServerSettings;

static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

/// The connections one server has open on one loop.
struct Registry {
    config: ServeConfig,
    conns: RefCell<Slab<(IoStream, Rc<ConnState>)>>,
    next_id: std::cell::Cell<u64>,
    /// Tasks waiting for the registry to empty (`close_all_connections`).
    waiters: RefCell<Vec<Waker>>,
}

thread_local! {
    static REGISTRIES: RefCell<HashMap<u64, Rc<Registry>>> = RefCell::new(HashMap::new());
}

/// The delegate and settings of a server, shared by its loops.
struct HttpHandler<D> {
    id: u64,
    delegate: D,
    params: HttpConnectionParameters,
    xheaders: Option<HashSet<IpAddr>>,
    tls: bool,
    protocol: Option<&'static str>,
}

impl<D> HttpHandler<D> {
    fn registry(&self) -> Rc<Registry> {
        REGISTRIES.with(|r| {
            r.borrow_mut()
                .entry(self.id)
                .or_insert_with(|| {
                    Rc::new(Registry {
                        config: ServeConfig {
                            params: Rc::new(self.params.clone()),
                            xheaders: self.xheaders.clone().map(Rc::new),
                        },
                        conns: RefCell::new(Slab::new()),
                        next_id: std::cell::Cell::new(0),
                        waiters: RefCell::new(Vec::new()),
                    })
                })
                .clone()
        })
    }
}

impl<D: HttpServerConnectionDelegate> StreamHandler for HttpHandler<D> {
    async fn handle_stream(&self, stream: IoStream, address: Option<SocketAddr>) {
        // Responses are written whole or in deliberate pieces: Nagle would only delay them
        // (Tornado turns it off while finishing each response; here it stays off).
        let _ = stream.set_nodelay(true);
        let registry = self.registry();
        let state = Rc::new(ConnState::default());
        let key = registry
            .conns
            .borrow_mut()
            .insert((stream.clone(), state.clone()));
        let id = registry.next_id.get();
        registry.next_id.set(id + 1);
        let context = RequestContext::new(address, self.tls, self.protocol);
        let server_conn = ServerConnection { id, address };
        serve(
            &self.delegate,
            stream,
            context,
            server_conn,
            &registry.config,
            &state,
        )
        .await;
        registry.conns.borrow_mut().remove(key);
        if registry.conns.borrow().is_empty() {
            for w in registry.waiters.borrow_mut().drain(..) {
                w.wake();
            }
        }
    }
}

/// A non-blocking, single-threaded HTTP/1.1 server (`tornado.httpserver.HTTPServer`).
///
/// It hands each request to an [`HttpServerConnectionDelegate`] (an `Application`, or the
/// function of [`from_fn`](HttpServer::from_fn), Tornado's `request_callback`), reading and
/// answering the requests of a connection one after another. The ways to start it are
/// [`TcpServer`]'s: [`listen`](HttpServer::listen), [`add_sockets`](HttpServer::add_sockets),
/// or [`bind`](HttpServer::bind) + [`start`](HttpServer::start) for a loop per thread.
///
/// # Examples
///
/// ```no_run
/// use http::{HeaderMap, StatusCode};
/// use tornado_httpserver::{HttpServer, HttpServerRequest};
/// use tornado_ioloop::IoLoop;
///
/// let server = HttpServer::from_fn(|req: HttpServerRequest| async move {
///     let body = format!("You requested {}\n", req.path());
///     let _ = req.respond(StatusCode::OK, HeaderMap::new(), body.as_bytes());
/// });
/// server.listen(8888, None).unwrap();
/// IoLoop::current().start().unwrap();
/// ```
pub struct HttpServer<D> {
    tcp: TcpServer<HttpHandler<D>>,
}

impl<F, Fut> HttpServer<CallbackDelegate<F>>
where
    F: Fn(HttpServerRequest) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    /// A server that calls `callback` with each request, body read (Tornado's
    /// `HTTPServer(request_callback)`).
    pub fn from_fn(callback: F) -> Self {
        HttpServer::from_fn_with(callback, HttpServerSettings::default())
    }

    /// [`from_fn`](HttpServer::from_fn) with settings.
    pub fn from_fn_with(callback: F, settings: HttpServerSettings) -> Self {
        HttpServer::with_settings(
            CallbackDelegate::new(callback, settings.parse_body.clone()),
            settings,
        )
    }
}

impl<D: HttpServerConnectionDelegate> HttpServer<D> {
    /// A server handing requests to `delegate`, with Tornado's default settings.
    pub fn new(delegate: D) -> Self {
        HttpServer::with_settings(delegate, HttpServerSettings::default())
    }

    /// A server with settings.
    pub fn with_settings(delegate: D, settings: HttpServerSettings) -> Self {
        let mut tcp_settings = ServerSettings::new().stream_settings(settings.stream_settings());
        #[cfg(feature = "tls")]
        let tls = match settings.tls.clone() {
            Some(t) => {
                tcp_settings = tcp_settings.tls(t);
                true
            }
            None => false,
        };
        #[cfg(not(feature = "tls"))]
        let tls = false;
        let handler = HttpHandler {
            id: NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed),
            delegate,
            params: settings.connection_parameters(),
            xheaders: settings
                .xheaders
                .then(|| settings.trusted_downstream.iter().copied().collect()),
            tls,
            protocol: settings.protocol,
        };
        HttpServer {
            tcp: TcpServer::with_settings(handler, tcp_settings),
        }
    }

    /// The delegate.
    pub fn delegate(&self) -> &D {
        &self.tcp.handler().delegate
    }

    /// Binds `port` on `address` (every interface if `None`) and serves on the current loop.
    /// Returns the bound addresses.
    pub fn listen(&self, port: u16, address: Option<&str>) -> io::Result<Vec<SocketAddr>> {
        self.tcp.listen(port, address)
    }

    /// [`listen`](HttpServer::listen) with every binding option.
    pub fn listen_with(&self, port: u16, options: &BindOptions) -> io::Result<Vec<SocketAddr>> {
        self.tcp.listen_with(port, options)
    }

    /// Serves listening sockets (TCP or Unix) on the current loop.
    pub fn add_sockets<L: Into<Listener>>(
        &self,
        sockets: impl IntoIterator<Item = L>,
    ) -> io::Result<Vec<SocketAddr>> {
        self.tcp.add_sockets(sockets)
    }

    /// Binds sockets for [`start`](HttpServer::start).
    pub fn bind(&self, port: u16, options: BindOptions) -> io::Result<Vec<SocketAddr>> {
        self.tcp.bind(port, options)
    }

    /// Stops accepting connections; open ones go on (`stop`).
    pub fn stop(&self) {
        self.tcp.stop();
    }

    /// Closes this server's connections on the current loop, gracefully
    /// (`close_all_connections`): idle ones at once, busy ones as soon as their current
    /// request is answered, and whatever is still open at `deadline` right then. Resolves
    /// when all are closed. Call [`stop`](HttpServer::stop) first. For a server running on
    /// several threads, [`shutdown`](HttpServer::shutdown) does this on every loop.
    pub async fn close_all_connections(&self, deadline: impl Into<Deadline>) {
        close_registry(&self.tcp.handler().registry(), deadline.into()).await;
    }

    /// The addresses this server accepts on, on the current loop.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.tcp.local_addrs()
    }

    /// Connections this server has open on the current loop.
    pub fn connection_count(&self) -> usize {
        self.tcp.handler().registry().conns.borrow().len()
    }

    /// Stops the loops of the threads [`start`](HttpServer::start) started and waits for
    /// them (see [`TcpServer::join_threads`]).
    pub fn join_threads(&self) {
        self.tcp.join_threads();
    }
}

impl<D: HttpServerConnectionDelegate + Send + Sync> HttpServer<D> {
    /// Serves the sockets of [`bind`](HttpServer::bind) on `num_threads` loops (the current
    /// one and `num_threads - 1` new threads; 0 = one per CPU), as
    /// [`TcpServer::start`] does.
    pub fn start(&self, num_threads: usize) -> io::Result<()> {
        self.tcp.start(num_threads)
    }

    /// A graceful shutdown of every loop this server runs on: [`stop`](HttpServer::stop),
    /// then [`close_all_connections`](HttpServer::close_all_connections) on the current loop
    /// and, at the same time, on each thread [`start`](HttpServer::start) started, all with
    /// the same `deadline`. Resolves when every connection is closed; then
    /// [`join_threads`](HttpServer::join_threads) ends the threads. (Tornado's workers are
    /// processes, each shut down by its own signal handler.)
    pub async fn shutdown(&self, deadline: impl Into<Deadline>) {
        let deadline = deadline.into().instant();
        self.stop();
        let mut others = Vec::new();
        for io_loop in self.tcp.thread_loops() {
            let handler = self.tcp.handler().clone();
            let done = tornado_concurrent::Future::new();
            let signal = done.clone();
            io_loop.add_callback(move || {
                IoLoop::current().spawn_callback(async move {
                    close_registry(&handler.registry(), Deadline::At(deadline)).await;
                    let _ = signal.set_result(());
                });
            });
            others.push(done);
        }
        close_registry(&self.tcp.handler().registry(), Deadline::At(deadline)).await;
        for done in others {
            // A loop that already stopped never answers; its connections went with it.
            let _ = done.await;
        }
    }
}

/// Closes the connections of one loop's registry: idle ones now, busy ones after their
/// current answer, the rest at `deadline`.
async fn close_registry(registry: &Registry, deadline: Deadline) {
    for (_, (stream, state)) in registry.conns.borrow().iter() {
        state.closing.set(true);
        if !state.busy.get() {
            stream.close(None);
        }
    }
    let mut sleep = IoLoop::current().sleep(deadline);
    let mut forced = false;
    poll_fn(|cx| {
        if registry.conns.borrow().is_empty() {
            return Poll::Ready(());
        }
        if !forced && std::pin::Pin::new(&mut sleep).poll(cx).is_ready() {
            forced = true;
            for (_, (stream, state)) in registry.conns.borrow().iter() {
                stream.close(None);
                state.kill();
            }
        }
        registry.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    })
    .await;
}

impl<D> fmt::Debug for HttpServer<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("tcp", &self.tcp)
            .finish()
    }
}
