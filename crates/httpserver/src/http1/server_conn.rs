//! Serving requests on one connection, one after another (Tornado's
//! `HTTP1ServerConnection._server_request_loop` and `HTTP1Connection._read_message`).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::{Future, poll_fn};
use std::io;
use std::net::IpAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::{Method, Version};
use tornado_ioloop::{IoLoop, Sleep};
use tornado_iostream::IoStream;

use super::body::{BodyError, BodySink, read_chunked_body, read_fixed_body};
use super::connection::{HttpConnection, RequestState, Shared};
use super::framing::{Framing, request_framing};
use super::head::{ConnectionToken, HeadFacts, HeadScanner, RequestHead, parse_request_head};
use super::in_place::{HeaderSpan, RequestLayout, parse_in_place, request_from_layout};
use super::params::HttpConnectionParameters;
use crate::context::RequestContext;
use crate::delegate::{
    HttpMessageDelegate, HttpServerConnectionDelegate, ServerConnection, StartLine,
};
use crate::httputil::{HostCheck, HttpInputError, RequestStartLine, RequestTarget};

/// How a server serves its connections.
#[derive(Debug, Clone)]
pub(crate) struct ServeConfig {
    pub(crate) params: Rc<HttpConnectionParameters>,
    /// `Some` when `xheaders` is on: the downstream proxies to skip in `X-Forwarded-For`.
    pub(crate) xheaders: Option<Rc<HashSet<IpAddr>>>,
}

/// What the server's registry knows of a connection (for `close_all_connections`).
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    /// A request is being read or answered.
    pub(crate) busy: Cell<bool>,
    /// Close after the current request (graceful shutdown).
    pub(crate) closing: Cell<bool>,
    /// Stop now, abandoning the request in progress (a shutdown deadline passed).
    killed: Cell<bool>,
    kill_waker: RefCell<Option<std::task::Waker>>,
}

impl ConnState {
    /// Abandons the connection's request in progress (its handler is dropped).
    pub(crate) fn kill(&self) {
        self.killed.set(true);
        if let Some(w) = self.kill_waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn poll_killed(&self, cx: &mut Context<'_>) -> bool {
        if self.killed.get() {
            return true;
        }
        *self.kill_waker.borrow_mut() = Some(cx.waker().clone());
        false
    }
}

/// Output waiting above this is flushed (and awaited) before more requests are read, so a
/// client that pipelines requests without reading answers cannot grow it without bound.
const MAX_PENDING_OUTPUT: usize = 1 << 20;
/// After this many requests answered from buffered input without waiting, the loop yields,
/// so that a client pipelining endlessly does not monopolize it (Tornado yields after every
/// request).
const REQUESTS_BEFORE_YIELD: u32 = 64;

/// The idle timeout: one timer per connection, re-armed only when it fires early (the
/// connection was active meanwhile), instead of once per request.
struct IdleTimer {
    timeout: Duration,
    sleep: Option<Sleep>,
    last_activity: Instant,
}

impl IdleTimer {
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let due = self.last_activity + self.timeout;
        let sleep = self
            .sleep
            .get_or_insert_with(|| IoLoop::current().sleep(due));
        loop {
            if Pin::new(&mut *sleep).poll(cx).is_pending() {
                return false;
            }
            let due = self.last_activity + self.timeout;
            if Instant::now() >= due {
                return true;
            }
            sleep.reset(due);
        }
    }
}

enum HeadError {
    TimedOut,
    /// Closed, reset, or too large (Tornado closes without a response for all three).
    Gone,
}

/// A head read off the stream: parsed in place already (the usual case), or only delimited.
enum ReadHead {
    InPlace(Bytes, RequestLayout),
    Delimited(Bytes),
}

async fn read_head(
    stream: &IoStream,
    max_header_size: usize,
    idle: &mut Option<IdleTimer>,
    spans: &mut Vec<HeaderSpan>,
) -> Result<ReadHead, HeadError> {
    // The first look tries a whole parse; from then on (a head that came in pieces, or that
    // the in-place parse declined) the scanner delimits it, each byte examined once.
    let mut scanner: Option<HeadScanner> = None;
    let read = stream.read_with(Some(max_header_size), |buf| {
        if scanner.is_none() {
            if let Some((n, layout)) = parse_in_place(buf, spans) {
                return Ok(Some((n, Some(layout))));
            }
            scanner = Some(HeadScanner::default());
        }
        Ok(scanner
            .as_mut()
            .and_then(|s| s.scan(buf))
            .map(|n| (n, None)))
    });
    let mut read = pin!(read);
    let mut flushed = false;
    poll_fn(|cx| {
        if let Poll::Ready(r) = read.as_mut().poll(cx) {
            return Poll::Ready(match r {
                Ok((head, Some(layout))) => Ok(ReadHead::InPlace(head, layout)),
                Ok((head, None)) => Ok(ReadHead::Delimited(head)),
                Err(_) => Err(HeadError::Gone),
            });
        }
        if !flushed {
            // Waiting for the client: answers held back for batching go out now.
            flushed = true;
            if stream.writing() {
                let _ = stream.flush();
            }
        }
        if let Some(idle) = idle.as_mut()
            && idle.poll_expired(cx)
        {
            return Poll::Ready(Err(HeadError::TimedOut));
        }
        Poll::Pending
    })
    .await
}

/// `_can_keep_alive`: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only when asked and
/// the body's end is known.
fn can_keep_alive(
    params: &HttpConnectionParameters,
    method: &Method,
    version: Version,
    facts: &HeadFacts,
) -> bool {
    if params.no_keep_alive {
        return false;
    }
    if version == Version::HTTP_11 {
        return facts.connection != ConnectionToken::Close;
    }
    let framed = facts.framed || *method == Method::HEAD || *method == Method::GET;
    framed && facts.connection == ConnectionToken::KeepAlive
}

/// The Host checks Tornado makes when it builds a request: required on HTTP/1.1 (1.0 gets
/// `127.0.0.1`), one at most, and well-formed; and at most 1000 query arguments.
fn validate_request(head: &RequestHead) -> Result<(), HttpInputError> {
    let facts = &head.facts;
    match facts.hosts {
        0 if head.version == Version::HTTP_11 => {
            return Err(HttpInputError::new("Missing Host header"));
        }
        0 => {}
        1 => {
            let host = &head.raw[facts.host.clone()];
            match crate::httputil::check_host(host) {
                HostCheck::Valid => {}
                HostCheck::Comma => {
                    let host = String::from_utf8_lossy(host);
                    return Err(HttpInputError::new(format!(
                        "Multiple host headers not allowed: {host:?}"
                    )));
                }
                HostCheck::Invalid => {
                    let host = String::from_utf8_lossy(host);
                    return Err(HttpInputError::new(format!(
                        "Invalid Host header: {host:?}"
                    )));
                }
            }
        }
        _ => return Err(HttpInputError::new("Multiple host headers not allowed")),
    }
    // Tornado's limit on urlencoded arguments applies to query strings too (6.5.9).
    if let Some(q) = head.target.iter().position(|b| *b == b'?') {
        let fields = crate::httputil::count_query_fields(&head.target[q + 1..]);
        if fields > crate::httputil::ParseUrlEncodedConfig::default().max_arguments {
            return Err(HttpInputError::new(
                "Invalid query string: Max number of fields exceeded",
            ));
        }
    }
    Ok(())
}

/// Delivers body pieces to the delegate, unless the response is already finished (then the
/// rest of the body is read and dropped, as Tornado's `_deliver_body` does).
struct Sink<'a, M> {
    msg: &'a mut M,
    shared: &'a Shared,
}

impl<M: HttpMessageDelegate> BodySink for Sink<'_, M> {
    async fn deliver(&mut self, data: Bytes) -> Result<(), HttpInputError> {
        if self.shared.req.borrow().write_finished {
            return Ok(());
        }
        self.msg.data_received(data).await
    }
}

/// Serves requests on `stream` until it closes, an error, or `Connection: close`.
pub(crate) async fn serve<D: HttpServerConnectionDelegate>(
    delegate: &D,
    stream: IoStream,
    base: RequestContext,
    server_conn: ServerConnection,
    config: &ServeConfig,
    state: &Rc<ConnState>,
) {
    let params = &*config.params;
    let shared = Rc::new(Shared {
        stream: stream.clone(),
        conn_state: state.clone(),
        req: RefCell::new(RequestState::new(base.clone(), params)),
        generation: Cell::new(0),
        finish_waker: RefCell::new(None),
        close_callback: RefCell::new(None),
        detached: Cell::new(false),
    });
    let mut idle = params.header_timeout.map(|timeout| IdleTimer {
        timeout,
        sleep: None,
        last_activity: Instant::now(),
    });
    let mut without_yield = 0;
    // Where the current head's headers are (reused: no allocation per request).
    let mut spans = Vec::new();
    loop {
        if state.closing.get() {
            break;
        }
        // Send what earlier requests produced, unless more input is already here: the
        // answer to the next request then joins them in one write (`read_head` sends them
        // if it has to wait for the rest of that request).
        if stream.writing() {
            if pending_output_large(&stream) {
                let _ = stream.flush().await;
            } else if stream.peek_buffered(<[u8]>::is_empty) {
                let _ = stream.flush();
            } else {
                without_yield += 1;
                if without_yield >= REQUESTS_BEFORE_YIELD {
                    without_yield = 0;
                    tornado_gen::moment().await;
                }
            }
        } else {
            without_yield = 0;
        }
        let head = match read_head(&stream, params.max_header_size, &mut idle, &mut spans).await {
            Ok(head) => head,
            Err(_) => break,
        };
        state.busy.set(true);
        if let Some(idle) = idle.as_mut() {
            idle.last_activity = Instant::now();
        }
        let head = match head {
            ReadHead::InPlace(head, layout) => request_from_layout(head, layout, &spans),
            ReadHead::Delimited(head) => parse_request_head(head),
        };
        let keep_going = serve_one(delegate, &shared, head, &base, &server_conn, config).await;
        state.busy.set(false);
        if !keep_going || shared.detached.get() {
            break;
        }
    }
    if !shared.detached.get() {
        if stream.writing() && !stream.closed() {
            let _ = stream.flush().await;
        }
        stream.close(None);
    }
    delegate.on_close(&server_conn);
}

fn pending_output_large(stream: &IoStream) -> bool {
    stream.pending_write_len() > MAX_PENDING_OUTPUT
}

/// Reads and answers one request. `false` when the connection must not go on.
async fn serve_one<D: HttpServerConnectionDelegate>(
    delegate: &D,
    shared: &Rc<Shared>,
    head: Result<RequestHead, HttpInputError>,
    base: &RequestContext,
    server_conn: &ServerConnection,
    config: &ServeConfig,
) -> bool {
    let stream = &shared.stream;
    let params = &*config.params;
    let head = match head {
        Ok(h) => h,
        Err(e) => return bad_request(stream, base, &e).await,
    };
    if let Err(e) = validate_request(&head) {
        return bad_request(stream, base, &e).await;
    }
    // Framing is checked before the delegate sees the message, except the size limit, which
    // the delegate may change (`set_max_body_size` from a streaming handler's `prepare`).
    let framing = if head.facts.framed {
        match request_framing(&head.headers, u64::MAX) {
            Ok(f) => f,
            Err(e) => return bad_request(stream, base, &e).await,
        }
    } else {
        Framing::Empty
    };
    let RequestHead {
        method,
        target,
        version,
        headers,
        facts,
        ..
    } = head;
    let context = match &config.xheaders {
        Some(trusted) => base.with_xheaders(&headers, trusted),
        None => base.clone(),
    };
    let keep_alive = can_keep_alive(params, &method, version, &facts);
    let asked_keep_alive =
        version == Version::HTTP_10 && facts.connection == ConnectionToken::KeepAlive;
    shared.generation.set(shared.generation.get() + 1);
    shared.req.borrow_mut().begin(
        method.clone(),
        version,
        asked_keep_alive,
        !keep_alive,
        context,
        params,
    );
    *shared.close_callback.borrow_mut() = None;
    let msg = delegate.start_request(server_conn, HttpConnection::new(shared.clone()));
    let start_line = StartLine::Request(RequestStartLine {
        method,
        // httparse hands out the target as a `str`: it is UTF-8.
        path: RequestTarget::from_utf8_unchecked_bytes(target),
        version,
    });
    let request = Request {
        start_line,
        headers,
        framing,
        expect_continue: facts.expect_continue,
    };
    // Two instances of `deliver`, so that a server without `decompress_request` pays nothing
    // for the gzip layer.
    if params.decompress {
        let msg = crate::gzip::GzipDelegate::new(msg, params.chunk_size, params.max_body_size);
        deliver(msg, request, shared, base, params).await
    } else {
        deliver(msg, request, shared, base, params).await
    }
}

/// A request whose head was read and checked, on its way to its delegate.
struct Request {
    start_line: StartLine,
    headers: HeaderMap,
    framing: Framing,
    expect_continue: bool,
}

/// Hands a request to its message delegate: the head, the body, then `finish`; and waits
/// for the response to finish. `false` when the connection must not go on.
async fn deliver<M: HttpMessageDelegate>(
    mut msg: M,
    request: Request,
    shared: &Rc<Shared>,
    base: &RequestContext,
    params: &HttpConnectionParameters,
) -> bool {
    let stream = &shared.stream;
    let Request {
        start_line,
        headers,
        framing,
        expect_continue,
    } = request;
    if let Err(e) = msg.headers_received(start_line, headers).await {
        msg.on_connection_close();
        return bad_request(stream, base, &e).await;
    }
    if shared.detached.get() {
        return false;
    }
    if expect_continue && !shared.req.borrow().write_finished {
        let _ = stream.write(&b"HTTP/1.1 100 (Continue)\r\n\r\n"[..]);
    }
    let body = if framing == Framing::Empty {
        Ok(())
    } else {
        let (max_body, body_timeout) = {
            let req = shared.req.borrow();
            (req.max_body_size, req.body_timeout)
        };
        read_body(
            stream,
            framing,
            max_body,
            params.chunk_size,
            &mut msg,
            shared,
            body_timeout,
        )
        .await
    };
    match body {
        Ok(()) => {}
        Err(BodyError::Input(e)) => {
            msg.on_connection_close();
            return bad_request(stream, base, &e).await;
        }
        Err(BodyError::Io(e)) => {
            if e.kind() == io::ErrorKind::TimedOut {
                log::info!(target: "general", "Timeout reading body from {}", describe(base));
            }
            msg.on_connection_close();
            return false;
        }
    }
    shared.req.borrow_mut().read_finished = true;
    if !shared.req.borrow().write_finished {
        let finished = {
            let mut finish = pin!(msg.finish());
            poll_fn(|cx| {
                if finish.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if shared.conn_state.poll_killed(cx) {
                    return Poll::Ready(false);
                }
                Poll::Pending
            })
            .await
        };
        if !finished {
            msg.on_connection_close();
            return false;
        }
    }
    if !shared.req.borrow().write_finished && !shared.detached.get() && !stream.closed() {
        // The answer comes later: watch for the client going away meanwhile.
        let waiter = Rc::downgrade(shared);
        stream.set_close_callback(move || {
            if let Some(shared) = waiter.upgrade()
                && let Some(w) = shared.finish_waker.borrow_mut().take()
            {
                w.wake();
            }
        });
        poll_fn(|cx| shared.poll_response_done(cx)).await;
        stream.clear_close_callback();
        if stream.closed() && !shared.req.borrow().write_finished {
            msg.on_connection_close();
            if let Some(cb) = shared.close_callback.borrow_mut().take() {
                cb();
            }
            return false;
        }
    }
    if shared.detached.get() || stream.closed() {
        return false;
    }
    !shared.req.borrow().disconnect_on_finish
}

async fn read_body<M: HttpMessageDelegate>(
    stream: &IoStream,
    framing: Framing,
    max_body: u64,
    chunk_size: usize,
    msg: &mut M,
    shared: &Shared,
    timeout: Option<Duration>,
) -> Result<(), BodyError> {
    if let Framing::Length(n) = framing
        && n > max_body
    {
        return Err(HttpInputError::new("Content-Length too long").into());
    }
    let mut sink = Sink { msg, shared };
    let read = async {
        match framing {
            Framing::Empty => Ok(()),
            Framing::Length(n) => read_fixed_body(stream, n, chunk_size, &mut sink).await,
            Framing::Chunked => read_chunked_body(stream, max_body, chunk_size, &mut sink).await,
        }
    };
    match timeout {
        None => read.await,
        Some(t) => match tornado_gen::with_timeout(t, read).await {
            Ok(r) => r,
            Err(_) => {
                stream.close(None);
                Err(BodyError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "body timeout",
                )))
            }
        },
    }
}

fn describe(ctx: &RequestContext) -> String {
    match ctx.address {
        Some(a) => a.to_string(),
        None => "unix socket".to_owned(),
    }
}

/// Tornado's answer to a malformed message: log at info, a bare 400, close.
async fn bad_request(stream: &IoStream, ctx: &RequestContext, e: &HttpInputError) -> bool {
    log::info!(target: "general", "Malformed HTTP message from {}: {e}", describe(ctx));
    if !stream.closed() {
        let _ = stream.write(&b"HTTP/1.1 400 Bad Request\r\n\r\n"[..]).await;
    }
    false
}
