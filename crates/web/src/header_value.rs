//! What [`Handler::set_header`](crate::Handler::set_header) accepts: names and values in
//! the forms Tornado takes (strings, numbers, dates) and as `http` types.

use std::time::SystemTime;

use http::header::{HeaderName, HeaderValue};

use crate::handler::InvalidHeader;

/// A header name: a `&str`/`String` (any case) or a `HeaderName`.
pub trait IntoHeaderName {
    /// The name, or why it cannot be one.
    fn into_name(self) -> Result<HeaderName, InvalidHeader>;
}

impl IntoHeaderName for HeaderName {
    fn into_name(self) -> Result<HeaderName, InvalidHeader> {
        Ok(self)
    }
}

impl IntoHeaderName for &HeaderName {
    fn into_name(self) -> Result<HeaderName, InvalidHeader> {
        Ok(self.clone())
    }
}

impl IntoHeaderName for &str {
    fn into_name(self) -> Result<HeaderName, InvalidHeader> {
        HeaderName::from_bytes(self.as_bytes()).map_err(|_| InvalidHeader::name(self))
    }
}

impl IntoHeaderName for String {
    fn into_name(self) -> Result<HeaderName, InvalidHeader> {
        self.as_str().into_name()
    }
}

/// A header value (Tornado's `_convert_header_value`): text with no control character but
/// tab (so no CR or LF), an integer, a `SystemTime` (written as an HTTP date), or a
/// `HeaderValue`.
pub trait IntoHeaderValue {
    /// The value, or why it cannot be one.
    fn into_value(self) -> Result<HeaderValue, InvalidHeader>;
}

impl IntoHeaderValue for HeaderValue {
    fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
        Ok(self)
    }
}

impl IntoHeaderValue for &str {
    fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
        // `HeaderValue` refuses bytes below 0x20 but tab, and 0x7f: RFC 9110's field-value
        // characters, which is Tornado's check.
        HeaderValue::from_str(self).map_err(|_| InvalidHeader::value(self))
    }
}

impl IntoHeaderValue for String {
    fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
        HeaderValue::try_from(self).map_err(|e| InvalidHeader::value(&e.to_string()))
    }
}

impl IntoHeaderValue for &String {
    fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
        self.as_str().into_value()
    }
}

impl IntoHeaderValue for SystemTime {
    fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
        tornado_httpserver::httputil::format_timestamp(self).into_value()
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl IntoHeaderValue for $t {
            fn into_value(self) -> Result<HeaderValue, InvalidHeader> {
                Ok(HeaderValue::from(self))
            }
        }
    )*};
}

integers!(u16, i16, u32, i32, u64, i64, usize, isize);
