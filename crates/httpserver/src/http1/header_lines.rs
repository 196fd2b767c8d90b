//! [`HeaderLines`]: header lines rendered once and written as they are, for headers that
//! every response of an application carries (a web framework's `Server` and default
//! `Content-Type`).

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, HeaderName, HeaderValue, TRANSFER_ENCODING};

use crate::httputil::HttpOutputError;

use super::writer::put_canonical_name;

/// Header lines rendered once (`Name: value\r\n` each, names in canonical case), to be
/// written after the status line of responses by
/// [`HttpConnection::write_response_with`](crate::HttpConnection::write_response_with) and
/// [`write_headers_with`](crate::HttpConnection::write_headers_with) without passing
/// through a `HeaderMap` each time.
///
/// The framing headers (`Content-Length`, `Transfer-Encoding`, `Connection`) and `Date`
/// are refused: the connection decides those per response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderLines(Bytes);

impl HeaderLines {
    /// Renders `headers`; fails on a framing header or `Date`.
    pub fn new<'a>(
        headers: impl IntoIterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    ) -> Result<Self, HttpOutputError> {
        let mut buf = BytesMut::new();
        for (name, value) in headers {
            if [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, DATE].contains(name) {
                return Err(HttpOutputError::new(format!(
                    "{name} cannot be a fixed header line"
                )));
            }
            put_canonical_name(&mut buf, name);
            buf.put_slice(value.as_bytes());
            buf.put_slice(b"\r\n");
        }
        Ok(HeaderLines(buf.freeze()))
    }

    /// No lines.
    pub fn empty() -> Self {
        HeaderLines::default()
    }

    /// The rendered lines.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_canonical_case_and_refuses_framing() {
        let server = HeaderName::from_static("server");
        let v = HeaderValue::from_static("x/1");
        let lines = HeaderLines::new([(&server, &v)]).unwrap();
        assert_eq!(lines.as_bytes(), b"Server: x/1\r\n");
        assert!(HeaderLines::new([(&CONTENT_LENGTH, &v)]).is_err());
        assert!(HeaderLines::new([(&DATE, &v)]).is_err());
        assert_eq!(HeaderLines::empty().as_bytes(), b"");
    }
}
