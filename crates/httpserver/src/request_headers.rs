//! [`RequestHeaders`]: a request's headers, read from its head when asked for.
//!
//! Most handlers look at two or three headers, if any; building an `http::HeaderMap` for
//! every request (a name and a value object per header, a hash insert each, and the map
//! emptied afterwards) cost a fifth of what the HTTP layer spends on a small request. The
//! server hands its delegate the head instead: single headers are found by scanning its
//! lines, and the map is built the first time it is asked for, then kept.

use std::cell::OnceCell;
use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::header_pool::header_map_for;

/// The headers of a request (`HTTPServerRequest.headers`): either a map, or the head they
/// were parsed from, made into a map on first use of [`map`](RequestHeaders::map).
///
/// A head given here has been parsed and checked already (by httparse, with Tornado's
/// rules): each line after the request line is `name:` then the value, with leading and
/// trailing spaces and tabs not part of it, exactly as the parse read it.
#[derive(Clone, Default)]
pub struct RequestHeaders {
    /// The head (request line through the empty line); empty when made from a map alone.
    raw: Bytes,
    /// Where the first header line starts in `raw`.
    first_line: usize,
    /// How many header lines `raw` has (the map's capacity when it is built).
    count: usize,
    map: OnceCell<HeaderMap>,
}

impl RequestHeaders {
    /// Headers already in a map.
    pub fn from_map(map: HeaderMap) -> Self {
        RequestHeaders {
            raw: Bytes::new(),
            first_line: 0,
            count: 0,
            map: OnceCell::from(map),
        }
    }

    /// Headers parsed into `map` from `head`, which is kept (for [`head`](Self::head)).
    pub(crate) fn from_map_of_head(map: HeaderMap, head: Bytes) -> Self {
        RequestHeaders {
            raw: head,
            first_line: 0,
            count: 0,
            map: OnceCell::from(map),
        }
    }

    /// The head the headers were read from (empty for headers made from a map).
    pub(crate) fn head(&self) -> &[u8] {
        &self.raw
    }

    /// The headers of `head`, whose request line ends before `first_line` and which has
    /// `count` header lines, all checked by the parser.
    pub(crate) fn from_checked_head(head: Bytes, first_line: usize, count: usize) -> Self {
        RequestHeaders {
            raw: head,
            first_line,
            count,
            map: OnceCell::new(),
        }
    }

    /// The headers as a map, built now if it was not yet.
    pub fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| self.build())
    }

    /// The map, to change.
    pub fn map_mut(&mut self) -> &mut HeaderMap {
        self.map();
        match self.map.get_mut() {
            Some(map) => map,
            None => unreachable!("built just above"),
        }
    }

    /// The map, built if it was not yet.
    pub fn into_map(mut self) -> HeaderMap {
        self.map();
        self.map.take().unwrap_or_default()
    }

    /// The map if one was built or given: a map no one asked for is not built to be thrown
    /// away (give it to [`recycle_header_map`](crate::recycle_header_map)).
    pub fn take_map(&mut self) -> Option<HeaderMap> {
        self.map.take()
    }

    /// The first value of `name` (`headers.get(name)`), found without building the map.
    pub fn get(&self, name: &HeaderName) -> Option<&[u8]> {
        match self.map.get() {
            Some(map) => map.get(name).map(HeaderValue::as_bytes),
            None => find_line(&mut self.header_lines(), name.as_str().as_bytes()),
        }
    }

    /// Every value of `name`, in order (`headers.get_list(name)`), found without building
    /// the map.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> GetAll<'a> {
        match self.map.get() {
            Some(map) => GetAll(Source::Map(map.get_all(name).iter())),
            None => GetAll(Source::Lines {
                rest: self.header_lines(),
                name: name.as_str().as_bytes(),
            }),
        }
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        match self.map.get() {
            Some(map) => map.is_empty(),
            None => self.count == 0,
        }
    }

    /// The header lines and the empty line after them.
    fn header_lines(&self) -> &[u8] {
        self.raw.get(self.first_line..).unwrap_or_default()
    }

    fn lines(&self) -> Lines<'_> {
        Lines {
            rest: self.header_lines(),
        }
    }

    fn build(&self) -> HeaderMap {
        let mut map = header_map_for(self.count);
        for (name, value) in self.lines() {
            // The parser let through only token names and visible, tab or space values
            // (or obs-text), which are what `http` accepts too; the checks cannot fail.
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name),
                HeaderValue::from_maybe_shared(self.raw.slice_ref(value)),
            ) else {
                debug_assert!(false, "a checked head has valid headers");
                continue;
            };
            let _ = map.try_append(name, value);
        }
        map
    }
}

impl From<HeaderMap> for RequestHeaders {
    fn from(map: HeaderMap) -> Self {
        RequestHeaders::from_map(map)
    }
}

impl fmt::Debug for RequestHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.lines_or_map()).finish()
    }
}

impl RequestHeaders {
    fn lines_or_map(&self) -> Vec<(String, String)> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self.map.get() {
            Some(map) => map
                .iter()
                .map(|(n, v)| (n.to_string(), text(v.as_bytes())))
                .collect(),
            None => self.lines().map(|(n, v)| (text(n), text(v))).collect(),
        }
    }
}

/// The header lines of a checked head, as (name, value) pairs.
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let end = memchr::memchr(b'\n', self.rest)?;
        let line = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // The empty line ends the head.
        let colon = memchr::memchr(b':', line)?;
        let value = trim(&line[colon + 1..]);
        Some((&line[..colon], value))
    }
}

/// The value of the next line of `rest` (header lines of a checked head) named `name` (in
/// lower case, as `HeaderName`s are), moving `rest` past that line. Lines of other names are
/// passed over without looking for their colon: a name is a token, so the line is this
/// header's exactly when it starts with the name and a colon.
fn find_line<'a>(rest: &mut &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    loop {
        let line = *rest;
        let end = line_end(line)?;
        *rest = &line[end + 1..];
        let found =
            line.get(name.len()) == Some(&b':') && line[..name.len()].eq_ignore_ascii_case(name);
        if found {
            let value = &line[name.len() + 1..end];
            return Some(trim(value.strip_suffix(b"\r").unwrap_or(value)));
        }
        if end == 0 || (end == 1 && line[0] == b'\r') {
            // The empty line: the head is over.
            *rest = &[];
            return None;
        }
    }
}

/// Where the line at the start of `bytes` ends (its `\n`). Header lines are short, too
/// short for `memchr` to pay for its setup: they are looked through eight bytes at a time.
fn line_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut words = bytes.chunks_exact(8);
    for (k, chunk) in words.by_ref().enumerate() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        // Bytes equal to `\n` become zero; the lowest zero byte is the first `\n` (the
        // borrow that can mark a byte above a zero one never reaches below it).
        let x = u64::from_le_bytes(word) ^ LFS;
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(k * 8 + (zeros.trailing_zeros() / 8) as usize);
        }
    }
    let rest = words.remainder();
    let offset = bytes.len() - rest.len();
    rest.iter().position(|&b| b == b'\n').map(|i| offset + i)
}

fn trim(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

/// The values [`RequestHeaders::get_all`] finds.
#[derive(Debug)]
pub struct GetAll<'a>(Source<'a>);

#[derive(Debug)]
enum Source<'a> {
    /// From the built map.
    Map(http::header::ValueIter<'a, HeaderValue>),
    /// From the head's lines: the lines not yet looked at.
    Lines { rest: &'a [u8], name: &'a [u8] },
}

impl<'a> Iterator for GetAll<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.0 {
            Source::Map(values) => values.next().map(HeaderValue::as_bytes),
            Source::Lines { rest, name } => find_line(rest, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::head::parse_request_head;
    use crate::http1::in_place::{parse_in_place, request_from_layout};
    use http::header::{COOKIE, HOST};

    /// Heads read lazily give what the eager parse gives: values, order, repeats, case,
    /// surrounding whitespace, bare LF line ends, obs-text, empty values.
    #[test]
    fn lazy_headers_agree_with_the_parse() {
        let long = format!(
            "GET / HTTP/1.1\r\nX-Long: {}\r\nCookie: {} \r\nhost: h\r\n\r\n",
            "x".repeat(100),
            "c=d; ".repeat(40)
        );
        let heads: [&[u8]; 7] = [
            long.as_bytes(),
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nhOsT:\t a b \t\r\nX-A: 1\r\nx-a:2\r\nX-Empty:\r\nX-Sp:   \r\n\r\n",
            b"POST /p HTTP/1.0\nCookie: a=1\nCOOKIE: b=2 \nX-Obs: caf\xe9\n\n",
            b"GET /x HTTP/1.1\r\nHost: h\r\nX-Colon: a:b: c\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: \"q\" , W/\"r\"\r\nB: x\ty\r\n\r\n",
        ];
        let mut spans = Vec::new();
        for raw in heads {
            let (n, layout) = parse_in_place(raw, &mut spans).expect("parsed in place");
            let head = Bytes::copy_from_slice(&raw[..n]);
            let lazy = request_from_layout(head.clone(), layout, &spans)
                .unwrap()
                .headers;
            let eager = parse_request_head(head).unwrap().headers;
            let eager = eager.map();
            for name in [
                "host", "x-a", "x-empty", "x-sp", "cookie", "x-obs", "x-colon", "a", "b",
            ] {
                let name = HeaderName::from_static(name);
                let want: Vec<&[u8]> = eager.get_all(&name).iter().map(|v| v.as_bytes()).collect();
                let got: Vec<&[u8]> = lazy.get_all(&name).collect();
                assert_eq!(got, want, "{name} in {raw:?}");
                assert_eq!(lazy.get(&name), want.first().copied());
            }
            assert_eq!(lazy.is_empty(), eager.is_empty());
            // Built on demand, the map is the same map; lookups then read it.
            assert_eq!(lazy.map(), eager);
            assert_eq!(
                lazy.get_all(&COOKIE).count(),
                eager.get_all(COOKIE).iter().count()
            );
        }
    }

    #[test]
    fn line_ends() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                let want = (at < len).then(|| {
                    bytes[at] = b'\n';
                    at
                });
                // A second line end further on does not count; bytes just above and below
                // `\n` are not line ends.
                if at + 3 < len {
                    bytes[at + 3] = b'\n';
                }
                if at > 0 {
                    bytes[at - 1] = b'\x0b';
                }
                assert_eq!(line_end(&bytes), want, "{bytes:?}");
                let high: Vec<u8> = bytes
                    .iter()
                    .map(|&b| if b == b'a' { 0x8a } else { b })
                    .collect();
                assert_eq!(line_end(&high), want, "{high:?}");
            }
        }
    }

    #[test]
    fn a_map_changed_is_what_lookups_see() {
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut spans = Vec::new();
        let (n, layout) = parse_in_place(raw, &mut spans).unwrap();
        let head = Bytes::copy_from_slice(&raw[..n]);
        let mut headers = request_from_layout(head, layout, &spans).unwrap().headers;
        assert!(headers.take_map().is_none(), "no map until asked for");
        headers
            .map_mut()
            .insert(HOST, HeaderValue::from_static("b"));
        assert_eq!(headers.get(&HOST), Some(&b"b"[..]));
        assert!(headers.take_map().is_some());
        let given = RequestHeaders::from(HeaderMap::new());
        assert!(given.is_empty());
        assert_eq!(given.get(&HOST), None);
    }
}
