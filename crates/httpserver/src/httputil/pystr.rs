//! Python's string rules where Tornado's observable behaviour depends on them: what
//! `str.strip()` removes, what `int()` accepts, and latin-1 decoding.
//!
//! Tornado parses header values with `str.strip()` and `int()`, which are more lenient than
//! the HTTP grammar (they strip a no-break space; they accept `+1` and `1_0`). Porting that
//! leniency exactly keeps a request that Tornado accepts accepted here, and one it ignores
//! ignored.

/// `true` for the characters of Python's `str.isspace()` (CPython 3.11, Unicode 14): Rust's
/// `char::is_whitespace` plus the ASCII information separators U+001C..U+001F, which Python
/// counts as whitespace and Unicode does not.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// Python's `int(s)` for ASCII digits: surrounding whitespace, an optional sign, and decimal
/// digits with single underscores between them. `None` where Python raises `ValueError`.
///
/// Python's integers are unbounded; magnitudes past `i64::MAX` saturate at `±i64::MAX`
/// (symmetric so that negating never overflows). Every caller compares the result with a
/// size or a calendar bound, where a saturated value answers as the exact one would.
/// Python also accepts non-ASCII decimal digits (`int("٣")`); header text is latin-1, which
/// has none, so they are not accepted here.
pub(crate) fn py_int(s: &str) -> Option<i64> {
    let s = py_strip(s);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() || !bytes[bytes.len() - 1].is_ascii_digit() {
        return None;
    }
    let mut value: i64 = 0;
    let mut previous_underscore = false;
    for &b in bytes {
        if b == b'_' {
            if previous_underscore {
                return None;
            }
            previous_underscore = true;
            continue;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        previous_underscore = false;
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if negative { -value } else { value })
}

/// Decodes `bytes` as latin-1: each byte becomes the code point of the same value.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The value of an ASCII hex digit.
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte that `%XX` at the start of `bytes` encodes, if it is a valid escape.
pub(crate) fn percent_escape(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [b'%', hi, lo, ..] => Some(hex_value(*hi)? << 4 | hex_value(*lo)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isspace_matches_python() {
        // The output of `[hex(c) for c in range(0x110000) if chr(c).isspace()]` on CPython 3.11.
        let python: &[u32] = &[
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028,
            0x2029, 0x202f, 0x205f, 0x3000,
        ];
        let ours: Vec<u32> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| py_isspace(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
    }

    #[test]
    fn int_like_python() {
        assert_eq!(py_int("42"), Some(42));
        assert_eq!(py_int(" +1 "), Some(1));
        assert_eq!(py_int("-5"), Some(-5));
        assert_eq!(py_int("1_0"), Some(10));
        assert_eq!(py_int("\u{a0}7"), Some(7));
        assert_eq!(py_int("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(py_int("-99999999999999999999999"), Some(-i64::MAX));
        for bad in [
            "", "-", "+", "1__0", "_1", "1_", "1 0", "0x1", "--1", "1.0", "²",
        ] {
            assert_eq!(py_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(percent_escape(b"%41rest"), Some(0x41));
        assert_eq!(percent_escape(b"%fF"), Some(0xff));
        assert_eq!(percent_escape(b"%4"), None);
        assert_eq!(percent_escape(b"%zz"), None);
        assert_eq!(latin1(b"\xe9a"), "\u{e9}a");
    }
}
