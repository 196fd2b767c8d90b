//! The state behind a [`Handler`]: its fields, and the thread's pool of them. A request's
//! state is one allocation that, once the request is over, is emptied and kept for the
//! thread's next request, with the capacity of its output buffer and header lists: a
//! request then costs no allocation, copy or free of its state.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use tornado_httpserver::httputil::RequestStartLine;
use tornado_httpserver::{HttpConnection, HttpServerRequest, RequestHeaders};

use super::{ETag, Handler};
use crate::application::AppShared;
use crate::body_pipe::BodyReceiver;
use crate::gzip_transform::GzipTransform;
use crate::response_headers::ResponseHeaders;
use crate::routing::PathArgs;

/// The state of one request, from its handler's creation to its drop.
pub(crate) struct HandlerState {
    pub(crate) request: RequestSlot,
    pub(super) app: Arc<AppShared>,
    pub(super) status: u16,
    pub(super) reason: Option<Cow<'static, str>>,
    pub(super) headers: ResponseHeaders,
    /// `Server` and `Content-Type: text/html` as Tornado's `clear` sets them, kept out of
    /// the map (and written from lines rendered once) until changed.
    pub(super) server_default: bool,
    pub(super) html_default: bool,
    pub(super) buffer: BytesMut,
    pub(super) headers_written: bool,
    pub(super) finished: bool,
    pub(super) auto_finish: bool,
    pub(super) path_args: Vec<String>,
    pub(super) path_kwargs: Vec<(String, String)>,
    /// The route's captures, decoded into `path_args`/`path_kwargs` before `prepare`.
    pub(crate) raw_args: PathArgs,
    pub(super) current_user: Option<Option<String>>,
    pub(crate) etag: fn(&Handler) -> Option<ETag>,
    pub(crate) body: Option<BodyReceiver>,
    pub(super) closed: Option<tornado_concurrent::Future<()>>,
    /// The `Allow` header a 405 gets, when the framework answers one.
    pub(crate) allow: Option<HeaderValue>,
    /// Cookies to set, by name (a later one of the same name replaces it).
    pub(super) new_cookies: Vec<(String, HeaderValue)>,
    /// The XSRF token this request uses (`_raw_xsrf_token`) and its form for pages
    /// (`_xsrf_token`).
    pub(super) raw_xsrf: Option<crate::xsrf::RawToken>,
    pub(super) xsrf_token: Option<String>,
    /// The gzip transform, once the headers are written with `compress_response`.
    pub(super) gzip: Option<Box<GzipTransform>>,
}

/// States kept per thread; more are freed.
const POOLED_STATES: usize = 64;
/// An output buffer that grew past this is freed rather than kept with its state.
const KEPT_BUFFER_CAPACITY: usize = 64 * 1024;
/// Lists that grew past this many entries are not kept either.
const KEPT_LIST_CAPACITY: usize = 64;

thread_local! {
    // Boxes, not states: handing one out moves a pointer, not the state.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<HandlerState>>> = const { RefCell::new(Vec::new()) };
}

fn default_etag(h: &Handler) -> Option<ETag> {
    Some(h.default_etag())
}

impl HandlerState {
    /// A state for `request`: one of the thread's kept ones when there is one.
    pub(super) fn boxed(
        line: RequestStartLine,
        headers: RequestHeaders,
        connection: HttpConnection,
        app: Arc<AppShared>,
    ) -> StateBox {
        let state = match POOL.try_with(|p| p.borrow_mut().pop()).ok().flatten() {
            Some(mut state) => {
                state.request.0 = Some(HttpServerRequest::new(
                    line,
                    headers,
                    Bytes::new(),
                    connection,
                ));
                state.app = app;
                state
            }
            None => Box::new(HandlerState {
                request: Present(Some(HttpServerRequest::new(
                    line,
                    headers,
                    Bytes::new(),
                    connection,
                ))),
                app,
                status: 200,
                reason: None,
                headers: ResponseHeaders::default(),
                buffer: BytesMut::new(),
                headers_written: false,
                finished: false,
                auto_finish: true,
                path_args: Vec::new(),
                path_kwargs: Vec::new(),
                raw_args: PathArgs::default(),
                current_user: None,
                etag: default_etag,
                body: None,
                closed: None,
                allow: None,
                new_cookies: Vec::new(),
                gzip: None,
                raw_xsrf: None,
                xsrf_token: None,
                server_default: true,
                html_default: true,
            }),
        };
        StateBox(Present(Some(state)))
    }

    /// Empties the state for a later request (what a new one is made with); `false` when
    /// it grew too large to keep. The application stays until the next request replaces
    /// it.
    fn recycle(&mut self) -> bool {
        if let Some(request) = self.request.0.as_mut() {
            // The request's map, if one was built, can serve a later head of this thread.
            request.recycle_headers();
        }
        // Dropped where it is (taking it would copy it out first).
        self.request.0 = None;
        self.status = 200;
        self.reason = None;
        self.headers.clear();
        self.server_default = true;
        self.html_default = true;
        self.buffer.clear();
        self.headers_written = false;
        self.finished = false;
        self.auto_finish = true;
        self.path_args.clear();
        self.path_kwargs.clear();
        self.raw_args.positional.clear();
        self.raw_args.named.clear();
        self.current_user = None;
        self.etag = default_etag;
        self.body = None;
        self.closed = None;
        self.allow = None;
        self.new_cookies.clear();
        self.raw_xsrf = None;
        self.xsrf_token = None;
        self.gzip = None;
        self.buffer.capacity() <= KEPT_BUFFER_CAPACITY
            && self.headers.capacity() <= KEPT_LIST_CAPACITY
            && self.new_cookies.capacity() <= KEPT_LIST_CAPACITY
    }
}

/// A value that is there for as long as its owner is in use, and taken out (or dropped in
/// place) only when the owner is done with it: a handler's request, emptied when its state
/// is recycled, and a handler's state, given back to the pool when the handler is dropped.
pub(crate) struct Present<T>(Option<T>);

impl<T> Deref for Present<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(value) => value,
            None => unreachable!("taken only when its owner is done with it"),
        }
    }
}

impl<T> DerefMut for Present<T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.0 {
            Some(value) => value,
            None => unreachable!("taken only when its owner is done with it"),
        }
    }
}

/// A handler's request: there from the handler's creation until its state is recycled.
pub(crate) type RequestSlot = Present<HttpServerRequest>;

/// A handler's boxed state, given back to the thread's pool when the handler is dropped.
pub(crate) struct StateBox(Present<Box<HandlerState>>);

impl Deref for StateBox {
    type Target = HandlerState;

    fn deref(&self) -> &HandlerState {
        &self.0
    }
}

impl DerefMut for StateBox {
    fn deref_mut(&mut self) -> &mut HandlerState {
        &mut self.0
    }
}

impl Drop for StateBox {
    fn drop(&mut self) {
        let Some(mut state) = self.0.0.take() else {
            return;
        };
        if state.recycle() {
            // Not during the thread's exit, when its pool may be gone already.
            let _ = POOL.try_with(|pool| {
                let mut pool = pool.borrow_mut();
                if pool.len() < POOLED_STATES {
                    pool.push(state);
                }
            });
        }
    }
}
