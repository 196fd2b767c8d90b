//! A non-blocking HTTP/1.1 client with a keep-alive pool. Port of `tornado.httpclient` and
//! `tornado.simple_httpclient`.
//!
//! This is layer 6 of the workspace. [`AsyncHttpClient::fetch`] sends an [`HttpRequest`]
//! (or a URL) and gives an [`HttpResponse`] or an [`HttpClientError`]; [`HttpClient`] is the
//! blocking wrapper that runs a loop of its own. Requests and responses go over the HTTP/1
//! code of `tornado-httpserver` (`HttpClientConnection`: strict parsing, the server's
//! chunked rules, gzip decoding, at most ten 1xx responses), connections over
//! `tornado-tcpserver`'s `TcpClient` (happy eyeballs, deadlines, TLS over rustls with the
//! feature `tls`, on by default).
//!
//! Tornado's options and defaults are kept: 20 s connect and request timeouts (0 = none),
//! up to 5 redirects (a 303, and a 301 or 302 after a POST, become a GET without body;
//! `Authorization` and `Cookie` are dropped across origins; only `http` and `https`
//! targets), gzip asked for and decoded (`Content-Encoding` renamed
//! `X-Consumed-Content-Encoding`), `max_clients` = 10 with a FIFO queue, 100 MiB bodies,
//! 64 KiB heads, error code 599 for everything that is not an HTTP status.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use http::{HeaderMap, StatusCode};
//! use tornado_httpclient::{AsyncHttpClient, HttpRequest};
//! use tornado_httpserver::{HttpServer, HttpServerRequest};
//! use tornado_ioloop::IoLoop;
//!
//! let io_loop = IoLoop::new();
//! io_loop.run_sync(|| async {
//!     let server = HttpServer::from_fn(|req: HttpServerRequest| async move {
//!         let body = format!("Hello {}", req.path());
//!         let _ = req.respond(StatusCode::OK, HeaderMap::new(), body.as_bytes());
//!     });
//!     let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
//!     let client = AsyncHttpClient::new();
//!     let request = HttpRequest::new(format!("http://127.0.0.1:{port}/world"))
//!         .request_timeout(Duration::from_secs(10));
//!     let response = client.fetch(request, true).await.unwrap();
//!     assert_eq!(response.code(), 200);
//!     assert_eq!(&response.body()[..], b"Hello /world");
//!     // A status outside 2xx is an error, unless raise_error is false.
//!     let missing = client.fetch(format!("http://127.0.0.1:{port}/"), true).await;
//!     assert!(missing.is_ok());
//!     server.stop();
//! }, Some(Duration::from_secs(30))).unwrap();
//! ```
//!
//! # Differences from Tornado
//!
//! * **Connections are kept alive and pooled** per origin (Tornado's simple client sends
//!   `Connection: close` on every request): see [`ClientSettings::keep_alive`], the idle
//!   timeout and the per-host limit. A connection is reused only after its response was
//!   read whole. A request on a pooled connection that the server had closed is retried
//!   once on a new connection when its method is idempotent.
//! * **HTTP proxies work** (`proxy_host`, `proxy_port`, `proxy_username`,
//!   `proxy_password`): absolute-form requests for `http`, a `CONNECT` tunnel for
//!   `https`. Tornado's simple client raises `NotImplementedError`.
//! * `fetch` takes `raise_error` as an argument, and [`ResponseFuture`] cancels its request
//!   when dropped. Options are [`HttpRequest`] setters; client settings are
//!   [`ClientSettings`] (`defaults` is a request whose set options are the defaults).
//! * Errors are one [`HttpClientError`] type with predicates (`is_status`, `is_timeout`,
//!   `is_stream_closed`, `is_io`, `is_invalid_request`) where Tornado raises
//!   `HTTPClientError`, `HTTPTimeoutError`, `HTTPStreamClosedError`, OS errors and
//!   `ValueError`; all but status errors have code 599.
//! * The response keeps the URL and method of the request (`request_url`,
//!   `request_method`), not the request itself (whose callbacks are not `Send`).
//! * The default `User-Agent` is `tornado-rs/<version>` (Tornado: `Tornado/<version>`).
//! * `request_timeout` counts from the call to `fetch`, queue time included, as Tornado's
//!   documentation says (its code counts from the end of the queue wait).
//! * Redirects keep credentials only within an origin compared as scheme, host and port
//!   (Tornado compares the raw `netloc`, user info included).
#![doc(test(attr(deny(warnings))))]

mod blocking;
mod client;
mod collector;
mod connect;
mod error;
mod exchange;
mod pool;
mod redirect;
mod request;
mod response;
mod settings;
mod url;
mod util;

pub use blocking::HttpClient;
pub use client::{AsyncHttpClient, ResponseFuture};
pub use error::{HttpClientError, TRANSPORT_ERROR_CODE};
pub use request::{
    BodyWriter, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_REDIRECTS, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_USER_AGENT, HttpRequest, LocalBoxFuture,
};
pub use response::{HttpResponse, TimeInfo};
pub use settings::{
    ClientSettings, DEFAULT_MAX_BUFFER_SIZE, DEFAULT_MAX_CLIENTS, DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_POOL_IDLE_TIMEOUT,
};

/// Resolves `url` against `base` as Python's `urllib.parse.urljoin` does (RFC 3986
/// reference resolution): what the client does with a redirect's `Location`, and what a
/// crawler does with a link.
///
/// ```
/// use tornado_httpclient::urljoin;
///
/// assert_eq!(urljoin("http://a/b/c", "../d?x#y"), "http://a/d?x#y");
/// assert_eq!(urljoin("http://a/b/c", "https://e/"), "https://e/");
/// ```
pub fn urljoin(base: &str, url: &str) -> String {
    url::join(base, url)
}

/// Tornado's name for [`HttpClientError`] (`tornado.httpclient.HTTPError`).
pub type HttpError = HttpClientError;
