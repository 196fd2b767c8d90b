//! `@tornado.web.addslash` and `@removeslash`: redirects that make a path end, or not end,
//! with a slash. Called at the top of a method, like
//! [`authenticated`](crate::RequestHandler::authenticated): `h.removeslash()?;`.

use http::Method;

use super::Handler;
use crate::error::{Error, HttpError, Result};
use crate::url_checks::is_protocol_relative;

impl Handler {
    /// Redirects (301) a `GET` or `HEAD` of `/foo/` to `/foo`, keeping the query; other
    /// methods get 404 (`@removeslash`). `Ok` when the path has no trailing slash (or is
    /// `/`); otherwise the returned error ends the method. A path that would redirect to
    /// another host (`//example.com/`) gets 403 (Tornado 6.6.1).
    pub fn removeslash(&mut self) -> Result {
        let path = self.request().path();
        if !path.ends_with('/') {
            return Ok(());
        }
        if !matches!(*self.request().method(), Method::GET | Method::HEAD) {
            return Err(HttpError::new(404).into());
        }
        let uri = path.trim_end_matches('/');
        if is_protocol_relative(uri) {
            return Err(refused());
        }
        if uri.is_empty() {
            // `/` is not redirected to nothing.
            return Ok(());
        }
        let uri = self.with_query(uri);
        self.redirect(&uri, true)?;
        Err(Error::Finish)
    }

    /// Redirects (301) a `GET` or `HEAD` of `/foo` to `/foo/`, keeping the query; other
    /// methods get 404 (`@addslash`). `Ok` when the path ends with a slash; otherwise the
    /// returned error ends the method. A path that would redirect to another host
    /// (`//example.com`) gets 403 (Tornado 6.6.1).
    pub fn addslash(&mut self) -> Result {
        let path = self.request().path();
        if path.ends_with('/') {
            return Ok(());
        }
        if !matches!(*self.request().method(), Method::GET | Method::HEAD) {
            return Err(HttpError::new(404).into());
        }
        let uri = format!("{path}/");
        if is_protocol_relative(&uri) {
            return Err(refused());
        }
        let uri = self.with_query(&uri);
        self.redirect(&uri, true)?;
        Err(Error::Finish)
    }

    /// `uri`, with `?` and the request's query when it has one.
    fn with_query(&self, uri: &str) -> String {
        match self.request().query() {
            "" => uri.to_owned(),
            query => format!("{uri}?{query}"),
        }
    }
}

fn refused() -> Error {
    HttpError::new(403)
        .with_log_message("cannot redirect path with two initial slashes")
        .into()
}
