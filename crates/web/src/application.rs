//! [`Application`]: routes, settings, and the glue to the HTTP server
//! (`tornado.web.Application`).

use std::fmt;
use std::io;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use tornado_httpserver::httputil::{HttpInputError, RequestStartLine};
use tornado_httpserver::{
    HeaderLines, HttpConnection, HttpMessageDelegate, HttpServer, HttpServerConnectionDelegate,
    HttpServerRequest, HttpServerSettings, RequestHeaders, ServerConnection, StartLine,
};
use tornado_ioloop::{IoLoop, Task};

use crate::body_pipe::{BodySender, body_pipe};
use crate::handler::Handler;
use crate::handler_factory::{Factory, MakeHandler};
use crate::request_handler::RequestHandler;
use crate::routing::{Found, HostMatches, Matcher, PathArgs, PathMatches, Router, Rule, Target};
use crate::settings::Settings;
use crate::templates::Templates;

/// What [`Application`] shares between its loops and its requests.
pub(crate) struct AppShared {
    pub(crate) settings: Settings,
    pub(crate) router: Router,
    has_host_rules: bool,
    default_handler: Arc<dyn MakeHandler>,
    /// `Server` and the default `Content-Type`, rendered once: [both, server only,
    /// content type only, neither].
    default_lines: [HeaderLines; 4],
    pub(crate) templates: Templates,
    pub(crate) static_versions: crate::static_file::VersionCache,
}

impl AppShared {
    /// The rendered default header lines still in force.
    pub(crate) fn default_lines(&self, server: bool, html: bool) -> &HeaderLines {
        let i = match (server, html) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        &self.default_lines[i]
    }

    /// Logs a finished request (`Application.log_request`): on target `access`, info
    /// below 400, warning below 500, error above, as `200 GET / (1.2.3.4) 0.52ms`.
    pub(crate) fn log_request(&self, h: &Handler) {
        if let Some(f) = &self.settings.log_function {
            f(h);
            return;
        }
        let status = h.get_status();
        let level = match status {
            ..400 => log::Level::Info,
            400..500 => log::Level::Warn,
            _ => log::Level::Error,
        };
        if log::log_enabled!(target: "access", level) {
            let ms = h.request().request_time().as_secs_f64() * 1000.0;
            log::log!(target: "access", level, "{status} {} {ms:.2}ms", h.request_summary());
        }
    }
}

/// A web application (`tornado.web.Application`): routes to request handlers, and
/// settings. Cheap to clone and `Send + Sync`: every loop of a multi-threaded server
/// shares one.
///
/// ```no_run
/// use tornado_web::{Application, Handler, RequestHandler, Result};
///
/// struct MainHandler;
///
/// impl RequestHandler for MainHandler {
///     async fn get(&mut self, h: &mut Handler) -> Result {
///         h.write("Hello, world");
///         Ok(())
///     }
/// }
///
/// let app = Application::builder().route("/", || MainHandler).build().unwrap();
/// app.listen(8888).unwrap();
/// tornado_ioloop::IoLoop::current().start().unwrap();
/// ```
#[derive(Clone)]
pub struct Application {
    shared: Arc<AppShared>,
}

impl Application {
    /// Starts describing an application.
    pub fn builder() -> ApplicationBuilder {
        ApplicationBuilder {
            rules: RulesBuilder::default(),
            hosts: Vec::new(),
            default_host: None,
            settings: Settings::default(),
            default_handler: None,
        }
    }

    /// The settings (`settings`).
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The path of the route named `name` with `args` in its groups (`reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, crate::RoutingError> {
        self.shared.router.reverse_url(name, args)
    }

    /// An HTTP server for this application listening on `port` on every interface, on
    /// the current loop (`listen`). The server keeps running when the returned value is
    /// dropped; keep it to stop it or to close its connections.
    pub fn listen(&self, port: u16) -> io::Result<HttpServer<Application>> {
        self.listen_with(port, None, HttpServerSettings::default())
    }

    /// [`listen`](Application::listen) on one address and with server settings
    /// (`listen(port, address, **kwargs)`).
    pub fn listen_with(
        &self,
        port: u16,
        address: Option<&str>,
        settings: HttpServerSettings,
    ) -> io::Result<HttpServer<Application>> {
        let server = HttpServer::with_settings(self.clone(), settings);
        server.listen(port, address)?;
        Ok(server)
    }

    fn find(&self, request: &HttpServerRequest) -> Found {
        let host_name;
        let host = if self.shared.has_host_rules {
            host_name = request.host_name();
            host_name.as_str()
        } else {
            ""
        };
        self.shared
            .router
            .find(request, host, request.path())
            .unwrap_or_else(|| Found {
                make: self.shared.default_handler.clone(),
                args: PathArgs::default(),
                app: None,
            })
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("settings", &self.shared.settings)
            .field("router", &self.shared.router)
            .finish()
    }
}

#[derive(Default)]
struct RulesBuilder {
    rules: Vec<Rule>,
    error: Option<crate::RoutingError>,
}

impl RulesBuilder {
    fn path<F, H>(&mut self, pattern: &str, name: Option<&str>, make: F)
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        match PathMatches::new(pattern) {
            Ok(m) => self.rules.push(Rule {
                matcher: Matcher::Path(m),
                target: Target::Handler(Arc::new(Factory::new(make))),
                name: name.map(str::to_owned),
            }),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
    }

    fn router(&mut self, pattern: Option<&str>, router: Router) {
        self.routed(pattern, Target::Router(Arc::new(router)));
    }

    fn custom(&mut self, pattern: Option<&str>, router: Arc<dyn crate::FindHandler>) {
        self.routed(pattern, Target::Custom(router));
    }

    /// A rule sending requests whose path matches `pattern` (all with `None`) to a router.
    fn routed(&mut self, pattern: Option<&str>, target: Target) {
        let matcher = match pattern.map(PathMatches::new) {
            None => Matcher::Any,
            Some(Ok(m)) => Matcher::Path(m),
            Some(Err(e)) => {
                self.error.get_or_insert(e);
                return;
            }
        };
        self.rules.push(Rule {
            matcher,
            target,
            name: None,
        });
    }

    fn build(self) -> Result<Router, crate::RoutingError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(Router { rules: self.rules }),
        }
    }
}

/// Builds an [`Application`]: its routes in order, per-host routes, settings.
pub struct ApplicationBuilder {
    rules: RulesBuilder,
    hosts: Vec<(String, RouterBuilder)>,
    default_host: Option<String>,
    settings: Settings,
    default_handler: Option<Arc<dyn MakeHandler>>,
}

impl ApplicationBuilder {
    /// Requests whose path matches `pattern` go to a handler made by `make`
    /// (`(pattern, HandlerClass, init_kwargs)`: what `initialize` would receive, the
    /// closure captures).
    pub fn route<F, H>(mut self, pattern: &str, make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        self.rules.path(pattern, None, make);
        self
    }

    /// [`route`](ApplicationBuilder::route) with a name for
    /// [`reverse_url`](Application::reverse_url) (`url(pattern, handler, name=...)`).
    pub fn route_named<F, H>(mut self, pattern: &str, name: &str, make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        self.rules.path(pattern, Some(name), make);
        self
    }

    /// Requests whose path matches `pattern` are routed again by `router` (a rule whose
    /// target is a router); `None` sends every request there that got this far.
    pub fn router(mut self, pattern: Option<&str>, router: Router) -> Self {
        self.rules.router(pattern, router);
        self
    }

    /// Requests whose path matches `pattern` (all that got this far with `None`) are routed
    /// by a router of one's own (`Rule(matcher, router)` with a `tornado.routing.Router`);
    /// when it finds nothing, the next rules try. Its `reverse_url` serves the
    /// application's.
    pub fn custom_router(mut self, pattern: Option<&str>, router: impl crate::FindHandler) -> Self {
        self.rules.custom(pattern, Arc::new(router));
        self
    }

    /// Routes for hosts matching `host_pattern` (`add_handlers(host_pattern, handlers)`):
    /// they are tried before the routes given with [`route`](ApplicationBuilder::route),
    /// in the order the hosts were added.
    pub fn host(mut self, host_pattern: &str, routes: RouterBuilder) -> Self {
        self.hosts.push((host_pattern.to_owned(), routes));
        self
    }

    /// The host a request is taken to be for when no host's routes matched and it has no
    /// `X-Real-Ip` header (`default_host`: for debugging without a load balancer): the
    /// routes given with [`host`](ApplicationBuilder::host) for patterns matching it are
    /// tried again, after all others.
    pub fn default_host(mut self, host: &str) -> Self {
        self.default_host = Some(host.to_owned());
        self
    }

    /// The settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// The handler for requests no route matches (`default_handler_class`); by default a
    /// 404.
    pub fn default_handler<F, H>(mut self, make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        self.default_handler = Some(Arc::new(Factory::new(make)));
        self
    }

    /// The application, or the first invalid pattern.
    pub fn build(self) -> Result<Application, crate::RoutingError> {
        // Tornado's order: the hosts' routes, then the wildcard router's (static files
        // first, then the application's routes, then the hosts' routes again for the
        // default host).
        let mut rules = Vec::new();
        let mut default_host_rules = Vec::new();
        let has_host_rules = !self.hosts.is_empty();
        for (pattern, routes) in self.hosts {
            let host = HostMatches::new(&pattern)?;
            let router = Arc::new(routes.build()?);
            if self
                .default_host
                .as_deref()
                .is_some_and(|d| host.matches(d))
            {
                default_host_rules.push(Rule {
                    matcher: Matcher::DefaultHost,
                    target: Target::Router(router.clone()),
                    name: None,
                });
            }
            rules.push(Rule {
                matcher: Matcher::Host(host),
                target: Target::Router(router),
                name: None,
            });
        }
        let default_handler = self
            .default_handler
            .unwrap_or_else(|| Arc::new(Factory::new(|| crate::ErrorHandler::new(404))));
        let settings = self.settings.resolved();
        let templates = Templates::new(&settings);
        if let Some(root) = &settings.static_path {
            // Tornado puts these first: (prefix)(.*), /(favicon\.ico), /(robots\.txt).
            let mut statics = RulesBuilder::default();
            let prefix = format!("{}(.*)", regex::escape(&settings.static_url_prefix));
            for pattern in [prefix.as_str(), r"/(favicon\.ico)", r"/(robots\.txt)"] {
                let root = root.clone();
                let default_filename = settings.static_default_filename.clone();
                statics.path(pattern, None, move || {
                    let handler = crate::StaticFileHandler::new(root.clone());
                    match &default_filename {
                        Some(name) => handler.default_filename(name.clone()),
                        None => handler,
                    }
                });
            }
            rules.extend(statics.build()?.rules);
        }
        rules.extend(self.rules.build()?.rules);
        rules.extend(default_host_rules);
        Ok(Application {
            shared: Arc::new(AppShared {
                templates,
                static_versions: Default::default(),
                settings,
                router: Router { rules },
                has_host_rules,
                default_handler,
                default_lines: default_lines(),
            }),
        })
    }
}

fn default_lines() -> [HeaderLines; 4] {
    use crate::handler::{DEFAULT_CONTENT_TYPE, DEFAULT_SERVER};
    use http::header::{CONTENT_TYPE, SERVER};
    let lines = |pairs: &[(&http::HeaderName, &http::HeaderValue)]| {
        HeaderLines::new(pairs.iter().copied()).unwrap_or_default()
    };
    let server = (&SERVER, &DEFAULT_SERVER);
    let html = (&CONTENT_TYPE, &DEFAULT_CONTENT_TYPE);
    [
        lines(&[server, html]),
        lines(&[server]),
        lines(&[html]),
        HeaderLines::empty(),
    ]
}

impl fmt::Debug for ApplicationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationBuilder").finish_non_exhaustive()
    }
}

/// Builds a [`Router`]: rules in order (`RuleRouter([...])`).
#[derive(Default)]
pub struct RouterBuilder {
    rules: RulesBuilder,
}

impl Router {
    /// Starts describing a router.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }
}

impl RouterBuilder {
    /// See [`ApplicationBuilder::route`].
    pub fn route<F, H>(mut self, pattern: &str, make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        self.rules.path(pattern, None, make);
        self
    }

    /// See [`ApplicationBuilder::route_named`].
    pub fn route_named<F, H>(mut self, pattern: &str, name: &str, make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        self.rules.path(pattern, Some(name), make);
        self
    }

    /// See [`ApplicationBuilder::router`].
    pub fn router(mut self, pattern: Option<&str>, router: Router) -> Self {
        self.rules.router(pattern, router);
        self
    }

    /// See [`ApplicationBuilder::custom_router`].
    pub fn custom_router(mut self, pattern: Option<&str>, router: impl crate::FindHandler) -> Self {
        self.rules.custom(pattern, Arc::new(router));
        self
    }

    /// The router, or the first invalid pattern.
    pub fn build(self) -> Result<Router, crate::RoutingError> {
        self.rules.build()
    }
}

impl fmt::Debug for RouterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouterBuilder").finish_non_exhaustive()
    }
}

impl HttpServerConnectionDelegate for Application {
    type Message = WebMessage;

    fn start_request(
        &self,
        _server_conn: &ServerConnection,
        request_conn: HttpConnection,
    ) -> WebMessage {
        WebMessage {
            app: self.clone(),
            conn: request_conn,
            state: State::Waiting,
        }
    }
}

enum State {
    Waiting,
    /// Reading the whole body before the handler runs.
    Buffering {
        handler: Handler,
        make: Arc<dyn MakeHandler>,
        body: BytesMut,
    },
    /// The handler runs already and takes the body piece by piece.
    Streaming {
        sender: BodySender,
        task: Task<()>,
    },
    Done,
}

/// One request on its way to its handler (Tornado's `_HandlerDelegate`).
pub struct WebMessage {
    app: Application,
    conn: HttpConnection,
    state: State,
}

impl fmt::Debug for WebMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebMessage").finish_non_exhaustive()
    }
}

impl HttpMessageDelegate for WebMessage {
    async fn headers_received(
        &mut self,
        start_line: StartLine,
        headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        let StartLine::Request(line) = start_line else {
            return Err(HttpInputError::new("a response sent to a server"));
        };
        self.request_headers_received(line, headers.into()).await
    }

    async fn request_headers_received(
        &mut self,
        line: RequestStartLine,
        headers: RequestHeaders,
    ) -> Result<(), HttpInputError> {
        // The request is made where it stays, in the handler's state, then routed.
        let mut h = Handler::new(line, headers, self.conn.clone(), self.app.shared.clone());
        let found = self.app.find(h.request());
        h.s.raw_args = found.args;
        if let Some(app) = found.app {
            h.use_application(app.shared);
        }
        if found.make.stream_request_body() {
            let (sender, receiver) = body_pipe();
            h.s.body = Some(receiver);
            let task = IoLoop::current().spawn(found.make.run(h));
            self.state = State::Streaming { sender, task };
        } else {
            self.state = State::Buffering {
                handler: h,
                make: found.make,
                body: BytesMut::new(),
            };
        }
        Ok(())
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        match &mut self.state {
            State::Buffering { body, .. } => body.extend_from_slice(&chunk),
            State::Streaming { sender, .. } => {
                // A handler that stopped reading (it answered already) lets the rest go.
                sender.send(chunk).await;
            }
            State::Waiting | State::Done => {}
        }
        Ok(())
    }

    async fn finish(&mut self) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Buffering {
                mut handler,
                make,
                body,
            } => {
                if !body.is_empty() {
                    handler.s.request.set_body(body.freeze());
                }
                make.run(handler).await;
            }
            State::Streaming { sender, task } => {
                sender.end();
                let _ = task.await;
            }
            State::Waiting | State::Done => {}
        }
    }

    fn on_connection_close(&mut self) {
        // Dropping the sender tells a streaming handler that its body will not come.
        if let State::Streaming { .. } = self.state {
            self.state = State::Done;
        }
    }
}
