//! [`Settings`]: the application's settings (Tornado's `Application(**settings)`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use tornado_httpserver::httputil::ParseBodyConfig;

use crate::cookies::CookieOptions;
use crate::handler::Handler;
use crate::signed_value::CookieSecret;
use crate::templates::TemplateLoader;

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
#[derive(Clone)]
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
    /// The key of signed cookies (`cookie_secret`, with `key_version` for a versioned one).
    pub cookie_secret: Option<CookieSecret>,
    /// Requests that change state (not `GET`, `HEAD` or `OPTIONS`) must carry the `_xsrf`
    /// cookie's token in an `_xsrf` argument or an `X-XSRFToken`/`X-CSRFToken` header, or
    /// get 403 (`xsrf_cookies`).
    pub xsrf_cookies: bool,
    /// Requests that change state and come from another origin, by `Sec-Fetch-Site` or,
    /// without it, by an `Origin` that is not the `Host`, get 403 unless
    /// [`check_trusted_origin`](crate::RequestHandler::check_trusted_origin) allows the
    /// origin (`cross_origin_protection`, Tornado 6.6; off by default, as there).
    pub cross_origin_protection: bool,
    /// The origins the default `check_trusted_origin` allows, compared exactly
    /// (`trusted_origins`, e.g. `https://app.example.com`).
    pub trusted_origins: Vec<String>,
    /// The token format pages get: 2 (masked, the default) or 1 (`xsrf_cookie_version`).
    pub xsrf_cookie_version: u32,
    /// The name of the XSRF cookie (`xsrf_cookie_name`, `_xsrf`).
    pub xsrf_cookie_name: String,
    /// Attributes of the XSRF cookie (`xsrf_cookie_kwargs`).
    pub xsrf_cookie_options: CookieOptions,
    /// Directory of static files (`static_path`): served under `static_url_prefix` (and
    /// `/favicon.ico`, `/robots.txt`) by a [`StaticFileHandler`](crate::StaticFileHandler),
    /// and named by `static_url`.
    pub static_path: Option<PathBuf>,
    /// Where static files are served (`static_url_prefix`, `/static/`).
    pub static_url_prefix: String,
    /// The file served for a directory under `static_path` (`static_handler_args`'
    /// `default_filename`, the one argument the handler takes besides its root); `None`:
    /// directories are refused (403).
    pub static_default_filename: Option<String>,
    /// Keeps the version hashes of static files (`static_hash_cache`); off with `debug`.
    pub static_hash_cache: bool,
    /// Where `@authenticated` sends anonymous users (`login_url`).
    pub login_url: Option<String>,
    /// Limits on form bodies (Tornado 6.5's `parse_body_config`, given to the
    /// `HTTPServer`; here the handlers parse bodies, so the application holds it).
    pub parse_body: ParseBodyConfig,
    /// Logs each finished request instead of the `access` log (`log_function`).
    pub log_function: Option<LogFunction>,
    /// Directory of the templates `render` loads (`template_path`).
    pub template_path: Option<PathBuf>,
    /// Where templates come from, instead of `template_path` (`template_loader`).
    pub template_loader: Option<Arc<dyn TemplateLoader>>,
    /// How template output is escaped (`autoescape`): HTML by default.
    pub autoescape: Autoescape,
    /// Keeps compiled templates (`compiled_template_cache`); `debug` turns it off, so that
    /// edited templates show on the next request.
    pub compiled_template_cache: bool,
}

/// Template escaping (`autoescape="xhtml_escape"` or `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Autoescape {
    /// Every `{{ expression }}` is HTML-escaped unless marked safe (Tornado's default).
    #[default]
    Xhtml,
    /// Nothing is escaped.
    None,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            debug: false,
            serve_traceback: false,
            compress_response: false,
            cookie_secret: None,
            xsrf_cookies: false,
            cross_origin_protection: false,
            trusted_origins: Vec::new(),
            xsrf_cookie_version: 2,
            xsrf_cookie_name: "_xsrf".to_owned(),
            xsrf_cookie_options: CookieOptions::default(),
            static_path: None,
            static_url_prefix: "/static/".to_owned(),
            static_default_filename: None,
            static_hash_cache: true,
            login_url: None,
            parse_body: ParseBodyConfig::default(),
            log_function: None,
            template_path: None,
            template_loader: None,
            autoescape: Autoescape::Xhtml,
            compiled_template_cache: true,
        }
    }
}

impl Settings {
    /// Settings as Tornado applies them: `debug` implies `serve_traceback`.
    pub(crate) fn resolved(mut self) -> Self {
        if self.debug {
            self.serve_traceback = true;
            self.compiled_template_cache = false;
            self.static_hash_cache = false;
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
            .field("cookie_secret", &self.cookie_secret)
            .field("xsrf_cookies", &self.xsrf_cookies)
            .field("cross_origin_protection", &self.cross_origin_protection)
            .field("trusted_origins", &self.trusted_origins)
            .field("xsrf_cookie_version", &self.xsrf_cookie_version)
            .field("xsrf_cookie_name", &self.xsrf_cookie_name)
            .field("xsrf_cookie_options", &self.xsrf_cookie_options)
            .field("static_path", &self.static_path)
            .field("static_url_prefix", &self.static_url_prefix)
            .field("static_hash_cache", &self.static_hash_cache)
            .field("login_url", &self.login_url)
            .field("parse_body", &self.parse_body)
            .field("log_function", &self.log_function.as_ref().map(|_| "..."))
            .field("template_path", &self.template_path)
            .field(
                "template_loader",
                &self.template_loader.as_ref().map(|_| "..."),
            )
            .field("autoescape", &self.autoescape)
            .field("compiled_template_cache", &self.compiled_template_cache)
            .finish()
    }
}
