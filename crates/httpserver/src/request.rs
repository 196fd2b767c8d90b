//! [`HttpServerRequest`]: one request, whole (`tornado.httputil.HTTPServerRequest`).

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use std::collections::HashMap;

use http::header::{COOKIE, HOST, HeaderMap};
use http::{Method, StatusCode, Version};

use crate::context::RequestContext;
use crate::http1::HttpConnection;
use crate::httputil::{Arguments, Files, RequestStartLine, RequestTarget, ResponseStartLine};
use crate::request_headers::RequestHeaders;

/// A request with its body read (`tornado.httputil.HTTPServerRequest`), as the callback of
/// [`HttpServer::from_fn`](crate::HttpServer::from_fn) receives it. Its response is written
/// through [`connection`](HttpServerRequest::connection) (or [`respond`](HttpServerRequest::respond)).
///
/// A clone is the same request on the same connection (a web framework's fallback handler
/// hands one to a function of this layer).
#[derive(Clone)]
pub struct HttpServerRequest {
    pub(crate) method: Method,
    pub(crate) target: RequestTarget,
    pub(crate) version: Version,
    pub(crate) headers: RequestHeaders,
    pub(crate) body: Bytes,
    pub(crate) context: RequestContext,
    pub(crate) connection: HttpConnection,
    pub(crate) start: Instant,
    pub(crate) finish: Option<Instant>,
    pub(crate) args: crate::request_args::LazyArgs,
}

impl HttpServerRequest {
    /// A request read from `connection` (`HTTPServerRequest(...)`, as Tornado's
    /// `_CallableAdapter` and web framework build it once the head is read).
    pub fn new(
        start_line: RequestStartLine,
        headers: impl Into<RequestHeaders>,
        body: Bytes,
        connection: HttpConnection,
    ) -> Self {
        HttpServerRequest {
            method: start_line.method,
            target: start_line.path,
            version: start_line.version,
            context: connection.context(),
            headers: headers.into(),
            body,
            connection,
            // The loop iteration's start (no clock read per request); outside a loop, now.
            start: tornado_ioloop::iteration_time().unwrap_or_else(Instant::now),
            finish: None,
            args: Default::default(),
        }
    }

    /// Sets the body, once read.
    pub fn set_body(&mut self, body: Bytes) {
        self.body = body;
    }

    /// Parses a form body (urlencoded or multipart, by `Content-Type`) into
    /// [`body_arguments`](HttpServerRequest::body_arguments) and
    /// [`files`](HttpServerRequest::files) (`_parse_body`), within `config`'s limits.
    pub fn parse_body(
        &mut self,
        config: &crate::httputil::ParseBodyConfig,
    ) -> Result<(), crate::httputil::HttpInputError> {
        let Some(content_type) = self.headers.get(&http::header::CONTENT_TYPE) else {
            return Ok(());
        };
        let content_type = std::str::from_utf8(content_type).unwrap_or("");
        let args = self.args.get_mut();
        crate::httputil::parse_body_arguments(
            content_type,
            &self.body,
            &mut args.body,
            &mut args.files,
            Some(self.headers.map()),
            config,
        )
    }

    /// The method (`method`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target as sent (`uri`): path and query, usually.
    pub fn uri(&self) -> &str {
        self.target.as_str()
    }

    /// The target as an `http::Uri`, when it parses as one (targets Tornado accepts, such as
    /// ones with `<` or a backtick, do not).
    pub fn parsed_uri(&self) -> Option<http::Uri> {
        self.target.as_str().parse().ok()
    }

    /// The part of the target before `?` (`path`).
    pub fn path(&self) -> &str {
        self.target.path()
    }

    /// The part of the target after `?`, or `""` (`query`).
    pub fn query(&self) -> &str {
        self.target.query()
    }

    /// `HTTP/1.0` or `HTTP/1.1` (`version`).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The headers (`headers`): repeated headers keep every value. A request read by the
    /// server has its map built on the first call (see
    /// [`request_headers`](HttpServerRequest::request_headers)).
    pub fn headers(&self) -> &HeaderMap {
        self.headers.map()
    }

    /// The headers, to change (`headers` is a mutable attribute in Tornado).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.map_mut()
    }

    /// The headers as the server read them: [`get`](RequestHeaders::get) and
    /// [`get_all`](RequestHeaders::get_all) find a header without building the map that
    /// [`headers`](HttpServerRequest::headers) builds.
    pub fn request_headers(&self) -> &RequestHeaders {
        &self.headers
    }

    /// Gives the request's header map, if one was built, to this thread's pool (see
    /// [`recycle_header_map`](crate::recycle_header_map)); the request has no headers
    /// afterwards. For a server that keeps requests' memory for later ones.
    pub fn recycle_headers(&mut self) {
        if let Some(map) = self.headers.take_map() {
            crate::recycle_header_map(map);
        }
    }

    /// The body (`body`), empty if there was none.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The arguments of the query string (`query_arguments`): names to values, blank values
    /// kept, `+` read as a space.
    pub fn query_arguments(&self) -> &Arguments {
        self.args.get().query(self.target.query())
    }

    /// The arguments of a `application/x-www-form-urlencoded` or `multipart/form-data` body
    /// (`body_arguments`).
    pub fn body_arguments(&self) -> &Arguments {
        &self.args.get().body
    }

    /// Query and body arguments together, query first (`arguments`).
    pub fn arguments(&self) -> &Arguments {
        self.args.get().all(self.target.query())
    }

    /// The files of a `multipart/form-data` body, by field name (`files`).
    pub fn files(&self) -> &Files {
        &self.args.get().files
    }

    /// The cookies the client sent, by name; of repeated names the last wins, as with
    /// Tornado's `SimpleCookie` (`cookies`).
    pub fn cookies(&self) -> &HashMap<String, String> {
        let header = self
            .headers
            .get(&COOKIE)
            .and_then(|v| std::str::from_utf8(v).ok());
        self.args.get().cookies(header)
    }

    /// The client's IP (`remote_ip`): the peer's, or with `xheaders` the one a trusted proxy
    /// reported; `0.0.0.0` for a Unix socket.
    pub fn remote_ip(&self) -> IpAddr {
        self.context.remote_ip
    }

    /// `"http"` or `"https"` (`protocol`).
    pub fn protocol(&self) -> &'static str {
        self.context.protocol
    }

    /// The `Host` header, or `127.0.0.1` for an HTTP/1.0 request without one (`host`).
    pub fn host(&self) -> &str {
        self.headers
            .get(&HOST)
            .and_then(|h| std::str::from_utf8(h).ok())
            .unwrap_or("127.0.0.1")
    }

    /// [`host`](HttpServerRequest::host) without its port, lower-cased (`host_name`).
    pub fn host_name(&self) -> String {
        let host = self.host();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                name
            }
            _ => host,
        };
        name.to_ascii_lowercase()
    }

    /// `protocol://host/uri` (`full_url`).
    pub fn full_url(&self) -> String {
        format!("{}://{}{}", self.protocol(), self.host(), self.uri())
    }

    /// How long the request has taken so far, or took until it was finished
    /// (`request_time`).
    pub fn request_time(&self) -> Duration {
        self.finish.unwrap_or_else(Instant::now) - self.start
    }

    /// Who sent the request.
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The connection, to write the response (`connection`).
    pub fn connection(&self) -> &HttpConnection {
        &self.connection
    }

    /// Writes a complete response: status, headers (plus a `Content-Length` for `body`
    /// unless one is set, or the status has no body), body (not for `HEAD`), and finishes it
    /// (see [`HttpConnection::write_response`]). A convenience of this crate; Tornado
    /// applications write through `request.connection` (or a web framework).
    pub fn respond(&self, status: StatusCode, headers: HeaderMap, body: &[u8]) -> io::Result<()> {
        self.connection
            .write_response(&ResponseStartLine::new(status), headers, body)
    }
}

impl fmt::Debug for HttpServerRequest {
    /// Like Tornado's `repr`, this leaves the headers out (they may hold credentials).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerRequest")
            .field("protocol", &self.protocol())
            .field("host", &self.host())
            .field("method", &self.method)
            .field("uri", &self.uri())
            .field("version", &self.version)
            .field("remote_ip", &self.remote_ip())
            .finish()
    }
}
