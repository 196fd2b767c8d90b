//! Running one request through a [`RequestHandler`]: the order of Tornado's
//! `RequestHandler._execute`, behind a type-erased factory so that routes of different
//! handler types sit in one table.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use http::{HeaderValue, Method};

use crate::error::{Error, HttpError, Result};
use crate::handler::Handler;
use crate::request_handler::RequestHandler;

/// Makes and runs the handler of one request.
pub(crate) trait MakeHandler: Send + Sync + 'static {
    /// Whether the handler wants its body streamed (`@stream_request_body`).
    fn stream_request_body(&self) -> bool;

    /// Runs a new handler over `h` to the end of the request (the factory is moved into the
    /// future, so that running a request costs no reference count of its own).
    fn run(self: Arc<Self>, h: Handler) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// A factory closure as a [`MakeHandler`].
pub(crate) struct Factory<F> {
    make: F,
    /// Verbs whose default (405) method ran: what a later `Allow` header leaves out.
    unimplemented: AtomicU8,
}

impl<F> Factory<F> {
    pub(crate) fn new(make: F) -> Self {
        Factory {
            make,
            unimplemented: Default::default(),
        }
    }
}

impl<F, H> MakeHandler for Factory<F>
where
    F: Fn() -> H + Send + Sync + 'static,
    H: RequestHandler,
{
    fn stream_request_body(&self) -> bool {
        H::STREAM_REQUEST_BODY
    }

    fn run(self: Arc<Self>, h: Handler) -> Pin<Box<dyn Future<Output = ()>>> {
        let handler = (self.make)();
        Box::pin(async move { execute(handler, h, &self.unimplemented).await })
    }
}

/// The bit of `method` among the seven verbs.
fn verb_bit(method: &Method) -> Option<u8> {
    crate::request_handler::DEFAULT_SUPPORTED_METHODS
        .iter()
        .position(|m| m == method)
        .map(|i| 1 << i)
}

async fn execute<H: RequestHandler>(mut handler: H, mut h: Handler, unimplemented: &AtomicU8) {
    h.s.etag = H::compute_etag;
    handler.set_default_headers(&mut h);
    match run_methods(&mut handler, &mut h).await {
        Ok(()) => {
            if h.auto_finish() && !h.finished() && !h.connection_closed() {
                if let Err(e) = h.finish() {
                    log::error!(target: "application", "Uncaught exception {}: {e}", h.request_summary());
                }
            }
        }
        Err(Error::Finish) => {
            if !h.finished() {
                h.finish_quietly();
            }
        }
        Err(e) => {
            if matches!(e, Error::Unimplemented) {
                if let Some(bit) = verb_bit(h.request().method()) {
                    unimplemented.fetch_or(bit, Ordering::Relaxed);
                }
            }
            handle_request_exception(&mut handler, &mut h, e, unimplemented).await;
        }
    }
    if h.finished() {
        handler.on_finish(&mut h);
    } else if h.connection_closed() {
        handler.on_connection_close(&mut h);
    }
}

/// Everything up to and including the verb method (`_execute`'s `try` block).
async fn run_methods<H: RequestHandler>(handler: &mut H, h: &mut Handler) -> Result {
    let method = h.request().method();
    if !H::SUPPORTED_METHODS.contains(method) && !H::OTHER_METHODS.contains(&method.as_str()) {
        return Err(Error::Unimplemented);
    }
    h.decode_path_args()?;
    if !H::STREAM_REQUEST_BODY {
        h.parse_body().map_err(|e| {
            HttpError::new(400).with_log_message(format!("Invalid body: {}", e.message()))
        })?;
    }
    // XSRF checks, cookie-based and cross-origin, for requests that change state.
    if !matches!(
        *h.request().method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        if h.app().settings.xsrf_cookies {
            handler.check_xsrf_cookie(h)?;
        }
        if h.app().settings.cross_origin_protection {
            if let Some(refusal) = crate::cross_origin::check(handler, h) {
                return Err(HttpError::new(403).with_log_message(refusal).into());
            }
        }
    }
    handler.prepare(h).await?;
    if h.finished() {
        return Ok(());
    }
    if H::STREAM_REQUEST_BODY {
        loop {
            match h.next_body_chunk().await {
                Ok(Some(chunk)) => handler.data_received(h, chunk).await?,
                Ok(None) => break,
                // The connection closed mid-body: nobody to answer (Tornado returns).
                Err(_) => return Ok(()),
            }
        }
    }
    let method = h.request().method().clone();
    match method {
        Method::GET => handler.get(h).await,
        Method::HEAD => handler.head(h).await,
        Method::POST => handler.post(h).await,
        Method::DELETE => handler.delete(h).await,
        Method::PATCH => handler.patch(h).await,
        Method::PUT => handler.put(h).await,
        Method::OPTIONS => handler.options(h).await,
        other => handler.other_method(h, &other).await,
    }
}

/// Logs `e` as Tornado's `log_exception` does and answers with its error page.
async fn handle_request_exception<H: RequestHandler>(
    handler: &mut H,
    h: &mut Handler,
    e: Error,
    unimplemented: &AtomicU8,
) {
    match &e {
        Error::Http(http) => {
            if let Some(message) = http.log_message() {
                log::warn!(
                    target: "general",
                    "{} {}: {message}",
                    http.status_code(),
                    h.request_summary()
                );
            }
        }
        Error::Other(other) => {
            log::error!(
                target: "application",
                "Uncaught exception {}\n{:?}\n{other:?}",
                h.request_summary(),
                h.request()
            );
        }
        Error::Finish | Error::Unimplemented => {}
    }
    if h.finished() {
        return;
    }
    let status = match &e {
        Error::Http(http) if StatusOk::valid(http.status_code()) => http.status_code(),
        Error::Http(_) | Error::Other(_) => 500,
        Error::Unimplemented => 405,
        Error::Finish => 200,
    };
    if status == 405 {
        h.s.allow = Some(allow_header::<H>(unimplemented));
    }
    handler.send_error(h, status, Some(&e)).await;
}

/// Status codes a status line can carry.
struct StatusOk;

impl StatusOk {
    fn valid(code: u16) -> bool {
        (100..=999).contains(&code)
    }
}

/// The `Allow` header of a 405: the supported methods not known to be unimplemented.
fn allow_header<H: RequestHandler>(unimplemented: &AtomicU8) -> HeaderValue {
    let known = unimplemented.load(Ordering::Relaxed);
    let mut allow = String::new();
    let names = H::SUPPORTED_METHODS
        .iter()
        .filter(|m| verb_bit(m).is_none_or(|bit| known & bit == 0))
        .map(Method::as_str)
        .chain(H::OTHER_METHODS.iter().copied());
    for name in names {
        if !allow.is_empty() {
            allow.push_str(", ");
        }
        allow.push_str(name);
    }
    HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static(""))
}
