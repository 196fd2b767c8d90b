//! The gzip output transform (`tornado.web.GZipContentEncoding`), used with the
//! `compress_response` setting: text and the usual structured types, 1 KiB or more when the
//! response is whole, level 6; `Vary: Accept-Encoding` on every response.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use http::HeaderMap;

use crate::response_headers::ResponseHeaders;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue, VARY};

/// Types compressed besides `text/*` (`CONTENT_TYPES`).
const CONTENT_TYPES: &[&str] = &[
    "application/javascript",
    "application/x-javascript",
    "application/xml",
    "application/atom+xml",
    "application/json",
    "application/xhtml+xml",
    "image/svg+xml",
];

/// Whole responses shorter than this are sent as they are (`MIN_LENGTH`).
pub(crate) const MIN_LENGTH: usize = 1024;

/// Tornado's `GZIP_LEVEL`.
const LEVEL: u32 = 6;

/// The transform of one response.
pub(crate) struct GzipTransform {
    /// The client accepts gzip, and then: the response is being compressed.
    gzipping: bool,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl GzipTransform {
    /// For a request with these headers (`"gzip" in Accept-Encoding`, as Tornado tests).
    pub(crate) fn new(request: &HeaderMap) -> Self {
        let gzipping = request
            .get_all(ACCEPT_ENCODING)
            .iter()
            .any(|v| memchr::memmem::find(v.as_bytes(), b"gzip").is_some());
        GzipTransform {
            gzipping,
            encoder: None,
        }
    }

    /// Adjusts the headers and transforms the first piece of body
    /// (`transform_first_chunk`). `content_type` is the response's type (the default one
    /// included); `finishing`: `chunk` is the whole body.
    pub(crate) fn first_chunk(
        &mut self,
        headers: &mut ResponseHeaders,
        content_type: Option<&HeaderValue>,
        chunk: Vec<u8>,
        finishing: bool,
    ) -> Vec<u8> {
        let vary = match headers.get(&VARY) {
            Some(v) => {
                let mut joined = v.as_bytes().to_vec();
                joined.extend_from_slice(b", Accept-Encoding");
                HeaderValue::from_bytes(&joined)
                    .unwrap_or(HeaderValue::from_static("Accept-Encoding"))
            }
            None => HeaderValue::from_static("Accept-Encoding"),
        };
        headers.insert(VARY, vary);
        if self.gzipping {
            let ctype = content_type
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").trim())
                .unwrap_or("");
            let compressible = ctype.starts_with("text/") || CONTENT_TYPES.contains(&ctype);
            self.gzipping = compressible
                && (!finishing || chunk.len() >= MIN_LENGTH)
                && !headers.contains(&CONTENT_ENCODING);
        }
        if !self.gzipping {
            return chunk;
        }
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        self.encoder = Some(GzEncoder::new(Vec::new(), Compression::new(LEVEL)));
        let out = self.chunk(&chunk, finishing);
        if headers.contains(&CONTENT_LENGTH) {
            if finishing {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(out.len()));
            } else {
                headers.remove(&CONTENT_LENGTH);
            }
        }
        out
    }

    /// Whether the body is compressed.
    pub(crate) fn gzipping(&self) -> bool {
        self.gzipping
    }

    /// Compresses a later piece (`transform_chunk`); `finishing` ends the gzip stream.
    pub(crate) fn chunk(&mut self, chunk: &[u8], finishing: bool) -> Vec<u8> {
        let Some(encoder) = self.encoder.as_mut() else {
            return chunk.to_vec();
        };
        // Writing into a Vec cannot fail.
        let _ = encoder.write_all(chunk);
        if finishing {
            let _ = encoder.try_finish();
        } else {
            let _ = encoder.flush();
        }
        std::mem::take(encoder.get_mut())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn request(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        h
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn whole_responses() {
        let html = HeaderValue::from_static("text/html; charset=UTF-8");
        let body = vec![b'a'; 2000];
        let mut t = GzipTransform::new(&request("gzip, deflate"));
        let mut headers = ResponseHeaders::default();
        let out = t.first_chunk(&mut headers, Some(&html), body.clone(), true);
        assert_eq!(headers.get(&CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(headers.get(&VARY).unwrap(), "Accept-Encoding");
        assert_eq!(gunzip(&out), body);
        // Short, or of a type not compressed, or not accepted: as it is, still with Vary.
        for (accept, ctype, len) in [
            ("gzip", "text/html", 10),
            ("gzip", "image/png", 2000),
            ("deflate", "text/html", 2000),
        ] {
            let mut t = GzipTransform::new(&request(accept));
            let mut headers = ResponseHeaders::default();
            headers.insert(VARY, HeaderValue::from_static("Cookie"));
            let ct = HeaderValue::from_static(ctype);
            let out = t.first_chunk(&mut headers, Some(&ct), vec![b'a'; len], true);
            assert_eq!(out.len(), len);
            assert!(!headers.contains(&CONTENT_ENCODING));
            assert_eq!(headers.get(&VARY).unwrap(), "Cookie, Accept-Encoding");
        }
    }

    #[test]
    fn streamed_responses() {
        let json = HeaderValue::from_static("application/json");
        let mut t = GzipTransform::new(&request("gzip"));
        let mut headers = ResponseHeaders::default();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        let mut out = t.first_chunk(&mut headers, Some(&json), b"{\"a\":".to_vec(), false);
        assert!(!headers.contains(&CONTENT_LENGTH));
        out.extend(t.chunk(b"1}", false));
        out.extend(t.chunk(b"", true));
        assert_eq!(gunzip(&out), b"{\"a\":1}");
    }
}
