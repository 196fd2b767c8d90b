//! [`HttpRequest`] (`tornado.httpclient.HTTPRequest`) and its callbacks.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Method;
use http::header::{HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE};
use tornado_httpserver::http1::HttpClientConnection;
#[cfg(feature = "tls")]
use tornado_iostream::TlsClientOptions;
use tornado_iostream::WriteFuture;

/// A boxed future of a callback.
pub type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Tornado's `HTTPRequest._DEFAULTS["connect_timeout"]`: 20 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Tornado's `HTTPRequest._DEFAULTS["request_timeout"]`: 20 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Tornado's `HTTPRequest._DEFAULTS["max_redirects"]`: 5.
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
/// The `User-Agent` sent when the request sets none (Tornado sends `Tornado/<version>`).
pub const DEFAULT_USER_AGENT: &str = concat!("tornado-rs/", env!("CARGO_PKG_VERSION"));

/// A streaming callback that is a coroutine.
pub(crate) type AsyncStreamingFn = dyn FnMut(Bytes) -> LocalBoxFuture<io::Result<()>>;

#[derive(Clone)]
pub(crate) enum Streaming {
    Sync(Rc<RefCell<dyn FnMut(Bytes)>>),
    Async(Rc<RefCell<AsyncStreamingFn>>),
}

pub(crate) type HeaderCallback = Rc<RefCell<dyn FnMut(&str)>>;
pub(crate) type BodyProducer = Rc<dyn Fn(BodyWriter) -> LocalBoxFuture<io::Result<()>>>;

/// What a `body_producer` writes the request body with (Tornado passes it the connection's
/// `write`).
#[derive(Clone)]
pub struct BodyWriter {
    pub(crate) conn: Rc<HttpClientConnection>,
}

impl BodyWriter {
    /// Sends a piece of the body. The future resolves once it has been handed to the OS:
    /// await it for flow control, or drop it to go on at once (the data is queued either
    /// way). Writing more than a `Content-Length` header announced closes the connection.
    pub fn write(&self, chunk: impl AsRef<[u8]>) -> WriteFuture {
        self.conn.write(chunk.as_ref())
    }
}

impl fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyWriter").finish_non_exhaustive()
    }
}

/// An HTTP request for [`AsyncHttpClient::fetch`](crate::AsyncHttpClient::fetch)
/// (`tornado.httpclient.HTTPRequest`).
///
/// Made with [`HttpRequest::new`] and Tornado's keyword arguments as chained setters. An
/// option left unset takes the client's default
/// ([`ClientSettings::defaults`](crate::ClientSettings::defaults)), then Tornado's (each setter
/// says which). Setting a header that is not a valid header makes the fetch fail with
/// [`is_invalid_request`](crate::HttpClientError::is_invalid_request), as Tornado raises
/// `ValueError`.
#[derive(Clone)]
pub struct HttpRequest {
    pub(crate) url: String,
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) body_producer: Option<BodyProducer>,
    pub(crate) auth_username: Option<String>,
    pub(crate) auth_password: Option<String>,
    pub(crate) auth_mode: Option<String>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) follow_redirects: Option<bool>,
    pub(crate) max_redirects: Option<u32>,
    pub(crate) user_agent: Option<String>,
    pub(crate) decompress_response: Option<bool>,
    pub(crate) network_interface: Option<String>,
    pub(crate) streaming_callback: Option<Streaming>,
    pub(crate) header_callback: Option<HeaderCallback>,
    pub(crate) proxy_host: Option<String>,
    pub(crate) proxy_port: Option<u16>,
    pub(crate) proxy_username: Option<String>,
    pub(crate) proxy_password: Option<String>,
    pub(crate) proxy_auth_mode: Option<String>,
    pub(crate) allow_nonstandard_methods: Option<bool>,
    pub(crate) validate_cert: Option<bool>,
    pub(crate) ca_certs: Option<PathBuf>,
    pub(crate) allow_ipv6: Option<bool>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) client_cert: Option<PathBuf>,
    #[cfg(feature = "tls")]
    pub(crate) tls_options: Option<TlsClientOptions>,
    pub(crate) expect_100_continue: bool,
    /// A setter was given something invalid; the fetch fails with this.
    pub(crate) invalid: Option<String>,
    pub(crate) start_time: SystemTime,
}

impl HttpRequest {
    /// A `GET` of `url` with every option unset (`HTTPRequest(url)`).
    pub fn new(url: impl Into<String>) -> Self {
        HttpRequest {
            url: url.into(),
            method: Method::GET,
            headers: HeaderMap::new(),
            body: None,
            body_producer: None,
            auth_username: None,
            auth_password: None,
            auth_mode: None,
            connect_timeout: None,
            request_timeout: None,
            follow_redirects: None,
            max_redirects: None,
            user_agent: None,
            decompress_response: None,
            network_interface: None,
            streaming_callback: None,
            header_callback: None,
            proxy_host: None,
            proxy_port: None,
            proxy_username: None,
            proxy_password: None,
            proxy_auth_mode: None,
            allow_nonstandard_methods: None,
            validate_cert: None,
            ca_certs: None,
            allow_ipv6: None,
            client_key: None,
            client_cert: None,
            #[cfg(feature = "tls")]
            tls_options: None,
            expect_100_continue: false,
            invalid: None,
            start_time: SystemTime::now(),
        }
    }

    /// The URL (`url`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The method (`method`).
    pub fn get_method(&self) -> &Method {
        &self.method
    }

    /// The headers set so far (`headers`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body (`body`), if one was set.
    pub fn get_body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// When the request was made, on the wall clock (`start_time`).
    pub fn start_time(&self) -> SystemTime {
        self.start_time
    }

    /// The method (`method`). Default is `GET`.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Replaces the headers (`headers`). Default: none.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// Adds a header (a second value of a name adds a line, as `HTTPHeaders.add`). Text
    /// outside ASCII is sent as Latin-1, as Tornado does; a name that is not a token or a
    /// value with CR, LF or other control characters (or characters beyond Latin-1) makes the
    /// fetch fail with `is_invalid_request` (Tornado's `ValueError`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes());
        let value = latin1(value).and_then(|v| HeaderValue::from_bytes(&v).ok());
        match (name, value) {
            (Ok(n), Some(v)) => {
                self.headers.append(n, v);
            }
            _ => {
                self.invalid
                    .get_or_insert_with(|| "invalid header name or value".to_owned());
            }
        }
        self
    }

    /// The body (`body`); a `&str` is sent as UTF-8. Default: none. Setting it sends
    /// `Content-Length`; `POST`, `PUT` and `PATCH` need one (or a body producer) and other
    /// methods must not have one, unless
    /// [`allow_nonstandard_methods`](Self::allow_nonstandard_methods).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A streamed body (`body_producer`): `producer` is called with a [`BodyWriter`] and
    /// writes the body through it; the request ends when its future does. Without a
    /// `Content-Length` header a `POST`, `PUT` or `PATCH` body is sent chunked. It is called
    /// again if a 307 or 308 redirect is followed.
    pub fn body_producer<F, Fut>(mut self, producer: F) -> Self
    where
        F: Fn(BodyWriter) -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        self.body_producer = Some(Rc::new(move |w| Box::pin(producer(w))));
        self
    }

    /// Username for HTTP authentication (`auth_username`). Default: none (or the URL's).
    pub fn auth_username(mut self, username: impl Into<String>) -> Self {
        self.auth_username = Some(username.into());
        self
    }

    /// Password for HTTP authentication (`auth_password`). Default: empty.
    pub fn auth_password(mut self, password: impl Into<String>) -> Self {
        self.auth_password = Some(password.into());
        self
    }

    /// Authentication mode (`auth_mode`); only `basic` is supported. Default: `basic`.
    pub fn auth_mode(mut self, mode: impl Into<String>) -> Self {
        self.auth_mode = Some(mode.into());
        self
    }

    /// Timeout for the connection (`connect_timeout`), counted from the start of the request
    /// (after any wait in the queue); zero means none. Default is 20 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Timeout for the whole request (`request_timeout`), counted from the call to `fetch`,
    /// so time in the `max_clients` queue counts; zero means none. Default is 20 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Sends `If-Modified-Since` (`if_modified_since`). Default: none.
    pub fn if_modified_since(mut self, time: SystemTime) -> Self {
        let value = tornado_httpserver::httputil::format_timestamp(time);
        if let Ok(v) = HeaderValue::from_str(&value) {
            self.headers.insert(IF_MODIFIED_SINCE, v);
        }
        self
    }

    /// Follow redirects (`follow_redirects`). Default is `true`.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = Some(follow);
        self
    }

    /// How many redirects to follow at most (`max_redirects`). Default is 5.
    pub fn max_redirects(mut self, max: u32) -> Self {
        self.max_redirects = Some(max);
        self
    }

    /// The `User-Agent` header (`user_agent`). Default: the request's own header, else
    /// [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Ask for a gzip response and decode it (`decompress_response`, `use_gzip`). Default is
    /// `true`.
    pub fn decompress_response(mut self, decompress: bool) -> Self {
        self.decompress_response = Some(decompress);
        self
    }

    /// The local IP address to connect from (`network_interface`); anything but an IP
    /// address fails the fetch (Tornado's `ValueError`). Default: the system chooses.
    pub fn network_interface(mut self, interface: impl Into<String>) -> Self {
        self.network_interface = Some(interface.into());
        self
    }

    /// Hands the body to `callback` piece by piece as it arrives, instead of keeping it in
    /// the response (`streaming_callback`). Only `max_body_size` limits it then.
    pub fn streaming_callback(mut self, callback: impl FnMut(Bytes) + 'static) -> Self {
        self.streaming_callback = Some(Streaming::Sync(Rc::new(RefCell::new(callback))));
        self
    }

    /// [`streaming_callback`](Self::streaming_callback) as a coroutine (6.6): the next piece
    /// is not read until its future completes, which is flow control. An error fails the
    /// fetch (logged, then `is_stream_closed`), as an exception in Tornado's does.
    pub fn streaming_callback_async<F, Fut>(mut self, mut callback: F) -> Self
    where
        F: FnMut(Bytes) -> Fut + 'static,
        Fut: Future<Output = io::Result<()>> + 'static,
    {
        let boxed = move |b: Bytes| -> LocalBoxFuture<io::Result<()>> { Box::pin(callback(b)) };
        self.streaming_callback = Some(Streaming::Async(Rc::new(RefCell::new(boxed))));
        self
    }

    /// Called with each line of the response head as it arrives: the status line, each
    /// header line, and a final `"\r\n"`, line ends included (`header_callback`). For a
    /// redirect that is followed, only the final response's head is given.
    pub fn header_callback(mut self, callback: impl FnMut(&str) + 'static) -> Self {
        self.header_callback = Some(Rc::new(RefCell::new(callback)));
        self
    }

    /// An HTTP proxy's host (`proxy_host`); needs [`proxy_port`](Self::proxy_port). Plain
    /// `http` requests are sent to it in absolute form; `https` ones through a `CONNECT`
    /// tunnel. Default: none. (Tornado's simple client refuses proxies.)
    pub fn proxy_host(mut self, host: impl Into<String>) -> Self {
        self.proxy_host = Some(host.into());
        self
    }

    /// The HTTP proxy's port (`proxy_port`).
    pub fn proxy_port(mut self, port: u16) -> Self {
        self.proxy_port = Some(port);
        self
    }

    /// Username for the proxy, sent as `Proxy-Authorization: Basic` (`proxy_username`).
    pub fn proxy_username(mut self, username: impl Into<String>) -> Self {
        self.proxy_username = Some(username.into());
        self
    }

    /// Password for the proxy (`proxy_password`). Default: empty.
    pub fn proxy_password(mut self, password: impl Into<String>) -> Self {
        self.proxy_password = Some(password.into());
        self
    }

    /// Proxy authentication mode (`proxy_auth_mode`); only `basic`. Default: `basic`.
    pub fn proxy_auth_mode(mut self, mode: impl Into<String>) -> Self {
        self.proxy_auth_mode = Some(mode.into());
        self
    }

    /// Allow any method, and a body with any method (`allow_nonstandard_methods`). Default
    /// is `false`: methods other than GET, HEAD, POST, PUT, DELETE, PATCH and OPTIONS fail,
    /// as do a body with GET, HEAD, DELETE or OPTIONS and a POST, PUT or PATCH without one.
    pub fn allow_nonstandard_methods(mut self, allow: bool) -> Self {
        self.allow_nonstandard_methods = Some(allow);
        self
    }

    /// Check the server's certificate for `https` (`validate_cert`). Default is `true`.
    pub fn validate_cert(mut self, validate: bool) -> Self {
        self.validate_cert = Some(validate);
        self
    }

    /// Trust the CA certificates of this PEM file instead of the default roots
    /// (`ca_certs`).
    pub fn ca_certs(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(path.into());
        self
    }

    /// Use IPv6 addresses when the host has them (`allow_ipv6`). Default is `true`.
    pub fn allow_ipv6(mut self, allow: bool) -> Self {
        self.allow_ipv6 = Some(allow);
        self
    }

    /// The PEM file of the client certificate's key (`client_key`); defaults to the
    /// certificate's file.
    pub fn client_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_key = Some(path.into());
        self
    }

    /// The PEM file of a client certificate to present (`client_cert`).
    pub fn client_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_cert = Some(path.into());
        self
    }

    /// TLS options of the caller's (`ssl_options`); they override `validate_cert`,
    /// `ca_certs`, `client_key` and `client_cert`. Connections made with them are not
    /// pooled.
    #[cfg(feature = "tls")]
    pub fn tls_options(mut self, options: TlsClientOptions) -> Self {
        self.tls_options = Some(options);
        self
    }

    /// Send `Expect: 100-continue` and send the body only after the server's `100 Continue`
    /// (`expect_100_continue`); a final response instead means the body is never sent.
    /// Default is `false`.
    pub fn expect_100_continue(mut self, expect: bool) -> Self {
        self.expect_100_continue = expect;
        self
    }

    /// Fills every option this request leaves unset from `defaults` (Tornado's
    /// `_RequestProxy`). Headers, URL, method and body are the request's own.
    pub(crate) fn with_defaults(mut self, d: &HttpRequest) -> Self {
        macro_rules! fill {
            ($($f:ident),*) => {$(
                if self.$f.is_none() {
                    self.$f = d.$f.clone();
                }
            )*};
        }
        fill!(
            auth_username,
            auth_password,
            auth_mode,
            connect_timeout,
            request_timeout,
            follow_redirects,
            max_redirects,
            user_agent,
            decompress_response,
            network_interface,
            streaming_callback,
            header_callback,
            proxy_host,
            proxy_port,
            proxy_username,
            proxy_password,
            proxy_auth_mode,
            allow_nonstandard_methods,
            validate_cert,
            ca_certs,
            allow_ipv6,
            client_key,
            client_cert
        );
        #[cfg(feature = "tls")]
        if self.tls_options.is_none() {
            self.tls_options = d.tls_options.clone();
        }
        self
    }

    pub(crate) fn source_ip(&self) -> Result<Option<IpAddr>, String> {
        match &self.network_interface {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                format!("Unrecognized IPv4 or IPv6 address for network_interface, got {s:?}")
            }),
        }
    }
}

/// `s` as Latin-1 bytes, if every character fits.
fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

impl fmt::Debug for HttpRequest {
    /// Like Tornado's, this leaves the headers out (they may hold credentials).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl From<&str> for HttpRequest {
    fn from(url: &str) -> Self {
        HttpRequest::new(url)
    }
}

impl From<String> for HttpRequest {
    fn from(url: String) -> Self {
        HttpRequest::new(url)
    }
}

impl From<&String> for HttpRequest {
    fn from(url: &String) -> Self {
        HttpRequest::new(url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_headers() {
        let r = HttpRequest::new("http://example.com").header("foo", "bar");
        assert_eq!(r.headers()["foo"], "bar");
    }

    #[test]
    fn test_headers_setter() {
        let mut h = HeaderMap::new();
        h.insert("bar", HeaderValue::from_static("baz"));
        let r = HttpRequest::new("http://example.com").with_headers(h);
        assert_eq!(r.headers()["bar"], "baz");
        assert_eq!(r.headers().len(), 1);
    }

    #[test]
    fn test_null_headers_setter() {
        let r = HttpRequest::new("http://example.com").with_headers(HeaderMap::new());
        assert!(r.headers().is_empty());
    }

    #[test]
    fn test_body() {
        let r = HttpRequest::new("http://example.com").body("foo");
        assert_eq!(r.get_body().unwrap(), &Bytes::from_static(b"foo"));
    }

    #[test]
    fn test_if_modified_since() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let r = HttpRequest::new("http://example.com").if_modified_since(t);
        assert_eq!(
            r.headers()["if-modified-since"],
            tornado_httpserver::httputil::format_timestamp(t).as_str()
        );
    }

    #[test]
    fn header_values_are_latin1_and_checked() {
        let r = HttpRequest::new("http://x").header("Foo", "b\u{e4}r");
        assert_eq!(r.headers()["foo"].as_bytes(), b"b\xe4r");
        assert!(r.invalid.is_none());
        for (name, value) in [
            ("foo", "foo\rbar:"),
            ("foo", "foo\nbar:"),
            ("foo", "foo\r\nbar:"),
            ("foo\rbar:", "foo"),
            ("foo\nbar:", "foo"),
            ("foo", "\u{263a}"),
        ] {
            assert!(
                HttpRequest::new("http://x")
                    .header(name, value)
                    .invalid
                    .is_some(),
                "{name:?}: {value:?}"
            );
        }
    }

    #[test]
    fn test_request_set() {
        // RequestProxyTest: the request's value wins, a default fills a gap, neither is None.
        let d = HttpRequest::new("")
            .user_agent("bar")
            .network_interface("foo");
        let r = HttpRequest::new("http://example.com/")
            .user_agent("foo")
            .with_defaults(&d);
        assert_eq!(r.user_agent.as_deref(), Some("foo"));
        assert_eq!(r.network_interface.as_deref(), Some("foo"));
        let r = HttpRequest::new("http://example.com/").with_defaults(&HttpRequest::new(""));
        assert!(r.auth_username.is_none());
    }
}
