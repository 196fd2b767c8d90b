//! [`RequestHandler`]: the trait applications implement (`tornado.web.RequestHandler`'s
//! override points), one instance per request.

use std::future::Future;

use bytes::Bytes;
use http::Method;

use crate::error::{Error, HttpError, Result};
use crate::handler::Handler;

/// Tornado's `SUPPORTED_METHODS`.
pub const DEFAULT_SUPPORTED_METHODS: &[Method] = &[
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::DELETE,
    Method::PATCH,
    Method::PUT,
    Method::OPTIONS,
];

/// A request handler (`tornado.web.RequestHandler`): a type whose methods answer requests,
/// made fresh for each request by the factory given to the route.
///
/// Every method has a default: a verb method that is not implemented answers 405 (with an
/// `Allow` header listing the other supported methods); `prepare` and the hooks do nothing.
/// The per-request state and the response API (arguments, headers, `write`, cookies, ...)
/// are on the [`Handler`] each method receives.
///
/// ```
/// use tornado_web::{Handler, RequestHandler, Result};
///
/// struct Hello;
///
/// impl RequestHandler for Hello {
///     async fn get(&mut self, h: &mut Handler) -> Result {
///         let name = h.get_argument_or("name", "world")?;
///         h.write(format!("Hello, {name}"));
///         Ok(())
///     }
/// }
///
/// let app = tornado_web::Application::builder().route("/", || Hello).build().unwrap();
/// # let _ = app;
/// ```
#[allow(unused_variables, reason = "the defaults ignore their arguments")]
pub trait RequestHandler: 'static {
    /// The methods this handler answers (`SUPPORTED_METHODS`); others get 405 before
    /// `prepare`. Also what the `Allow` header of a 405 lists.
    const SUPPORTED_METHODS: &'static [Method] = DEFAULT_SUPPORTED_METHODS;

    /// Methods beyond the standard ones that this handler answers, by name (Tornado's
    /// `SUPPORTED_METHODS + ("OTHER",)`): they go to
    /// [`other_method`](RequestHandler::other_method).
    const OTHER_METHODS: &'static [&'static str] = &[];

    /// Whether the body is handed to [`data_received`](RequestHandler::data_received) as
    /// it arrives instead of being read whole first (`@stream_request_body`).
    const STREAM_REQUEST_BODY: bool = false;

    /// `GET`.
    fn get(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `HEAD`.
    fn head(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `POST`.
    fn post(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `DELETE`.
    fn delete(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `PATCH`.
    fn patch(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `PUT`.
    fn put(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// `OPTIONS`.
    fn options(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }
    /// A method of [`OTHER_METHODS`](RequestHandler::OTHER_METHODS) (Tornado calls the
    /// handler's method named after it, lower-cased): by default 405, as for an
    /// unimplemented standard method.
    fn other_method(&mut self, h: &mut Handler, method: &Method) -> impl Future<Output = Result> {
        async { Err(Error::Unimplemented) }
    }

    /// Runs before the verb method (`prepare`); finishing the response here (or returning
    /// an error) skips the verb method.
    fn prepare(&mut self, h: &mut Handler) -> impl Future<Output = Result> {
        async { Ok(()) }
    }

    /// A piece of a streamed body (`data_received`), with
    /// [`STREAM_REQUEST_BODY`](RequestHandler::STREAM_REQUEST_BODY). The next piece is read
    /// only when this returns (flow control).
    fn data_received(&mut self, h: &mut Handler, chunk: Bytes) -> impl Future<Output = Result> {
        async {
            Err(HttpError::new(500)
                .with_log_message("data_received not implemented")
                .into())
        }
    }

    /// Checks the XSRF token of a state-changing request when the `xsrf_cookies` setting
    /// is on (`check_xsrf_cookie`); override to exempt a handler.
    fn check_xsrf_cookie(&mut self, h: &mut Handler) -> Result {
        h.check_xsrf_cookie()
    }

    /// Whether a state-changing request that looks cross-origin may go on, given its
    /// `Origin` (`check_trusted_origin`, Tornado 6.6): asked only with the
    /// `cross_origin_protection` setting, before `prepare`, so it must decide from the
    /// request alone. By default, whether the origin is one of the `trusted_origins`
    /// setting. Returning `true` always exempts the handler; such an endpoint must not
    /// rely on cookies for authentication.
    fn check_trusted_origin(&mut self, h: &mut Handler, origin: &str) -> bool {
        h.settings().trusted_origins.iter().any(|o| o == origin)
    }

    /// Headers every response of this handler starts with, error pages included
    /// (`set_default_headers`).
    fn set_default_headers(&mut self, h: &mut Handler) {}

    /// The user of this request, for [`current_user`](RequestHandler::current_user) and
    /// [`authenticated`](RequestHandler::authenticated) (`get_current_user`); `None` when
    /// nobody is logged in. Called at most once per request.
    fn get_current_user(&mut self, h: &mut Handler) -> Option<String> {
        None
    }

    /// The ETag of the response body (`compute_etag`): by default a SHA-1 of what was
    /// written; `None` for no ETag. A plain function of the handler's output; any
    /// `HeaderValue` converts with `.into()`.
    fn compute_etag(h: &Handler) -> Option<crate::ETag> {
        Some(h.default_etag())
    }

    /// Writes the error page for `status` (`write_error`); `error` is what a method
    /// returned, if that is why. By default Tornado's small HTML page, or the error's
    /// description as text with the `serve_traceback` setting.
    fn write_error(
        &mut self,
        h: &mut Handler,
        status: u16,
        error: Option<&Error>,
    ) -> impl Future<Output = Result> {
        h.default_write_error(status, error);
        async { Ok(()) }
    }

    /// Called when the response has been finished (`on_finish`), after the method that
    /// finished it returned.
    fn on_finish(&mut self, h: &mut Handler) {}

    /// Called when the client closed the connection before the response was finished
    /// (`on_connection_close`), once the running method has returned. A method that waits
    /// long (a long poll) can race its wait against [`Handler::closed`] instead.
    fn on_connection_close(&mut self, h: &mut Handler) {}

    // Provided methods: the parts of Tornado's API that need the handler itself.

    /// The current user (`current_user`): set with [`Handler::set_current_user`] (as
    /// `prepare` often does), or else what
    /// [`get_current_user`](RequestHandler::get_current_user) returns, asked once.
    fn current_user(&mut self, h: &mut Handler) -> Option<String> {
        if h.current_user_loaded() {
            return h.current_user().map(str::to_owned);
        }
        let user = self.get_current_user(h);
        h.set_current_user(user.clone());
        user
    }

    /// Requires a logged-in user (`@tornado.web.authenticated`): without one, a `GET` or
    /// `HEAD` is redirected to the `login_url` setting (with `?next=`), anything else gets
    /// 403; either way the returned error ends the method: `self.authenticated(h)?;`.
    fn authenticated(&mut self, h: &mut Handler) -> Result {
        if self.current_user(h).is_some() {
            return Ok(());
        }
        h.login_redirect()
    }

    /// Renders template `name` with `context` as the response, and finishes it (`render`);
    /// the template also sees the handler's namespace, `current_user` included (see
    /// [`Handler::render_string`]).
    fn render(&mut self, h: &mut Handler, name: &str, context: &impl serde::Serialize) -> Result {
        self.current_user(h);
        let html = h.render_string(name, context)?;
        h.finish_with(html)
    }

    /// Answers with an error page (`send_error`): clears what was written (headers
    /// included), sets `status`, and calls [`write_error`](RequestHandler::write_error). If
    /// the headers were already sent, it can only end the response.
    fn send_error(
        &mut self,
        h: &mut Handler,
        status: u16,
        error: Option<&Error>,
    ) -> impl Future<Output = ()> {
        async move {
            if h.headers_written() {
                log::error!(target: "general", "Cannot send error response after headers written");
                if !h.finished() {
                    h.finish_quietly();
                }
                return;
            }
            h.clear();
            self.set_default_headers(h);
            let reason = error
                .and_then(Error::as_http)
                .and_then(HttpError::reason)
                .map(str::to_owned);
            h.set_status_reason(status, reason);
            if status != 304 {
                if let Err(e) = self.write_error(h, status, error).await {
                    log::error!(target: "application", "Uncaught exception in write_error: {e}");
                }
            }
            if !h.finished() {
                h.finish_quietly();
            }
        }
    }
}
