//! Streaming gzip decoding: [`GzipDecompressor`] (Tornado's `util.GzipDecompressor`) and the
//! delegate wrapper that decodes request bodies (`_GzipMessageDelegate`).

use std::fmt;

use bytes::Bytes;
use flate2::{Crc, Decompress, FlushDecompress, Status};
use http::HeaderMap;
use http::header::{CONTENT_ENCODING, HeaderName};

use crate::delegate::{HttpMessageDelegate, StartLine};
use crate::httputil::{HttpInputError, RequestStartLine};
use crate::request_headers::RequestHeaders;

/// Invalid gzip data: a bad header, a bad checksum, trailing garbage, or a truncated stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzipError(String);

impl fmt::Display for GzipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid gzip data: {}", self.0)
    }
}

impl std::error::Error for GzipError {}

fn err(msg: impl Into<String>) -> GzipError {
    GzipError(msg.into())
}

enum State {
    /// Reading a member's header (bytes accumulate in `header`).
    Header,
    /// Inflating a member's body.
    Body,
    /// Reading a member's 8-byte trailer.
    Trailer,
    /// Between members (or before the first): the only places a stream may end.
    Between,
}

/// Output is produced in steps of at most this much, so the temporary space stays small
/// whatever `max_length` is.
const OUTPUT_STEP: usize = 64 * 1024;

/// A streaming gzip decoder with bounded output (`tornado.util.GzipDecompressor`).
///
/// As Tornado 6.6's: streams of several members are decoded whole; anything after the last
/// member that does not start another is an error, as is a stream that ends inside a member
/// ([`flush`](GzipDecompressor::flush) reports it); an empty stream is valid.
pub struct GzipDecompressor {
    state: State,
    header: Vec<u8>,
    trailer: Vec<u8>,
    inflate: Decompress,
    crc: Crc,
}

impl Default for GzipDecompressor {
    fn default() -> Self {
        GzipDecompressor::new()
    }
}

impl GzipDecompressor {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        GzipDecompressor {
            state: State::Between,
            header: Vec::new(),
            trailer: Vec::new(),
            inflate: Decompress::new(false),
            crc: Crc::new(),
        }
    }

    /// Decodes from `input`, appending at most `max_length` bytes to `out`; returns how many
    /// input bytes were consumed. Call again with the unconsumed rest (Tornado's
    /// `unconsumed_tail`) until everything is consumed: a call may stop early at the output
    /// limit or at the end of a member.
    pub fn decompress(
        &mut self,
        input: &[u8],
        max_length: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, GzipError> {
        let mut consumed = 0;
        let limit = out.len() + max_length;
        while consumed < input.len() {
            let rest = &input[consumed..];
            match self.state {
                State::Between => {
                    if rest[0] != 0x1f {
                        return Err(err("trailing data after the last gzip member"));
                    }
                    self.header.clear();
                    self.state = State::Header;
                }
                State::Header => {
                    let used = self.feed_header(rest)?;
                    consumed += used;
                }
                State::Body => {
                    if out.len() >= limit {
                        break;
                    }
                    let spare = (limit - out.len()).min(OUTPUT_STEP);
                    let before_in = self.inflate.total_in();
                    let before_out = self.inflate.total_out();
                    let before_len = out.len();
                    out.resize(before_len + spare, 0);
                    let status = self
                        .inflate
                        .decompress(rest, &mut out[before_len..], FlushDecompress::None)
                        .map_err(|e| err(e.to_string()));
                    let produced = (self.inflate.total_out() - before_out) as usize;
                    out.truncate(before_len + produced);
                    let status = status?;
                    let used = (self.inflate.total_in() - before_in) as usize;
                    self.crc.update(&out[before_len..]);
                    consumed += used;
                    match status {
                        Status::StreamEnd => {
                            self.trailer.clear();
                            self.state = State::Trailer;
                        }
                        Status::Ok | Status::BufError => {
                            if used == 0 && out.len() == before_len {
                                if out.len() >= limit {
                                    break;
                                }
                                return Err(err("no progress decoding gzip data"));
                            }
                        }
                    }
                }
                State::Trailer => {
                    let take = (8 - self.trailer.len()).min(rest.len());
                    self.trailer.extend_from_slice(&rest[..take]);
                    consumed += take;
                    if self.trailer.len() == 8 {
                        self.check_trailer()?;
                        self.state = State::Between;
                        // A member boundary: give the caller its output before going on.
                        break;
                    }
                }
            }
        }
        Ok(consumed)
    }

    /// Checks that the stream ended at a member boundary (Tornado's `flush`).
    pub fn flush(&mut self) -> Result<(), GzipError> {
        match self.state {
            State::Between => Ok(()),
            _ => Err(err("truncated gzip stream")),
        }
    }

    fn feed_header(&mut self, rest: &[u8]) -> Result<usize, GzipError> {
        // Take bytes one header field at a time until the header is complete.
        let start = self.header.len();
        self.header.extend_from_slice(rest);
        match header_len(&self.header)? {
            None => Ok(rest.len()),
            Some(n) => {
                self.header.truncate(n);
                self.inflate = Decompress::new(false);
                self.crc = Crc::new();
                self.state = State::Body;
                Ok(n - start)
            }
        }
    }

    fn check_trailer(&self) -> Result<(), GzipError> {
        let t = &self.trailer;
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.crc.sum() {
            return Err(err("CRC check failed"));
        }
        if size != self.crc.amount() {
            return Err(err("size check failed"));
        }
        Ok(())
    }
}

/// The length of a complete gzip header at the start of `h`, or `None` if more is needed
/// (RFC 1952 §2.3).
fn header_len(h: &[u8]) -> Result<Option<usize>, GzipError> {
    if h.len() >= 2 && (h[0] != 0x1f || h[1] != 0x8b) {
        return Err(err("not a gzip header"));
    }
    if h.len() >= 3 && h[2] != 8 {
        return Err(err("unknown compression method"));
    }
    if h.len() < 10 {
        return Ok(None);
    }
    let flags = h[3];
    if flags & 0xe0 != 0 {
        return Err(err("reserved gzip flags set"));
    }
    let mut pos = 10;
    if flags & 0x04 != 0 {
        if h.len() < pos + 2 {
            return Ok(None);
        }
        pos += 2 + u16::from_le_bytes([h[pos], h[pos + 1]]) as usize;
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            match h.get(pos..).and_then(|r| memchr::memchr(0, r)) {
                Some(i) => pos += i + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    Ok(if h.len() >= pos { Some(pos) } else { None })
}

impl fmt::Debug for GzipDecompressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GzipDecompressor").finish_non_exhaustive()
    }
}

/// Decodes `Content-Encoding: gzip` bodies for the delegate it wraps, when the server has
/// `decompress_request` on (Tornado's `_GzipMessageDelegate`). The header is renamed to
/// `X-Consumed-Content-Encoding`; pieces are at most `chunk_size` bytes; `max_body_size`
/// counts decompressed bytes, so a small bomb cannot expand past it.
pub(crate) struct GzipDelegate<M> {
    inner: M,
    chunk_size: usize,
    max_body_size: u64,
    decompressed: u64,
    decoder: Option<GzipDecompressor>,
    /// Set by `finish` when the stream was truncated; the connection answers it with a 400.
    finish_error: Option<HttpInputError>,
}

static X_CONSUMED: HeaderName = HeaderName::from_static("x-consumed-content-encoding");

impl<M: HttpMessageDelegate> GzipDelegate<M> {
    pub(crate) fn new(inner: M, chunk_size: usize, max_body_size: u64) -> Self {
        GzipDelegate {
            inner,
            chunk_size,
            max_body_size,
            decompressed: 0,
            decoder: None,
            finish_error: None,
        }
    }

    /// The error `finish` found, if any (see `MessageWrap::finish_error`).
    pub(crate) fn take_finish_error(&mut self) -> Option<HttpInputError> {
        self.finish_error.take()
    }
}

impl<M: HttpMessageDelegate> HttpMessageDelegate for GzipDelegate<M> {
    async fn headers_received(
        &mut self,
        start_line: StartLine,
        mut headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        if headers
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"))
        {
            self.decoder = Some(GzipDecompressor::new());
            if let Some(v) = headers.remove(CONTENT_ENCODING) {
                headers.append(X_CONSUMED.clone(), v);
            }
        }
        self.inner.headers_received(start_line, headers).await
    }

    async fn request_headers_received(
        &mut self,
        start_line: RequestStartLine,
        mut headers: RequestHeaders,
    ) -> Result<(), HttpInputError> {
        if headers
            .get(&CONTENT_ENCODING)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"gzip"))
        {
            self.decoder = Some(GzipDecompressor::new());
            let map = headers.map_mut();
            if let Some(v) = map.remove(CONTENT_ENCODING) {
                map.append(X_CONSUMED.clone(), v);
            }
        }
        self.inner
            .request_headers_received(start_line, headers)
            .await
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        let Some(decoder) = self.decoder.as_mut() else {
            return self.inner.data_received(chunk).await;
        };
        let mut input = &chunk[..];
        while !input.is_empty() {
            let mut out = Vec::new();
            let used = decoder
                .decompress(input, self.chunk_size, &mut out)
                .map_err(|e| HttpInputError::new(e.to_string()))?;
            if used == 0 && out.is_empty() {
                return Err(HttpInputError::new(
                    "encountered unconsumed gzip data without making progress",
                ));
            }
            input = &input[used..];
            if !out.is_empty() {
                self.decompressed += out.len() as u64;
                if self.decompressed > self.max_body_size {
                    return Err(HttpInputError::new("decompressed body too large"));
                }
                self.inner.data_received(Bytes::from(out)).await?;
            }
        }
        Ok(())
    }

    async fn finish(&mut self) {
        if let Some(decoder) = self.decoder.as_mut()
            && let Err(e) = decoder.flush()
        {
            // The stream was truncated: the wrapped delegate never sees `finish`, only the
            // close (exactly one of the two, as in Tornado), and the request is malformed.
            self.inner.on_connection_close();
            self.finish_error = Some(HttpInputError::new(e.to_string()));
            return;
        }
        self.inner.finish().await
    }

    fn on_connection_close(&mut self) {
        self.inner.on_connection_close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(input: &[u8], max: usize) -> Result<Vec<u8>, GzipError> {
        let mut d = GzipDecompressor::new();
        let mut out = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let before = out.len();
            let used = d.decompress(rest, max, &mut out)?;
            assert!(out.len() - before <= max);
            assert!(used > 0 || out.len() > before, "progress");
            rest = &rest[used..];
        }
        d.flush()?;
        Ok(out)
    }

    #[test]
    fn test_single_member() {
        let data = b"hello world".repeat(1000);
        assert_eq!(decode_all(&gzip(&data), 100).unwrap(), data);
    }

    #[test]
    fn test_multiple_members() {
        let mut input = gzip(b"hello ");
        input.extend(gzip(b"world"));
        assert_eq!(decode_all(&input, 3).unwrap(), b"hello world");
    }

    #[test]
    fn test_empty_stream() {
        assert_eq!(decode_all(b"", 10).unwrap(), b"");
    }

    #[test]
    fn test_truncated() {
        let input = gzip(b"hello world");
        for cut in [1, 5, 12, input.len() - 1] {
            assert!(decode_all(&input[..cut], 1000).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn test_trailing_garbage() {
        let mut input = gzip(b"hello");
        input.extend_from_slice(b"garbage");
        assert!(decode_all(&input, 1000).is_err());
    }

    #[test]
    fn test_bad_crc() {
        let mut input = gzip(b"hello");
        let n = input.len();
        input[n - 8] ^= 1;
        assert!(decode_all(&input, 1000).is_err());
    }

    #[test]
    fn test_byte_at_a_time() {
        let data = b"abcdefghij".repeat(100);
        let input = gzip(&data);
        let mut d = GzipDecompressor::new();
        let mut out = Vec::new();
        for b in &input {
            let mut rest = std::slice::from_ref(b);
            while !rest.is_empty() {
                let used = d.decompress(rest, 7, &mut out).unwrap();
                rest = &rest[used..];
            }
        }
        d.flush().unwrap();
        assert_eq!(out, data);
    }
}
