//! Checks on URLs built from request input before redirecting to them: a browser cleans a
//! URL before reading it, and what it then reads as `//host/...` names another host.

/// `_normalize_url_like_browser`: as the WHATWG URL parser cleans a URL, approximately:
/// leading and trailing controls and spaces stripped, tabs and line breaks removed,
/// backslashes read as slashes (for `http` and `https`).
fn normalize_like_browser(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect()
}

/// `_is_protocol_relative`: whether a browser would read `url` as a protocol-relative URL
/// (`//example.com/path`), which names a host: redirecting to one built from untrusted
/// input is an open redirect.
pub(crate) fn is_protocol_relative(url: &str) -> bool {
    normalize_like_browser(url).starts_with("//")
}

/// `_scheme_and_netloc`: the scheme and authority (user info, host and port, lower-cased)
/// a browser would see in `url`; both empty for a relative URL. `None` for what Python's
/// `urlsplit` refuses (an unbalanced `[` or `]` in the authority).
///
/// `urlsplit` follows RFC 3986, where `///example.com` has no authority, but browsers
/// resolving it against an `http` URL skip any number of slashes before the host: the
/// slashes are collapsed first so that the same host is seen.
pub(crate) fn scheme_and_netloc(url: &str) -> Option<(String, String)> {
    let mut url = normalize_like_browser(url);
    if url.starts_with("//") {
        url = format!("//{}", url.trim_start_matches('/'));
    }
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':')
        && i > 0
        && rest.as_bytes()[0].is_ascii_alphabetic()
        && rest[..i]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        scheme = rest[..i].to_ascii_lowercase();
        rest = &rest[i + 1..];
    }
    let mut netloc = "";
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = &after[..end];
    }
    if netloc.contains('[') != netloc.contains(']') {
        return None;
    }
    Some((scheme, netloc.to_lowercase()))
}

/// Whether `url` has a character no header value may carry (Tornado's
/// `_FORBIDDEN_HEADER_CHARS_RE`: C0 controls but tab, and DEL).
pub(crate) fn has_forbidden_header_chars(url: &str) -> bool {
    url.bytes()
        .any(|b| (b <= 0x08) || (0x0a..=0x1f).contains(&b) || b == 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_relative_as_a_browser_reads_it() {
        for url in [
            "//example.com",
            "///example.com",
            "/\\example.com",
            "\\\\example.com",
            " //example.com",
            "/\t/example.com",
            "\x01//example.com",
        ] {
            assert!(is_protocol_relative(url), "{url:?}");
        }
        for url in ["/", "/a//b", "", "/example.com", "http://x"] {
            assert!(!is_protocol_relative(url), "{url:?}");
        }
    }

    #[test]
    fn scheme_and_netloc_as_a_browser_sees_them() {
        let sn = |u| scheme_and_netloc(u).map(|(s, n)| format!("{s}|{n}"));
        assert_eq!(sn("/a/b").as_deref(), Some("|"));
        assert_eq!(
            sn("https://Example.com/x").as_deref(),
            Some("https|example.com")
        );
        assert_eq!(sn("///evil.com/b").as_deref(), Some("|evil.com"));
        assert_eq!(sn("/\\evil.com").as_deref(), Some("|evil.com"));
        assert_eq!(sn("https:////evil.com").as_deref(), Some("https|"));
        assert_eq!(sn("https://u@h:1/x").as_deref(), Some("https|u@h:1"));
        assert_eq!(sn("//[").as_deref(), None);
        assert!(has_forbidden_header_chars("/a\nb"));
        assert!(has_forbidden_header_chars("/a\0b"));
        assert!(!has_forbidden_header_chars("/a\tb é"));
    }
}
