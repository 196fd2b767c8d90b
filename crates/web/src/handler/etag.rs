//! ETags: Tornado's default (`compute_etag`, a SHA-1 of the output) and the comparison with
//! `If-None-Match` (`check_etag_header`).

use bytes::BytesMut;
use http::HeaderValue;
use http::header::IF_NONE_MATCH;

use super::Handler;

impl Handler {
    /// Tornado's `compute_etag`: `"<SHA-1 of the output, hex>"`.
    pub fn default_etag(&self) -> HeaderValue {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(&self.s.buffer);
        let mut out = [b'"'; 42];
        for (i, b) in digest.iter().enumerate() {
            out[1 + 2 * i..3 + 2 * i].copy_from_slice(&HEX_PAIRS[usize::from(*b)]);
        }
        etag_value(&out)
    }

    /// Whether the request's `If-None-Match` names `etag` (`check_etag_header`): `*`, or
    /// the same tag, weakly compared.
    pub fn check_etag(&self, etag: &HeaderValue) -> bool {
        let ours = strip_weak(etag.as_bytes());
        let mut listed = false;
        for value in self.s.request.headers().get_all(IF_NONE_MATCH) {
            for tag in etags(value.as_bytes()) {
                if !listed && tag == b"*" {
                    return true;
                }
                listed = true;
                if strip_weak(tag) == ours {
                    return true;
                }
            }
        }
        false
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's two lowercase hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut out = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    out
};

thread_local! {
    /// Storage the ETags of this thread are cut from: one allocation serves about a
    /// hundred responses (each value keeps its piece alive until dropped).
    static ETAG_ARENA: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// `tag` (quoted hex, as [`Handler::default_etag`] makes it) as a header value, without an
/// allocation of its own.
fn etag_value(tag: &[u8; 42]) -> HeaderValue {
    let bytes = ETAG_ARENA.with(|arena| {
        let mut arena = arena.borrow_mut();
        if arena.capacity() - arena.len() < tag.len() {
            *arena = BytesMut::with_capacity(4096);
        }
        arena.extend_from_slice(tag);
        arena.split().freeze()
    });
    HeaderValue::from_maybe_shared(bytes).unwrap_or(HeaderValue::from_static("\"\""))
}

fn strip_weak(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

/// The entity tags of an `If-None-Match` value: `*` or `(W/)?"..."`, as Tornado's
/// `rb'\*|(?:W/)?"[^"]*"'` finds them.
fn etags(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = value;
    std::iter::from_fn(move || {
        loop {
            let i = rest
                .iter()
                .position(|&b| b == b'*' || b == b'"' || b == b'W')?;
            if rest[i] == b'*' {
                let tag = &rest[i..=i];
                rest = &rest[i + 1..];
                return Some(tag);
            }
            let (start, quote) = if rest[i] == b'W' {
                if rest[i..].starts_with(b"W/\"") {
                    (i, i + 2)
                } else {
                    rest = &rest[i + 1..];
                    continue;
                }
            } else {
                (i, i)
            };
            let Some(len) = rest[quote + 1..].iter().position(|&b| b == b'"') else {
                rest = &[];
                return None;
            };
            let end = quote + 1 + len + 1;
            let tag = &rest[start..end];
            rest = &rest[end..];
            return Some(tag);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags() {
        let tags: Vec<&[u8]> = etags(br#""a", W/"b" ,"c,d", *"#).collect();
        assert_eq!(tags, [&b"\"a\""[..], b"W/\"b\"", b"\"c,d\"", b"*"]);
        assert_eq!(etags(b"\"unterminated").count(), 0);
    }
}
