//! A strict, streaming HTTP/1.1 server. Port of `tornado.httpserver`, `tornado.httputil` and
//! `tornado.http1connection`.
#![doc(test(attr(deny(warnings))))]

pub mod httputil;
