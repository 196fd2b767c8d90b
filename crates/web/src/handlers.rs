//! Handlers Tornado ships: [`ErrorHandler`] and [`RedirectHandler`].

use tornado_httpserver::httputil::{qs_to_qsl, url_concat};

use crate::error::{HttpError, Result};
use crate::handler::Handler;
use crate::request_handler::RequestHandler;
use crate::url_checks::{has_forbidden_header_chars, scheme_and_netloc};

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
/// the request's query arguments are added to the URL's (`url_concat`).
///
/// As in Tornado 6.6, substituted values cannot change the scheme or the authority (user
/// info, host, port) the template gives, as a browser would read them (a request that would
/// redirect to `//example.com/b` through `"/{0}/b"` gets 400), so substitutions cannot
/// supply the scheme or host; a URL with control characters gets 400 too.
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

    /// The template with the captures substituted, and the literal text before its first
    /// substitution (what decides the scheme and authority), and whether there is one.
    fn format(&self, h: &Handler) -> (String, String, bool) {
        let mut out = String::with_capacity(self.url.len());
        let mut prefix = None;
        let mut rest = self.url.as_str();
        while let Some(open) = rest.find(['{', '}']) {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
                out.push_str(&rest[open..=open]);
                rest = &after[1..];
                continue;
            }
            if rest.as_bytes()[open] == b'}' {
                out.push('}');
                rest = after;
                continue;
            }
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            prefix.get_or_insert_with(|| out.clone());
            let key = &after[..close];
            let value = match key.parse::<usize>() {
                Ok(i) => h.path_args().get(i).map(String::as_str),
                Err(_) => h.path_kwarg(key),
            };
            out.push_str(value.unwrap_or(""));
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        let substituted = prefix.is_some();
        let prefix = prefix.unwrap_or_else(|| out.clone());
        (out, prefix, substituted)
    }
}

impl RequestHandler for RedirectHandler {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let (mut to_url, prefix, substituted) = self.format(h);
        let query = h.request().query_arguments();
        if !query.is_empty() {
            // Added before the check: `url_concat` can change the rest of the URL.
            let args: Vec<(&str, String)> = qs_to_qsl(query)
                .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
                .collect();
            let args: Vec<(&str, &str)> = args.iter().map(|(n, v)| (*n, v.as_str())).collect();
            to_url = url_concat(&to_url, &args);
        }
        let unchanged = match (scheme_and_netloc(&prefix), scheme_and_netloc(&to_url)) {
            (Some(template), Some(target)) => {
                // A host that would come wholly from a substitution does not count.
                let hostless = substituted
                    && matches!(template.0.as_str(), "http" | "https")
                    && template.1.is_empty();
                template == target && !hostless
            }
            _ => false,
        };
        if !unchanged {
            return Err(HttpError::new(400)
                .with_log_message("Redirect URL cannot change the scheme or netloc")
                .into());
        }
        if has_forbidden_header_chars(&to_url) {
            // A 400 rather than the 500 of an invalid header.
            return Err(HttpError::new(400)
                .with_log_message("Redirect URL contains invalid characters")
                .into());
        }
        h.redirect(&to_url, self.permanent)
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
