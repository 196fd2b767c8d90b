//! [`Settings`]: the application's settings (Tornado's `Application(**settings)`).

use std::fmt;
use std::sync::Arc;

use tornado_httpserver::httputil::ParseBodyConfig;

use crate::handler::Handler;

/// A function that logs each finished request instead of the default access log
/// (`log_function`).
pub type LogFunction = Arc<dyn Fn(&Handler) + Send + Sync>;

/// Application settings, with Tornado's defaults (`Application.settings`).
///
/// ```
/// use tornado_web::Settings;
///
/// let settings = Settings {
///     login_url: Some("/login".into()),
///     ..Settings::default()
/// };
/// assert!(!settings.debug);
/// ```
#[derive(Clone, Default)]
pub struct Settings {
    /// Development mode (`debug`): turns on `serve_traceback` (and, once there are
    /// templates and static files, turns their caches off).
    pub debug: bool,
    /// Error pages show the error's details (`serve_traceback`); on with `debug`.
    pub serve_traceback: bool,
    /// Compresses responses with gzip for clients that accept it (`compress_response`,
    /// also spelled `gzip`): text and the usual structured types, whole responses of 1 KiB
    /// or more; `Vary: Accept-Encoding` on every response.
    pub compress_response: bool,
    /// Where `@authenticated` sends anonymous users (`login_url`).
    pub login_url: Option<String>,
    /// Limits on form bodies (Tornado 6.5's `parse_body_config`, given to the
    /// `HTTPServer`; here the handlers parse bodies, so the application holds it).
    pub parse_body: ParseBodyConfig,
    /// Logs each finished request instead of the `access` log (`log_function`).
    pub log_function: Option<LogFunction>,
}

impl Settings {
    /// Settings as Tornado applies them: `debug` implies `serve_traceback`.
    pub(crate) fn resolved(mut self) -> Self {
        if self.debug {
            self.serve_traceback = true;
        }
        self
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("debug", &self.debug)
            .field("serve_traceback", &self.serve_traceback)
            .field("compress_response", &self.compress_response)
            .field("login_url", &self.login_url)
            .field("parse_body", &self.parse_body)
            .field("log_function", &self.log_function.as_ref().map(|_| "..."))
            .finish()
    }
}
