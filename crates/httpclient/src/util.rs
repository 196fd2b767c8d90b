//! Small helpers: Basic credentials, header-name casing.

use http::HeaderName;

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `Basic <base64(user:password)>` (RFC 7617; Tornado's `encode_username_password`, UTF-8).
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    let pair = tornado_httpserver::httputil::encode_username_password(user, password);
    format!("Basic {}", base64(pair.as_bytes()))
}

/// `content-type` → `Content-Type` (Tornado's `HTTPHeaders` keep names in this case).
pub(crate) fn canonical_name(name: &HeaderName) -> String {
    let mut out = String::with_capacity(name.as_str().len());
    let mut upper = true;
    for c in name.as_str().chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
        // RFC 7617 §2.
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_auth("test", "123\u{a3}"), "Basic dGVzdDoxMjPCow==");
    }

    #[test]
    fn canonical_names() {
        assert_eq!(
            canonical_name(&HeaderName::from_static("content-type")),
            "Content-Type"
        );
        assert_eq!(canonical_name(&HeaderName::from_static("x-a")), "X-A");
    }
}
