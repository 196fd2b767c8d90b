//! The simple form of a server: a function that takes a whole request (Tornado's
//! `_CallableAdapter`, for `HTTPServer(request_callback)`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::delegate::{
    HttpMessageDelegate, HttpServerConnectionDelegate, ServerConnection, StartLine,
};
use crate::http1::HttpConnection;
use crate::httputil::{HttpInputError, ParseBodyConfig, RequestStartLine};
use crate::request::HttpServerRequest;
use crate::request_headers::RequestHeaders;

/// Adapts a function of a whole [`HttpServerRequest`] to the delegate interface: the body
/// is read into memory, then the function is called.
pub struct CallbackDelegate<F> {
    callback: Arc<F>,
    config: Arc<ParseBodyConfig>,
}

impl<F> CallbackDelegate<F> {
    pub(crate) fn new(callback: F, config: ParseBodyConfig) -> Self {
        CallbackDelegate {
            callback: Arc::new(callback),
            config: Arc::new(config),
        }
    }
}

impl<F> fmt::Debug for CallbackDelegate<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackDelegate").finish_non_exhaustive()
    }
}

impl<F, Fut> HttpServerConnectionDelegate for CallbackDelegate<F>
where
    F: Fn(HttpServerRequest) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    type Message = CallbackMessage<F>;

    fn start_request(
        &self,
        _server_conn: &ServerConnection,
        request_conn: HttpConnection,
    ) -> Self::Message {
        CallbackMessage {
            callback: self.callback.clone(),
            config: self.config.clone(),
            connection: request_conn,
            head: None,
            body: Body::Empty,
        }
    }
}

enum Body {
    Empty,
    /// One piece: kept as it came, with no copy.
    One(Bytes),
    Many(BytesMut),
}

/// The message delegate of [`CallbackDelegate`].
pub struct CallbackMessage<F> {
    callback: Arc<F>,
    config: Arc<ParseBodyConfig>,
    connection: HttpConnection,
    head: Option<(RequestStartLine, RequestHeaders)>,
    body: Body,
}

impl<F> fmt::Debug for CallbackMessage<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackMessage").finish_non_exhaustive()
    }
}

impl<F, Fut> HttpMessageDelegate for CallbackMessage<F>
where
    F: Fn(HttpServerRequest) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    async fn headers_received(
        &mut self,
        start_line: StartLine,
        headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        match start_line {
            StartLine::Request(line) => {
                self.head = Some((line, headers.into()));
                Ok(())
            }
            StartLine::Response(_) => Err(HttpInputError::new("a response sent to a server")),
        }
    }

    async fn request_headers_received(
        &mut self,
        start_line: RequestStartLine,
        headers: RequestHeaders,
    ) -> Result<(), HttpInputError> {
        // The request keeps the head: its map is built if the callback asks for it.
        self.head = Some((start_line, headers));
        Ok(())
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        self.body = match std::mem::replace(&mut self.body, Body::Empty) {
            Body::Empty => Body::One(chunk),
            Body::One(first) => {
                let mut all = BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                Body::Many(all)
            }
            Body::Many(mut all) => {
                all.extend_from_slice(&chunk);
                Body::Many(all)
            }
        };
        Ok(())
    }

    async fn finish(&mut self) {
        let Some((line, headers)) = self.head.take() else {
            return;
        };
        let body = match std::mem::replace(&mut self.body, Body::Empty) {
            Body::Empty => Bytes::new(),
            Body::One(b) => b,
            Body::Many(b) => b.freeze(),
        };
        let mut request = HttpServerRequest::new(line, headers, body, self.connection.clone());
        if let Err(e) = request.parse_body(&self.config) {
            // Tornado's `_parse_body` raises here, which the connection answers with a 400.
            self.connection.reject(&e);
            return;
        }
        (self.callback)(request).await;
    }
}
