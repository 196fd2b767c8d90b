//! [`HttpConnectionParameters`]: the limits of one HTTP/1 connection.

use std::time::Duration;

/// 64 KiB: Tornado's default `chunk_size` and `max_header_size`.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// 64 KiB: Tornado's default `max_header_size`.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 64 * 1024;
/// 100 MiB: the default `max_body_size` (Tornado falls back to the stream's
/// `max_buffer_size`, whose default this is).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 100 * 1024 * 1024;

/// Parameters of an HTTP/1 connection (`tornado.http1connection.HTTP1ConnectionParameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConnectionParameters {
    pub(crate) no_keep_alive: bool,
    pub(crate) chunk_size: usize,
    pub(crate) max_header_size: usize,
    pub(crate) header_timeout: Option<Duration>,
    pub(crate) max_body_size: u64,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) decompress: bool,
    pub(crate) max_1xx_responses: usize,
}

impl Default for HttpConnectionParameters {
    fn default() -> Self {
        HttpConnectionParameters {
            no_keep_alive: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            header_timeout: None,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            body_timeout: None,
            decompress: false,
            max_1xx_responses: super::MAX_1XX_RESPONSES,
        }
    }
}

impl HttpConnectionParameters {
    /// Tornado's defaults.
    pub fn new() -> Self {
        HttpConnectionParameters::default()
    }

    /// Close the connection after each request (`no_keep_alive`). Default is `false`.
    pub fn no_keep_alive(mut self, v: bool) -> Self {
        self.no_keep_alive = v;
        self
    }

    /// Largest piece of body handed to `data_received` (`chunk_size`). Default is 64 KiB.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Largest head accepted; a larger one closes the connection without a response, as in
    /// Tornado (`max_header_size`). Default is 64 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(1);
        self
    }

    /// How long to wait for a complete head, counted from when the connection becomes idle
    /// (`header_timeout`, which `HTTPServer` sets from `idle_connection_timeout`). Default is
    /// `None` (no limit) here; [`HttpServer`](crate::HttpServer) sets 3600 s.
    pub fn header_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Largest body accepted (`max_body_size`). Default is 100 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// How long reading a body may take (`body_timeout`). Default is `None` (no limit).
    pub fn body_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Decode `Content-Encoding: gzip` bodies (`decompress`): request bodies on a server
    /// connection, response bodies on an [`HttpClientConnection`](super::HttpClientConnection).
    /// Default is `false`.
    pub fn decompress(mut self, v: bool) -> Self {
        self.decompress = v;
        self
    }

    /// How many informational (1xx) responses a client connection reads before the real
    /// one; one more is a malformed response (Tornado's `_MAX_1XX_RESPONSES`, 6.5.9).
    /// Default is 10.
    pub fn max_1xx_responses(mut self, n: usize) -> Self {
        self.max_1xx_responses = n;
        self
    }
}
