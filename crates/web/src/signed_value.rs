//! Signed values (`tornado.web.create_signed_value`, `decode_signed_value`): what signed
//! cookies carry, byte for byte as Tornado 6.6.1 writes and reads them, so that an
//! application can move between the two with its `cookie_secret`.
//!
//! Version 2 (the default): `2|<len>:<key version>|<len>:<timestamp>|<len>:<name>|<len>:
//! <base64 value>|<HMAC-SHA256 hex>`, the signature covering everything before it.
//! Version 1 (read, and written on request): `<base64 value>|<timestamp>|<HMAC-SHA1 hex of
//! name, value and timestamp>`.

use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};

/// The secret signed values are made with (`cookie_secret`): one key, or several by
/// version with the one new values use (`cookie_secret` as a dict plus `key_version`), so
/// that keys can be rotated.
#[derive(Clone, PartialEq, Eq)]
pub enum CookieSecret {
    /// One key.
    Single(Vec<u8>),
    /// Keys by version, and the version that signs new values.
    Versioned {
        /// Every key still accepted.
        keys: HashMap<u32, Vec<u8>>,
        /// The key that signs (`key_version`).
        current: u32,
    },
}

impl CookieSecret {
    /// One key.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        CookieSecret::Single(secret.into())
    }

    fn signing_key(&self) -> Result<(&[u8], Option<u32>), SignedValueError> {
        match self {
            CookieSecret::Single(k) => Ok((k, None)),
            CookieSecret::Versioned { keys, current } => keys
                .get(current)
                .map(|k| (k.as_slice(), Some(*current)))
                .ok_or(SignedValueError("key_version names no key")),
        }
    }

    fn key(&self, version: u32) -> Option<&[u8]> {
        match self {
            CookieSecret::Single(k) => Some(k),
            CookieSecret::Versioned { keys, .. } => keys.get(&version).map(Vec::as_slice),
        }
    }
}

impl fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print keys.
        match self {
            CookieSecret::Single(_) => f.write_str("CookieSecret::Single(..)"),
            CookieSecret::Versioned { keys, current } => f
                .debug_struct("CookieSecret::Versioned")
                .field("versions", &keys.keys().collect::<Vec<_>>())
                .field("current", current)
                .finish(),
        }
    }
}

/// A signed value that cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedValueError(&'static str);

impl fmt::Display for SignedValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for SignedValueError {}

/// Tornado's `DEFAULT_SIGNED_VALUE_VERSION`.
pub const DEFAULT_SIGNED_VALUE_VERSION: u32 = 2;
/// Tornado's `DEFAULT_SIGNED_VALUE_MIN_VERSION`.
pub const DEFAULT_SIGNED_VALUE_MIN_VERSION: u32 = 1;

/// Seconds since the epoch now, as Tornado's default clock (`time.time`).
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Signs `value` under `name` at time `clock` (seconds since the epoch)
/// (`create_signed_value(secret, name, value, version, clock, key_version)`); `version` 1
/// or 2. Version 1 cannot be made with a versioned secret.
pub fn create_signed_value(
    secret: &CookieSecret,
    name: &str,
    value: &[u8],
    version: u32,
    clock: f64,
) -> Result<String, SignedValueError> {
    let timestamp = (clock as i64).to_string();
    let encoded = STANDARD.encode(value);
    match version {
        1 => {
            let CookieSecret::Single(key) = secret else {
                return Err(SignedValueError(
                    "version 1 signed values take a single key",
                ));
            };
            let signature = signature_v1(
                key,
                &[name.as_bytes(), encoded.as_bytes(), timestamp.as_bytes()],
            );
            Ok(format!("{encoded}|{timestamp}|{signature}"))
        }
        2 => {
            let (key, key_version) = secret.signing_key()?;
            let field = |s: &str| format!("{}:{s}", s.len());
            let to_sign = format!(
                "2|{}|{}|{}|{}|",
                field(&key_version.unwrap_or(0).to_string()),
                field(&timestamp),
                field(name),
                field(&encoded)
            );
            let signature = signature_v2(key, to_sign.as_bytes());
            Ok(to_sign + &signature)
        }
        _ => Err(SignedValueError("Unsupported version")),
    }
}

/// The value `signed` carries for `name`, if its signature is good, it is younger than
/// `max_age_days` at time `clock`, and its version is at least `min_version`
/// (`decode_signed_value`).
pub fn decode_signed_value(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    clock: f64,
    min_version: u32,
) -> Option<Vec<u8>> {
    if signed.is_empty() {
        return None;
    }
    let version = value_version(signed.as_bytes());
    if version < min_version {
        return None;
    }
    match version {
        1 => match secret {
            CookieSecret::Single(key) => decode_v1(key, name, signed, max_age_days, clock),
            CookieSecret::Versioned { .. } => None,
        },
        2 => decode_v2(secret, name, signed, max_age_days, clock),
        _ => None,
    }
}

/// The key version a version-2 value was signed with (`get_signature_key_version`).
pub fn get_signature_key_version(signed: &str) -> Option<u32> {
    if value_version(signed.as_bytes()) < 2 {
        return None;
    }
    fields_v2(signed.as_bytes()).map(|f| f.key_version)
}

/// `_get_version`: a leading `N|` with N in 1..=999 is a version; anything else is the
/// version-less format 1.
fn value_version(value: &[u8]) -> u32 {
    let Some(bar) = value.iter().position(|&b| b == b'|') else {
        return 1;
    };
    let digits = &value[..bar];
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return 1;
    }
    match std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u32>().ok())
    {
        Some(v) if v <= 999 => v,
        _ => 1,
    }
}

fn decode_v1(
    key: &[u8],
    name: &str,
    signed: &str,
    max_age_days: f64,
    clock: f64,
) -> Option<Vec<u8>> {
    let parts: Vec<&str> = signed.split('|').collect();
    let [value, timestamp, signature] = parts[..] else {
        return None;
    };
    let expected = signature_v1(
        key,
        &[name.as_bytes(), value.as_bytes(), timestamp.as_bytes()],
    );
    if !constant_time_eq(signature.as_bytes(), expected.as_bytes()) {
        log::warn!(target: "general", "Invalid cookie signature {signed:?}");
        return None;
    }
    let ts: i64 = parse_digits(timestamp.as_bytes())?;
    if (ts as f64) < clock - max_age_days * 86_400.0 {
        log::warn!(target: "general", "Expired cookie {signed:?}");
        return None;
    }
    if (ts as f64) > clock + 31.0 * 86_400.0 {
        // Version 1 signs name, value and timestamp without separators: digits could move
        // from the value into the timestamp without changing the signature.
        log::warn!(target: "general", "Cookie timestamp in future; possible tampering {signed:?}");
        return None;
    }
    if timestamp.starts_with('0') {
        log::warn!(target: "general", "Tampered cookie {signed:?}");
        return None;
    }
    STANDARD.decode(value).ok()
}

struct FieldsV2<'a> {
    key_version: u32,
    timestamp: &'a [u8],
    name: &'a [u8],
    value: &'a [u8],
    signature: &'a [u8],
}

/// `_decode_fields_v2`: the length-prefixed fields after `2|`.
fn fields_v2(value: &[u8]) -> Option<FieldsV2<'_>> {
    fn consume(s: &[u8]) -> Option<(&[u8], &[u8])> {
        let colon = s.iter().position(|&b| b == b':')?;
        let n: usize = parse_digits(&s[..colon])?;
        let rest = &s[colon + 1..];
        if rest.len() < n + 1 || rest[n] != b'|' {
            return None;
        }
        Some((&rest[..n], &rest[n + 1..]))
    }
    let rest = value.get(2..)?;
    let (key_version, rest) = consume(rest)?;
    let (timestamp, rest) = consume(rest)?;
    let (name, rest) = consume(rest)?;
    let (value, signature) = consume(rest)?;
    Some(FieldsV2 {
        key_version: parse_digits(key_version)?,
        timestamp,
        name,
        value,
        signature,
    })
}

fn decode_v2(
    secret: &CookieSecret,
    name: &str,
    signed: &str,
    max_age_days: f64,
    clock: f64,
) -> Option<Vec<u8>> {
    let fields = fields_v2(signed.as_bytes())?;
    let signed_part = &signed.as_bytes()[..signed.len() - fields.signature.len()];
    let key = secret.key(fields.key_version)?;
    let expected = signature_v2(key, signed_part);
    if !constant_time_eq(fields.signature, expected.as_bytes()) {
        return None;
    }
    if fields.name != name.as_bytes() {
        return None;
    }
    let ts: i64 = parse_digits(fields.timestamp)?;
    if (ts as f64) < clock - max_age_days * 86_400.0 {
        return None;
    }
    STANDARD.decode(fields.value).ok()
}

/// Plain decimal digits (Tornado's writer never emits anything else; signs, spaces and
/// underscores that Python's `int` would take are refused).
fn parse_digits<T: std::str::FromStr>(digits: &[u8]) -> Option<T> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

fn signature_v1(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac =
        <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    hex(&mac.finalize().into_bytes())
}

fn signature_v2(key: &[u8], data: &[u8]) -> String {
    let mut mac =
        <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    hex(&mac.finalize().into_bytes())
}

/// Compares without stopping at the first difference (`hmac.compare_digest`).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(value_version(b"2|1:0|"), 2);
        assert_eq!(value_version(b"abc|123|sig"), 1);
        assert_eq!(value_version(b"1000|x"), 1);
        assert_eq!(value_version(b"02|x"), 1);
    }
}
