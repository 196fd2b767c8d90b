//! [`AsyncHttpClient`] (`tornado.httpclient.AsyncHTTPClient` with
//! `simple_httpclient.SimpleAsyncHTTPClient`'s behaviour) and its [`ResponseFuture`].

use std::cell::{Cell, RefCell};
#[cfg(feature = "tls")]
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use tornado_gen::with_timeout;
use tornado_ioloop::{IoLoop, Task};
#[cfg(feature = "tls")]
use tornado_iostream::TlsClientOptions;
use tornado_locks::Semaphore;
use tornado_tcpserver::{DefaultLoopResolver, OverrideResolver, Resolver, TcpClient};

use crate::error::HttpClientError;
use crate::exchange::{Exchanged, connect_timeout, exchange, min_nonzero, request_timeout};
use crate::pool::Pool;
use crate::redirect::redirect_request;
use crate::request::HttpRequest;
use crate::response::{HttpResponse, TimeInfo};
use crate::settings::ClientSettings;

pub(crate) struct Inner {
    pub(crate) settings: ClientSettings,
    defaults: HttpRequest,
    pub(crate) tcp: TcpClient,
    slots: Semaphore,
    pub(crate) pool: Pool,
    io_loop: IoLoop,
    closed: Cell<bool>,
    shared: bool,
    active: Cell<usize>,
    pub(crate) connections_opened: Cell<u64>,
    /// Built TLS configurations by their settings, so that each is built once.
    #[cfg(feature = "tls")]
    tls_cache: RefCell<HashMap<String, TlsClientOptions>>,
}

impl Inner {
    pub(crate) fn max_body_size(&self) -> u64 {
        self.settings
            .max_body_size
            .unwrap_or(self.settings.max_buffer_size as u64)
    }

    /// The TLS options of a request and the text that identifies them for the pool (`None`
    /// for options of the caller's, which are not compared).
    #[cfg(feature = "tls")]
    pub(crate) fn tls_for(
        &self,
        req: &HttpRequest,
        https: bool,
    ) -> Result<(Option<TlsClientOptions>, Option<String>), HttpClientError> {
        if !https {
            return Ok((None, Some(String::new())));
        }
        if let Some(options) = &req.tls_options {
            return Ok((Some(options.clone()), None));
        }
        let validate = req.validate_cert.unwrap_or(true);
        let key = format!(
            "{validate}|{:?}|{:?}|{:?}",
            req.ca_certs, req.client_cert, req.client_key
        );
        if let Some(options) = self.tls_cache.borrow().get(&key) {
            return Ok((Some(options.clone()), Some(key)));
        }
        let mut options = TlsClientOptions::new().validate_cert(validate);
        if let Some(ca) = &req.ca_certs {
            options = options
                .with_ca_certs_file(ca)
                .map_err(HttpClientError::io)?;
        }
        if let Some(cert) = &req.client_cert {
            let cert_pem = std::fs::read(cert).map_err(HttpClientError::io)?;
            let key_pem = std::fs::read(req.client_key.as_ref().unwrap_or(cert))
                .map_err(HttpClientError::io)?;
            options = options
                .with_client_cert_pem(&cert_pem, &key_pem)
                .map_err(HttpClientError::io)?;
        }
        let built = TlsClientOptions::from_config(options.build().map_err(HttpClientError::io)?);
        self.tls_cache
            .borrow_mut()
            .insert(key.clone(), built.clone());
        Ok((Some(built), Some(key)))
    }

    #[cfg(not(feature = "tls"))]
    pub(crate) fn tls_for(
        &self,
        _req: &HttpRequest,
        _https: bool,
    ) -> Result<((), Option<String>), HttpClientError> {
        Ok(((), Some(String::new())))
    }
}

thread_local! {
    /// The shared client of each loop of this thread (Tornado keeps one per `IOLoop`).
    static SHARED: RefCell<Vec<(IoLoop, AsyncHttpClient)>> = const { RefCell::new(Vec::new()) };
    /// The settings `configure` gave for shared clients made on this thread.
    static CONFIGURED: RefCell<Option<ClientSettings>> = const { RefCell::new(None) };
}

/// A non-blocking HTTP client (`tornado.httpclient.AsyncHTTPClient`, behaving as
/// `SimpleAsyncHTTPClient`), with a keep-alive connection pool.
///
/// [`fetch`](Self::fetch) starts a request at once and returns a [`ResponseFuture`]. At most
/// `max_clients` requests run at a time; the others wait in a FIFO queue, and that wait
/// counts against their timeouts. A client belongs to the loop that was current when it was
/// made, and is a cheap `Clone` handle.
///
/// [`AsyncHttpClient::new`] gives the loop's shared client (Tornado's `AsyncHTTPClient()`);
/// [`AsyncHttpClient::with_settings`] makes one of your own (`force_instance=True`).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use tornado_httpclient::{AsyncHttpClient, HttpRequest};
/// use tornado_ioloop::IoLoop;
///
/// IoLoop::new().run_sync(|| async {
///     let client = AsyncHttpClient::new();
///     match client.fetch("http://www.tornadoweb.org/", true).await {
///         Ok(response) => println!("{} bytes", response.body().len()),
///         Err(e) => println!("Error: {e}"),
///     }
///     let post = HttpRequest::new("http://localhost:8888/post")
///         .method(http::Method::POST)
///         .body("a=1")
///         .request_timeout(Duration::from_secs(5));
///     let _ = client.fetch(post, false).await;
/// }, None).unwrap();
/// ```
#[derive(Clone)]
pub struct AsyncHttpClient {
    inner: Rc<Inner>,
}

impl Default for AsyncHttpClient {
    fn default() -> Self {
        AsyncHttpClient::new()
    }
}

impl AsyncHttpClient {
    /// The shared client of the current loop, made on first use with the settings of
    /// [`configure`](Self::configure) (`AsyncHTTPClient()`).
    pub fn new() -> Self {
        let io_loop = IoLoop::current();
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            shared.retain(|(l, c)| !l.is_closed() && !c.inner.closed.get());
            if let Some((_, c)) = shared.iter().find(|(l, _)| *l == io_loop) {
                return c.clone();
            }
            let settings = CONFIGURED.with(|c| c.borrow().clone()).unwrap_or_default();
            let client = AsyncHttpClient::make(settings, true);
            shared.push((io_loop, client.clone()));
            client
        })
    }

    /// A client of its own, with `settings` (`AsyncHTTPClient(force_instance=True,
    /// **kwargs)`); close it with [`close`](Self::close) when done.
    pub fn with_settings(settings: ClientSettings) -> Self {
        AsyncHttpClient::make(settings, false)
    }

    /// The settings of shared clients made on this thread from now on
    /// (`AsyncHTTPClient.configure(None, **kwargs)`).
    pub fn configure(settings: ClientSettings) {
        CONFIGURED.with(|c| *c.borrow_mut() = Some(settings));
    }

    fn make(settings: ClientSettings, shared: bool) -> Self {
        let base: Rc<dyn Resolver> = match &settings.resolver {
            Some(r) => r.clone(),
            None => Rc::new(DefaultLoopResolver),
        };
        let tcp = if settings.hostname_mapping.is_empty() {
            match &settings.resolver {
                Some(r) => TcpClient::with_resolver(r.clone()),
                None => TcpClient::new(),
            }
        } else {
            let mut over = OverrideResolver::new(base);
            for (from, from_port, to, to_port) in &settings.hostname_mapping {
                over = match (from_port, to_port) {
                    (Some(fp), Some(tp)) => over.map_host_port((from, *fp), (to, *tp)),
                    _ => over.map_host(from, to),
                };
            }
            TcpClient::with_resolver(over)
        };
        let defaults = settings
            .defaults
            .clone()
            .unwrap_or_else(|| HttpRequest::new(""));
        AsyncHttpClient {
            inner: Rc::new(Inner {
                slots: Semaphore::new(settings.max_clients),
                pool: Pool::new(
                    settings
                        .pool_max_idle_per_host
                        .unwrap_or(settings.max_clients),
                    settings.pool_idle_timeout,
                ),
                settings,
                defaults,
                tcp,
                io_loop: IoLoop::current(),
                closed: Cell::new(false),
                shared,
                active: Cell::new(0),
                connections_opened: Cell::new(0),
                #[cfg(feature = "tls")]
                tls_cache: RefCell::new(HashMap::new()),
            }),
        }
    }

    /// `true` if both handles are the same client.
    pub fn ptr_eq(&self, other: &AsyncHttpClient) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// The settings (`max_clients`, `max_buffer_size`...).
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// How many requests may run at once (`max_clients`).
    pub fn max_clients(&self) -> usize {
        self.inner.settings.max_clients
    }

    /// The read buffer limit of each connection (`max_buffer_size`).
    pub fn max_buffer_size(&self) -> usize {
        self.inner.settings.max_buffer_size
    }

    /// The largest response head accepted (`max_header_size`).
    pub fn max_header_size(&self) -> usize {
        self.inner.settings.max_header_size
    }

    /// The largest response body accepted (`max_body_size`; `max_buffer_size` unless set).
    pub fn max_body_size(&self) -> u64 {
        self.inner.max_body_size()
    }

    /// How many requests are running (`len(active)`).
    pub fn active(&self) -> usize {
        self.inner.active.get()
    }

    /// How many requests wait for a slot (`len(queue)`).
    pub fn queued(&self) -> usize {
        self.inner.slots.waiters()
    }

    /// How many connections this client has opened so far (a measure of reuse).
    pub fn connections_opened(&self) -> u64 {
        self.inner.connections_opened.get()
    }

    /// How many idle connections the pool holds.
    pub fn idle_connections(&self) -> usize {
        self.inner.pool.idle_count()
    }

    /// Closes the client (`close`): its pooled connections and, if it made it, its
    /// resolver. Requests still running go on; later fetches fail with
    /// [`is_closed`](HttpClientError::is_closed). A shared client stops being shared.
    pub fn close(&self) {
        if self.inner.closed.replace(true) {
            return;
        }
        self.inner.pool.close_all();
        self.inner.tcp.close();
        if self.inner.shared {
            let _ = SHARED.try_with(|s| {
                s.borrow_mut().retain(|(_, c)| !c.ptr_eq(self));
            });
        }
    }

    /// Fetches `request` (a URL or an [`HttpRequest`]) (`fetch(request, raise_error)`).
    ///
    /// The request starts at once, as in Tornado; the returned future gives the response.
    /// A status outside 2xx is an error (with the response attached) when `raise_error` is
    /// `true`, and a response whose [`error`](HttpResponse::error) is set when it is
    /// `false`; other failures (timeouts, connection errors, invalid requests) are errors
    /// either way. Dropping the future cancels the request.
    pub fn fetch(&self, request: impl Into<HttpRequest>, raise_error: bool) -> ResponseFuture {
        if self.inner.closed.get() {
            return ResponseFuture {
                state: State::Failed(Some(HttpClientError::closed(
                    "fetch() called on closed AsyncHttpClient",
                ))),
            };
        }
        let request = request.into().with_defaults(&self.inner.defaults);
        let inner = self.inner.clone();
        let task = self.inner.io_loop.spawn(run_fetch(
            inner,
            Box::new(request),
            raise_error,
            Instant::now(),
        ));
        ResponseFuture {
            state: State::Running(task),
        }
    }
}

impl fmt::Debug for AsyncHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncHttpClient")
            .field("settings", &self.inner.settings)
            .field("active", &self.active())
            .field("queued", &self.queued())
            .field("idle_connections", &self.idle_connections())
            .finish_non_exhaustive()
    }
}

/// Counts a running request for as long as it lives.
struct Active<'a>(&'a Inner);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.active.set(self.0.active.get() - 1);
    }
}

/// The request is boxed: it is large, and the fetch's future (which `spawn` moves into its
/// task, and which holds it) stays small enough for the allocator's fast path.
async fn run_fetch(
    inner: Rc<Inner>,
    request: Box<HttpRequest>,
    raise_error: bool,
    fetch_start: Instant,
) -> Result<HttpResponse, HttpClientError> {
    let ct = connect_timeout(&request);
    let rt = request_timeout(&request);
    if inner.slots.value() == 0 {
        log::debug!(
            target: "general",
            "max_clients limit reached, request queued. {} active, {} queued requests.",
            inner.active.get(),
            inner.slots.waiters() + 1
        );
    }
    // Waiting for a slot is limited by the smaller timeout (Tornado: "min but skip zero").
    let _permit = match min_nonzero(ct, rt) {
        Some(t) => inner
            .slots
            .acquire_timeout(fetch_start + t)
            .await
            .map_err(|_| HttpClientError::timeout("Timeout in request queue"))?,
        None => inner.slots.acquire().await,
    };
    inner.active.set(inner.active.get() + 1);
    let _active = Active(&inner);
    // One clock read serves the queue time and the first request's start.
    let mut now = Instant::now();
    let queue = now.saturating_duration_since(fetch_start);
    let original_method = request.method.clone();
    // Copied only when a redirect is followed: until then the request's URL is the one.
    let mut original_url: Option<String> = None;
    let mut hop = request;
    // The first request's deadline counts from the fetch, so time in the queue counts;
    // a redirect's from its own start (Tornado fetches it anew).
    let mut deadline = (!rt.is_zero()).then(|| fetch_start + rt);
    loop {
        let start = now;
        let wall_start = SystemTime::now();
        // Boxed: the exchange's state is large, and this keeps the fetch's own future (which
        // `spawn` moves into place) and the timeout wrapper small.
        let one = Box::pin(exchange(&inner, &mut hop, start));
        let exchanged = match deadline {
            Some(at) => with_timeout(at, one)
                .await
                .map_err(|_| HttpClientError::timeout("Timeout during request"))??,
            None => one.await?,
        };
        let Exchanged {
            code,
            reason,
            headers,
            body,
            redirect,
            connect_time,
        } = exchanged;
        if let Some(location) = redirect {
            let original = original_url.get_or_insert_with(|| hop.url.clone());
            *hop = redirect_request(*hop, original, code.as_u16(), &location);
            now = Instant::now();
            deadline = (!rt.is_zero()).then(|| now + rt);
            continue;
        }
        let final_url = std::mem::take(&mut hop.url);
        let (request_url, effective_url) = match original_url {
            None => (final_url, None),
            Some(original) => (original, Some(final_url)),
        };
        let response = HttpResponse::build(
            request_url,
            original_method,
            code.as_u16(),
            reason,
            headers,
            body,
            effective_url,
            start.elapsed(),
            wall_start,
            TimeInfo {
                queue,
                connect: connect_time,
            },
        );
        return match &response.error {
            Some(e) if raise_error => Err(e.clone().with_response(response)),
            _ => Ok(response),
        };
    }
}

enum State {
    Running(Task<Result<HttpResponse, HttpClientError>>),
    /// Failed before it started (a closed client).
    Failed(Option<HttpClientError>),
    Done,
}

/// The future of [`AsyncHttpClient::fetch`]: the response, or why there is none. The request
/// runs whether or not this is polled; dropping it before it completes cancels the request
/// (its connection is closed).
#[must_use = "dropping a ResponseFuture cancels its request"]
pub struct ResponseFuture {
    state: State,
}

impl Future for ResponseFuture {
    type Output = Result<HttpResponse, HttpClientError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let out = match &mut self.state {
            State::Running(task) => match Pin::new(task).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(result)) => result,
                Poll::Ready(Err(e)) if e.is_panic() => {
                    // A callback of the request's panicked (Tornado: an exception in a
                    // callback fails the fetch with HTTPStreamClosedError).
                    log::error!(
                        target: "application",
                        "Uncaught exception in a request callback: {e}"
                    );
                    Err(HttpClientError::stream_closed("Stream closed"))
                }
                Poll::Ready(Err(_)) => Err(HttpClientError::closed("the request was cancelled")),
            },
            State::Failed(e) => Err(e.take().expect("ResponseFuture polled after completion")),
            State::Done => panic!("ResponseFuture polled after completion"),
        };
        self.state = State::Done;
        Poll::Ready(out)
    }
}

impl Drop for ResponseFuture {
    fn drop(&mut self) {
        if let State::Running(task) = &self.state {
            task.cancel();
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Running(t) if t.done() => "done",
            State::Running(_) => "running",
            State::Failed(_) => "failed",
            State::Done => "taken",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
