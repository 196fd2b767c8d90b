//! [`HttpServerSettings`]: the keyword arguments of Tornado's `HTTPServer`.

use std::net::IpAddr;
use std::time::Duration;

use tornado_iostream::StreamSettings;
#[cfg(feature = "tls")]
use tornado_iostream::TlsServerOptions;

use crate::http1::{
    DEFAULT_CHUNK_SIZE, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_HEADER_SIZE, HttpConnectionParameters,
};
use crate::httputil::ParseBodyConfig;

/// 3600 s: Tornado's default `idle_connection_timeout`.
pub const DEFAULT_IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);

/// Settings of an [`HttpServer`](crate::HttpServer) (`HTTPServer(...)`'s keyword arguments).
#[derive(Debug, Clone)]
pub struct HttpServerSettings {
    pub(crate) no_keep_alive: bool,
    pub(crate) xheaders: bool,
    pub(crate) trusted_downstream: Vec<IpAddr>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsServerOptions>,
    pub(crate) protocol: Option<&'static str>,
    pub(crate) decompress_request: bool,
    pub(crate) chunk_size: usize,
    pub(crate) max_header_size: usize,
    pub(crate) idle_connection_timeout: Duration,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) max_body_size: u64,
    pub(crate) max_buffer_size: Option<usize>,
    pub(crate) parse_body: ParseBodyConfig,
}

impl Default for HttpServerSettings {
    fn default() -> Self {
        HttpServerSettings {
            no_keep_alive: false,
            xheaders: false,
            trusted_downstream: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
            protocol: None,
            decompress_request: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            idle_connection_timeout: DEFAULT_IDLE_CONNECTION_TIMEOUT,
            body_timeout: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            max_buffer_size: None,
            parse_body: ParseBodyConfig::default(),
        }
    }
}

impl HttpServerSettings {
    /// Tornado's defaults.
    pub fn new() -> Self {
        HttpServerSettings::default()
    }

    /// Send `Connection: close` and close after every response (`no_keep_alive`). Default
    /// is `false`.
    pub fn no_keep_alive(mut self, v: bool) -> Self {
        self.no_keep_alive = v;
        self
    }

    /// Trust `X-Real-Ip` / `X-Forwarded-For` and `X-Scheme` / `X-Forwarded-Proto` for the
    /// client's IP and protocol, as behind a load balancer (`xheaders`). Default is `false`.
    pub fn xheaders(mut self, v: bool) -> Self {
        self.xheaders = v;
        self
    }

    /// Proxies skipped when reading `X-Forwarded-For` from the right (`trusted_downstream`).
    /// Default: none.
    pub fn trusted_downstream(mut self, proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        self.trusted_downstream = proxies.into_iter().collect();
        self
    }

    /// Serve HTTPS with these TLS options (`ssl_options`). Default: plain HTTP.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, options: TlsServerOptions) -> Self {
        self.tls = Some(options);
        self
    }

    /// Force the protocol reported for requests, `"http"` or `"https"` (`protocol`), e.g.
    /// behind a TLS-terminating proxy that sends no header saying so. Default: from the
    /// connection.
    pub fn protocol(mut self, protocol: &'static str) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Decode `Content-Encoding: gzip` request bodies (`decompress_request`); the body size
    /// limit then counts decompressed bytes. Default is `false`.
    pub fn decompress_request(mut self, v: bool) -> Self {
        self.decompress_request = v;
        self
    }

    /// Largest piece of body given to a delegate's `data_received` (`chunk_size`). Default
    /// is 64 KiB.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Largest request head; a larger one closes the connection without a response
    /// (`max_header_size`). Default is 64 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(1);
        self
    }

    /// How long a connection may wait for (the rest of) a request head, before the first
    /// request and between requests (`idle_connection_timeout`). Default is 3600 s.
    pub fn idle_connection_timeout(mut self, timeout: Duration) -> Self {
        self.idle_connection_timeout = timeout;
        self
    }

    /// How long reading a request body may take (`body_timeout`). Default: no limit.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = Some(timeout);
        self
    }

    /// Largest request body (`max_body_size`); a larger `Content-Length` is answered with a
    /// bare 400, a larger chunked body likewise when it passes the limit. Default is 100 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The read buffer limit of each connection's stream (`max_buffer_size`). Default: the
    /// larger of 100 MiB and what `max_header_size` and `chunk_size` need.
    pub fn max_buffer_size(mut self, bytes: usize) -> Self {
        self.max_buffer_size = Some(bytes);
        self
    }

    /// Limits on form bodies parsed for [`HttpServer::from_fn`](crate::HttpServer::from_fn)
    /// requests (Tornado's global `set_parse_body_config`). Default: 1000 urlencoded
    /// arguments, 100 multipart parts, 10 KiB of headers per part.
    pub fn parse_body_config(mut self, config: ParseBodyConfig) -> Self {
        self.parse_body = config;
        self
    }

    pub(crate) fn connection_parameters(&self) -> HttpConnectionParameters {
        HttpConnectionParameters::new()
            .no_keep_alive(self.no_keep_alive)
            .chunk_size(self.chunk_size)
            .max_header_size(self.max_header_size)
            .header_timeout(Some(self.idle_connection_timeout))
            .max_body_size(self.max_body_size)
            .body_timeout(self.body_timeout)
            .decompress(self.decompress_request)
    }

    pub(crate) fn stream_settings(&self) -> StreamSettings {
        // The stream must be able to hold a whole head, and a piece of body, at once.
        let floor = self.max_header_size.max(self.chunk_size) * 2;
        let max = self
            .max_buffer_size
            .unwrap_or(tornado_iostream::DEFAULT_MAX_BUFFER_SIZE)
            .max(floor);
        StreamSettings::new().max_buffer_size(max)
    }
}
