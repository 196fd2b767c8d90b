//! [`parse_cookie`]: the `Cookie` request header, read as browsers write it.

use super::pystr::py_strip;

/// Parses a `Cookie` header into name-value pairs, in order (Tornado's `parse_cookie`).
///
/// This mimics what browsers do rather than any cookie RFC (the algorithm is Django's): every
/// `;` separates cookies, even inside quotes; the first `=` separates name from value; a
/// chunk without `=` is a value with an empty name; names and values are stripped of
/// whitespace (Python's `str.strip()`); chunks with neither are skipped. No other character
/// separates cookies: `a=b]_xsrf=x` is the one cookie `a` (an older parser split at `]`,
/// which let a cookie's value inject another cookie). A value in double quotes is unquoted
/// as Python's `http.cookies` does, in time linear in its length (CVE-2024-7592 was a
/// quadratic unquoting).
///
/// Tornado returns a dict; here every pair is returned in order, and a name may repeat. To
/// get Tornado's dict, collect into a map: the **later** value of a repeated name wins, as
/// it does in Python. Tornado decodes the header as latin-1 before parsing it; the caller
/// does the same.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::parse_cookie;
///
/// let cookies = parse_cookie(r#"a=b; c="d\"e"; a=f"#);
/// assert_eq!(cookies[1], ("c".to_owned(), "d\"e".to_owned()));
/// let map: std::collections::HashMap<_, _> = cookies.into_iter().collect();
/// assert_eq!(map["a"], "f");
/// ```
pub fn parse_cookie(cookie: &str) -> Vec<(String, String)> {
    let mut cookies = Vec::new();
    for chunk in cookie.split(';') {
        // Per https://bugzilla.mozilla.org/show_bug.cgi?id=169091 a chunk without `=` is a
        // value with an empty name.
        let (name, value) = chunk.split_once('=').unwrap_or(("", chunk));
        let (name, value) = (py_strip(name), py_strip(value));
        if !name.is_empty() || !value.is_empty() {
            cookies.push((name.to_owned(), unquote_cookie(value)));
        }
    }
    cookies
}

/// Python's `http.cookies._unquote`: a value in double quotes loses them, and inside,
/// `\ooo` (first digit 0-3) is the code point of that octal number and `\x` is `x` for any
/// character but a newline. Unquoted values are returned as they are. One pass.
fn unquote_cookie(s: &str) -> String {
    let inner = match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if s.len() >= 2 => inner,
        _ => return s.to_owned(),
    };
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while let Some(offset) = memchr::memchr(b'\\', &bytes[i..]) {
        let slash = i + offset;
        out.push_str(&inner[i..slash]);
        let rest = &bytes[slash + 1..];
        match rest {
            [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', ..] => {
                let code = (a - b'0') << 6 | (b - b'0') << 3 | (c - b'0');
                out.push(char::from(code));
                i = slash + 4;
            }
            // Python's `.` does not match a newline, so the backslash stays.
            [] | [b'\n', ..] => {
                out.push('\\');
                i = slash + 1;
            }
            _ => {
                let escaped = inner[slash + 1..].chars().next().unwrap_or('\\');
                out.push(escaped);
                i = slash + 1 + escaped.len_utf8();
            }
        }
    }
    out.push_str(&inner[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_like_python() {
        // Outputs of Tornado 6.6.1 on CPython 3.11.
        let cases = [
            ("a=\"b\\\nc\"", "b\\\nc"),
            ("a=\"\\\"", "\\"),
            ("a=\"", "\""),
            ("a=\"\"", ""),
            ("a=\"\\x\"", "x"),
            ("a=\"\\400\"", "400"),
            ("a=\"b", "\"b"),
            ("a=b\"", "b\""),
            ("a=\"\\\u{e9}\"", "\u{e9}"),
        ];
        for (header, value) in cases {
            assert_eq!(parse_cookie(header), [("a".to_owned(), value.to_owned())]);
        }
    }

    #[test]
    fn strips_python_whitespace() {
        assert_eq!(parse_cookie("a=\u{1c}b\u{1c}"), [("a".into(), "b".into())]);
        assert_eq!(parse_cookie("a=\u{b}b"), [("a".into(), "b".into())]);
        assert_eq!(
            parse_cookie("\u{a0}a\u{a0}=\u{85}b\u{85}"),
            [("a".into(), "b".into())]
        );
    }
}
