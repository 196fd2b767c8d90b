//! HTTP helpers shared by servers and clients. Port of `tornado.httputil`.
//!
//! Headers are the `http` crate's [`HeaderMap`](http::HeaderMap), which keeps repeated
//! headers (`get_all`) and compares names case-insensitively, as Tornado's `HTTPHeaders`.

mod body;
mod cookie;
mod error;
mod header_params;
mod host;
mod multipart;
mod pystr;
mod range;
mod start_line;
mod timestamp;
mod url;
mod urlencoded;

pub use body::{ParseBodyConfig, ParseUrlEncodedConfig, parse_body_arguments};
pub use cookie::parse_cookie;
pub use error::{HttpInputError, HttpOutputError, is_http_input_error, is_http_output_error};
pub use header_params::parse_header;
pub(crate) use host::{HostCheck, check_host};
pub use host::{
    encode_username_password, is_valid_host, split_host_and_port, split_host_and_port_ref,
};
pub use multipart::{Files, HttpFile, ParseMultipartConfig, parse_multipart_form_data};
pub use range::{get_content_range, parse_request_range};
pub(crate) use start_line::is_tchar;
pub use start_line::{
    RequestStartLine, RequestTarget, ResponseStartLine, parse_request_start_line,
    parse_response_start_line,
};
pub use timestamp::{format_timestamp, parse_http_date};
pub use url::url_concat;
pub use urlencoded::{Arguments, count_query_fields, parse_qs_bytes, qs_to_qsl};
