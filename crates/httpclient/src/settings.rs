//! [`ClientSettings`]: the keyword arguments of `SimpleAsyncHTTPClient`, plus the
//! connection pool's.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use tornado_tcpserver::Resolver;

use crate::request::HttpRequest;

/// Tornado's `max_clients`: 10.
pub const DEFAULT_MAX_CLIENTS: usize = 10;
/// Tornado's `max_buffer_size`: 100 MiB.
pub const DEFAULT_MAX_BUFFER_SIZE: usize = 100 * 1024 * 1024;
/// Tornado's `max_header_size` (`None` → 64 KiB).
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;
/// How long an idle pooled connection is kept: 60 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of an [`AsyncHttpClient`](crate::AsyncHttpClient) (the keyword arguments of
/// `SimpleAsyncHTTPClient.initialize`, and of the keep-alive pool Tornado lacks).
#[derive(Clone)]
pub struct ClientSettings {
    pub(crate) max_clients: usize,
    pub(crate) max_buffer_size: usize,
    pub(crate) max_header_size: usize,
    pub(crate) max_body_size: Option<u64>,
    pub(crate) max_1xx_responses: usize,
    pub(crate) resolver: Option<Rc<dyn Resolver>>,
    pub(crate) hostname_mapping: Vec<(String, Option<u16>, String, Option<u16>)>,
    pub(crate) defaults: Option<HttpRequest>,
    pub(crate) keep_alive: bool,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: Option<usize>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            max_clients: DEFAULT_MAX_CLIENTS,
            max_buffer_size: DEFAULT_MAX_BUFFER_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_body_size: None,
            max_1xx_responses: tornado_httpserver::http1::MAX_1XX_RESPONSES,
            resolver: None,
            hostname_mapping: Vec::new(),
            defaults: None,
            keep_alive: true,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: None,
        }
    }
}

impl ClientSettings {
    /// Tornado's defaults, with the keep-alive pool on.
    pub fn new() -> Self {
        ClientSettings::default()
    }

    /// How many requests run at once (`max_clients`); more wait in a FIFO queue, and that
    /// wait counts against their timeouts. Default is 10.
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = n.max(1);
        self
    }

    /// The read buffer limit of each connection (`max_buffer_size`). Default is 100 MiB.
    pub fn max_buffer_size(mut self, bytes: usize) -> Self {
        self.max_buffer_size = bytes.max(1);
        self
    }

    /// The largest response head accepted (`max_header_size`). Default is 64 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(1);
        self
    }

    /// The largest response body accepted, counted after gzip decoding, whether it is kept
    /// or streamed (`max_body_size`). Default: `max_buffer_size`.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = Some(bytes);
        self
    }

    /// How many informational (1xx) responses may come before the real one; more fail the
    /// fetch as a malformed response (Tornado's `_MAX_1XX_RESPONSES`). Default is 10.
    pub fn max_1xx_responses(mut self, n: usize) -> Self {
        self.max_1xx_responses = n;
        self
    }

    /// The resolver (`resolver`). Default: a `DefaultLoopResolver` of the client's own,
    /// closed with the client.
    pub fn resolver(mut self, resolver: impl Resolver + 'static) -> Self {
        self.resolver = Some(Rc::new(resolver));
        self
    }

    /// Connects to `to` whenever a URL names host `from` (`hostname_mapping={from: to}`).
    pub fn map_host(mut self, from: &str, to: &str) -> Self {
        self.hostname_mapping
            .push((from.to_owned(), None, to.to_owned(), None));
        self
    }

    /// Connects to `to` whenever a URL names `from` (`hostname_mapping={(host, port): (host,
    /// port)}`).
    pub fn map_host_port(mut self, from: (&str, u16), to: (&str, u16)) -> Self {
        self.hostname_mapping
            .push((from.0.to_owned(), Some(from.1), to.0.to_owned(), Some(to.1)));
        self
    }

    /// Defaults for every request's unset options (`defaults`), given as a request whose
    /// options are the defaults (its URL, method, headers and body are ignored).
    pub fn defaults(mut self, defaults: HttpRequest) -> Self {
        self.defaults = Some(defaults);
        self
    }

    /// Keep connections open between requests and reuse them. Default is `true`. With
    /// `false`, every request sends `Connection: close` and gets a connection of its own, as
    /// Tornado's simple client does.
    pub fn keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// How long an idle connection is kept for reuse. Default is 60 s.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// How many idle connections are kept per origin (scheme, host, port, proxy and TLS
    /// settings); more are closed once their response is read. Default: `max_clients`, as
    /// many as the client can use at once.
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool_max_idle_per_host = Some(n);
        self
    }
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSettings")
            .field("max_clients", &self.max_clients)
            .field("max_buffer_size", &self.max_buffer_size)
            .field("max_header_size", &self.max_header_size)
            .field("max_body_size", &self.max_body_size)
            .field("keep_alive", &self.keep_alive)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .finish_non_exhaustive()
    }
}
