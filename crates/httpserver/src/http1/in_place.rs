//! Parsing a request head where it was received, so that the usual request (whose head
//! arrives whole) is parsed once and never scanned for its end separately.
//!
//! httparse runs on the read buffer itself; it records where the parts are, and the head is
//! split off the buffer (as `Bytes`) only afterwards. A head that is not complete on the
//! first look, that is malformed, or that has more headers than fit on the stack goes the
//! general way instead: [`HeadScanner`](super::head::HeadScanner) finds its end and
//! [`parse_request_head`](super::head::parse_request_head) parses it, exactly as Tornado
//! delimits and rejects heads.

use std::mem::MaybeUninit;
use std::ops::Range;

use bytes::Bytes;
use http::{Method, Version};

use super::head::{HeadFacts, RequestHead, range_of};
use crate::httputil::HttpInputError;
use crate::request_headers::RequestHeaders;

/// As many headers as the in-place parse handles; heads with more go the general way.
const IN_PLACE_HEADERS: usize = 32;

/// Where one header's name and value are in the head.
pub(crate) type HeaderSpan = (Range<usize>, Range<usize>);

/// Where the request line's parts are in the head; the headers' spans are kept apart, in a
/// vector the connection reuses.
#[derive(Debug)]
pub(crate) struct RequestLayout {
    method: Range<usize>,
    target: Range<usize>,
    version: Version,
}

/// Parses the head at the start of `buf` if it is all there and well-formed: the head's
/// length and layout, with the header spans in `spans`. `None`: take the general way.
pub(crate) fn parse_in_place(
    buf: &[u8],
    spans: &mut Vec<HeaderSpan>,
) -> Option<(usize, RequestLayout)> {
    // Blank lines before the request line: httparse skips them, Tornado's delimiter search
    // does not (`\r\n\r\n` alone is a malformed head there). The general way decides.
    if matches!(buf.first(), Some(b'\r' | b'\n')) {
        return None;
    }
    let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; IN_PLACE_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let Ok(httparse::Status::Complete(n)) = req.parse_with_uninit_headers(buf, &mut stack) else {
        return None;
    };
    let (method, target, version) = (req.method?, req.path?, req.version?);
    spans.clear();
    spans.extend(
        req.headers
            .iter()
            .map(|h| (range_of(buf, h.name.as_bytes()), range_of(buf, h.value))),
    );
    Some((
        n,
        RequestLayout {
            method: range_of(buf, method.as_bytes()),
            target: range_of(buf, target.as_bytes()),
            version: if version == 0 {
                Version::HTTP_10
            } else {
                Version::HTTP_11
            },
        },
    ))
}

/// Builds the request head from what [`parse_in_place`] found, once `head` (the same bytes)
/// has been split off the buffer.
pub(crate) fn request_from_layout(
    head: Bytes,
    layout: RequestLayout,
    spans: &[HeaderSpan],
) -> Result<RequestHead, HttpInputError> {
    let method = Method::from_bytes(&head[layout.method])
        .map_err(|_| HttpInputError::new("Malformed HTTP request line"))?;
    // What the connection needs is noted here; the header map waits until someone asks
    // for it (httparse has checked every name and value already).
    let mut facts = HeadFacts::default();
    for (name, value) in spans {
        facts.note(&head[name.clone()], &head[value.clone()], value.clone());
    }
    let first_line = spans.first().map_or(head.len(), |(name, _)| name.start);
    Ok(RequestHead {
        method,
        target: head.slice(layout.target),
        version: layout.version,
        headers: RequestHeaders::from_checked_head(head, first_line, spans.len()),
        facts,
    })
}

#[cfg(test)]
mod tests {
    use super::super::head::parse_request_head;
    use super::*;

    /// The in-place parse agrees with the general one wherever it answers.
    #[test]
    fn agrees_with_the_general_way() {
        let mut spans = Vec::new();
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"POST /x?y=1 HTTP/1.0\nContent-Length: 2\nX-A:  b \n\nhi",
            b"PUT /p HTTP/1.1\r\nHost: h\r\nA: 1\r\na: 2\r\n\r\nGET / HTTP/1.1\r\n",
        ] {
            let (n, layout) = parse_in_place(raw, &mut spans).expect("parsed in place");
            let head = Bytes::copy_from_slice(&raw[..n]);
            let a = request_from_layout(head.clone(), layout, &spans).unwrap();
            let b = parse_request_head(head).unwrap();
            assert_eq!(
                (&a.method, &a.target, a.version, a.headers.map()),
                (&b.method, &b.target, b.version, b.headers.map())
            );
            assert_eq!(a.facts.hosts, b.facts.hosts);
            assert_eq!(a.facts.framed, b.facts.framed);
        }
    }

    #[test]
    fn leaves_the_rest_to_the_general_way() {
        let mut spans = Vec::new();
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..IN_PLACE_HEADERS + 1 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n"[..],
            b"\r\nGET / HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
            b"GET / HTTP/1.1\r\nA b\r\n\r\n",
            &many,
        ] {
            assert!(parse_in_place(raw, &mut spans).is_none(), "{raw:?}");
        }
    }
}
