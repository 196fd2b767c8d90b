//! Header lines written as they are: [`HeaderLines`], rendered once, for headers that every
//! response of an application carries (a web framework's `Server` and default
//! `Content-Type`), and [`HeaderBlock`], a reusable buffer a response renders its own lines
//! into (a computed `Etag`) without making a `HeaderValue` of each.

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
            put_line(&mut buf, name, value.as_bytes())?;
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

/// Header lines rendered per response into a buffer that keeps its allocation from one
/// response to the next: what a caller has as bytes (a hash it formatted) is validated as a
/// `HeaderValue` would be and written without becoming one.
///
/// The same headers are refused as by [`HeaderLines`]; a value with a control character
/// (CR, LF, NUL, DEL, ... but not tab) is refused, so no line can end early.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderBlock(BytesMut);

impl HeaderBlock {
    /// An empty block.
    pub fn new() -> Self {
        HeaderBlock::default()
    }

    /// Empties the block, keeping its allocation.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Appends lines rendered once.
    pub fn push_lines(&mut self, lines: &HeaderLines) {
        self.0.extend_from_slice(lines.as_bytes());
    }

    /// Appends `name: value`; fails on a framing header, `Date`, or a value a `HeaderValue`
    /// could not hold.
    pub fn push(&mut self, name: &HeaderName, value: &[u8]) -> Result<(), HttpOutputError> {
        if !valid_value(value) {
            return Err(HttpOutputError::new(format!(
                "invalid value for the {name} header line"
            )));
        }
        put_line(&mut self.0, name, value)
    }

    /// The rendered lines.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Lines the connection writes after the status line as they are: [`HeaderLines`], a
/// [`HeaderBlock`], or both, the lines rendered once first (`(&lines, &block)`), so that a
/// response adds its own lines without copying the others.
pub trait FixedLines: sealed::Sealed {
    /// The rendered lines (`Name: value\r\n` each), in up to two pieces.
    #[doc(hidden)]
    fn pieces(&self) -> [&[u8]; 2];
}

impl FixedLines for HeaderLines {
    fn pieces(&self) -> [&[u8]; 2] {
        [&self.0, b""]
    }
}

impl FixedLines for HeaderBlock {
    fn pieces(&self) -> [&[u8]; 2] {
        [&self.0, b""]
    }
}

impl FixedLines for (&HeaderLines, &HeaderBlock) {
    fn pieces(&self) -> [&[u8]; 2] {
        [&self.0.0, &self.1.0]
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::HeaderLines {}
    impl Sealed for super::HeaderBlock {}
    impl Sealed for (&super::HeaderLines, &super::HeaderBlock) {}
}

fn put_line(buf: &mut BytesMut, name: &HeaderName, value: &[u8]) -> Result<(), HttpOutputError> {
    if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION || name == DATE {
        return Err(HttpOutputError::new(format!(
            "{name} cannot be a fixed header line"
        )));
    }
    put_canonical_name(buf, name);
    buf.put_slice(value);
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `HeaderValue::from_bytes`'s rule (visible ASCII, obs-text, space and tab), as one pass
/// without early exit so that it vectorizes.
fn valid_value(value: &[u8]) -> bool {
    !value.iter().fold(false, |bad, &b| {
        bad | ((b < 0x20 && b != b'\t') | (b == 0x7f))
    })
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

    #[test]
    fn block_validates_values_and_keeps_lines() {
        let server = HeaderName::from_static("server");
        let lines = HeaderLines::new([(&server, &HeaderValue::from_static("x/1"))]).unwrap();
        let mut block = HeaderBlock::new();
        block.push_lines(&lines);
        block.push(&http::header::ETAG, b"\"abc\"").unwrap();
        assert_eq!(block.as_bytes(), b"Server: x/1\r\nEtag: \"abc\"\r\n");
        for bad in [&b"a\r\nX: y"[..], b"a\nb", b"a\0", b"a\x7f"] {
            assert!(block.push(&http::header::ETAG, bad).is_err(), "{bad:?}");
        }
        assert!(block.push(&DATE, b"today").is_err());
        block
            .push(&http::header::ETAG, b"tab\tand obs-text \xff")
            .unwrap();
        block.clear();
        assert_eq!(block.as_bytes(), b"");
        assert_eq!(lines.pieces(), [&b"Server: x/1\r\n"[..], b""]);
        block.push(&http::header::ETAG, b"\"abc\"").unwrap();
        assert_eq!(
            (&lines, &block).pieces(),
            [&b"Server: x/1\r\n"[..], b"Etag: \"abc\"\r\n"]
        );
    }
}
