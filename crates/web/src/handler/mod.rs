//! [`Handler`]: one request and its response under construction, the `self` of Tornado's
//! `RequestHandler` methods that are not override points.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{
    CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, ETAG, HeaderValue, LOCATION, SERVER,
};
use http::{Method, StatusCode};
use tornado_httpserver::httputil::ResponseStartLine;
use tornado_httpserver::{HeaderBlock, HeaderLines, HttpServerRequest};

mod arguments;
mod cookies;
mod etag;
mod slashes;
mod state;

pub use etag::ETag;
pub(crate) use state::HandlerState;
use state::StateBox;
mod templates;

use crate::application::AppShared;
use crate::body_pipe::BodyAborted;

use crate::error::{Error, HttpError, Result};
use crate::gzip_transform::GzipTransform;
use crate::header_value::{IntoHeaderName, IntoHeaderValue};
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
    pub(crate) s: StateBox,
}

impl Handler {
    pub(crate) fn new(
        line: tornado_httpserver::httputil::RequestStartLine,
        headers: tornado_httpserver::RequestHeaders,
        connection: tornado_httpserver::HttpConnection,
        app: Arc<AppShared>,
    ) -> Self {
        Handler {
            s: HandlerState::boxed(line, headers, connection, app),
        }
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

    /// The named arguments the route's pattern captured, in the pattern's order
    /// (`path_kwargs`).
    pub fn path_kwargs(&self) -> &[(String, String)] {
        &self.s.path_kwargs
    }

    /// One named argument the route's pattern captured (`path_kwargs[name]`).
    pub fn path_kwarg(&self, name: &str) -> Option<&str> {
        self.s
            .path_kwargs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
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
        // Serialized straight into the output, then `</` escaped in what was added (rare:
        // only strings can hold it, so the usual value is scanned once and left alone).
        if let Err(e) = serde_json::to_writer(bytes::BufMut::writer(&mut self.s.buffer), value) {
            self.s.buffer.truncate(start);
            return Err(e.into());
        }
        escape_closing_tags(&mut self.s.buffer, start);
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
        let mut etag = None;
        if self.s.status == 200
            && matches!(*self.s.request.method(), Method::GET | Method::HEAD)
            && !self.s.headers.contains(&ETAG)
        {
            if let Some(tag) = (self.s.etag)(self) {
                if self.check_etag(&tag) {
                    self.s.buffer.clear();
                    self.set_status(304);
                }
                etag = Some(tag);
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
        match etag {
            None => conn.write_response_list(
                &self.start_line(),
                self.default_lines(),
                self.s.headers.as_slice(),
                &self.s.buffer,
            )?,
            Some(tag) => {
                // The tag's line is rendered in the thread's block (taken, not borrowed, in
                // case writing runs code that writes another response) and written after
                // the default lines.
                let mut block = ETAG_BLOCK.with(std::cell::Cell::take);
                block.clear();
                let written = block
                    .push(&ETAG, tag.as_bytes())
                    .map_err(io::Error::from)
                    .and_then(|()| {
                        conn.write_response_list(
                            &self.start_line(),
                            &(self.default_lines(), &block),
                            self.s.headers.as_slice(),
                            &self.s.buffer,
                        )
                    });
                ETAG_BLOCK.with(|b| b.set(block));
                written?;
            }
        }
        self.s.buffer.clear();
        Ok(())
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

    /// The path of the route named `name` with `args` (`reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String> {
        Ok(self.s.app.router.reverse_url(name, args)?)
    }

    /// What the default [`write_error`](crate::RequestHandler::write_error) writes: the
    /// error page (with the error's details when `serve_traceback` is on), nothing for a
    /// status without a body. An override calls it for the cases it leaves alone, as
    /// Python's call `RequestHandler.write_error(self, ...)`.
    pub fn default_write_error(&mut self, status: u16, error: Option<&Error>) {
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

    /// Runs the request with another application's settings and routes (a custom router's
    /// choice).
    pub(crate) fn use_application(&mut self, app: Arc<AppShared>) {
        self.s.app = app;
    }

    /// Parses the request's form body within the application's limits (`_parse_body`).
    pub(crate) fn parse_body(
        &mut self,
    ) -> Result<(), tornado_httpserver::httputil::HttpInputError> {
        let s = &mut *self.s;
        s.request.parse_body(&s.app.settings.parse_body)
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

    /// The next piece of a streamed body, or `None` at its end (or without a stream).
    pub(crate) async fn next_body_chunk(&mut self) -> Result<Option<Bytes>, BodyAborted> {
        match self.s.body.as_mut() {
            Some(body) => body.next().await,
            None => Ok(None),
        }
    }
}

thread_local! {
    /// The lines a response with a computed ETag is written with (see `finish_response`).
    static ETAG_BLOCK: std::cell::Cell<HeaderBlock> = std::cell::Cell::new(HeaderBlock::new());
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("request", &*self.s.request)
            .field("status", &self.s.status)
            .field("finished", &self.s.finished)
            .finish_non_exhaustive()
    }
}

fn should_not_send_content(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

/// Writes serde_json's output into the buffer with `</` escaped.
/// Writes each `</` in `buffer[from..]` as `<\/`.
fn escape_closing_tags(buffer: &mut BytesMut, from: usize) {
    let Some(first) = memchr::memmem::find(&buffer[from..], b"</") else {
        return;
    };
    let tail = buffer[from + first..].to_vec();
    buffer.truncate(from + first);
    let mut rest = &tail[..];
    while let Some(i) = memchr::memmem::find(rest, b"</") {
        buffer.extend_from_slice(&rest[..i]);
        buffer.extend_from_slice(b"<\\/");
        rest = &rest[i + 2..];
    }
    buffer.extend_from_slice(rest);
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
    fn json_escapes_closing_tags() {
        let mut buf = BytesMut::from(&b"<p>"[..]);
        let value = serde_json::json!({"a": "</script>/x<", "</b": "<//"});
        serde_json::to_writer(bytes::BufMut::writer(&mut buf), &value).unwrap();
        escape_closing_tags(&mut buf, 3);
        assert_eq!(&buf[..], br#"<p>{"<\/b":"<\//","a":"<\/script>/x<"}"#);
        let mut plain = BytesMut::from(&b"</"[..]);
        escape_closing_tags(&mut plain, 1);
        assert_eq!(&plain[..], b"</", "only what was added is escaped");
    }
}
