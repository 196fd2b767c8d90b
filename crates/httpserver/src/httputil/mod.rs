//! HTTP helpers shared by servers and clients. Port of `tornado.httputil`.
//!
//! Headers are the `http` crate's [`HeaderMap`](http::HeaderMap), which keeps repeated
//! headers (`get_all`) and compares names case-insensitively, as Tornado's `HTTPHeaders`.

mod error;
mod start_line;

pub use error::{HttpInputError, HttpOutputError, is_http_input_error, is_http_output_error};
pub(crate) use start_line::is_tchar;
pub use start_line::{
    RequestStartLine, RequestTarget, ResponseStartLine, parse_request_start_line,
    parse_response_start_line,
};
