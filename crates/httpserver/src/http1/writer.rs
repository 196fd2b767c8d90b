//! Serializing a message head, and chunked framing of a body.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};
use http::StatusCode;
use http::header::{CONNECTION, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};

use crate::httputil::HttpOutputError;

/// Which framing headers the connection sets itself, replacing the application's (as
/// Tornado's `headers["Connection"] = ...` does).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FramingHeaders {
    /// `Connection: close` (an HTTP/1.1 connection that will close after this response).
    pub(crate) close: bool,
    /// `Connection: Keep-Alive` (an HTTP/1.0 client that asked for keep-alive).
    pub(crate) keep_alive: bool,
    /// `Transfer-Encoding: chunked`.
    pub(crate) chunked: bool,
    /// `Date`, which the application did not set (RFC 9110 §6.6.1: a server with a clock
    /// sends one).
    pub(crate) date: bool,
    /// `Content-Length` of a body the connection knows whole (the application set none).
    pub(crate) length: Option<u64>,
}

/// Writes `name` in canonical case (`content-type` → `Content-Type`) and the `": "` after
/// it: the `http` crate keeps names lower-case, Tornado writes them as `HTTPHeaders`
/// normalizes them.
pub(crate) fn put_canonical_name(buf: &mut BytesMut, name: &HeaderName) {
    if let Some(canonical) = common_canonical(name.as_str()) {
        buf.put_slice(canonical.as_bytes());
        return;
    }
    let start = buf.len();
    buf.put_slice(name.as_str().as_bytes());
    let mut upper = true;
    for b in &mut buf[start..] {
        if upper {
            b.make_ascii_uppercase();
        }
        upper = *b == b'-';
    }
    buf.put_slice(b": ");
}

/// The canonical case of the headers most responses carry, with the `": "` that follows,
/// spelled out so that writing them is one copy (a test checks each against the general
/// rule).
fn common_canonical(lower: &str) -> Option<&'static str> {
    Some(match lower {
        "date" => "Date: ",
        "etag" => "Etag: ",
        "vary" => "Vary: ",
        "server" => "Server: ",
        "expires" => "Expires: ",
        "location" => "Location: ",
        "set-cookie" => "Set-Cookie: ",
        "connection" => "Connection: ",
        "content-type" => "Content-Type: ",
        "cache-control" => "Cache-Control: ",
        "last-modified" => "Last-Modified: ",
        "content-length" => "Content-Length: ",
        "content-encoding" => "Content-Encoding: ",
        "transfer-encoding" => "Transfer-Encoding: ",
        _ => return None,
    })
}

/// The whole status line of the commonest statuses with their canonical reason.
fn common_status_line(code: StatusCode, reason: &str) -> Option<&'static [u8]> {
    let line: &'static [u8] = match code.as_u16() {
        200 => b"HTTP/1.1 200 OK\r\n",
        201 => b"HTTP/1.1 201 Created\r\n",
        204 => b"HTTP/1.1 204 No Content\r\n",
        301 => b"HTTP/1.1 301 Moved Permanently\r\n",
        302 => b"HTTP/1.1 302 Found\r\n",
        304 => b"HTTP/1.1 304 Not Modified\r\n",
        400 => b"HTTP/1.1 400 Bad Request\r\n",
        403 => b"HTTP/1.1 403 Forbidden\r\n",
        404 => b"HTTP/1.1 404 Not Found\r\n",
        500 => b"HTTP/1.1 500 Internal Server Error\r\n",
        _ => return None,
    };
    // "HTTP/1.1 NNN " is 13 bytes; the reason follows, then CRLF.
    (&line[13..line.len() - 2] == reason.as_bytes()).then_some(line)
}

/// Writes a status line and the headers, ending with the empty line.
///
/// `reason` must not contain CR or LF (the application may have supplied it).
pub(crate) fn put_response_head<'h>(
    buf: &mut BytesMut,
    code: StatusCode,
    reason: &str,
    fixed: [&[u8]; 2],
    headers: impl IntoIterator<Item = (&'h HeaderName, &'h HeaderValue)>,
    framing: FramingHeaders,
) -> Result<(), HttpOutputError> {
    if reason.bytes().any(|b| b == b'\r' || b == b'\n') {
        return Err(HttpOutputError::new(format!(
            "Illegal characters (CR or LF) in reason phrase: {reason:?}"
        )));
    }
    // Responses always carry the HTTP/1.1 status line, even to 1.0 clients (RFC 9110 §6.2,
    // and Tornado's behaviour).
    if let Some(line) = common_status_line(code, reason) {
        buf.put_slice(line);
    } else {
        buf.put_slice(b"HTTP/1.1 ");
        buf.put_slice(code.as_str().as_bytes());
        buf.put_u8(b' ');
        buf.put_slice(reason.as_bytes());
        buf.put_slice(b"\r\n");
    }
    for lines in fixed {
        buf.put_slice(lines);
    }
    let replace_connection = framing.close || framing.keep_alive;
    for (name, value) in headers {
        if (replace_connection && name == CONNECTION)
            || (framing.chunked && name == TRANSFER_ENCODING)
        {
            continue;
        }
        put_canonical_name(buf, name);
        buf.put_slice(value.as_bytes());
        buf.put_slice(b"\r\n");
    }
    if framing.close {
        buf.put_slice(b"Connection: close\r\n");
    } else if framing.keep_alive {
        buf.put_slice(b"Connection: Keep-Alive\r\n");
    }
    if framing.chunked {
        buf.put_slice(b"Transfer-Encoding: chunked\r\n");
    }
    if let Some(n) = framing.length {
        buf.put_slice(b"Content-Length: ");
        put_decimal(buf, n);
        buf.put_slice(b"\r\n");
    }
    if framing.date {
        crate::header_values::put_date_line(buf);
    }
    buf.put_slice(b"\r\n");
    Ok(())
}

/// Writes a request line and headers (the HTTP client's side).
pub(crate) fn put_request_head(
    buf: &mut BytesMut,
    method: &http::Method,
    target: &str,
    headers: &HeaderMap,
    chunked: bool,
) -> Result<(), HttpOutputError> {
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HttpOutputError::new(format!(
            "invalid request target {target:?}"
        )));
    }
    buf.put_slice(method.as_str().as_bytes());
    buf.put_u8(b' ');
    buf.put_slice(target.as_bytes());
    buf.put_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if chunked && name == TRANSFER_ENCODING {
            continue;
        }
        put_canonical_name(buf, name);
        buf.put_slice(value.as_bytes());
        buf.put_slice(b"\r\n");
    }
    if chunked {
        buf.put_slice(b"Transfer-Encoding: chunked\r\n");
    }
    buf.put_slice(b"\r\n");
    Ok(())
}

/// Writes one chunk of a chunked body: `<hex size>\r\n<data>\r\n`. Empty chunks are not
/// written, since a zero size ends the body.
pub(crate) fn put_chunk(buf: &mut BytesMut, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let _ = write!(FmtBuf(buf), "{:x}\r\n", data.len());
    buf.put_slice(data);
    buf.put_slice(b"\r\n");
}

/// Writes `n` in decimal.
fn put_decimal(buf: &mut BytesMut, mut n: u64) {
    // Most bodies are shorter than 100 bytes: their length is one table lookup.
    if n < 100 {
        let pair = &DIGIT_PAIRS[2 * n as usize..2 * n as usize + 2];
        buf.put_slice(if n < 10 { &pair[1..] } else { pair });
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.put_slice(&digits[at..]);
}

/// `00` to `99`.
static DIGIT_PAIRS: [u8; 200] = {
    let mut out = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        out[2 * i] = b'0' + (i / 10) as u8;
        out[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    out
};

/// The last chunk of a chunked body, with no trailers.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// `fmt::Write` into a `BytesMut`.
struct FmtBuf<'a>(&'a mut BytesMut);

impl std::fmt::Write for FmtBuf<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn head_in_canonical_case() {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        h.insert("x-xss-protection", HeaderValue::from_static("0"));
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        let mut buf = BytesMut::new();
        put_response_head(
            &mut buf,
            StatusCode::OK,
            "OK",
            [b"", b""],
            &h,
            FramingHeaders {
                close: true,
                keep_alive: false,
                chunked: true,
                date: false,
                length: None,
            },
        )
        .unwrap();
        assert_eq!(
            &buf[..],
            &b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Xss-Protection: 0\r\n\
               Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"[..]
        );
        assert!(
            put_response_head(
                &mut buf,
                StatusCode::OK,
                "O\r\nK",
                [b"", b""],
                &h,
                FramingHeaders::default()
            )
            .is_err()
        );
    }

    #[test]
    fn common_names_follow_the_general_rule() {
        for name in [
            "date",
            "etag",
            "vary",
            "server",
            "expires",
            "location",
            "set-cookie",
            "connection",
            "content-type",
            "cache-control",
            "last-modified",
            "content-length",
            "content-encoding",
            "transfer-encoding",
        ] {
            let canonical = common_canonical(name).unwrap();
            let mut general = String::new();
            let mut upper = true;
            for c in name.chars() {
                general.push(if upper { c.to_ascii_uppercase() } else { c });
                upper = c == '-';
            }
            general.push_str(": ");
            assert_eq!(canonical, general);
        }
        // Names sharing a length or a first letter with a common one, and not it.
        for other in [
            "dare",
            "eta",
            "x-type",
            "content-typo",
            "cache-contro1",
            "accept",
        ] {
            assert_eq!(common_canonical(other), None, "{other}");
        }
        let mut buf = BytesMut::new();
        put_canonical_name(&mut buf, &HeaderName::from_static("x-a-b"));
        assert_eq!(&buf[..], b"X-A-B: ");
    }

    #[test]
    fn common_status_lines_match_the_general_form() {
        for code in [200, 201, 204, 301, 302, 304, 400, 403, 404, 500] {
            let code = StatusCode::from_u16(code).unwrap();
            let reason = code.canonical_reason().unwrap();
            let line = common_status_line(code, reason).unwrap();
            assert_eq!(
                line,
                format!("HTTP/1.1 {} {reason}\r\n", code.as_u16()).as_bytes()
            );
            assert!(common_status_line(code, "Custom").is_none());
        }
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 9, 10, 42, 99, 100, 12345, u64::MAX] {
            let mut buf = BytesMut::new();
            put_decimal(&mut buf, n);
            assert_eq!(&buf[..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn chunks() {
        let mut buf = BytesMut::new();
        put_chunk(&mut buf, b"hello world!!!!!");
        put_chunk(&mut buf, b"");
        buf.put_slice(LAST_CHUNK);
        assert_eq!(&buf[..], b"10\r\nhello world!!!!!\r\n0\r\n\r\n");
    }
}
