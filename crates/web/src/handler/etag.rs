//! ETags: Tornado's default (`compute_etag`, a SHA-1 of the output) and the comparison with
//! `If-None-Match` (`check_etag_header`).

use http::HeaderValue;
use http::header::IF_NONE_MATCH;

use super::Handler;

/// An entity tag, what [`compute_etag`](crate::RequestHandler::compute_etag) returns:
/// Tornado's default (the quoted hex SHA-1 of the output, kept as bytes: it is written into
/// the response head without becoming a `HeaderValue`) or any header value.
#[derive(Clone, PartialEq, Eq)]
pub struct ETag(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Sha1([u8; 42]),
    Value(HeaderValue),
}

impl ETag {
    /// `"<SHA-1 of data, hex>"`, as Tornado's `compute_etag` makes it.
    pub fn sha1_of(data: &[u8]) -> Self {
        let state = sha1_state(data);
        let mut out = [b'"'; 42];
        for (i, word) in state.iter().enumerate() {
            for (j, b) in word.to_be_bytes().into_iter().enumerate() {
                let at = 1 + 8 * i + 2 * j;
                out[at..at + 2].copy_from_slice(&HEX_PAIRS[usize::from(b)]);
            }
        }
        ETag(Repr::Sha1(out))
    }

    /// The tag as it is written (with its quotes, and `W/` if weak).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Sha1(tag) => tag,
            Repr::Value(value) => value.as_bytes(),
        }
    }

    /// The tag as a header value.
    pub fn to_header_value(&self) -> HeaderValue {
        match &self.0 {
            // Quotes and hex digits: always a valid value.
            Repr::Sha1(tag) => {
                HeaderValue::from_bytes(tag).unwrap_or(HeaderValue::from_static("\"\""))
            }
            Repr::Value(value) => value.clone(),
        }
    }
}

impl From<HeaderValue> for ETag {
    fn from(value: HeaderValue) -> Self {
        ETag(Repr::Value(value))
    }
}

impl AsRef<[u8]> for ETag {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for ETag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ETag({})", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl Handler {
    /// Tornado's `compute_etag`: `"<SHA-1 of the output, hex>"`.
    pub fn default_etag(&self) -> ETag {
        ETag::sha1_of(&self.s.buffer)
    }

    /// Whether the request's `If-None-Match` names `etag` (`check_etag_header`): `*`, or
    /// a listed tag equal to it by the weak comparison.
    pub fn check_etag(&self, etag: impl AsRef<[u8]>) -> bool {
        let ours = strip_weak(etag.as_ref());
        let mut listed = false;
        for value in self.s.request.request_headers().get_all(&IF_NONE_MATCH) {
            for tag in etags(value) {
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

/// The SHA-1 of `data`, as its five state words. The blocks go straight to the compression
/// function (SHA-NI where the CPU has it), the last one or two padded here: a response body
/// is hashed once, whole, so the streaming hasher's buffering would only add copies.
fn sha1_state(data: &[u8]) -> [u32; 5] {
    let mut state = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let blocks = data.chunks_exact(64);
    let rest = blocks.remainder();
    for block in blocks {
        if let Ok(block) = <&[u8; 64]>::try_from(block) {
            sha1::block_api::compress(&mut state, std::slice::from_ref(block));
        }
    }
    // The rest, `0x80`, zeros, and the length in bits (big-endian) in the last 8 bytes.
    let mut tail = [[0u8; 64]; 2];
    let flat = tail.as_flattened_mut();
    flat[..rest.len()].copy_from_slice(rest);
    flat[rest.len()] = 0x80;
    let used = if rest.len() < 56 { 1 } else { 2 };
    let bits = (data.len() as u64).wrapping_mul(8);
    flat[used * 64 - 8..used * 64].copy_from_slice(&bits.to_be_bytes());
    sha1::block_api::compress(&mut state, &tail[..used]);
    state
}

const HEX: &[u8; 16] = b"0123456789abcdef";

static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut out = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        out[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    out
};

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
    fn sha1_tags_are_the_digests() {
        use sha1::Digest;
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let digest = sha1::Sha1::digest(&data[..len]);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            let tag = ETag::sha1_of(&data[..len]);
            assert_eq!(
                tag.as_bytes(),
                format!("\"{hex}\"").as_bytes(),
                "length {len}"
            );
        }
    }

    #[test]
    fn entity_tags() {
        let tags: Vec<&[u8]> = etags(br#""a", W/"b" ,"c,d", *"#).collect();
        assert_eq!(tags, [&b"\"a\""[..], b"W/\"b\"", b"\"c,d\"", b"*"]);
        assert_eq!(etags(b"\"unterminated").count(), 0);
    }
}
