//! The web framework (`tornado.web`, `tornado.routing`): an [`Application`] routes each
//! request to a [`RequestHandler`], made fresh for the request, whose methods answer it
//! through a [`Handler`].
//!
//! ```no_run
//! use tornado_web::{Application, Handler, RequestHandler, Result};
//!
//! struct MainHandler;
//!
//! impl RequestHandler for MainHandler {
//!     async fn get(&mut self, h: &mut Handler) -> Result {
//!         h.write("Hello, world");
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     let app = Application::builder().route("/", || MainHandler).build().unwrap();
//!     app.listen(8888)?;
//!     tornado_ioloop::IoLoop::current().start()
//! }
//! ```
#![doc(test(attr(deny(warnings))))]

mod application;
mod body_pipe;
mod cookies;
mod cross_origin;
mod custom_router;
mod entities;
mod error;
pub mod escape;
mod gzip_transform;
mod handler;
mod handler_factory;
mod handlers;
mod header_value;
mod request_handler;
mod response_headers;
pub mod routing;
mod settings;
pub mod signed_value;
mod static_file;
mod templates;
mod url_checks;
mod xsrf;

pub use application::{Application, ApplicationBuilder, RouterBuilder, WebMessage};
pub use cookies::{CookieOptions, InvalidCookie};
pub use custom_router::{FindHandler, HandlerFactory, Route};
pub use error::{Error, Finish, HttpError, Result};
pub use handler::{ETag, Handler, InvalidHeader};
pub use handlers::{ErrorHandler, FallbackHandler, RedirectHandler};
pub use header_value::{IntoHeaderName, IntoHeaderValue};
pub use request_handler::{DEFAULT_SUPPORTED_METHODS, RequestHandler};
pub use routing::{Router, RoutingError};
pub use settings::{Autoescape, LogFunction, Settings};
pub use signed_value::{CookieSecret, SignedValueError};
pub use static_file::{
    CACHE_MAX_AGE, MAX_CACHED_VERSIONS, MAX_VERSION_CONTENT_SIZE, StaticFileHandler,
    content_version,
};
pub use templates::{DictLoader, FileLoader, TemplateError, TemplateLoader};
