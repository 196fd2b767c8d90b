//! Reading a message head: where it ends, and parsing it with httparse into `http` types
//! without copying header values.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::httputil::HttpInputError;
use crate::request_headers::RequestHeaders;

/// Finds the end of a head (the first empty line) in a buffer that grows between calls, each
/// byte examined about once: a client sending its head one byte at a time costs linear time,
/// not quadratic.
#[derive(Debug, Default)]
pub(crate) struct HeadScanner {
    /// Where the next search starts.
    from: usize,
}

impl HeadScanner {
    /// The length of the head (through its final line end) if `buf` holds all of it.
    ///
    /// A head ends at the first line end followed by an empty line: `\n\n`, `\n\r\n`
    /// (Tornado's `\r?\n\r?\n`, so bare LF line ends are read as Tornado reads them).
    pub(crate) fn scan(&mut self, buf: &[u8]) -> Option<usize> {
        let mut i = self.from;
        while let Some(off) = memchr::memchr(b'\n', &buf[i.min(buf.len())..]) {
            let lf = i + off;
            match (buf.get(lf + 1), buf.get(lf + 2)) {
                (Some(b'\n'), _) => return Some(lf + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
                // Not enough bytes yet to tell: look here again next time.
                (None, _) | (Some(b'\r'), None) => {
                    self.from = lf;
                    return None;
                }
                _ => i = lf + 1,
            }
        }
        self.from = buf.len();
        None
    }
}

/// What a single `Connection` header says (several of them say nothing Tornado recognizes:
/// it compares their comma-joined values with `close` and `keep-alive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ConnectionToken {
    /// No `Connection` header.
    #[default]
    Absent,
    /// `close`, in any case.
    Close,
    /// `keep-alive`, in any case.
    KeepAlive,
    /// Anything else, or more than one header.
    Other,
}

/// What the connection needs to know of a head's headers, noted while the header map is
/// built, so that serving a request needs no lookups in the map.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadFacts {
    /// How many `Host` headers (saturating) and where the first one's value is in the head.
    pub(crate) hosts: u8,
    pub(crate) host: Range<usize>,
    pub(crate) connection: ConnectionToken,
    /// A `Content-Length` or `Transfer-Encoding` is present: the body's framing must be
    /// worked out from the map.
    pub(crate) framed: bool,
    /// A single `Expect: 100-continue` (in any case).
    pub(crate) expect_continue: bool,
}

impl HeadFacts {
    /// Notes the header `name` (as sent, in any case) with `value`, found at `range`.
    pub(crate) fn note(&mut self, name: &[u8], value: &[u8], range: Range<usize>) {
        // Names are compared by length first: most headers are none of these.
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                if self.hosts == 0 {
                    self.host = range;
                }
                self.hosts = self.hosts.saturating_add(1);
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                self.connection = match self.connection {
                    ConnectionToken::Absent if value.eq_ignore_ascii_case(b"close") => {
                        ConnectionToken::Close
                    }
                    ConnectionToken::Absent if value.eq_ignore_ascii_case(b"keep-alive") => {
                        ConnectionToken::KeepAlive
                    }
                    _ => ConnectionToken::Other,
                };
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => self.framed = true,
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => self.framed = true,
            6 if name.eq_ignore_ascii_case(b"expect") => {
                // A second `Expect` cancels the first (their joined value is not
                // `100-continue`).
                self.expect_continue =
                    !self.expect_continue && value.eq_ignore_ascii_case(b"100-continue");
            }
            _ => {}
        }
    }
}

/// A parsed request head. Header values (and the target) share the head's buffer.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: Method,
    pub(crate) target: Bytes,
    pub(crate) version: Version,
    /// The headers, which keep the whole head (what [`HeadFacts`]' ranges refer to).
    pub(crate) headers: RequestHeaders,
    pub(crate) facts: HeadFacts,
}

/// A parsed response head.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) version: Version,
    pub(crate) code: StatusCode,
    pub(crate) reason: Bytes,
    pub(crate) headers: HeaderMap,
}

/// Headers parsed on the stack; a head with more is parsed again with room for them all.
const STACK_HEADERS: usize = 48;

pub(crate) fn range_of(base: &[u8], part: &[u8]) -> Range<usize> {
    // Both come from the same buffer: httparse returns sub-slices of what it was given.
    let start = part.as_ptr() as usize - base.as_ptr() as usize;
    start..start + part.len()
}

pub(crate) fn header_error(e: httparse::Error) -> HttpInputError {
    HttpInputError::new(match e {
        httparse::Error::Token | httparse::Error::Version => "Malformed HTTP request line",
        httparse::Error::HeaderName => "invalid header name (or no colon in header line)",
        httparse::Error::HeaderValue => "invalid character in header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "malformed status line",
        httparse::Error::TooManyHeaders => "too many headers",
    })
}

/// A blank line before the request line is tolerated (RFC 9112 §2.2), but a head that is
/// only blank lines is not: Tornado answers `\r\n\r\n` with a 400.
fn is_empty_head(head: &[u8]) -> bool {
    head.iter().all(|b| *b == b'\r' || *b == b'\n')
}

/// Builds the header map from (name, where the value is in `head`) pairs, noting the
/// [`HeadFacts`] on the way.
pub(crate) fn build_headers<'n>(
    head: &Bytes,
    parsed: impl ExactSizeIterator<Item = (&'n [u8], Range<usize>)>,
) -> Result<(HeaderMap, HeadFacts), HttpInputError> {
    let mut headers = crate::header_pool::header_map_for(parsed.len());
    let mut facts = HeadFacts::default();
    for (name, range) in parsed {
        facts.note(name, &head[range.clone()], range.clone());
        let name =
            HeaderName::from_bytes(name).map_err(|_| HttpInputError::new("invalid header name"))?;
        let value = HeaderValue::from_maybe_shared(head.slice(range))
            .map_err(|_| HttpInputError::new("invalid character in header value"))?;
        headers
            .try_append(name, value)
            .map_err(|_| HttpInputError::new("too many headers"))?;
    }
    Ok((headers, facts))
}

fn httparse_headers<'h>(
    head: &'h Bytes,
    parsed: &'h [httparse::Header<'h>],
) -> impl ExactSizeIterator<Item = (&'h [u8], Range<usize>)> {
    parsed
        .iter()
        .map(|h| (h.name.as_bytes(), range_of(head, h.value)))
}

/// Number of header lines in a head, for the rare head with more than `STACK_HEADERS`.
fn count_lines(head: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', head).count()
}

/// Parses a request head (`head` ends with its empty line).
pub(crate) fn parse_request_head(head: Bytes) -> Result<RequestHead, HttpInputError> {
    if is_empty_head(&head) {
        return Err(HttpInputError::new("Malformed HTTP request line"));
    }
    // Uninitialized: httparse writes the slots it fills, and no time goes into the others.
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(&head, &mut stack) {
        Ok(httparse::Status::Complete(_)) => request_from(&head, &req),
        Ok(httparse::Status::Partial) => Err(HttpInputError::new("Malformed HTTP request line")),
        Err(httparse::Error::TooManyHeaders) => {
            let mut heap = vec![httparse::EMPTY_HEADER; count_lines(&head)];
            let mut req = httparse::Request::new(&mut heap);
            match req.parse(&head) {
                Ok(httparse::Status::Complete(_)) => request_from(&head, &req),
                Ok(httparse::Status::Partial) => {
                    Err(HttpInputError::new("Malformed HTTP request line"))
                }
                Err(e) => Err(header_error(e)),
            }
        }
        Err(e) => Err(header_error(e)),
    }
}

fn request_from(
    head: &Bytes,
    req: &httparse::Request<'_, '_>,
) -> Result<RequestHead, HttpInputError> {
    let (Some(method), Some(path), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HttpInputError::new("Malformed HTTP request line"));
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| HttpInputError::new("Malformed HTTP request line"))?;
    let version = if version == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    let (headers, facts) = build_headers(head, httparse_headers(head, req.headers))?;
    let headers = RequestHeaders::from_map_of_head(headers, head.clone());
    Ok(RequestHead {
        method,
        target: head.slice(range_of(head, path.as_bytes())),
        version,
        headers,
        facts,
    })
}

/// Parses a response head (for the HTTP client).
pub(crate) fn parse_response_head(head: Bytes) -> Result<ResponseHead, HttpInputError> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut resp = httparse::Response::new(&mut stack);
    match resp.parse(&head) {
        Ok(httparse::Status::Complete(_)) => response_from(&head, &resp),
        Ok(httparse::Status::Partial) => Err(HttpInputError::new("malformed status line")),
        Err(httparse::Error::TooManyHeaders) => {
            let mut heap = vec![httparse::EMPTY_HEADER; count_lines(&head)];
            let mut resp = httparse::Response::new(&mut heap);
            match resp.parse(&head) {
                Ok(httparse::Status::Complete(_)) => response_from(&head, &resp),
                Ok(httparse::Status::Partial) => Err(HttpInputError::new("malformed status line")),
                Err(e) => Err(header_error(e)),
            }
        }
        Err(e) => Err(header_error(e)),
    }
}

fn response_from(
    head: &Bytes,
    resp: &httparse::Response<'_, '_>,
) -> Result<ResponseHead, HttpInputError> {
    let (Some(version), Some(code)) = (resp.version, resp.code) else {
        return Err(HttpInputError::new("malformed status line"));
    };
    let code =
        StatusCode::from_u16(code).map_err(|_| HttpInputError::new("invalid status code"))?;
    let reason = resp.reason.unwrap_or("");
    Ok(ResponseHead {
        version: if version == 0 {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        },
        code,
        reason: head.slice(range_of(head, reason.as_bytes())),
        headers: build_headers(head, httparse_headers(head, resp.headers))?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(chunks: &[&[u8]]) -> Option<usize> {
        let mut s = HeadScanner::default();
        let mut buf = Vec::new();
        for c in chunks {
            buf.extend_from_slice(c);
            if let Some(n) = s.scan(&buf) {
                return Some(n);
            }
        }
        None
    }

    #[test]
    fn scanner_finds_the_end_however_it_is_split() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
        for split in 0..head.len() {
            assert_eq!(
                scan_all(&[&head[..split], &head[split..]]),
                Some(head.len() - 4)
            );
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = head.chunks(1).collect();
        assert_eq!(scan_all(&bytes), Some(head.len() - 4));
        assert_eq!(scan_all(&[b"GET / HTTP/1.0\n\nx"]), Some(16));
        assert_eq!(scan_all(&[b"GET / HTTP/1.0\r\nA: b\n\r\n"]), Some(23));
        assert_eq!(scan_all(&[b"GET / HTTP/1.1\r\nHost: a\r\n"]), None);
    }

    #[test]
    fn requests() {
        let head =
            Bytes::from_static(b"POST /a?b=c HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:  2 \r\n\r\n");
        let r = parse_request_head(head).unwrap();
        assert_eq!(r.method, Method::POST);
        assert_eq!(&r.target[..], b"/a?b=c");
        assert_eq!(r.version, Version::HTTP_11);
        let values: Vec<_> = r.headers.map().get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
    }

    #[test]
    fn many_headers() {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            raw.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        let r = parse_request_head(Bytes::from(raw)).unwrap();
        assert_eq!(r.headers.map().len(), 200);
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"\r\n\r\n"[..],
            b"asdf\r\n\r\n",
            b"GET / HTTP/1.0\r\nasdf\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
            b"FOO,BAR / HTTP/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
        ] {
            assert!(
                parse_request_head(Bytes::copy_from_slice(bad)).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // One blank line before the request line is fine.
        assert!(parse_request_head(Bytes::from_static(b"\r\nGET / HTTP/1.0\r\n\r\n")).is_ok());
    }

    #[test]
    fn responses() {
        let r = parse_response_head(Bytes::from_static(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(r.code, StatusCode::NOT_FOUND);
        assert_eq!(&r.reason[..], b"Not Found");
        assert_eq!(r.headers["content-length"], "0");
    }
}
