//! A strict, streaming HTTP/1.1 server. Port of `tornado.httpserver`, `tornado.httputil` and
//! `tornado.http1connection`.
#![doc(test(attr(deny(warnings))))]

mod callback;
mod context;
mod delegate;
mod gzip;
mod header_lookup;
mod header_pool;
mod header_values;
pub mod http1;
pub mod httputil;
mod request;
mod request_args;
mod request_headers;
mod server;
mod settings;

pub use callback::{CallbackDelegate, CallbackMessage};
pub use context::RequestContext;
pub use delegate::{
    HttpMessageDelegate, HttpServerConnectionDelegate, ServerConnection, StartLine,
};
pub use gzip::{GzipDecompressor, GzipError};
pub use header_lookup::{FindHeaders, find_header, find_headers};
pub use header_pool::{header_map, recycle_header_map};
pub use header_values::{content_length, http_date};
pub use http1::{FixedLines, HeaderBlock, HeaderLines, HttpConnection, HttpConnectionParameters};
pub use request::HttpServerRequest;
pub use request_headers::{GetAll, RequestHeaders};
pub use server::HttpServer;
pub use settings::{DEFAULT_IDLE_CONNECTION_TIMEOUT, HttpServerSettings};
