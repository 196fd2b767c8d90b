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
}
