//! XSRF tokens (`RequestHandler.xsrf_token`, `_decode_xsrf_token`, `check_xsrf_cookie`), in
//! Tornado 6.6.1's formats: the `_xsrf` cookie and form field carry
//! `2|<mask hex>|<token XOR mask, hex>|<timestamp>` (a fresh mask for every page, so that
//! compression does not leak the token), and the older unversioned hex token is read too.

use std::time::{SystemTime, UNIX_EPOCH};

/// A decoded token: its format version (`None` for a token made just now), the raw token,
/// and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawToken {
    pub(crate) version: Option<u32>,
    pub(crate) token: Vec<u8>,
    pub(crate) timestamp: i64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A new random token (16 bytes, as Tornado's `os.urandom(16)`).
pub(crate) fn new_token() -> RawToken {
    let mut token = vec![0u8; 16];
    // Without OS randomness there is no safe token; failing loudly beats a guessable one.
    getrandom::fill(&mut token).expect("the OS random number generator failed");
    RawToken {
        version: None,
        token,
        timestamp: now(),
    }
}

/// XOR with a repeated 4-byte mask (Tornado's `_websocket_mask`).
fn mask(mask: &[u8; 4], data: &[u8]) -> Vec<u8> {
    data.iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The token as a page carries it: version 2 with a fresh mask, or version 1 (plain hex).
pub(crate) fn encode(raw: &RawToken, version: u32) -> String {
    if version == 1 {
        return hex(&raw.token);
    }
    let mut m = [0u8; 4];
    getrandom::fill(&mut m).expect("the OS random number generator failed");
    format!(
        "2|{}|{}|{}",
        hex(&m),
        hex(&mask(&m, &raw.token)),
        raw.timestamp
    )
}

/// Reads a cookie or submitted token (`_decode_xsrf_token`); `None` if it is malformed.
pub(crate) fn decode(value: &str) -> Option<RawToken> {
    let versioned = value.split_once('|').filter(|(v, _)| {
        !v.is_empty() && !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit())
    });
    match versioned {
        Some((version, _)) => {
            if version != "2" {
                return None;
            }
            let parts: Vec<&str> = value.split('|').collect();
            let [_, mask_hex, masked, timestamp] = parts[..] else {
                return None;
            };
            let m: [u8; 4] = unhex(mask_hex)?.try_into().ok()?;
            let token = mask(&m, &unhex(masked)?);
            Some(RawToken {
                version: Some(2),
                token,
                timestamp: timestamp.parse().ok()?,
            })
        }
        None => Some(RawToken {
            version: Some(1),
            token: unhex(value).unwrap_or_else(|| value.as_bytes().to_vec()),
            timestamp: now(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_masks_differ() {
        let raw = new_token();
        let a = encode(&raw, 2);
        let b = encode(&raw, 2);
        assert_ne!(a, b, "a fresh mask each time");
        assert_eq!(decode(&a).unwrap().token, raw.token);
        assert_eq!(decode(&b).unwrap().token, raw.token);
        let v1 = encode(&raw, 1);
        assert_eq!(decode(&v1).unwrap().token, raw.token);
        assert_eq!(decode(&v1).unwrap().version, Some(1));
    }

    #[test]
    fn malformed() {
        assert!(decode("2|zz|00|1").is_none());
        assert!(decode("2|00000000|00").is_none());
        assert!(decode("3|a|b|c").is_none());
        // Unversioned and not hex: the bytes themselves (Tornado's fallback).
        assert_eq!(decode("not-hex").unwrap().token, b"not-hex");
    }
}
