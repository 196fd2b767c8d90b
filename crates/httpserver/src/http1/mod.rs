//! The HTTP/1 wire protocol: reading heads and bodies, writing responses, and the request
//! loop of a server connection. Port of `tornado.http1connection`.

mod body;
mod client_conn;
mod connection;
mod framing;
pub(crate) mod head;
mod header_lines;
pub(crate) mod in_place;
mod params;
mod read_head;
mod request_checks;
mod server_body;
mod server_conn;
mod writer;

pub use client_conn::{HttpClientConnection, MAX_1XX_RESPONSES, ResponseOutcome};
pub use connection::HttpConnection;
pub use framing::{content_length, is_transfer_encoding_chunked, parse_hex_int, parse_int};
pub use header_lines::{FixedLines, HeaderBlock, HeaderLines};
pub use params::{
    DEFAULT_CHUNK_SIZE, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_HEADER_SIZE, HttpConnectionParameters,
};
pub(crate) use server_conn::{ConnState, ServeConfig, serve};
