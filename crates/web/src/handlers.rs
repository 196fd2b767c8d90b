//! Handlers Tornado ships: [`ErrorHandler`] and [`RedirectHandler`].

use crate::error::{HttpError, Result};
use crate::handler::Handler;
use crate::request_handler::RequestHandler;

/// Answers every request with one status (`tornado.web.ErrorHandler`): the default
/// handler of an application is `ErrorHandler::new(404)`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorHandler {
    status: u16,
}

impl ErrorHandler {
    /// Answers with `status` (`initialize(status_code)`).
    pub fn new(status: u16) -> Self {
        ErrorHandler { status }
    }
}

impl RequestHandler for ErrorHandler {
    async fn prepare(&mut self, _h: &mut Handler) -> Result {
        Err(HttpError::new(self.status).into())
    }

    /// Error pages need no XSRF token (Tornado's `ErrorHandler` does the same).
    fn check_xsrf_cookie(&mut self, _h: &mut Handler) -> Result {
        Ok(())
    }

    /// Nor an origin check: a POST to a wrong URL gets its 404, not 403.
    fn check_trusted_origin(&mut self, _h: &mut Handler, _origin: &str) -> bool {
        true
    }
}

/// Redirects every request (`tornado.web.RedirectHandler`): `url` may use the route's
/// captures as `{0}`, `{1}` (positional) or `{name}` (named), as Python's `str.format`;
/// the request's query string is appended unless `url` has one.
#[derive(Debug, Clone)]
pub struct RedirectHandler {
    url: String,
    permanent: bool,
}

impl RedirectHandler {
    /// Redirects to `url`, permanently (301) or not (302); Tornado's default is permanent.
    pub fn new(url: impl Into<String>, permanent: bool) -> Self {
        RedirectHandler {
            url: url.into(),
            permanent,
        }
    }

    fn target(&self, h: &Handler) -> String {
        let mut out = String::with_capacity(self.url.len());
        let mut rest = self.url.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if let Some(inner) = after.strip_prefix('{') {
                out.push('{');
                rest = inner;
                continue;
            }
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let key = &after[..close];
            let value = match key.parse::<usize>() {
                Ok(i) => h.path_args().get(i).map(String::as_str),
                Err(_) => h.path_kwarg(key),
            };
            out.push_str(value.unwrap_or(""));
            rest = &after[close + 1..];
        }
        out.push_str(&rest.replace("}}", "}"));
        let query = h.request().query();
        if !query.is_empty() && !out.contains('?') {
            out.push('?');
            out.push_str(query);
        }
        out
    }
}

impl RequestHandler for RedirectHandler {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let url = self.target(h);
        h.redirect(&url, self.permanent)
    }
}

/// Hands requests to a function of the HTTP layer (`tornado.web.FallbackHandler`), such as
/// another framework's server callback: the function answers through the request's
/// connection, and the web framework only routes.
///
/// ```
/// use std::sync::Arc;
/// use tornado_httpserver::HttpServerRequest;
/// use tornado_web::{Application, FallbackHandler};
///
/// let legacy = Arc::new(|req: HttpServerRequest| async move {
///     let _ = req.respond(http::StatusCode::OK, http::HeaderMap::new(), b"from the HTTP layer");
/// });
/// let app = Application::builder()
///     .route("/legacy/.*", move || FallbackHandler::new(legacy.clone()))
///     .build()
///     .unwrap();
/// # let _ = app;
/// ```
pub struct FallbackHandler<F> {
    fallback: std::sync::Arc<F>,
}

impl<F> FallbackHandler<F> {
    /// Hands every request to `fallback` (`initialize(fallback)`).
    pub fn new(fallback: std::sync::Arc<F>) -> Self {
        FallbackHandler { fallback }
    }
}

impl<F> std::fmt::Debug for FallbackHandler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackHandler").finish_non_exhaustive()
    }
}

impl<F, Fut> RequestHandler for FallbackHandler<F>
where
    F: Fn(tornado_httpserver::HttpServerRequest) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    async fn prepare(&mut self, h: &mut Handler) -> Result {
        (self.fallback)(h.request().clone()).await;
        h.finished_elsewhere();
        Ok(())
    }
}
