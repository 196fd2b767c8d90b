//! [`HttpClientConnection`]: the client side of HTTP/1 (Tornado's `HTTP1Connection` with
//! `is_client=True`): write a request, read its response into a delegate.

use std::cell::RefCell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::Poll;

use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, HeaderMap, HeaderName, TRANSFER_ENCODING,
};
use http::{Method, StatusCode, Version};
use tornado_iostream::{IoStream, WriteFuture};

use super::body::{BodyError, BodySink, read_body_until_close, read_chunked_body, read_fixed_body};
use super::framing::{content_length, is_transfer_encoding_chunked};
use super::head::{HeadScanner, parse_response_head};
use super::params::HttpConnectionParameters;
use super::writer::{LAST_CHUNK, put_chunk, put_request_head};
use crate::delegate::{HttpMessageDelegate, StartLine};
use crate::gzip::GzipDecompressor;
use crate::httputil::{HttpInputError, HttpOutputError, RequestStartLine, ResponseStartLine};

/// At most this many informational (1xx) responses before the real one (6.5.9), unless
/// [`HttpConnectionParameters::max_1xx_responses`] says otherwise.
pub const MAX_1XX_RESPONSES: usize = 10;

#[derive(Debug, Default)]
struct ClientState {
    method: Option<Method>,
    chunking_output: bool,
    expected_remaining: Option<u64>,
    write_finished: bool,
}

/// The client side of an HTTP/1 connection: one request written, one response read (then,
/// if the response says the connection may stay open, the next request).
///
/// With [`HttpConnectionParameters::decompress`] on, a response with `Content-Encoding: gzip`
/// is decoded on its way to the delegate, as Tornado's client does: the header is renamed
/// `X-Consumed-Content-Encoding`, pieces are at most `chunk_size` bytes, `max_body_size`
/// counts decoded bytes, and invalid or truncated gzip fails the response as malformed.
pub struct HttpClientConnection {
    stream: IoStream,
    params: HttpConnectionParameters,
    state: RefCell<ClientState>,
    /// Why the last `read_response` failed, until taken.
    error: RefCell<Option<io::Error>>,
}

static X_CONSUMED: HeaderName = HeaderName::from_static("x-consumed-content-encoding");

/// How a response was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// Read whole; the connection may carry another request (HTTP/1.1, not `Connection:
    /// close`, body framed by length or chunks).
    Reusable,
    /// Read whole; the connection must be closed (or already is).
    Done,
    /// Not read whole: malformed, refused by the delegate, or the connection closed. The
    /// delegate was told through `on_connection_close`, and the connection is closed.
    Failed,
}

impl HttpClientConnection {
    /// A client connection over `stream`.
    pub fn new(stream: IoStream, params: HttpConnectionParameters) -> Self {
        HttpClientConnection {
            stream,
            params,
            state: RefCell::new(ClientState::default()),
            error: RefCell::new(None),
        }
    }

    /// The stream.
    pub fn stream(&self) -> &IoStream {
        &self.stream
    }

    /// Why the last [`read_response`](Self::read_response) gave
    /// [`ResponseOutcome::Failed`], once: a malformed response is an error of kind
    /// `InvalidData` carrying an [`HttpInputError`]; an error of the delegate's, kind `Other`
    /// carrying its `HttpInputError`; anything else is the stream's error.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.borrow_mut().take()
    }

    /// Writes a request line and headers, and optionally a first piece of body
    /// (`write_headers`). `POST`, `PUT` and `PATCH` without a `Content-Length` are sent
    /// chunked, as Tornado does; the connection's `Host` and other headers are the caller's.
    ///
    /// It takes the map so that, once written, its allocation serves a later message (see
    /// [`header_map`](crate::header_map)).
    pub fn write_headers(
        &self,
        start_line: &RequestStartLine,
        headers: HeaderMap,
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        let result = self.write_head(start_line, &headers, chunk);
        crate::recycle_header_map(headers);
        result
    }

    /// [`write_headers`](Self::write_headers) from a borrowed map (*Rust-only*): for a
    /// caller that keeps its headers (a client that may send them again after a redirect
    /// or a retry), which saves copying them.
    pub fn write_headers_ref(
        &self,
        start_line: &RequestStartLine,
        headers: &HeaderMap,
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        self.write_head(start_line, headers, chunk)
    }

    fn write_head(
        &self,
        start_line: &RequestStartLine,
        headers: &HeaderMap,
        chunk: Option<&[u8]>,
    ) -> io::Result<()> {
        let mut st = self.state.borrow_mut();
        let m = &start_line.method;
        st.chunking_output = (*m == Method::POST || *m == Method::PUT || *m == Method::PATCH)
            && !headers.contains_key(CONTENT_LENGTH);
        st.expected_remaining = match headers.get(CONTENT_LENGTH) {
            Some(v) => Some(
                super::framing::parse_int(v.as_bytes())
                    .ok_or_else(|| HttpOutputError::new("invalid Content-Length in request"))?,
            ),
            None => None,
        };
        st.method = Some(start_line.method.clone());
        let body = chunk.unwrap_or_default();
        take_remaining(&mut st, body.len())?;
        let chunked = st.chunking_output;
        drop(st);
        self.stream.write_buffered_with(|buf| {
            put_request_head(
                buf,
                &start_line.method,
                start_line.path.as_str(),
                headers,
                chunked,
            )?;
            if chunked {
                put_chunk(buf, body);
            } else {
                buf.extend_from_slice(body);
            }
            Ok::<_, HttpOutputError>(())
        })??;
        Ok(())
    }

    /// Writes a piece of the request body; resolves when it has been sent (`write`).
    pub fn write(&self, chunk: &[u8]) -> WriteFuture {
        let queued = {
            let mut st = self.state.borrow_mut();
            take_remaining(&mut st, chunk.len()).map(|()| st.chunking_output)
        };
        match queued {
            Ok(true) => {
                let _ = self.stream.write_buffered_with(|buf| put_chunk(buf, chunk));
            }
            Ok(false) => {
                let _ = self.stream.write_buffered(chunk);
            }
            Err(_) => self.stream.close(None),
        }
        self.stream.flush()
    }

    /// Ends the request (`finish`) and sends it.
    pub fn finish(&self) -> io::Result<WriteFuture> {
        let mut st = self.state.borrow_mut();
        if let Some(n) = st.expected_remaining
            && n != 0
        {
            self.stream.close(None);
            return Err(HttpOutputError::new(format!(
                "Tried to write {n} bytes less than Content-Length"
            ))
            .into());
        }
        if st.chunking_output {
            self.stream.write_buffered(LAST_CHUNK)?;
        }
        st.write_finished = true;
        Ok(self.stream.flush())
    }

    /// Reads the response into `delegate` (`read_response`). Informational responses
    /// (100 Continue...) go to the delegate's `informational_received`, at most ten of them
    /// (`max_1xx_responses`).
    pub async fn read_response<D: HttpMessageDelegate>(&self, delegate: &mut D) -> ResponseOutcome {
        let mut delegate_knows = false;
        let outcome = self.read_inner(delegate, &mut delegate_knows).await;
        match outcome {
            Ok(o) => o,
            Err(e) => {
                let error = match e {
                    ReadError::Input(e) => {
                        log::info!(target: "general", "Malformed HTTP message from server: {e}");
                        io::Error::from(e)
                    }
                    ReadError::Delegate(e) => {
                        log::error!(target: "application", "Uncaught exception in HTTP delegate: {e}");
                        io::Error::other(e)
                    }
                    ReadError::Io(e) => {
                        log::debug!(target: "general", "connection lost while reading a response: {e}");
                        e
                    }
                };
                *self.error.borrow_mut() = Some(error);
                // The delegate learns of the failure exactly once, whether or not it had seen
                // the headers, so that a request never hangs.
                let _ = delegate_knows;
                delegate.on_connection_close();
                self.stream.close(None);
                ResponseOutcome::Failed
            }
        }
    }

    async fn read_inner<D: HttpMessageDelegate>(
        &self,
        delegate: &mut D,
        delegate_knows: &mut bool,
    ) -> Result<ResponseOutcome, ReadError> {
        let mut num_1xx = 0;
        loop {
            let head = self.read_head().await?;
            let head = parse_response_head(head).map_err(ReadError::Input)?;
            let code = head.code;
            // The usual reason of the code is not copied.
            let reason: std::borrow::Cow<'static, str> = match code.canonical_reason() {
                Some(usual) if usual.as_bytes() == &head.reason[..] => usual.into(),
                _ => String::from_utf8_lossy(&head.reason).into_owned().into(),
            };
            let mut headers = head.headers;
            if code.is_informational() {
                if headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING) {
                    return Err(ReadError::Input(HttpInputError::new(format!(
                        "Response code {} cannot have body",
                        code.as_u16()
                    ))));
                }
                num_1xx += 1;
                if num_1xx > self.params.max_1xx_responses {
                    return Err(ReadError::Input(HttpInputError::new(
                        "Too many 1xx responses",
                    )));
                }
                let line = ResponseStartLine {
                    version: head.version,
                    code,
                    reason,
                };
                delegate
                    .informational_received(&line, &headers)
                    .await
                    .map_err(ReadError::Delegate)?;
                continue;
            }
            let keep_alive = head.version == Version::HTTP_11
                && !headers
                    .get(CONNECTION)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
            let skip_body = self.state.borrow().method == Some(Method::HEAD)
                || code == StatusCode::NOT_MODIFIED;
            let chunked = is_transfer_encoding_chunked(&headers).map_err(ReadError::Input)?;
            let mut length = content_length(&headers).map_err(ReadError::Input)?;
            if let Some(n) = length
                && n > self.params.max_body_size
                && !skip_body
            {
                return Err(ReadError::Input(HttpInputError::new(
                    "Content-Length too long",
                )));
            }
            if code == StatusCode::NO_CONTENT {
                if chunked || length.is_some_and(|n| n != 0) {
                    return Err(ReadError::Input(HttpInputError::new(
                        "Response with code 204 should not have body",
                    )));
                }
                length = Some(0);
            }
            let gzip = self.params.decompress
                && headers
                    .get(CONTENT_ENCODING)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            if gzip && let Some(v) = headers.remove(CONTENT_ENCODING) {
                headers.append(X_CONSUMED.clone(), v);
            }
            let start_line = StartLine::Response(ResponseStartLine {
                version: head.version,
                code,
                reason,
            });
            *delegate_knows = true;
            delegate
                .headers_received(start_line, headers)
                .await
                .map_err(ReadError::Delegate)?;
            let (chunk, max) = (self.params.chunk_size, self.params.max_body_size);
            let mut sink = Sink {
                delegate,
                failed: None,
                gzip: gzip.then(|| Gunzip {
                    decoder: GzipDecompressor::new(),
                    decoded: 0,
                    chunk_size: chunk,
                    max_body_size: max,
                }),
            };
            let until_close = !skip_body && !chunked && length.is_none();
            if !skip_body {
                let body = if chunked {
                    read_chunked_body(&self.stream, max, chunk, &mut sink).await
                } else if let Some(n) = length {
                    read_fixed_body(&self.stream, n, chunk, &mut sink).await
                } else {
                    read_body_until_close(&self.stream, max, chunk, &mut sink).await
                };
                if let Some(e) = sink.failed.take() {
                    return Err(ReadError::Delegate(e));
                }
                body.map_err(|e| match e {
                    BodyError::Input(e) => ReadError::Input(e),
                    BodyError::Io(e) => ReadError::Io(e),
                })?;
            }
            if let Some(g) = sink.gzip.as_mut() {
                g.decoder
                    .flush()
                    .map_err(|e| ReadError::Input(HttpInputError::new(e.to_string())))?;
            }
            sink.delegate.finish().await;
            return Ok(if keep_alive && !until_close && !self.stream.closed() {
                ResponseOutcome::Reusable
            } else {
                ResponseOutcome::Done
            });
        }
    }

    async fn read_head(&self) -> Result<Bytes, ReadError> {
        let mut scanner = HeadScanner::default();
        let read = self
            .stream
            .read_with(Some(self.params.max_header_size), move |buf| {
                Ok(scanner.scan(buf).map(|n| (n, ())))
            });
        let mut read = pin!(read);
        let mut timeout = self
            .params
            .header_timeout
            .map(|t| tornado_ioloop::IoLoop::current().sleep(t));
        poll_fn(|cx| {
            if let Poll::Ready(r) = read.as_mut().poll(cx) {
                return Poll::Ready(r.map(|(h, ())| h).map_err(ReadError::Io));
            }
            if let Some(t) = timeout.as_mut()
                && std::pin::Pin::new(t).poll(cx).is_ready()
            {
                return Poll::Ready(Err(ReadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "timed out reading the response head",
                ))));
            }
            Poll::Pending
        })
        .await
    }
}

fn take_remaining(st: &mut ClientState, len: usize) -> io::Result<()> {
    if let Some(r) = st.expected_remaining.as_mut() {
        if len as u64 > *r {
            return Err(
                HttpOutputError::new("Tried to write more data than Content-Length").into(),
            );
        }
        *r -= len as u64;
    }
    Ok(())
}

enum ReadError {
    Input(HttpInputError),
    Delegate(HttpInputError),
    Io(io::Error),
}

struct Sink<'a, D> {
    delegate: &'a mut D,
    /// The delegate refused data: its own failure, not the peer's.
    failed: Option<HttpInputError>,
    /// Decoding a gzip body (`decompress` on and `Content-Encoding: gzip`).
    gzip: Option<Gunzip>,
}

/// The client's gzip decoding (Tornado's `_GzipMessageDelegate` on a client connection).
struct Gunzip {
    decoder: GzipDecompressor,
    /// Decoded bytes so far, checked against `max_body_size` so that a small bomb cannot
    /// expand past it (6.5.6).
    decoded: u64,
    chunk_size: usize,
    max_body_size: u64,
}

impl<D: HttpMessageDelegate> Sink<'_, D> {
    async fn pass(&mut self, data: Bytes) -> Result<(), HttpInputError> {
        match self.delegate.data_received(data).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }
}

impl<D: HttpMessageDelegate> BodySink for Sink<'_, D> {
    async fn deliver(&mut self, data: Bytes) -> Result<(), HttpInputError> {
        if self.gzip.is_none() {
            return self.pass(data).await;
        }
        let mut input = &data[..];
        while !input.is_empty() {
            let mut out = Vec::new();
            let Some(g) = self.gzip.as_mut() else {
                break;
            };
            let used = g
                .decoder
                .decompress(input, g.chunk_size, &mut out)
                .map_err(|e| HttpInputError::new(e.to_string()))?;
            if used == 0 && out.is_empty() {
                return Err(HttpInputError::new(
                    "encountered unconsumed gzip data without making progress",
                ));
            }
            input = &input[used..];
            if !out.is_empty() {
                g.decoded += out.len() as u64;
                if g.decoded > g.max_body_size {
                    return Err(HttpInputError::new("decompressed body too large"));
                }
                self.pass(Bytes::from(out)).await?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for HttpClientConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientConnection")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}
