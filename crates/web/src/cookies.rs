//! Outgoing cookies (`RequestHandler.set_cookie` and friends): `Set-Cookie` lines written
//! exactly as Tornado writes them through Python's `http.cookies.Morsel` (attributes in
//! alphabetical order, values quoted and escaped the same way), so that clients and tests
//! see the same bytes.

use std::fmt;
use std::time::{Duration, SystemTime};

use tornado_httpserver::httputil::format_timestamp;

/// The attributes of an outgoing cookie (`set_cookie`'s keyword arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct CookieOptions {
    /// `Domain` (`domain`).
    pub domain: Option<String>,
    /// `expires` as a time (`expires`).
    pub expires: Option<SystemTime>,
    /// `expires` this many days from now, unless `expires` is set (`expires_days`).
    pub expires_days: Option<f64>,
    /// `Path` (`path`): `/` by default; `None` for none.
    pub path: Option<String>,
    /// `Max-Age` in seconds (`max_age`); `0` writes nothing, as in Tornado.
    pub max_age: Option<u64>,
    /// `HttpOnly` (`httponly`).
    pub httponly: bool,
    /// `Secure` (`secure`).
    pub secure: bool,
    /// `SameSite` (`samesite`).
    pub samesite: Option<String>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        CookieOptions {
            domain: None,
            expires: None,
            expires_days: None,
            path: Some("/".to_owned()),
            max_age: None,
            httponly: false,
            secure: false,
            samesite: None,
        }
    }
}

/// A cookie that cannot be written: a control character or space in the value, or one of
/// those or `;` in the name or an attribute (`ValueError` / `CookieError` in Tornado).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCookie(String);

impl fmt::Display for InvalidCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidCookie {}

impl InvalidCookie {
    pub(crate) fn new(name: &str, value: &str) -> Self {
        InvalidCookie(format!("Invalid cookie {name:?}: {value:?}"))
    }
}

/// The `Set-Cookie` value for `name=value` with `options`.
pub(crate) fn set_cookie_line(
    name: &str,
    value: &str,
    options: &CookieOptions,
) -> Result<String, InvalidCookie> {
    if value.bytes().any(|b| b <= 0x20) {
        return Err(InvalidCookie(format!("Invalid cookie {name:?}: {value:?}")));
    }
    let attributes = [
        ("name", Some(name)),
        ("domain", options.domain.as_deref()),
        ("path", options.path.as_deref()),
        ("samesite", options.samesite.as_deref()),
    ];
    for (attr, v) in attributes {
        if let Some(v) = v {
            if v.bytes().any(|b| b <= 0x20 || b == b';' || b == 0x7f) {
                return Err(InvalidCookie(format!(
                    "Invalid cookie attribute {attr}={v:?} for cookie {name:?}"
                )));
            }
        }
    }
    if name.is_empty() || !name.chars().all(legal_key_char) {
        return Err(InvalidCookie(format!("Illegal key {name:?}")));
    }
    let mut out = String::with_capacity(name.len() + value.len() + 16);
    out.push_str(name);
    out.push('=');
    quote(value, &mut out);
    // Morsel.OutputString: attributes sorted by key, empty ones left out.
    if let Some(d) = options.domain.as_deref().filter(|d| !d.is_empty()) {
        out.push_str("; Domain=");
        out.push_str(d);
    }
    let expires = options.expires.or_else(|| {
        options
            .expires_days
            .map(|days| SystemTime::now() + Duration::from_secs_f64(days.max(0.0) * 86_400.0))
    });
    if let Some(t) = expires {
        out.push_str("; expires=");
        out.push_str(&format_timestamp(t));
    }
    if options.httponly {
        out.push_str("; HttpOnly");
    }
    if let Some(age) = options.max_age.filter(|a| *a != 0) {
        out.push_str("; Max-Age=");
        out.push_str(&age.to_string());
    }
    if let Some(p) = options.path.as_deref().filter(|p| !p.is_empty()) {
        out.push_str("; Path=");
        out.push_str(p);
    }
    if let Some(s) = options.samesite.as_deref().filter(|s| !s.is_empty()) {
        out.push_str("; SameSite=");
        out.push_str(s);
    }
    if options.secure {
        out.push_str("; Secure");
    }
    Ok(out)
}

/// Python's `http.cookies._LegalChars`.
fn legal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:".contains(c)
}

/// Python's `_is_legal_key` character class (more than `_LegalChars`).
fn legal_key_char(c: char) -> bool {
    c.is_alphanumeric() || "_!#%&'~`><@,:/$*+-.^|)(?}{=".contains(c)
}

/// Python's `http.cookies._quote`: as is when every character is legal, else in double
/// quotes with `"` and `\` backslashed and other Latin-1 characters outside the safe set
/// written as octal escapes.
fn quote(value: &str, out: &mut String) {
    if !value.is_empty() && value.chars().all(legal_char) {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if legal_char(c) || " ()/<=>?@[]{}".contains(c) => out.push(c),
            c if (c as u32) < 256 => {
                out.push_str(&format!("\\{:03o}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, value: &str) -> String {
        set_cookie_line(name, value, &CookieOptions::default()).unwrap()
    }

    #[test]
    fn quoting_like_python() {
        assert_eq!(line("str", "asdf"), "str=asdf; Path=/");
        assert_eq!(line("equals", "a=b"), "equals=\"a=b\"; Path=/");
        assert_eq!(line("semicolon", "a;b"), "semicolon=\"a\\073b\"; Path=/");
        assert_eq!(line("quote", "a\"b"), "quote=\"a\\\"b\"; Path=/");
        assert_eq!(line("empty", ""), "empty=\"\"; Path=/");
        assert_eq!(line("latin", "é"), "latin=\"\\351\"; Path=/");
    }

    #[test]
    fn attributes_in_morsel_order() {
        let o = CookieOptions {
            domain: Some("foo.com".into()),
            path: Some("/foo".into()),
            max_age: Some(10),
            httponly: true,
            secure: true,
            samesite: Some("Lax".into()),
            ..CookieOptions::default()
        };
        assert_eq!(
            set_cookie_line("a", "b", &o).unwrap(),
            "a=b; Domain=foo.com; HttpOnly; Max-Age=10; Path=/foo; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn forbidden_characters() {
        for c in (0u8..0x20).chain([0x7f, b';']) {
            let c = char::from(c);
            let name = format!("foo{c}");
            assert!(set_cookie_line(&name, "bar", &CookieOptions::default()).is_err());
            let o = CookieOptions {
                domain: Some(format!("example{c}.com")),
                ..CookieOptions::default()
            };
            assert!(set_cookie_line("foo", "bar", &o).is_err());
            let o = CookieOptions {
                path: Some(format!("/{c}")),
                ..CookieOptions::default()
            };
            assert!(set_cookie_line("foo", "bar", &o).is_err());
            let o = CookieOptions {
                samesite: Some(format!("a{c}")),
                ..CookieOptions::default()
            };
            assert!(set_cookie_line("foo", "bar", &o).is_err());
        }
        assert!(set_cookie_line("foo", "b ar", &CookieOptions::default()).is_err());
    }
}
