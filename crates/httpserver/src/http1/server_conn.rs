//! Serving requests on one connection, one after another (Tornado's
//! `HTTP1ServerConnection._server_request_loop` and `HTTP1Connection._read_message`).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::future::{Future, poll_fn};
use std::io;
use std::net::IpAddr;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::Version;
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;

use super::body::BodyError;
use super::connection::{HttpConnection, RequestState, Shared};
use super::framing::Framing;
use super::head::{ConnectionToken, RequestHead, parse_request_head};
use super::in_place::request_from_layout;
use super::params::HttpConnectionParameters;
use super::read_head::{IdleTimer, ReadHead, read_head};
use super::request_checks::{body_framing, can_keep_alive, validate_request};
use super::server_body::read_body;
use crate::context::RequestContext;
use crate::delegate::{HttpMessageDelegate, HttpServerConnectionDelegate, ServerConnection};
use crate::gzip::GzipDelegate;
use crate::httputil::{HttpInputError, RequestStartLine, RequestTarget};

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

/// How a connection hands messages to their delegates: as they are, or through the gzip
/// layer (`decompress_request`). A type parameter of the serving loop, so that the choice
/// costs nothing per request.
trait MessageWrap {
    type Msg<M: HttpMessageDelegate>: HttpMessageDelegate;
    fn wrap<M: HttpMessageDelegate>(msg: M, params: &HttpConnectionParameters) -> Self::Msg<M>;
    /// The error that `finish` found in the message (a truncated gzip body), which makes it
    /// malformed after all: `finish` has no way to return it (Tornado's raises).
    fn finish_error<M: HttpMessageDelegate>(msg: &mut Self::Msg<M>) -> Option<HttpInputError> {
        let _ = msg;
        None
    }
}

/// Messages go to the application's delegate as they are.
struct AsIs;

impl MessageWrap for AsIs {
    type Msg<M: HttpMessageDelegate> = M;
    fn wrap<M: HttpMessageDelegate>(msg: M, _: &HttpConnectionParameters) -> M {
        msg
    }
}

/// Gzip request bodies are decoded on their way (`decompress_request`).
struct Gunzip;

impl MessageWrap for Gunzip {
    type Msg<M: HttpMessageDelegate> = GzipDelegate<M>;
    fn wrap<M: HttpMessageDelegate>(msg: M, params: &HttpConnectionParameters) -> GzipDelegate<M> {
        GzipDelegate::new(msg, params.chunk_size, params.max_body_size)
    }
    fn finish_error<M: HttpMessageDelegate>(msg: &mut GzipDelegate<M>) -> Option<HttpInputError> {
        msg.take_finish_error()
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
    if config.params.decompress {
        serve_with::<D, Gunzip>(delegate, stream, base, server_conn, config, state).await;
    } else {
        serve_with::<D, AsIs>(delegate, stream, base, server_conn, config, state).await;
    }
}

/// The request loop. Each request is read, checked, handed to a message delegate (head,
/// body, `finish`) and answered before the next is read; the answers to pipelined requests
/// are held back and sent together.
async fn serve_with<D: HttpServerConnectionDelegate, W: MessageWrap>(
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
    let io_loop = IoLoop::current();
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
                drop(stream.flush()); // sending starts now, not awaited
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
        let Ok(head) = read_head(&stream, params.max_header_size, &mut idle, &mut spans).await
        else {
            break;
        };
        state.busy.set(true);
        if let Some(idle) = idle.as_mut() {
            // The loop's reading of the clock for this iteration: close enough for an idle
            // timeout, and no clock read per request.
            idle.last_activity = io_loop.iteration_time();
        }

        let keep_going = 'request: {
            let head = match head {
                ReadHead::InPlace(head, layout) => request_from_layout(head, layout, &spans),
                ReadHead::Delimited(head) => parse_request_head(head),
            };
            // Checked where it is: moving the head (into a result, a tuple) copies it.
            let head = match head {
                Ok(head) => head,
                Err(e) => break 'request bad_request(&stream, &base, &e).await,
            };
            let framing = match validate_request(&head).and_then(|()| body_framing(&head)) {
                Ok(framing) => framing,
                Err(e) => break 'request bad_request(&stream, &base, &e).await,
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
                Some(trusted) => base.with_xheaders(headers.map(), trusted),
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
            let mut msg = W::wrap(
                delegate.start_request(&server_conn, HttpConnection::new(shared.clone())),
                params,
            );
            let start_line = RequestStartLine {
                method,
                // httparse hands out the target as a `str`: it is UTF-8.
                path: RequestTarget::from_utf8_unchecked_bytes(target),
                version,
            };
            if let Err(e) = msg.request_headers_received(start_line, headers).await {
                msg.on_connection_close();
                break 'request bad_request(&stream, &base, &e).await;
            }
            if shared.detached.get() {
                break 'request false;
            }
            if facts.expect_continue && !shared.req.borrow().write_finished {
                drop(stream.write(&b"HTTP/1.1 100 (Continue)\r\n\r\n"[..])); // not awaited: the body read follows
            }
            if framing != Framing::Empty {
                let (max_body, body_timeout) = {
                    let req = shared.req.borrow();
                    (req.max_body_size, req.body_timeout)
                };
                // Boxed: most requests have no body, and the loop's state stays small.
                let read = Box::pin(read_body(
                    &stream,
                    framing,
                    max_body,
                    params.chunk_size,
                    &mut msg,
                    &shared,
                    body_timeout,
                ));
                match read.await {
                    Ok(()) => {}
                    Err(BodyError::Input(e)) => {
                        msg.on_connection_close();
                        break 'request bad_request(&stream, &base, &e).await;
                    }
                    Err(BodyError::Io(e)) => {
                        if e.kind() == io::ErrorKind::TimedOut {
                            log::info!(
                                target: "general",
                                "Timeout reading body from {}",
                                describe(&base)
                            );
                        }
                        msg.on_connection_close();
                        break 'request false;
                    }
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
                    break 'request false;
                }
                if let Some(e) = W::finish_error(&mut msg) {
                    break 'request bad_request(&stream, &base, &e).await;
                }
            }
            if !shared.req.borrow().write_finished && !shared.detached.get() && !stream.closed() {
                // The answer comes later: watch for the client going away meanwhile.
                let waiter = Rc::downgrade(&shared);
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
                    break 'request false;
                }
            }
            !shared.detached.get() && !stream.closed() && !shared.req.borrow().disconnect_on_finish
        };

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
