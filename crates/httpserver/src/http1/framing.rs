//! How a message body is delimited, decided strictly from its headers (RFC 9112 §6), and the
//! strict integer parsers that framing needs.

use http::header::{CONTENT_LENGTH, HeaderMap, TRANSFER_ENCODING};

use crate::httputil::HttpInputError;

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A non-negative decimal integer: digits only, no sign, no spaces, no underscores
/// (`http1connection.parse_int`; Python's `int()` accepts more, which smuggling attacks
/// exploited, 6.3.3). `None` on overflow too.
pub fn parse_int(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// A non-negative hexadecimal integer: hex digits only, no `0x`, no sign, no extensions
/// (`http1connection.parse_hex_int`). `None` on overflow too.
pub fn parse_hex_int(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    s.iter().try_fold(0u64, |n, d| {
        let v = (*d as char).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(v))
    })
}

/// `true` if the message is chunked; an error for any other transfer coding, for a
/// repeated `Transfer-Encoding`, and for `Transfer-Encoding` together with `Content-Length`
/// (`http1connection.is_transfer_encoding_chunked`, as strict as Tornado: only exactly
/// `chunked`, in any case, is accepted).
pub fn is_transfer_encoding_chunked(headers: &HeaderMap) -> Result<bool, HttpInputError> {
    let mut values = headers.get_all(TRANSFER_ENCODING).iter();
    let Some(first) = values.next() else {
        return Ok(false);
    };
    if headers.contains_key(CONTENT_LENGTH) {
        return Err(HttpInputError::new(
            "Message with both Transfer-Encoding and Content-Length",
        ));
    }
    if values.next().is_some() {
        let all: Vec<_> = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        return Err(HttpInputError::new(format!(
            "Unsupported Transfer-Encoding {}",
            all.join(",")
        )));
    }
    if first.as_bytes().eq_ignore_ascii_case(b"chunked") {
        return Ok(true);
    }
    Err(HttpInputError::new(format!(
        "Unsupported Transfer-Encoding {}",
        String::from_utf8_lossy(first.as_bytes())
    )))
}

/// The `Content-Length`, if any. Repeated values (in one header as a comma list, or in
/// several headers) are accepted only when all are equal, separated by commas and optional
/// spaces or tabs (`_read_body`).
pub fn content_length(headers: &HeaderMap) -> Result<Option<u64>, HttpInputError> {
    let mut result: Option<&[u8]> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for piece in value.as_bytes().split(|b| *b == b',') {
            let piece = trim_ows_start(piece);
            match result {
                None => result = Some(piece),
                Some(first) if first == piece => {}
                Some(_) => {
                    return Err(HttpInputError::new(format!(
                        "Multiple unequal Content-Lengths: {:?}",
                        String::from_utf8_lossy(value.as_bytes())
                    )));
                }
            }
        }
    }
    match result {
        None => Ok(None),
        Some(v) => parse_int(v).map(Some).ok_or_else(|| {
            HttpInputError::new(format!(
                "Only integer Content-Length is allowed: {}",
                String::from_utf8_lossy(v)
            ))
        }),
    }
}

/// Only HTTP's whitespace (space, tab) may follow a comma: not NBSP or other Unicode spaces
/// (6.4.1).
fn trim_ows_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    &s[n..]
}

/// The framing of a request body; `Content-Length` past `max_body_size` is an error.
pub(crate) fn request_framing(
    headers: &HeaderMap,
    max_body_size: u64,
) -> Result<Framing, HttpInputError> {
    let length = content_length(headers)?;
    if let Some(n) = length
        && n > max_body_size
    {
        return Err(HttpInputError::new("Content-Length too long"));
    }
    if is_transfer_encoding_chunked(headers)? {
        return Ok(Framing::Chunked);
    }
    Ok(match length {
        Some(0) | None => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"1234"), Some(1234));
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"1_0",
            b" 1",
            b"1 ",
            b"0x10",
            b"99999999999999999999999",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
        assert_eq!(parse_hex_int(b"1a"), Some(26));
        assert_eq!(parse_hex_int(b"FF"), Some(255));
        for bad in [&b""[..], b"0x2", b"+2", b"1_a", b"2;ext", b"2 ", b"g"] {
            assert_eq!(parse_hex_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn transfer_encoding() {
        assert!(!is_transfer_encoding_chunked(&headers(&[])).unwrap());
        assert!(
            is_transfer_encoding_chunked(&headers(&[("transfer-encoding", b"Chunked")])).unwrap()
        );
        for bad in [
            headers(&[("transfer-encoding", b"gzip, chunked")]),
            headers(&[
                ("transfer-encoding", b"chunked"),
                ("transfer-encoding", b"chunked"),
            ]),
            headers(&[("transfer-encoding", b"chunked"), ("content-length", b"2")]),
            headers(&[("transfer-encoding", b"\xa0chunked")]),
            headers(&[("transfer-encoding", b"identity")]),
        ] {
            assert!(is_transfer_encoding_chunked(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_lengths() {
        assert_eq!(
            content_length(&headers(&[("content-length", b"5")])).unwrap(),
            Some(5)
        );
        assert_eq!(
            content_length(&headers(&[("content-length", b"5, 5")])).unwrap(),
            Some(5)
        );
        assert_eq!(
            content_length(&headers(&[
                ("content-length", b"5"),
                ("content-length", b"5")
            ]))
            .unwrap(),
            Some(5)
        );
        for bad in [
            headers(&[("content-length", b"5,6")]),
            headers(&[("content-length", b"5"), ("content-length", b"6")]),
            headers(&[("content-length", b"5,\xa05")]),
            headers(&[("content-length", b"+1")]),
            headers(&[("content-length", b"1_0")]),
            headers(&[("content-length", b"foo")]),
            headers(&[("content-length", b"2\xa0")]),
        ] {
            assert!(content_length(&bad).is_err(), "{bad:?}");
        }
        assert!(request_framing(&headers(&[("content-length", b"11")]), 10).is_err());
        assert_eq!(request_framing(&headers(&[]), 10).unwrap(), Framing::Empty);
    }
}
