//! Routers of one's own (`tornado.routing.Router` and `ReversibleRouter`): a type that
//! decides from the whole request where it goes, placed among an application's rules like
//! a nested router, or as an application's only rule.
//!
//! ```
//! use tornado_httpserver::HttpServerRequest;
//! use tornado_web::{Application, FindHandler, Handler, HandlerFactory, RequestHandler, Result, Route};
//!
//! struct Reader;
//! impl RequestHandler for Reader {
//!     async fn get(&mut self, h: &mut Handler) -> Result {
//!         let path = h.path_args()[0].clone();
//!         h.write(path);
//!         Ok(())
//!     }
//! }
//!
//! /// GET anywhere goes to `Reader`, with the path as its argument; the rest goes on.
//! struct ByMethod(HandlerFactory);
//! impl FindHandler for ByMethod {
//!     fn find_handler(&self, request: &HttpServerRequest) -> Option<Route> {
//!         (*request.method() == http::Method::GET)
//!             .then(|| Route::new(&self.0).path_args([request.path()]))
//!     }
//! }
//!
//! let app = Application::builder()
//!     .custom_router(None, ByMethod(HandlerFactory::new(|| Reader)))
//!     .build()
//!     .unwrap();
//! # let _ = app;
//! ```

use std::fmt;
use std::sync::Arc;

use tornado_httpserver::HttpServerRequest;

use crate::application::Application;
use crate::handler_factory::{Factory, MakeHandler};
use crate::request_handler::RequestHandler;
use crate::routing::PathArgs;

/// Finds where a request goes (`tornado.routing.Router.find_handler`), and reverses names
/// into paths (`ReversibleRouter.reverse_url`).
pub trait FindHandler: Send + Sync + 'static {
    /// The route for `request`, or `None` to let the rules after this router try (and the
    /// application's default handler answer if none does).
    fn find_handler(&self, request: &HttpServerRequest) -> Option<Route>;

    /// The path named `name` with `args`, if this router knows it (`reverse_url`).
    fn reverse_url(&self, name: &str, args: &[&str]) -> Option<String> {
        let _ = (name, args);
        None
    }
}

/// A request handler type to route to, made by a factory closure (what `initialize` would
/// receive, the closure captures). Make it once and route to it many times.
#[derive(Clone)]
pub struct HandlerFactory(pub(crate) Arc<dyn MakeHandler>);

impl HandlerFactory {
    /// Handlers made by `make`.
    pub fn new<F, H>(make: F) -> Self
    where
        F: Fn() -> H + Send + Sync + 'static,
        H: RequestHandler,
    {
        HandlerFactory(Arc::new(Factory::new(make)))
    }
}

impl fmt::Debug for HandlerFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFactory").finish_non_exhaustive()
    }
}

/// Where a [`FindHandler`] sends a request (`Application.get_handler_delegate`): a handler,
/// the application whose settings (and `reverse_url`) it runs with (by default the one that
/// routed the request), and its path arguments, given decoded.
#[derive(Clone)]
pub struct Route {
    pub(crate) make: Arc<dyn MakeHandler>,
    pub(crate) app: Option<Application>,
    pub(crate) args: PathArgs,
}

impl Route {
    /// To a handler made by `handler`, without path arguments.
    pub fn new(handler: &HandlerFactory) -> Self {
        Route {
            make: handler.0.clone(),
            app: None,
            args: PathArgs::default(),
        }
    }

    /// Runs the handler with `app`'s settings and routes.
    pub fn application(mut self, app: &Application) -> Self {
        self.app = Some(app.clone());
        self
    }

    /// The handler's positional path arguments (`path_args`).
    pub fn path_args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.positional = args
            .into_iter()
            .map(|a| Some(a.into().into_bytes()))
            .collect();
        self
    }

    /// The handler's named path arguments (`path_kwargs`).
    pub fn path_kwargs<K: Into<String>, V: Into<String>>(
        mut self,
        kwargs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.args.named = kwargs
            .into_iter()
            .map(|(k, v)| (k.into(), Some(v.into().into_bytes())))
            .collect();
        self
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}
