//! Request and status lines: [`RequestStartLine`], [`ResponseStartLine`] and their parsers.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode, Version};

use super::error::HttpInputError;

/// A request target exactly as sent (`/path?query`, or `*`, or an absolute URL, which
/// Tornado does not interpret either), known to be UTF-8. Cheap to clone: it shares the
/// buffer the request was read into.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestTarget(Bytes);

impl RequestTarget {
    /// A target from a string.
    pub fn new(target: impl Into<String>) -> Self {
        RequestTarget(Bytes::from(target.into()))
    }

    /// A target from bytes, if they are UTF-8.
    pub fn from_bytes(target: Bytes) -> Option<Self> {
        std::str::from_utf8(&target).ok()?;
        Some(RequestTarget(target))
    }

    /// A target the caller knows to be UTF-8 (httparse hands targets out as `str`). Were it
    /// not, [`as_str`](Self::as_str) would return `""`: never unsound, only wrong.
    pub(crate) fn from_utf8_unchecked_bytes(target: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&target).is_ok());
        RequestTarget(target)
    }

    /// The whole target.
    pub fn as_str(&self) -> &str {
        // Checked to be UTF-8 when made.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The part before the first `?` (Tornado's `path`).
    pub fn path(&self) -> &str {
        // Targets are short: a plain loop beats a vectorized search's setup.
        let end = self
            .0
            .iter()
            .position(|b| *b == b'?')
            .unwrap_or(self.0.len());
        std::str::from_utf8(&self.0[..end]).unwrap_or_default()
    }

    /// The part after the first `?`, or `""` (Tornado's `query`).
    pub fn query(&self) -> &str {
        match self.0.iter().position(|b| *b == b'?') {
            Some(q) => std::str::from_utf8(&self.0[q + 1..]).unwrap_or_default(),
            None => "",
        }
    }
}

impl fmt::Debug for RequestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RequestTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first line of a request (`tornado.httputil.RequestStartLine`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestStartLine {
    /// The method, e.g. `GET`.
    pub method: Method,
    /// The request target as sent (Tornado's `path`, which is the whole target).
    pub path: RequestTarget,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
}

/// The first line of a response (`tornado.httputil.ResponseStartLine`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseStartLine {
    /// The version (responses this server writes always say `HTTP/1.1`).
    pub version: Version,
    /// The status code.
    pub code: StatusCode,
    /// The reason phrase (for a status this crate knows, the canonical one costs nothing).
    pub reason: Cow<'static, str>,
}

impl ResponseStartLine {
    /// `HTTP/1.1 <code> <canonical reason>` (`"Unknown"` for a code without one).
    pub fn new(code: StatusCode) -> Self {
        ResponseStartLine {
            version: Version::HTTP_11,
            code,
            reason: Cow::Borrowed(code.canonical_reason().unwrap_or("Unknown")),
        }
    }

    /// With a reason of the caller's; it must not contain CR or LF (writing it fails then).
    pub fn with_reason(code: StatusCode, reason: impl Into<Cow<'static, str>>) -> Self {
        ResponseStartLine {
            version: Version::HTTP_11,
            code,
            reason: reason.into(),
        }
    }
}

/// `true` for an RFC 9110 token character (`tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

fn parse_version(v: &str) -> Option<Version> {
    // `HTTP/d.d`, and only 1.x is served (Tornado accepts HTTP/1.2 and answers as 1.1;
    // it is read as 1.1 here too).
    let b = v.as_bytes();
    if b.len() != 8 || !v.starts_with("HTTP/1.") || !b[7].is_ascii_digit() {
        return None;
    }
    Some(if b[7] == b'0' {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    })
}

/// Parses `METHOD SP target SP HTTP/1.x` (`tornado.httputil.parse_request_start_line`): the
/// method must be a token, the target visible characters, the version `HTTP/1.` and a digit.
pub fn parse_request_start_line(line: &str) -> Result<RequestStartLine, HttpInputError> {
    let malformed = || HttpInputError::new("Malformed HTTP request line");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(malformed());
    }
    if target.is_empty() || !target.bytes().all(|b| b > 0x20 && b != 0x7f) {
        return Err(malformed());
    }
    let version = parse_version(version).ok_or_else(|| {
        HttpInputError::new(format!(
            "Malformed HTTP version in HTTP Request-Line: {version:?}"
        ))
    })?;
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| malformed())?;
    Ok(RequestStartLine {
        method,
        path: RequestTarget::new(target),
        version,
    })
}

/// Parses `HTTP/1.x SP 3DIGIT SP reason` (`tornado.httputil.parse_response_start_line`);
/// the reason may be empty.
pub fn parse_response_start_line(line: &str) -> Result<ResponseStartLine, HttpInputError> {
    let malformed = || HttpInputError::new("Error parsing response start line");
    let mut parts = line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let reason = parts.next().unwrap_or("");
    let version = parse_version(version).ok_or_else(malformed)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let code = StatusCode::from_bytes(code.as_bytes()).map_err(|_| malformed())?;
    if reason
        .bytes()
        .any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(malformed());
    }
    Ok(ResponseStartLine {
        version,
        code,
        reason: Cow::Owned(reason.to_owned()),
    })
}

impl fmt::Display for RequestStartLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {:?}",
            self.method,
            self.path.as_str(),
            self.version
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        let l = parse_request_start_line("GET /foo?bar=1 HTTP/1.1").unwrap();
        assert_eq!(l.method, Method::GET);
        assert_eq!(l.path.as_str(), "/foo?bar=1");
        assert_eq!(l.path.path(), "/foo");
        assert_eq!(l.path.query(), "bar=1");
        assert_eq!(l.version, Version::HTTP_11);
        assert_eq!(
            parse_request_start_line("GET / HTTP/1.2").unwrap().version,
            Version::HTTP_11
        );
        for bad in [
            "asdf",
            "GET /",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 ",
            "FOO,BAR / HTTP/1.1",
            "GET / HTTP/2.0",
            "GET / http/1.1",
            "GET /a\x01 HTTP/1.1",
            "",
        ] {
            assert!(parse_request_start_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn response_lines() {
        let l = parse_response_start_line("HTTP/1.1 200 OK").unwrap();
        assert_eq!(l.code, StatusCode::OK);
        assert_eq!(l.reason, "OK");
        assert_eq!(
            parse_response_start_line("HTTP/1.0 404").unwrap().reason,
            ""
        );
        assert!(parse_response_start_line("HTTP/1.1 20 OK").is_err());
        assert!(parse_response_start_line("HTTP/1.1 200 O\rK").is_err());
    }
}
