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
