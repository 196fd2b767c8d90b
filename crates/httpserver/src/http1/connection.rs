//! [`HttpConnection`]: the side of a request that writes its response (Tornado's
//! `HTTP1Connection` as a delegate sees it: `write_headers`, `write`, `finish`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};
use tornado_iostream::{IoStream, WriteFuture};

use super::framing::parse_int;
use super::header_lines::{FixedLines, HeaderLines};
use super::params::HttpConnectionParameters;
use super::writer::{FramingHeaders, LAST_CHUNK, put_chunk, put_response_head};
use crate::context::RequestContext;
use crate::httputil::{HttpOutputError, ResponseStartLine};

/// What the connection knows about the request being answered.
#[derive(Debug)]
pub(crate) struct RequestState {
    pub(crate) method: Method,
    pub(crate) version: Version,
    /// The HTTP/1.0 client asked for `Connection: keep-alive`.
    pub(crate) asked_keep_alive: bool,
    /// Close after this response (decided from the request, or because the application
    /// answered before the body was read).
    pub(crate) disconnect_on_finish: bool,
    pub(crate) read_finished: bool,
    pub(crate) headers_written: bool,
    pub(crate) write_finished: bool,
    chunking_output: bool,
    /// Body bytes still owed to a `Content-Length` (`None`: no length promised).
    expected_remaining: Option<u64>,
    pub(crate) max_body_size: u64,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) context: RequestContext,
}

/// State shared by the connection's loop and the delegates of its requests.
pub(crate) struct Shared {
    pub(crate) stream: IoStream,
    /// The connection as the server's registry sees it (graceful shutdown sets `closing`).
    pub(crate) conn_state: Rc<super::server_conn::ConnState>,
    pub(crate) req: RefCell<RequestState>,
    /// Counts requests: a handle kept past its request cannot write into the next one.
    pub(crate) generation: Cell<u64>,
    /// The loop waiting for the response to finish.
    pub(crate) finish_waker: RefCell<Option<Waker>>,
    pub(crate) close_callback: RefCell<Option<Box<dyn FnOnce()>>>,
    /// The stream was taken over (`detach`, for WebSockets): the loop stops serving.
    pub(crate) detached: Cell<bool>,
}

/// The response side of one request on an HTTP/1 connection.
///
/// A delegate gets one in `start_request` and answers through it:
/// [`write_headers`](HttpConnection::write_headers), then any number of
/// [`write`](HttpConnection::write)s, then [`finish`](HttpConnection::finish). The connection
/// applies HTTP/1's framing rules as Tornado does: chunked output for HTTP/1.1 responses with
/// no `Content-Length` (and a body allowed), `Connection: close` when it will close,
/// `Connection: Keep-Alive` for HTTP/1.0 clients that asked, no body for `HEAD`, 1xx, 204 and
/// 304, and exactly `Content-Length` bytes when one is set.
///
/// Writes are buffered; the connection sends them when the response finishes and no other
/// request is already waiting in its buffer (so the answers to pipelined requests leave in one
/// system call), or when a `write` future is awaited (streaming).
#[derive(Clone)]
pub struct HttpConnection {
    pub(crate) shared: Rc<Shared>,
    generation: u64,
}

impl HttpConnection {
    pub(crate) fn new(shared: Rc<Shared>) -> Self {
        let generation = shared.generation.get();
        HttpConnection { shared, generation }
    }

    fn check(&self) -> io::Result<()> {
        if self.generation != self.shared.generation.get() {
            return Err(io::Error::other("this request has already been answered"));
        }
        Ok(())
    }

    /// Who sent the request: its address, client IP and protocol (after `xheaders`).
    pub fn context(&self) -> RequestContext {
        self.shared.req.borrow().context.clone()
    }

    /// The underlying stream.
    pub fn stream(&self) -> &IoStream {
        &self.shared.stream
    }

    /// Writes the status line and headers, and optionally a first piece of body
    /// (`write_headers`). Buffered: see the type's documentation.
    ///
    /// The connection sets `Connection` and `Transfer-Encoding` as framing requires, and adds
    /// a `Date` (cached per second) unless the headers have one. It takes the map so that,
    /// once written, its allocation serves a later message (see
    /// [`header_map`](crate::header_map)).
    ///
    /// Fails if the reason phrase contains CR or LF, if a body is given where none is
    /// allowed, if the headers were already written, or if the stream is closed.
    pub fn write_headers(
        &self,
        start_line: &ResponseStartLine,
        headers: HeaderMap,
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        let result = self.write_head(start_line, [b"", b""], &headers, chunk, None);
        crate::recycle_header_map(headers);
        result
    }

    /// [`write_headers`](Self::write_headers) with `fixed` lines written before `headers`.
    pub fn write_headers_with(
        &self,
        start_line: &ResponseStartLine,
        fixed: &impl FixedLines,
        headers: HeaderMap,
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        let result = self.write_head(start_line, fixed.pieces(), &headers, chunk, None);
        crate::recycle_header_map(headers);
        result
    }

    /// Writes a whole response at once: the status line, the headers, `body`, and
    /// [`finish`](Self::finish). Since the body is known whole, the connection writes its
    /// `Content-Length` unless the headers have one (as Tornado's `RequestHandler.finish`
    /// sets it), so the response is never chunked; the status codes that have no body (1xx,
    /// 204, 304) get none. A `HEAD` request gets the length of `body` but not the body.
    pub fn write_response(
        &self,
        start_line: &ResponseStartLine,
        headers: HeaderMap,
        body: &[u8],
    ) -> io::Result<()> {
        self.write_response_with(start_line, &HeaderLines::empty(), headers, body)
    }

    /// [`write_response`](Self::write_response) with `fixed` lines written before
    /// `headers`.
    pub fn write_response_with(
        &self,
        start_line: &ResponseStartLine,
        fixed: &impl FixedLines,
        headers: HeaderMap,
        body: &[u8],
    ) -> io::Result<()> {
        let head_request = self.shared.req.borrow().method == Method::HEAD;
        let chunk = (!head_request).then_some(body);
        let result = self.write_head(
            start_line,
            fixed.pieces(),
            &headers,
            chunk,
            Some(body.len() as u64),
        );
        crate::recycle_header_map(headers);
        result?;
        self.finish()
    }

    /// [`write_response_with`](Self::write_response_with) with the headers as a list of
    /// pairs instead of a map (for callers that build few headers and want no hashing).
    pub fn write_response_list(
        &self,
        start_line: &ResponseStartLine,
        fixed: &impl FixedLines,
        headers: &[(HeaderName, HeaderValue)],
        body: &[u8],
    ) -> io::Result<()> {
        let head_request = self.shared.req.borrow().method == Method::HEAD;
        let chunk = (!head_request).then_some(body);
        let pairs = headers.iter().map(|(n, v)| (n, v));
        self.write_head(
            start_line,
            fixed.pieces(),
            pairs,
            chunk,
            Some(body.len() as u64),
        )?;
        self.finish()
    }

    /// [`write_headers_with`](Self::write_headers_with) with the headers as a list of pairs.
    pub fn write_headers_list(
        &self,
        start_line: &ResponseStartLine,
        fixed: &impl FixedLines,
        headers: &[(HeaderName, HeaderValue)],
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        let pairs = headers.iter().map(|(n, v)| (n, v));
        self.write_head(start_line, fixed.pieces(), pairs, chunk, None)
    }

    /// Writes the head (and `chunk`). `whole_length`: the body is complete and this long,
    /// so a missing `Content-Length` is written rather than chunking.
    fn write_head<'h, H>(
        &self,
        start_line: &ResponseStartLine,
        fixed: [&[u8]; 2],
        headers: H,
        chunk: Option<&[u8]>,
        whole_length: Option<u64>,
    ) -> io::Result<()>
    where
        H: IntoIterator<Item = (&'h HeaderName, &'h HeaderValue)> + Clone,
    {
        self.check()?;
        let shared = &*self.shared;
        let mut req = shared.req.borrow_mut();
        if req.headers_written {
            return Err(HttpOutputError::new("headers were already written").into());
        }
        if shared.conn_state.closing.get() {
            // The server is shutting down: this is the connection's last response.
            req.disconnect_on_finish = true;
        }
        let code = start_line.code;
        let bodyless_status = code == StatusCode::NO_CONTENT
            || code == StatusCode::NOT_MODIFIED
            || code.is_informational();
        let head = req.method == Method::HEAD;
        // One pass over the headers for the two the framing depends on (cheaper than two
        // lookups in the map for the few headers a response has).
        let mut length = None;
        let mut connection_close = false;
        let mut has_date = false;
        for (name, value) in headers.clone() {
            if name == CONTENT_LENGTH {
                length.get_or_insert(value);
            } else if name == CONNECTION {
                connection_close = value.as_bytes().eq_ignore_ascii_case(b"close");
            } else if name == DATE {
                has_date = true;
            }
        }
        let add_length = whole_length.filter(|_| length.is_none() && !bodyless_status);
        req.chunking_output = req.version == Version::HTTP_11
            && !head
            && !bodyless_status
            && length.is_none()
            && add_length.is_none();
        let framing = FramingHeaders {
            close: req.version == Version::HTTP_11 && req.disconnect_on_finish,
            keep_alive: req.version == Version::HTTP_10 && req.asked_keep_alive,
            chunked: req.chunking_output,
            date: !has_date && !code.is_informational(),
            length: add_length,
        };
        if framing.keep_alive && connection_close {
            // The application asked to close: it wins (and the connection closes).
            req.disconnect_on_finish = true;
        }
        req.expected_remaining = if head || code == StatusCode::NOT_MODIFIED {
            Some(0)
        } else if let Some(v) = length {
            let v = v.as_bytes();
            Some(parse_int(v).ok_or_else(|| {
                HttpOutputError::new(format!(
                    "invalid Content-Length in response: {:?}",
                    String::from_utf8_lossy(v)
                ))
            })?)
        } else {
            add_length
        };
        if bodyless_status && chunk.is_some_and(|c| !c.is_empty()) {
            return Err(HttpOutputError::new(format!(
                "Response with code {} should not have body",
                code.as_u16()
            ))
            .into());
        }
        let chunking = req.chunking_output;
        let body = chunk.unwrap_or_default();
        check_remaining(&mut req, body.len(), &shared.stream)?;
        req.headers_written = true;
        drop(req);
        shared.stream.write_buffered_with(|buf| {
            put_response_head(buf, code, &start_line.reason, fixed, headers, framing)?;
            if chunking {
                put_chunk(buf, body);
            } else {
                buf.extend_from_slice(body);
            }
            Ok::<_, HttpOutputError>(())
        })??;
        Ok(())
    }

    /// Writes a piece of the body (`write`). The returned future resolves when everything
    /// written so far has been sent, which is how a streaming response applies flow control;
    /// the data is queued whether or not it is awaited.
    pub fn write(&self, chunk: &[u8]) -> WriteFuture {
        if let Err(e) = self.queue_body(chunk) {
            // Report the error through the future, as Tornado's write does.
            self.shared.stream.close(None);
            let _ = e;
        }
        self.shared.stream.flush()
    }

    /// Queues a piece of the body without sending it.
    pub fn write_buffered(&self, chunk: &[u8]) -> io::Result<()> {
        self.queue_body(chunk)
    }

    fn queue_body(&self, chunk: &[u8]) -> io::Result<()> {
        self.check()?;
        let shared = &*self.shared;
        let mut req = shared.req.borrow_mut();
        if !req.headers_written {
            return Err(HttpOutputError::new("write() before write_headers()").into());
        }
        check_remaining(&mut req, chunk.len(), &shared.stream)?;
        let chunking = req.chunking_output;
        drop(req);
        if chunking {
            shared
                .stream
                .write_buffered_with(|buf| put_chunk(buf, chunk))
        } else if chunk.len() >= 4096 {
            shared
                .stream
                .write_buffered_bytes(Bytes::copy_from_slice(chunk))
        } else {
            shared.stream.write_buffered(chunk)
        }
    }

    /// Ends the response (`finish`): the last chunk of a chunked body is written, and the
    /// connection goes on to the next request (or closes). Fails with an
    /// [`HttpOutputError`], closing the connection, if fewer bytes than the
    /// `Content-Length` were written.
    pub fn finish(&self) -> io::Result<()> {
        self.check()?;
        let shared = &*self.shared;
        let mut req = shared.req.borrow_mut();
        if req.write_finished {
            return Err(HttpOutputError::new("finish() called twice").into());
        }
        if !req.headers_written {
            return Err(HttpOutputError::new("finish() before write_headers()").into());
        }
        let result = match req.expected_remaining {
            Some(n) if n != 0 && !shared.stream.closed() => {
                // What was written goes out; then the connection closes, since the response
                // is not what it promised.
                drop(shared.stream.flush()); // the write starts now; its outcome is not awaited
                shared.stream.close(None);
                Err(HttpOutputError::new(format!(
                    "Tried to write {n} bytes less than Content-Length"
                ))
                .into())
            }
            _ => Ok(()),
        };
        if req.chunking_output && !shared.stream.closed() {
            let _ = shared.stream.write_buffered(LAST_CHUNK);
        }
        req.write_finished = true;
        if !req.read_finished {
            // The body was not read to its end: the connection's framing is lost.
            req.disconnect_on_finish = true;
        }
        drop(req);
        if let Some(w) = shared.finish_waker.borrow_mut().take() {
            w.wake();
        }
        result
    }

    /// `true` once [`finish`](HttpConnection::finish) was called.
    pub fn finished(&self) -> bool {
        self.generation != self.shared.generation.get() || self.shared.req.borrow().write_finished
    }

    /// Runs `callback` if the connection closes before this response is finished
    /// (`set_close_callback`), e.g. to stop a long poll.
    pub fn set_close_callback(&self, callback: impl FnOnce() + 'static) {
        *self.shared.close_callback.borrow_mut() = Some(Box::new(callback));
    }

    /// Changes the body size limit for this request (`set_max_body_size`), from a
    /// streaming handler's `prepare`, before the body is read.
    pub fn set_max_body_size(&self, bytes: u64) {
        if self.check().is_ok() {
            self.shared.req.borrow_mut().max_body_size = bytes;
        }
    }

    /// Changes the body timeout for this request (`set_body_timeout`).
    pub fn set_body_timeout(&self, timeout: Duration) {
        if self.check().is_ok() {
            self.shared.req.borrow_mut().body_timeout = Some(timeout);
        }
    }

    /// Takes the stream over (`detach`): the connection stops serving HTTP on it and the
    /// caller owns the protocol from here (WebSockets). Anything written so far is still
    /// sent first.
    pub fn detach(&self) -> IoStream {
        self.shared.detached.set(true);
        if let Some(w) = self.shared.finish_waker.borrow_mut().take() {
            w.wake();
        }
        self.shared.stream.clone()
    }

    /// Answers a malformed request as the connection does: log at info, a bare
    /// `400 Bad Request`, and close.
    pub(crate) fn reject(&self, e: &crate::httputil::HttpInputError) {
        if self.check().is_err() {
            return;
        }
        let ctx = self.context();
        let from = ctx
            .address
            .map_or("unix socket".to_owned(), |a| a.to_string());
        log::info!(target: "general", "Malformed HTTP message from {from}: {e}");
        self.shared.req.borrow_mut().disconnect_on_finish = true;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, http::HeaderValue::from_static("0"));
        if self
            .write_headers(
                &ResponseStartLine::new(StatusCode::BAD_REQUEST),
                headers,
                None,
            )
            .is_ok()
        {
            let _ = self.finish();
        }
    }

    /// Closes the connection (`close`).
    pub fn close(&self) {
        self.shared.stream.close(None);
        if let Some(w) = self.shared.finish_waker.borrow_mut().take() {
            w.wake();
        }
    }
}

fn check_remaining(req: &mut RequestState, len: usize, stream: &IoStream) -> io::Result<()> {
    if let Some(remaining) = req.expected_remaining.as_mut() {
        if len as u64 > *remaining {
            stream.close(None);
            return Err(
                HttpOutputError::new("Tried to write more data than Content-Length").into(),
            );
        }
        *remaining -= len as u64;
    }
    Ok(())
}

impl Shared {
    /// Waits until the response of the current request is finished, the connection is
    /// detached or closed.
    pub(crate) fn poll_response_done(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.req.borrow().write_finished || self.detached.get() || self.stream.closed() {
            return Poll::Ready(());
        }
        *self.finish_waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl fmt::Debug for HttpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let req = self.shared.req.borrow();
        f.debug_struct("HttpConnection")
            .field("method", &req.method)
            .field("headers_written", &req.headers_written)
            .field("finished", &req.write_finished)
            .finish()
    }
}

impl RequestState {
    pub(crate) fn new(context: RequestContext, params: &HttpConnectionParameters) -> Self {
        RequestState {
            method: Method::GET,
            version: Version::HTTP_11,
            asked_keep_alive: false,
            disconnect_on_finish: false,
            read_finished: false,
            headers_written: false,
            write_finished: false,
            chunking_output: false,
            expected_remaining: None,
            max_body_size: params.max_body_size,
            body_timeout: params.body_timeout,
            context,
        }
    }

    /// Resets the per-request fields for the next request on the connection.
    pub(crate) fn begin(
        &mut self,
        method: Method,
        version: Version,
        asked_keep_alive: bool,
        disconnect_on_finish: bool,
        context: RequestContext,
        params: &HttpConnectionParameters,
    ) {
        *self = RequestState {
            method,
            version,
            asked_keep_alive,
            disconnect_on_finish,
            ..RequestState::new(context, params)
        };
    }
}
