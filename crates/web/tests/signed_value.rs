//! Port of `web_test.py::SignedValueTest` (every test but `test_decode_memory_budget`, a
//! CPython allocation check), plus values made by the real Tornado 6.6.1 (with
//! `create_signed_value`, the secrets and clock below) that must decode, and be made byte
//! for byte the same.

use std::collections::HashMap;

use tornado_web::CookieSecret;
use tornado_web::signed_value::{
    create_signed_value, decode_signed_value, get_signature_key_version,
};

const SECRET: &str = "It's a secret to everybody";
const PRESENT: f64 = 1_300_000_000.0;
const PAST: f64 = PRESENT - 86_400.0 * 32.0;

fn secret() -> CookieSecret {
    CookieSecret::new(SECRET)
}

fn secret_dict(current: u32) -> CookieSecret {
    CookieSecret::Versioned {
        keys: HashMap::from([
            (0, b"asdfbasdf".to_vec()),
            (1, b"12312312".to_vec()),
            (2, b"2342342".to_vec()),
        ]),
        current,
    }
}

fn decode(secret: &CookieSecret, name: &str, value: &str, clock: f64) -> Option<Vec<u8>> {
    decode_signed_value(secret, name, value, 31.0, clock, 1)
}

#[test]
fn test_known_values() {
    let v1 = create_signed_value(&secret(), "key", b"value", 1, PRESENT).unwrap();
    assert_eq!(
        v1,
        "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f"
    );
    let v2 = create_signed_value(&secret(), "key", b"value", 2, PRESENT).unwrap();
    assert_eq!(
        v2,
        "2|1:0|10:1300000000|3:key|8:dmFsdWU=|3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"
    );
    assert_eq!(
        decode_signed_value(&secret(), "key", &v1, 31.0, PRESENT, 1).unwrap(),
        b"value"
    );
    assert_eq!(
        decode_signed_value(&secret(), "key", &v2, 31.0, PRESENT, 2).unwrap(),
        b"value"
    );
    // min_version 2 refuses version 1.
    assert!(decode_signed_value(&secret(), "key", &v1, 31.0, PRESENT, 2).is_none());
}

#[test]
fn test_name_swap() {
    let s1 = create_signed_value(&secret(), "key1", b"value", 2, PRESENT).unwrap();
    let s2 = create_signed_value(&secret(), "key2", b"value", 2, PRESENT).unwrap();
    assert!(decode(&secret(), "key2", &s1, PRESENT).is_none());
    assert!(decode(&secret(), "key1", &s2, PRESENT).is_none());
}

#[test]
fn test_expired() {
    let signed = create_signed_value(&secret(), "key1", b"value", 2, PAST).unwrap();
    assert_eq!(decode(&secret(), "key1", &signed, PAST).unwrap(), b"value");
    assert!(decode(&secret(), "key1", &signed, PRESENT).is_none());
}

#[test]
fn test_payload_tampering() {
    let sig = "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152";
    let validate = |prefix: &str| {
        decode(&secret(), "key", &format!("{prefix}{sig}"), PRESENT).as_deref() == Some(b"value")
    };
    assert!(validate("2|1:0|10:1300000000|3:key|8:dmFsdWU=|"));
    assert!(!validate("2|1:1|10:1300000000|3:key|8:dmFsdWU=|"));
    assert!(!validate("2|1:0|10:130000000|3:key|8:dmFsdWU=|"));
    assert!(!validate("2|1:0|10:1300000000|3:keey|8:dmFsdWU=|"));
}

#[test]
fn test_signature_tampering() {
    let prefix = "2|1:0|10:1300000000|3:key|8:dmFsdWU=|";
    let validate = |sig: &str| {
        decode(&secret(), "key", &format!("{prefix}{sig}"), PRESENT).as_deref() == Some(b"value")
    };
    assert!(validate(
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"
    ));
    assert!(!validate(&"0".repeat(32)));
    assert!(!validate(
        "4d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"
    ));
    assert!(!validate(
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e153"
    ));
    assert!(!validate(
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e15"
    ));
    assert!(!validate(
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e1538"
    ));
}

#[test]
fn test_non_ascii() {
    let signed = create_signed_value(&secret(), "key", b"\xe9", 2, PRESENT).unwrap();
    assert_eq!(decode(&secret(), "key", &signed, PRESENT).unwrap(), b"\xe9");
}

#[test]
fn test_key_versioning_read_write_default_key() {
    let signed = create_signed_value(&secret_dict(0), "key", b"\xe9", 2, PRESENT).unwrap();
    assert_eq!(
        decode(&secret_dict(0), "key", &signed, PRESENT).unwrap(),
        b"\xe9"
    );
}

#[test]
fn test_key_versioning_read_write_non_default_key() {
    let signed = create_signed_value(&secret_dict(1), "key", b"\xe9", 2, PRESENT).unwrap();
    // Read with a secret whose current key is another: the value names its key.
    assert_eq!(
        decode(&secret_dict(0), "key", &signed, PRESENT).unwrap(),
        b"\xe9"
    );
}

#[test]
fn test_key_versioning_invalid_key() {
    let signed = create_signed_value(&secret_dict(0), "key", b"\xe9", 2, PRESENT).unwrap();
    let CookieSecret::Versioned { mut keys, .. } = secret_dict(0) else {
        unreachable!()
    };
    keys.remove(&0);
    let newkeys = CookieSecret::Versioned { keys, current: 1 };
    assert!(decode(&newkeys, "key", &signed, PRESENT).is_none());
}

#[test]
fn test_key_version_retrieval() {
    let signed = create_signed_value(&secret_dict(1), "key", b"\xe9", 2, PRESENT).unwrap();
    assert_eq!(get_signature_key_version(&signed), Some(1));
}

#[test]
fn test_malformed_timestamp_v1() {
    // A good signature over a timestamp that is not a number: refused, no panic. The
    // signature is computed as Tornado's `_create_signature_v1(b"s", "a", b"dg==",
    // b"not-a-number")`.
    let cookie = "dg==|not-a-number|7472dd9b2fdafc5d335730398d09dbda45e77980";
    let _quiet = tornado_log::ExpectLog::new("general", "").required(false);
    assert!(decode(&CookieSecret::new("s"), "a", cookie, 1_500_000_000.0).is_none());
}

#[test]
fn test_malformed_timestamp_v2() {
    // `2|1:0|1:a|1:a|0:|` signed with b"s" by Tornado's `_create_signature_v2`.
    let cookie =
        "2|1:0|1:a|1:a|0:|3323313d0e2d3ef0fc4d511f8b5b9dd276eaee6d29f3bb9ab2029f952f31c4ab";
    assert!(decode(&CookieSecret::new("s"), "a", cookie, 1_500_000_000.0).is_none());
}

#[test]
fn values_made_by_tornado() {
    // From Tornado 6.6.1: create_signed_value("0123456789abcdef", "key", ..., clock=lambda:
    // 1300000000), and key_version=1 with the dict below.
    let s = CookieSecret::new("0123456789abcdef");
    let v2 = "2|1:0|10:1300000000|3:key|8:dmFsdWU=|4d8ace09679f8713757481d4664b2536c883cff94686ec719e069bb6789dadb2";
    let v1 = "dmFsdWU=|1300000000|bcff66b52043bb94483f42e370a7a337ed24daf0";
    let non_ascii = "2|1:0|10:1300000000|3:key|4:w6k=|a87970d15b17567db789de8d2aa60cdee4e4399cb9c5c66374889d685670fd81";
    assert_eq!(decode(&s, "key", v2, PRESENT).unwrap(), b"value");
    assert_eq!(decode(&s, "key", v1, PRESENT).unwrap(), b"value");
    assert_eq!(
        decode(&s, "key", non_ascii, PRESENT).unwrap(),
        "é".as_bytes()
    );
    assert_eq!(
        create_signed_value(&s, "key", b"value", 2, PRESENT).unwrap(),
        v2
    );
    assert_eq!(
        create_signed_value(&s, "key", b"value", 1, PRESENT).unwrap(),
        v1
    );
    assert_eq!(
        create_signed_value(&s, "key", "é".as_bytes(), 2, PRESENT).unwrap(),
        non_ascii
    );
    let keys = CookieSecret::Versioned {
        keys: HashMap::from([
            (0, b"ajklasdf0ojaisdf".to_vec()),
            (1, b"aslkjasaolwkjsdf".to_vec()),
        ]),
        current: 1,
    };
    let kv1 = "2|1:1|10:1300000000|3:key|8:dmFsdWU=|df37e8800ccd18603ab77297b99df872de42561f1ebd2512c600c7b19ca1760c";
    assert_eq!(
        create_signed_value(&keys, "key", b"value", 2, PRESENT).unwrap(),
        kv1
    );
    assert_eq!(decode(&keys, "key", kv1, PRESENT).unwrap(), b"value");
}
