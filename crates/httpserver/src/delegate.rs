//! The delegate interfaces (Tornado's `HTTPServerConnectionDelegate` and
//! `HTTPMessageDelegate`).

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;
use http::HeaderMap;

use crate::http1::HttpConnection;
use crate::httputil::{HttpInputError, RequestStartLine, ResponseStartLine};
use crate::request_headers::RequestHeaders;

/// The first line of a message: a request's (on a server) or a response's (on a client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// A request line.
    Request(RequestStartLine),
    /// A status line.
    Response(ResponseStartLine),
}

/// Receives one HTTP message as it is read (`tornado.httputil.HTTPMessageDelegate`).
///
/// The connection calls, in order: [`headers_received`](HttpMessageDelegate::headers_received)
/// once, [`data_received`](HttpMessageDelegate::data_received) for each piece of body (at most
/// `chunk_size` bytes each), then [`finish`](HttpMessageDelegate::finish); or
/// [`on_connection_close`](HttpMessageDelegate::on_connection_close) if the connection closes
/// before the message is complete. The futures of the first two are awaited before more is
/// read, which is how a slow consumer applies flow control.
pub trait HttpMessageDelegate: 'static {
    /// The start line and headers have arrived. An error rejects the message as malformed:
    /// the server answers `400 Bad Request` and closes.
    fn headers_received(
        &mut self,
        start_line: StartLine,
        headers: HeaderMap,
    ) -> impl Future<Output = Result<(), HttpInputError>>;

    /// A request's head has arrived (on a server), its headers not yet made into a map; this
    /// is what a server calls. Default: [`headers_received`](HttpMessageDelegate::headers_received)
    /// with the map built. A delegate that reads few headers overrides it and keeps the
    /// [`RequestHeaders`] (the web framework's requests do), so that a map is built only if
    /// someone asks for one.
    fn request_headers_received(
        &mut self,
        start_line: RequestStartLine,
        headers: RequestHeaders,
    ) -> impl Future<Output = Result<(), HttpInputError>> {
        self.headers_received(StartLine::Request(start_line), headers.into_map())
    }

    /// A piece of body has arrived. An error rejects the message as malformed.
    fn data_received(&mut self, chunk: Bytes) -> impl Future<Output = Result<(), HttpInputError>>;

    /// The message is complete. A server delegate typically produces its response here (or
    /// starts to: the connection waits for [`HttpConnection::finish`] before it reads the next
    /// request).
    fn finish(&mut self) -> impl Future<Output = ()>;

    /// The connection closed before the message was complete. Default: nothing.
    fn on_connection_close(&mut self) {}

    /// On a client connection, an informational (1xx) response arrived before the real one
    /// (`100 Continue`, say); it is awaited before more is read, so a client that sent
    /// `Expect: 100-continue` can write its body here. An error fails the response as
    /// [`headers_received`](HttpMessageDelegate::headers_received)'s does. Tornado hands
    /// these to `headers_received`; a separate method keeps the final response's call
    /// exactly once. Default: nothing.
    fn informational_received(
        &mut self,
        start_line: &ResponseStartLine,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<(), HttpInputError>> {
        let _ = (start_line, headers);
        std::future::ready(Ok(()))
    }
}

/// What a server tells its delegate about a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConnection {
    /// A number that identifies the connection among those of its loop.
    pub id: u64,
    /// The peer's address (`None` for a Unix socket).
    pub address: Option<SocketAddr>,
}

/// Receives the requests of a server (`tornado.httputil.HTTPServerConnectionDelegate`); an
/// `Application` is one.
///
/// With [`HttpServer::start`](crate::HttpServer::start) it is shared by several threads,
/// which is why it must be `Send + Sync` there; the message delegates it makes live on one
/// loop and need not be.
pub trait HttpServerConnectionDelegate: 'static {
    /// The delegate of one request.
    type Message: HttpMessageDelegate;

    /// A request is starting on `server_conn`; `request_conn` is how its response is written.
    fn start_request(
        &self,
        server_conn: &ServerConnection,
        request_conn: HttpConnection,
    ) -> Self::Message;

    /// The connection closed (`on_close`). Default: nothing.
    fn on_close(&self, server_conn: &ServerConnection) {
        let _ = server_conn;
    }
}
