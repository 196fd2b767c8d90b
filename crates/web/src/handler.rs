//! [`Handler`]: one request and its response under construction, the `self` of Tornado's
//! `RequestHandler` methods that are not override points.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{
    CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH, LOCATION,
    SERVER, SET_COOKIE,
};
use http::{Method, StatusCode};
use tornado_httpserver::httputil::ResponseStartLine;
use tornado_httpserver::{HeaderLines, HttpServerRequest, recycle_header_map};

use crate::application::AppShared;
use crate::body_pipe::{BodyAborted, BodyReceiver};
use std::time::{Duration, SystemTime};

use crate::cookies::{CookieOptions, InvalidCookie, set_cookie_line};
use crate::error::{Error, HttpError, Result};
use crate::gzip_transform::GzipTransform;
use crate::header_value::{IntoHeaderName, IntoHeaderValue};
use crate::response_headers::ResponseHeaders;
use crate::settings::Settings;

pub(crate) static DEFAULT_SERVER: HeaderValue = HeaderValue::from_static(concat!(
    "TornadoServer/",
    env!("CARGO_PKG_VERSION"),
    " (tornado-rs)"
));
pub(crate) static DEFAULT_CONTENT_TYPE: HeaderValue =
    HeaderValue::from_static("text/html; charset=UTF-8");
const JSON_CONTENT_TYPE: HeaderValue = HeaderValue::from_static("application/json; charset=UTF-8");

/// A request being answered: what the client sent, and the response so far
/// (`tornado.web.RequestHandler`'s state and its response methods).
///
/// Output is buffered until [`flush`](Handler::flush) or [`finish`](Handler::finish); a
/// handler method that returns without finishing has its response finished for it.
pub struct Handler {
    pub(crate) s: Box<HandlerState>,
}

/// The state behind a [`Handler`], in one allocation so that moving a handler is cheap.
pub(crate) struct HandlerState {
    pub(crate) request: HttpServerRequest,
    app: Arc<AppShared>,
    status: u16,
    reason: Option<Cow<'static, str>>,
    headers: ResponseHeaders,
    /// `Server` and `Content-Type: text/html` as Tornado's `clear` sets them, kept out of
    /// the map (and written from lines rendered once) until changed.
    server_default: bool,
    html_default: bool,
    buffer: BytesMut,
    headers_written: bool,
    finished: bool,
    auto_finish: bool,
    path_args: Vec<String>,
    path_kwargs: Vec<(String, String)>,
    /// The route's captures, decoded into `path_args`/`path_kwargs` before `prepare`.
    pub(crate) raw_args: crate::routing::PathArgs,
    current_user: Option<Option<String>>,
    pub(crate) etag: fn(&Handler) -> Option<HeaderValue>,
    pub(crate) body: Option<BodyReceiver>,
    closed: Option<tornado_concurrent::Future<()>>,
    /// The `Allow` header a 405 gets, when the framework answers one.
    pub(crate) allow: Option<HeaderValue>,
    /// Cookies to set, by name (a later one of the same name replaces it).
    new_cookies: Vec<(String, HeaderValue)>,
    /// The XSRF token this request uses (`_raw_xsrf_token`) and its form for pages
    /// (`_xsrf_token`).
    raw_xsrf: Option<crate::xsrf::RawToken>,
    xsrf_token: Option<String>,
    /// The gzip transform, once the headers are written with `compress_response`.
    gzip: Option<Box<GzipTransform>>,
}

impl Handler {
    pub(crate) fn new(request: HttpServerRequest, app: Arc<AppShared>) -> Self {
        let mut h = Handler {
            s: Box::new(HandlerState {
                request,
                app,
                status: 200,
                reason: None,
                headers: ResponseHeaders::new(),
                buffer: output_buffer(),
                headers_written: false,
                finished: false,
                auto_finish: true,
                path_args: Vec::new(),
                path_kwargs: Vec::new(),
                raw_args: Default::default(),
                current_user: None,
                etag: |h| Some(h.default_etag()),
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
        h.default_headers();
        h
    }

    fn default_headers(&mut self) {
        self.s.server_default = true;
        self.s.html_default = true;
    }

    /// Moves the defaults still set aside into the map (before it is handed out or added
    /// to).
    fn materialize_defaults(&mut self) {
        if std::mem::take(&mut self.s.server_default) {
            self.s.headers.insert(SERVER, DEFAULT_SERVER.clone());
        }
        if std::mem::take(&mut self.s.html_default) {
            self.s
                .headers
                .insert(CONTENT_TYPE, DEFAULT_CONTENT_TYPE.clone());
        }
    }

    /// A name set or removed: its default no longer applies.
    fn forget_default(&mut self, name: &http::HeaderName) {
        if *name == SERVER {
            self.s.server_default = false;
        } else if *name == CONTENT_TYPE {
            self.s.html_default = false;
        }
    }

    /// The rendered default lines still to write.
    fn default_lines(&self) -> &HeaderLines {
        self.s
            .app
            .default_lines(self.s.server_default, self.s.html_default)
    }

    // The request.

    /// The request (`request`): method, URI, headers, body, arguments, ...
    pub fn request(&self) -> &HttpServerRequest {
        &self.s.request
    }

    /// The application's settings (`settings`).
    pub fn settings(&self) -> &Settings {
        &self.s.app.settings
    }

    /// The arguments the route's pattern captured, in order (`path_args`).
    pub fn path_args(&self) -> &[String] {
        &self.s.path_args
    }

    /// The named arguments the route's pattern captured (`path_kwargs`).
    pub fn path_kwarg(&self, name: &str) -> Option<&str> {
        self.s
            .path_kwargs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of argument `name` from the query or the body (`get_argument`),
    /// stripped of surrounding whitespace; a 400 if it is missing.
    pub fn get_argument(&self, name: &str) -> Result<String> {
        last(self.get_arguments(name)?, name)
    }

    /// [`get_argument`](Handler::get_argument) with a default for a missing argument.
    pub fn get_argument_or(&self, name: &str, default: &str) -> Result<String> {
        Ok(self
            .get_arguments(name)?
            .pop()
            .unwrap_or_else(|| default.to_owned()))
    }

    /// Every value of argument `name`, query first (`get_arguments`), stripped.
    pub fn get_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.arguments(), name, true)
    }

    /// The last value of query argument `name` (`get_query_argument`); a 400 if missing.
    pub fn get_query_argument(&self, name: &str) -> Result<String> {
        last(self.get_query_arguments(name)?, name)
    }

    /// Every value of query argument `name` (`get_query_arguments`).
    pub fn get_query_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.query_arguments(), name, true)
    }

    /// The last value of body argument `name` (`get_body_argument`); a 400 if missing.
    pub fn get_body_argument(&self, name: &str) -> Result<String> {
        last(self.get_body_arguments(name)?, name)
    }

    /// Every value of body argument `name` (`get_body_arguments`).
    pub fn get_body_arguments(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.body_arguments(), name, true)
    }

    /// Every value of argument `name`, not stripped (`get_arguments(name, strip=False)`).
    pub fn get_arguments_unstripped(&self, name: &str) -> Result<Vec<String>> {
        arguments(self.s.request.arguments(), name, false)
    }

    /// The value of cookie `name` the client sent (`get_cookie`).
    pub fn get_cookie(&self, name: &str) -> Option<&str> {
        self.s.request.cookies().get(name).map(String::as_str)
    }

    /// Sets cookie `name` to `value` with path `/` (`set_cookie(name, value)`); it is sent
    /// with the response headers, and a later cookie of the same name replaces it.
    pub fn set_cookie(&mut self, name: &str, value: &str) -> Result<(), InvalidCookie> {
        self.set_cookie_with(name, value, &CookieOptions::default())
    }

    /// [`set_cookie`](Handler::set_cookie) with attributes.
    pub fn set_cookie_with(
        &mut self,
        name: &str,
        value: &str,
        options: &CookieOptions,
    ) -> Result<(), InvalidCookie> {
        let line = set_cookie_line(name, value, options)?;
        let value = HeaderValue::try_from(line).map_err(|_| InvalidCookie::new(name, value))?;
        self.s.new_cookies.retain(|(n, _)| n != name);
        self.s.new_cookies.push((name.to_owned(), value));
        Ok(())
    }

    /// Deletes cookie `name` (`clear_cookie`): sets it empty, expired a year ago. `options`
    /// must name the domain and path it was set with; its `expires` and `max_age` are
    /// ignored.
    pub fn clear_cookie(
        &mut self,
        name: &str,
        options: &CookieOptions,
    ) -> Result<(), InvalidCookie> {
        let options = CookieOptions {
            expires: Some(SystemTime::now() - Duration::from_secs(365 * 86_400)),
            expires_days: None,
            max_age: None,
            ..options.clone()
        };
        self.set_cookie_with(name, "", &options)
    }

    /// Deletes every cookie the request carried (`clear_all_cookies`).
    pub fn clear_all_cookies(&mut self, options: &CookieOptions) -> Result<(), InvalidCookie> {
        let names: Vec<String> = self.s.request.cookies().keys().cloned().collect();
        for name in names {
            self.clear_cookie(&name, options)?;
        }
        Ok(())
    }

    /// Signs `value` under `name` with the `cookie_secret` setting (`create_signed_value`).
    pub fn create_signed_value(&self, name: &str, value: &[u8]) -> Result<String> {
        self.create_signed_value_version(
            name,
            value,
            crate::signed_value::DEFAULT_SIGNED_VALUE_VERSION,
        )
    }

    fn create_signed_value_version(
        &self,
        name: &str,
        value: &[u8],
        version: u32,
    ) -> Result<String> {
        let secret = self.cookie_secret()?;
        Ok(crate::signed_value::create_signed_value(
            secret,
            name,
            value,
            version,
            crate::signed_value::now(),
        )?)
    }

    fn cookie_secret(&self) -> Result<&crate::signed_value::CookieSecret> {
        self.s
            .app
            .settings
            .cookie_secret
            .as_ref()
            .ok_or_else(|| Error::msg("the cookie_secret setting is needed for signed cookies"))
    }

    /// Sets a signed cookie that expires in 30 days (`set_signed_cookie`), readable with
    /// [`get_signed_cookie`](Handler::get_signed_cookie).
    pub fn set_signed_cookie(&mut self, name: &str, value: &[u8]) -> Result {
        let options = CookieOptions {
            expires_days: Some(30.0),
            ..CookieOptions::default()
        };
        self.set_signed_cookie_with(name, value, &options, None)
    }

    /// [`set_signed_cookie`](Handler::set_signed_cookie) with attributes and a signed-value
    /// version (`set_signed_cookie(name, value, expires_days, version, **kwargs)`).
    pub fn set_signed_cookie_with(
        &mut self,
        name: &str,
        value: &[u8],
        options: &CookieOptions,
        version: Option<u32>,
    ) -> Result {
        let version = version.unwrap_or(crate::signed_value::DEFAULT_SIGNED_VALUE_VERSION);
        let signed = self.create_signed_value_version(name, value, version)?;
        Ok(self.set_cookie_with(name, &signed, options)?)
    }

    /// The value of signed cookie `name` if its signature is good and it is at most 31
    /// days old (`get_signed_cookie`).
    pub fn get_signed_cookie(&self, name: &str) -> Option<Vec<u8>> {
        self.get_signed_cookie_with(
            name,
            31.0,
            crate::signed_value::DEFAULT_SIGNED_VALUE_MIN_VERSION,
        )
    }

    /// [`get_signed_cookie`](Handler::get_signed_cookie) with a maximum age and a minimum
    /// signed-value version.
    pub fn get_signed_cookie_with(
        &self,
        name: &str,
        max_age_days: f64,
        min_version: u32,
    ) -> Option<Vec<u8>> {
        let secret = self.s.app.settings.cookie_secret.as_ref()?;
        let value = self.get_cookie(name)?;
        crate::signed_value::decode_signed_value(
            secret,
            name,
            value,
            max_age_days,
            crate::signed_value::now(),
            min_version,
        )
    }

    /// The key version signed cookie `name` was signed with (`get_signed_cookie_key_version`).
    pub fn get_signed_cookie_key_version(&self, name: &str) -> Option<u32> {
        crate::signed_value::get_signature_key_version(self.get_cookie(name)?)
    }

    /// The XSRF token of this request (`xsrf_token`): the `_xsrf` cookie's, or a new one, in
    /// which case the cookie is set. Each call for a page masks it anew (version 2).
    pub fn xsrf_token(&mut self) -> Result<String> {
        if let Some(t) = &self.s.xsrf_token {
            return Ok(t.clone());
        }
        let raw = self.raw_xsrf_token().clone();
        let settings = &self.s.app.settings;
        let version = settings.xsrf_cookie_version;
        if version != 1 && version != 2 {
            return Err(Error::msg(format!("unknown xsrf cookie version {version}")));
        }
        let token = crate::xsrf::encode(&raw, version);
        if raw.version.is_none() {
            let mut options = settings.xsrf_cookie_options.clone();
            if self.current_user().is_some()
                && options.expires_days.is_none()
                && options.expires.is_none()
            {
                options.expires_days = Some(30.0);
            }
            let name = settings.xsrf_cookie_name.clone();
            self.set_cookie_with(&name, &token, &options)?;
        }
        self.s.xsrf_token = Some(token.clone());
        Ok(token)
    }

    /// The token from the cookie, or a new one (`_get_raw_xsrf_token`).
    fn raw_xsrf_token(&mut self) -> &crate::xsrf::RawToken {
        if self.s.raw_xsrf.is_none() {
            let name = &self.s.app.settings.xsrf_cookie_name;
            let from_cookie = self
                .get_cookie(name)
                .and_then(crate::xsrf::decode)
                .filter(|t| !t.token.is_empty());
            self.s.raw_xsrf = Some(from_cookie.unwrap_or_else(crate::xsrf::new_token));
        }
        self.s.raw_xsrf.as_ref().expect("set above")
    }

    /// A hidden form field with the XSRF token (`xsrf_form_html`).
    pub fn xsrf_form_html(&mut self) -> Result<String> {
        let token = self.xsrf_token()?;
        Ok(format!(
            "<input type=\"hidden\" name=\"_xsrf\" value=\"{}\"/>",
            crate::escape::xhtml_escape(&token)
        ))
    }

    /// Checks the request's XSRF token against the cookie's (`check_xsrf_cookie`): the
    /// `_xsrf` argument, or the `X-XSRFToken` or `X-CSRFToken` header; 403 when missing or
    /// different.
    pub fn check_xsrf_cookie(&mut self) -> Result {
        let submitted = match self.get_arguments("_xsrf")?.pop().filter(|t| !t.is_empty()) {
            Some(t) => Some(t),
            None => ["x-xsrftoken", "x-csrftoken"].iter().find_map(|h| {
                self.s
                    .request
                    .headers()
                    .get(*h)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            }),
        };
        let Some(submitted) = submitted else {
            return Err(HttpError::new(403)
                .with_log_message("'_xsrf' argument missing from POST")
                .into());
        };
        let token = crate::xsrf::decode(&submitted)
            .map(|t| t.token)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(HttpError::new(403)
                .with_log_message("'_xsrf' argument has invalid format")
                .into());
        }
        let expected = self.raw_xsrf_token().token.clone();
        if !crate::signed_value::constant_time_eq(&token, &expected) {
            return Err(HttpError::new(403)
                .with_log_message("XSRF cookie does not match POST argument")
                .into());
        }
        Ok(())
    }

    /// Moves the cookies set so far into the headers (as `flush` does in Tornado).
    fn add_cookie_headers(&mut self) {
        for (_, value) in self.s.new_cookies.drain(..) {
            self.s.headers.append(SET_COOKIE, value);
        }
    }

    /// Whether the client has gone away.
    pub fn connection_closed(&self) -> bool {
        self.s.request.connection().stream().closed()
    }

    /// Resolves when the client closes the connection (for long polls, which Tornado
    /// handles in `on_connection_close`).
    pub fn closed(&mut self) -> impl Future<Output = ()> + 'static {
        let future = match &self.s.closed {
            Some(f) => f.clone(),
            None => {
                let f = tornado_concurrent::Future::new();
                let signal = f.clone();
                if self.connection_closed() {
                    let _ = signal.set_result(());
                } else {
                    self.s.request.connection().set_close_callback(move || {
                        let _ = signal.set_result(());
                    });
                }
                self.s.closed = Some(f.clone());
                f
            }
        };
        async move {
            let _ = future.await;
        }
    }

    // Users.

    /// Sets the current user (`self.s.current_user = ...`), as `prepare` does when looking
    /// the user up needs to wait.
    pub fn set_current_user(&mut self, user: Option<String>) {
        self.s.current_user = Some(user);
    }

    /// The current user, if one was set or looked up already; see
    /// [`RequestHandler::current_user`](crate::RequestHandler::current_user).
    pub fn current_user(&self) -> Option<&str> {
        self.s.current_user.as_ref().and_then(|u| u.as_deref())
    }

    pub(crate) fn current_user_loaded(&self) -> bool {
        self.s.current_user.is_some()
    }

    /// What `@authenticated` does without a user.
    pub(crate) fn login_redirect(&mut self) -> Result {
        if matches!(*self.s.request.method(), Method::GET | Method::HEAD) {
            let Some(login_url) = self.s.app.settings.login_url.clone() else {
                return Err(HttpError::new(500)
                    .with_log_message("the login_url setting is needed for authenticated")
                    .into());
            };
            let mut url = login_url;
            if !url.contains('?') {
                let next = if url.starts_with("http://") || url.starts_with("https://") {
                    self.s.request.full_url()
                } else {
                    self.s.request.uri().to_owned()
                };
                url.push_str("?next=");
                url.push_str(&crate::escape::url_escape(&next));
            }
            self.redirect(&url, false)?;
            return Err(Error::Finish);
        }
        Err(HttpError::new(403).into())
    }

    // The response.

    /// Sets the status with its standard reason phrase (`set_status`).
    pub fn set_status(&mut self, status: u16) {
        self.s.status = status;
        self.s.reason = None;
    }

    /// Sets the status with a reason phrase of one's own (`set_status(code, reason)`); a
    /// phrase with characters a status line cannot carry, or `<`, becomes `Unknown`.
    pub fn set_status_reason(&mut self, status: u16, reason: Option<String>) {
        self.s.status = status;
        self.s.reason = reason.map(|r| {
            let valid = !r.contains('<')
                && r.bytes()
                    .all(|b| b == b'\t' || b == b' ' || (b >= 0x21 && b != 0x7f));
            if valid {
                Cow::Owned(r)
            } else {
                Cow::Borrowed("Unknown")
            }
        });
    }

    /// The status so far (`get_status`).
    pub fn get_status(&self) -> u16 {
        self.s.status
    }

    /// Sets header `name`, replacing any value (`set_header`). Fails (writing nothing) for
    /// a value with CR, LF or another control character, which could split the response.
    pub fn set_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl IntoHeaderValue,
    ) -> Result<(), InvalidHeader> {
        let (name, value) = (name.into_name()?, value.into_value()?);
        self.forget_default(&name);
        self.s.headers.insert(name, value);
        Ok(())
    }

    /// Adds a value to header `name` (`add_header`); fails as
    /// [`set_header`](Handler::set_header) does.
    pub fn add_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl IntoHeaderValue,
    ) -> Result<(), InvalidHeader> {
        let (name, value) = (name.into_name()?, value.into_value()?);
        if name == SERVER || name == CONTENT_TYPE {
            self.materialize_defaults();
        }
        self.s.headers.append(name, value);
        Ok(())
    }

    /// Removes header `name` (`clear_header`).
    pub fn clear_header(&mut self, name: impl IntoHeaderName) {
        if let Ok(name) = name.into_name() {
            self.forget_default(&name);
            self.s.headers.remove(&name);
        }
    }

    /// The first value of response header `name` so far.
    pub fn get_header(&self, name: impl IntoHeaderName) -> Option<&HeaderValue> {
        let name = name.into_name().ok()?;
        if name == SERVER && self.s.server_default {
            return Some(&DEFAULT_SERVER);
        }
        if name == CONTENT_TYPE && self.s.html_default {
            return Some(&DEFAULT_CONTENT_TYPE);
        }
        self.s.headers.get(&name)
    }

    /// Every value of response header `name` so far.
    pub fn get_headers<'a>(
        &'a self,
        name: &'a http::HeaderName,
    ) -> impl Iterator<Item = &'a HeaderValue> {
        let default = if *name == SERVER && self.s.server_default {
            Some(&DEFAULT_SERVER)
        } else if *name == CONTENT_TYPE && self.s.html_default {
            Some(&DEFAULT_CONTENT_TYPE)
        } else {
            None
        };
        default.into_iter().chain(self.s.headers.get_all(name))
    }

    /// Resets the headers, the output and the status (`clear`).
    pub fn clear(&mut self) {
        self.s.headers.clear();
        self.default_headers();
        self.s.buffer.clear();
        self.s.status = 200;
        self.s.reason = None;
    }

    /// Appends to the output (`write` of `str` or `bytes`). Writing after
    /// [`finish`](Handler::finish) is a mistake that is logged and ignored.
    pub fn write(&mut self, chunk: impl AsRef<[u8]>) {
        if self.s.finished {
            log::error!(target: "application", "Cannot write() after finish()");
            return;
        }
        self.s.buffer.extend_from_slice(chunk.as_ref());
    }

    /// Writes `value` as JSON and sets `Content-Type: application/json; charset=UTF-8`
    /// (`write` of a `dict`); `</` is written `<\/` so that the JSON can sit in a
    /// `<script>` element.
    pub fn write_json(&mut self, value: &impl serde::Serialize) -> Result {
        if self.s.finished {
            return Err(Error::msg("Cannot write() after finish()"));
        }
        let start = self.s.buffer.len();
        let mut writer = JsonWriter(&mut self.s.buffer);
        if let Err(e) = serde_json::to_writer(&mut writer, value) {
            self.s.buffer.truncate(start);
            return Err(e.into());
        }
        self.s.html_default = false;
        self.s.headers.insert(CONTENT_TYPE, JSON_CONTENT_TYPE);
        Ok(())
    }

    /// What was written and not yet sent.
    pub fn output(&self) -> &[u8] {
        &self.s.buffer
    }

    /// Whether the status line and headers have been sent.
    pub fn headers_written(&self) -> bool {
        self.s.headers_written
    }

    /// Whether the response is finished (`_finished`).
    pub fn finished(&self) -> bool {
        self.s.finished
    }

    /// Keeps the response open after the handler method returns (Tornado's
    /// `_auto_finish = False`, as `@asynchronous` handlers had): something else finishes it.
    pub fn set_auto_finish(&mut self, auto_finish: bool) {
        self.s.auto_finish = auto_finish;
    }

    pub(crate) fn auto_finish(&self) -> bool {
        self.s.auto_finish
    }

    /// Sends the headers (the first time) and what was written so far (`flush`); resolves
    /// when it has been handed to the OS.
    pub fn flush(&mut self) -> impl Future<Output = Result> + 'static {
        let sent = self.flush_now();
        async move {
            match sent {
                Ok(Some(write)) => write.await.map(|_| ()).map_err(Error::from),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }

    fn flush_now(&mut self) -> Result<Option<tornado_iostream::WriteFuture>> {
        let conn = self.s.request.connection().clone();
        let head = *self.s.request.method() == Method::HEAD;
        let mut chunk = self.s.buffer.split();
        if !self.s.headers_written {
            self.s.headers_written = true;
            self.add_cookie_headers();
            if let Some(out) = self.transform_first_chunk(&chunk, false) {
                chunk = BytesMut::from(&out[..]);
            }
            let body = (!head).then_some(&chunk[..]);
            conn.write_headers_list(
                &self.start_line(),
                self.default_lines(),
                self.s.headers.as_slice(),
                body,
            )?;
            Ok(Some(conn.write(b"")))
        } else if !head {
            match self.s.gzip.as_mut() {
                Some(gzip) => Ok(Some(conn.write(&gzip.chunk(&chunk, false)))),
                None => Ok(Some(conn.write(&chunk))),
            }
        } else {
            Ok(None)
        }
    }

    /// With `compress_response`: the gzip transform's headers, and the body it makes of
    /// `chunk` (`None`: unchanged because the setting is off).
    fn transform_first_chunk(&mut self, chunk: &[u8], finishing: bool) -> Option<Vec<u8>> {
        if !self.s.app.settings.compress_response {
            return None;
        }
        let mut gzip = GzipTransform::new(self.s.request.headers());
        let content_type = self.get_header(CONTENT_TYPE).cloned();
        let out = gzip.first_chunk(
            &mut self.s.headers,
            content_type.as_ref(),
            chunk.to_vec(),
            finishing,
        );
        if gzip.gzipping() {
            self.s.gzip = Some(Box::new(gzip));
        }
        Some(out)
    }

    fn start_line(&self) -> ResponseStartLine {
        let code = StatusCode::from_u16(self.s.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match &self.s.reason {
            None => ResponseStartLine::new(code),
            Some(r) => ResponseStartLine::with_reason(code, r.clone()),
        }
    }

    /// Finishes the response (`finish`): for a `GET` or `HEAD` answered 200, an `ETag`
    /// (and 304 if the client has it already); a `Content-Length` unless the output was
    /// streamed; then everything is sent. Fails if it was finished already.
    pub fn finish(&mut self) -> Result {
        if self.s.finished {
            return Err(Error::msg("finish() called twice"));
        }
        let result = self.finish_response();
        self.s.finished = true;
        self.s.app.log_request(self);
        result
    }

    /// [`write`](Handler::write) then [`finish`](Handler::finish).
    pub fn finish_with(&mut self, chunk: impl AsRef<[u8]>) -> Result {
        self.write(chunk);
        self.finish()
    }

    /// The response was written by someone else (a fallback handler): nothing more to do.
    pub(crate) fn finished_elsewhere(&mut self) {
        self.s.headers_written = true;
        self.s.finished = true;
    }

    /// Finishes, logging rather than returning a failure (error paths).
    pub(crate) fn finish_quietly(&mut self) {
        if let Err(e) = self.finish() {
            log::error!(target: "general", "Failed to flush partial response: {e}");
        }
    }

    fn finish_response(&mut self) -> Result {
        let conn = self.s.request.connection().clone();
        if self.s.headers_written {
            let head = *self.s.request.method() == Method::HEAD;
            let chunk = self.s.buffer.split();
            if let Some(gzip) = self.s.gzip.as_mut() {
                let rest = gzip.chunk(&chunk, true);
                if !head {
                    drop(conn.write(&rest));
                }
            } else if !chunk.is_empty() && !head {
                drop(conn.write(&chunk));
            }
            conn.finish()?;
            return Ok(());
        }
        if self.s.status == 200
            && matches!(*self.s.request.method(), Method::GET | Method::HEAD)
            && !self.s.headers.contains(&ETAG)
        {
            if let Some(value) = (self.s.etag)(self) {
                let matched = self.check_etag(&value);
                self.s.headers.insert(ETAG, value);
                if matched {
                    self.s.buffer.clear();
                    self.set_status(304);
                }
            }
        }
        if should_not_send_content(self.s.status) {
            if !self.s.buffer.is_empty() {
                return Err(Error::msg(format!(
                    "Cannot send body with status code HTTP{}",
                    self.s.status
                )));
            }
            self.s.html_default = false;
            for name in [CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE] {
                self.s.headers.remove(&name);
            }
        }
        if self.s.status == 405 {
            if let Some(allow) = self.s.allow.take() {
                if !self.s.headers.contains(&http::header::ALLOW) {
                    self.s.headers.append(http::header::ALLOW, allow);
                }
            }
        }
        self.s.headers_written = true;
        self.add_cookie_headers();
        if self.s.app.settings.compress_response {
            let body = self.s.buffer.split();
            if let Some(out) = self.transform_first_chunk(&body, true) {
                self.s.buffer.extend_from_slice(&out);
            }
        }
        conn.write_response_list(
            &self.start_line(),
            self.default_lines(),
            self.s.headers.as_slice(),
            &self.s.buffer,
        )?;
        self.s.buffer.clear();
        Ok(())
    }

    /// Tornado's `compute_etag`: `"<SHA-1 of the output, hex>"`.
    pub fn default_etag(&self) -> HeaderValue {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(&self.s.buffer);
        let mut out = [b'"'; 42];
        for (i, b) in digest.iter().enumerate() {
            out[1 + 2 * i..3 + 2 * i].copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
        }
        etag_value(&out)
    }

    /// Whether the request's `If-None-Match` names `etag` (`check_etag_header`): `*`, or
    /// the same tag, weakly compared.
    pub fn check_etag(&self, etag: &HeaderValue) -> bool {
        let ours = strip_weak(etag.as_bytes());
        let mut listed = false;
        for value in self.s.request.headers().get_all(IF_NONE_MATCH) {
            for tag in etags(value.as_bytes()) {
                if !listed && tag == b"*" {
                    return true;
                }
                listed = true;
                if strip_weak(tag) == ours {
                    return true;
                }
            }
        }
        false
    }

    /// Redirects to `url` (`redirect`): 301 if `permanent`, else 302; finishes the response.
    pub fn redirect(&mut self, url: &str, permanent: bool) -> Result {
        self.redirect_with_status(url, if permanent { 301 } else { 302 })
    }

    /// Redirects with a given 3xx status (`redirect(url, status=...)`).
    pub fn redirect_with_status(&mut self, url: &str, status: u16) -> Result {
        if self.s.headers_written {
            return Err(Error::msg(
                "Cannot redirect after headers have been written",
            ));
        }
        if !(300..=399).contains(&status) {
            return Err(Error::msg(format!("redirect status {status} is not 3xx")));
        }
        let location = HeaderValue::from_str(url).map_err(|_| InvalidHeader::value(url))?;
        self.set_status(status);
        self.s.headers.insert(LOCATION, location);
        self.finish()
    }

    /// Renders template `name` with `context` (any `Serialize` map, such as
    /// `minijinja::context!` or a struct) and the handler's namespace (`render_string`):
    /// `request`, `current_user` (if set or looked up already; `RequestHandler::render`
    /// looks it up), `reverse_url(name, args...)`.
    pub fn render_string(&mut self, name: &str, context: &impl serde::Serialize) -> Result<String> {
        let namespace = self.template_namespace()?;
        Ok(self
            .s
            .app
            .templates
            .render(name, namespace, crate::templates::to_value(context))?)
    }

    /// Renders template source `source` (not a file) as
    /// [`render_string`](Handler::render_string) does.
    pub fn render_source(
        &mut self,
        source: &str,
        context: &impl serde::Serialize,
    ) -> Result<String> {
        let namespace = self.template_namespace()?;
        Ok(self.s.app.templates.render_source(
            source,
            namespace,
            crate::templates::to_value(context),
        )?)
    }

    /// What every template sees (`get_template_namespace`): with the `xsrf_cookies`
    /// setting, `xsrf_form_html()` too (its token, and cookie, made now).
    fn template_namespace(&mut self) -> Result<minijinja::Value> {
        use minijinja::Value;
        let form = if self.s.app.settings.xsrf_cookies {
            Some(self.xsrf_form_html()?)
        } else {
            None
        };
        let xsrf_form_html =
            Value::from_function(move || -> std::result::Result<Value, minijinja::Error> {
                match &form {
                    Some(f) => Ok(Value::from_safe_string(f.clone())),
                    None => Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "xsrf_form_html needs the xsrf_cookies setting",
                    )),
                }
            });
        let req = &self.s.request;
        let app = self.s.app.clone();
        let reverse_url =
            Value::from_function(move |name: String, args: minijinja::value::Rest<String>| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                app.router.reverse_url(&name, &args).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
            });
        let urls: Option<(
            std::path::PathBuf,
            String,
            std::sync::Arc<crate::application::AppShared>,
        )> = self.s.app.settings.static_path.clone().map(|root| {
            (
                root,
                self.s.app.settings.static_url_prefix.clone(),
                self.s.app.clone(),
            )
        });
        let static_url = Value::from_function(
            move |path: String| -> std::result::Result<String, minijinja::Error> {
                let Some((root, prefix, app)) = &urls else {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "static_url needs the static_path setting",
                    ));
                };
                let version = crate::static_file::absolute_path(root, &path)
                    .ok()
                    .and_then(|p| app.static_versions.get(&p, app.settings.static_hash_cache));
                Ok(match version {
                    Some(v) => format!("{prefix}{path}?v={v}"),
                    None => format!("{prefix}{path}"),
                })
            },
        );
        Ok(minijinja::context! {
            current_user => self.current_user(),
            request => minijinja::context! {
                method => req.method().as_str(),
                uri => req.uri(),
                path => req.path(),
                query => req.query(),
                host => req.host(),
                remote_ip => req.remote_ip().to_string(),
                protocol => req.protocol(),
            },
            reverse_url => reverse_url,
            xsrf_form_html => xsrf_form_html,
            static_url => static_url,
        })
    }

    /// The version hash of a static file (`get_version`), cached per application unless
    /// `static_hash_cache` is off.
    pub(crate) fn static_version(&self, path: &std::path::Path) -> Option<String> {
        let app = &self.s.app;
        app.static_versions
            .get(path, app.settings.static_hash_cache)
    }

    /// The URL of static file `path` (`static_url`): `static_url_prefix` + `path` +
    /// `?v=<version hash>`, so that it can be cached for ten years. Needs `static_path`.
    pub fn static_url(&self, path: &str) -> Result<String> {
        self.static_url_with(path, false, true)
    }

    /// [`static_url`](Handler::static_url) with the host (`include_host`) and without the
    /// version (`include_version=False`).
    pub fn static_url_with(
        &self,
        path: &str,
        include_host: bool,
        include_version: bool,
    ) -> Result<String> {
        let settings = &self.s.app.settings;
        let Some(root) = &settings.static_path else {
            return Err(Error::msg(
                "You must define the 'static_path' setting in your application to use static_url",
            ));
        };
        let mut url = if include_host {
            format!("{}://{}", self.s.request.protocol(), self.s.request.host())
        } else {
            String::new()
        };
        url.push_str(&settings.static_url_prefix);
        url.push_str(path);
        if include_version {
            let version = crate::static_file::absolute_path(root, path)
                .ok()
                .and_then(|p| self.static_version(&p));
            if let Some(v) = version {
                url.push_str("?v=");
                url.push_str(&v);
            }
        }
        Ok(url)
    }

    /// The path of the route named `name` with `args` (`reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        Ok(self.s.app.router.reverse_url(name, args)?)
    }

    pub(crate) fn default_write_error(&mut self, status: u16, error: Option<&Error>) {
        if should_not_send_content(status) {
            return;
        }
        if self.s.app.settings.serve_traceback {
            if let Some(e) = error {
                self.s.html_default = false;
                self.s
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                self.write(format!("{e:?}\n{e}\n"));
                return;
            }
        }
        let reason = self.start_line().reason;
        let message = crate::escape::xhtml_escape(&reason);
        self.write(format!(
            "<html><title>{status}: {message}</title><body>{status}: {message}</body></html>"
        ));
    }

    pub(crate) fn request_mut(&mut self) -> &mut HttpServerRequest {
        &mut self.s.request
    }

    pub(crate) fn app(&self) -> &Arc<AppShared> {
        &self.s.app
    }

    /// `GET /path (1.2.3.4)`, as Tornado's logs name a request.
    pub fn request_summary(&self) -> String {
        format!(
            "{} {} ({})",
            self.s.request.method(),
            self.s.request.uri(),
            self.s.request.remote_ip()
        )
    }

    /// Decodes the route's captures (`decode_argument`): UTF-8, or a 400.
    pub(crate) fn decode_path_args(&mut self) -> Result {
        if self.s.raw_args.positional.is_empty() && self.s.raw_args.named.is_empty() {
            // Most routes capture nothing.
            return Ok(());
        }
        let raw = std::mem::take(&mut self.s.raw_args);
        for arg in raw.positional {
            self.s.path_args.push(decode_path_arg(arg, "url")?);
        }
        for (name, arg) in raw.named {
            let value = decode_path_arg(arg, &name)?;
            self.s.path_kwargs.push((name, value));
        }
        Ok(())
    }

    /// The next piece of a streamed body, or `None` at its end (or without a stream).
    pub(crate) async fn next_body_chunk(&mut self) -> Result<Option<Bytes>, BodyAborted> {
        match self.s.body.as_mut() {
            Some(body) => body.next().await,
            None => Ok(None),
        }
    }
}

impl Drop for HandlerState {
    fn drop(&mut self) {
        // Both maps can serve later requests of this thread.
        recycle_header_map(std::mem::take(self.request.headers_mut()));
        recycle_output_buffer(std::mem::take(&mut self.buffer));
    }
}

/// Output buffers kept for reuse on this thread: most responses are small, and a buffer
/// from here costs no allocation.
const POOLED_BUFFERS: usize = 32;
/// Larger buffers are freed rather than kept.
const POOLED_BUFFER_CAPACITY: usize = 64 * 1024;

thread_local! {
    static OUTPUT_BUFFERS: std::cell::RefCell<Vec<BytesMut>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn output_buffer() -> BytesMut {
    OUTPUT_BUFFERS
        .with(|p| p.borrow_mut().pop())
        .unwrap_or_default()
}

fn recycle_output_buffer(mut buffer: BytesMut) {
    if buffer.capacity() == 0 || buffer.capacity() > POOLED_BUFFER_CAPACITY {
        return;
    }
    buffer.clear();
    OUTPUT_BUFFERS.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() < POOLED_BUFFERS {
            p.push(buffer);
        }
    });
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("request", &self.s.request)
            .field("status", &self.s.status)
            .field("finished", &self.s.finished)
            .finish_non_exhaustive()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's two lowercase hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut out = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    out
};

thread_local! {
    /// Storage the ETags of this thread are cut from: one allocation serves about a
    /// hundred responses (each value keeps its piece alive until dropped).
    static ETAG_ARENA: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// `tag` (quoted hex, as [`Handler::default_etag`] makes it) as a header value, without an
/// allocation of its own.
fn etag_value(tag: &[u8; 42]) -> HeaderValue {
    let bytes = ETAG_ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        if arena.capacity() - arena.len() < tag.len() {
            *arena = BytesMut::with_capacity(4096);
        }
        arena.extend_from_slice(tag);
        arena.split().freeze()
    });
    HeaderValue::from_maybe_shared(bytes).unwrap_or(HeaderValue::from_static("\"\""))
}

fn should_not_send_content(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

fn strip_weak(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

/// The entity tags of an `If-None-Match` value: `*` or `(W/)?"..."`, as Tornado's
/// `rb'\*|(?:W/)?"[^"]*"'` finds them.
fn etags(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = value;
    std::iter::from_fn(move || {
        loop {
            let i = rest
                .iter()
                .position(|&b| b == b'*' || b == b'"' || b == b'W')?;
            if rest[i] == b'*' {
                let tag = &rest[i..=i];
                rest = &rest[i + 1..];
                return Some(tag);
            }
            let (start, quote) = if rest[i] == b'W' {
                if rest[i..].starts_with(b"W/\"") {
                    (i, i + 2)
                } else {
                    rest = &rest[i + 1..];
                    continue;
                }
            } else {
                (i, i)
            };
            let Some(len) = rest[quote + 1..].iter().position(|&b| b == b'"') else {
                rest = &[];
                return None;
            };
            let end = quote + 1 + len + 1;
            let tag = &rest[start..end];
            rest = &rest[end..];
            return Some(tag);
        }
    })
}

/// Collects argument values as Tornado's `_get_arguments` does: UTF-8 (a 400 otherwise),
/// control characters other than whitespace turned into spaces, then stripped.
fn arguments(
    source: &tornado_httpserver::httputil::Arguments,
    name: &str,
    strip: bool,
) -> Result<Vec<String>> {
    let Some(values) = source.get(name) else {
        return Ok(Vec::new());
    };
    values
        .iter()
        .map(|v| {
            let s = std::str::from_utf8(v).map_err(|_| {
                HttpError::new(400).with_log_message(format!(
                    "Invalid unicode in {name}: {:?}",
                    String::from_utf8_lossy(&v[..v.len().min(40)])
                ))
            })?;
            let s: String = s
                .chars()
                .map(|c| {
                    if matches!(c, '\x00'..='\x08' | '\x0e'..='\x1f') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect();
            Ok(if strip { s.trim().to_owned() } else { s })
        })
        .collect()
}

fn decode_path_arg(arg: Option<Vec<u8>>, name: &str) -> Result<String> {
    let Some(bytes) = arg else {
        return Ok(String::new());
    };
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        HttpError::new(400)
            .with_log_message(format!(
                "Invalid unicode in {name}: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            ))
            .into()
    })
}

fn last(mut values: Vec<String>, name: &str) -> Result<String> {
    values
        .pop()
        .ok_or_else(|| HttpError::missing_argument(name).into())
}

/// Writes serde_json's output into the buffer with `</` escaped.
struct JsonWriter<'a>(&'a mut BytesMut);

impl io::Write for JsonWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'/', rest) {
            let after_lt = if i > 0 {
                rest[i - 1] == b'<'
            } else {
                self.0.last() == Some(&b'<')
            };
            self.0.extend_from_slice(&rest[..i]);
            if after_lt {
                self.0.extend_from_slice(b"\\/");
            } else {
                self.0.extend_from_slice(b"/");
            }
            rest = &rest[i + 1..];
        }
        self.0.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A header name or value that cannot be written (`ValueError("Unsafe header value")`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHeader(String);

impl InvalidHeader {
    pub(crate) fn name(name: &str) -> Self {
        InvalidHeader(format!("Invalid header name {name:?}"))
    }

    pub(crate) fn value(value: &str) -> Self {
        InvalidHeader(format!("Unsafe header value {value:?}"))
    }
}

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidHeader {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags() {
        let tags: Vec<&[u8]> = etags(br#""a", W/"b" ,"c,d", *"#).collect();
        assert_eq!(tags, [&b"\"a\""[..], b"W/\"b\"", b"\"c,d\"", b"*"]);
        assert_eq!(etags(b"\"unterminated").count(), 0);
    }

    #[test]
    fn json_escapes_closing_tags() {
        let mut buf = BytesMut::new();
        serde_json::to_writer(
            JsonWriter(&mut buf),
            &serde_json::json!({"a": "</script>/x"}),
        )
        .unwrap();
        assert_eq!(&buf[..], br#"{"a":"<\/script>/x"}"#);
    }
}
