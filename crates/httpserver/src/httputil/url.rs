//! [`url_concat`], with the parts of Python's `urllib.parse` it rests on (`urlparse`,
//! `urlunparse`, `parse_qsl`, `urlencode`).

use super::pystr::percent_escape;

/// Schemes whose last path segment may carry `;params` (Python's `uses_params`).
const USES_PARAMS: &[&str] = &[
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu",
    "sip", "sips", "mms", "sftp", "tel",
];

/// Schemes that have a `//netloc` (Python's `uses_netloc`).
const USES_NETLOC: &[&str] = &[
    "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp",
    "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git",
    "git+ssh", "ws", "wss",
];

/// Appends `args` to the query of `url`, whether or not it has one (Tornado's `url_concat`).
///
/// The existing query is parsed and re-encoded, as Tornado does: a field without `=` gains one
/// (`?x` → `?x=`), escapes are normalised (`%7e` → `~`, `a b` → `a+b`), an empty `?` or `#`
/// disappears. Names and values are encoded like Python's `urlencode`: letters, digits and
/// `_.-~` as they are, space as `+`, everything else as `%XX` of its UTF-8 bytes. The fragment
/// stays at the end.
///
/// # Differences from Tornado
///
/// Tornado also accepts `None` (returning `url` untouched) and a dict; here the caller skips
/// the call, and a dict is a slice of pairs. Python raises `ValueError` for a netloc with
/// unbalanced `[` `]` or one that NFKC-normalises into a delimiter; such URLs pass through
/// here unchecked.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::url_concat;
///
/// assert_eq!(url_concat("http://example.com/foo", &[("c", "d")]), "http://example.com/foo?c=d");
/// assert_eq!(
///     url_concat("http://example.com/foo?a=b#top", &[("c", "d"), ("c", "d2")]),
///     "http://example.com/foo?a=b&c=d&c=d2#top"
/// );
/// ```
pub fn url_concat(url: &str, args: &[(&str, &str)]) -> String {
    let mut parts = UrlParts::parse(url);
    let mut query = String::new();
    let mut push = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        quote_plus_into(&mut query, name);
        query.push('=');
        quote_plus_into(&mut query, value);
    };
    for (name, value) in parse_qsl(&parts.query) {
        push(&name, &value);
    }
    for (name, value) in args {
        push(name, value);
    }
    parts.query = query;
    parts.unparse()
}

/// A URL split as Python's `urlparse` splits it.
#[derive(Debug, Default, PartialEq, Eq)]
struct UrlParts {
    scheme: String,
    netloc: String,
    path: String,
    params: String,
    query: String,
    fragment: String,
}

impl UrlParts {
    fn parse(url: &str) -> UrlParts {
        // WHATWG-style cleanup that Python applies first: leading C0 controls and spaces go,
        // and tabs and newlines go from anywhere.
        let url: String = url
            .trim_start_matches(|c: char| c <= ' ')
            .chars()
            .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
            .collect();
        let mut parts = UrlParts::default();
        let mut rest = url.as_str();
        if let Some(i) = rest.find(':') {
            let candidate = &rest[..i];
            let is_scheme = candidate.starts_with(|c: char| c.is_ascii_alphabetic())
                && candidate
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if is_scheme {
                parts.scheme = candidate.to_ascii_lowercase();
                rest = &rest[i + 1..];
            }
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            parts.netloc = after[..end].to_owned();
            rest = &after[end..];
        }
        if let Some((before, fragment)) = rest.split_once('#') {
            parts.fragment = fragment.to_owned();
            rest = before;
        }
        if let Some((before, query)) = rest.split_once('?') {
            parts.query = query.to_owned();
            rest = before;
        }
        if USES_PARAMS.contains(&parts.scheme.as_str()) && rest.contains(';') {
            // `;params` belong to the last path segment only.
            let from = rest.rfind('/').unwrap_or(0);
            if let Some(i) = rest[from..].find(';') {
                parts.params = rest[from + i + 1..].to_owned();
                rest = &rest[..from + i];
            }
        }
        parts.path = rest.to_owned();
        parts
    }

    fn unparse(&self) -> String {
        let mut path = self.path.clone();
        if !self.params.is_empty() {
            path.push(';');
            path.push_str(&self.params);
        }
        let has_netloc = !self.netloc.is_empty()
            || (!self.scheme.is_empty()
                && USES_NETLOC.contains(&self.scheme.as_str())
                && !path.starts_with("//"));
        let mut url = String::new();
        if !self.scheme.is_empty() {
            url.push_str(&self.scheme);
            url.push(':');
        }
        if has_netloc {
            url.push_str("//");
            url.push_str(&self.netloc);
            if !path.is_empty() && !path.starts_with('/') {
                url.push('/');
            }
        }
        url.push_str(&path);
        if !self.query.is_empty() {
            url.push('?');
            url.push_str(&self.query);
        }
        if !self.fragment.is_empty() {
            url.push('#');
            url.push_str(&self.fragment);
        }
        url
    }
}

/// Python's `parse_qsl(qs, keep_blank_values=True)` on text: `&`-separated, empty fields
/// skipped, `+` as space, escapes decoded as UTF-8 with U+FFFD for invalid bytes.
fn parse_qsl(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|field| !field.is_empty())
        .map(|field| {
            let (name, value) = field.split_once('=').unwrap_or((field, ""));
            (unquote_plus_str(name), unquote_plus_str(value))
        })
        .collect()
}

/// Python's `unquote(s.replace("+", " "))`: escapes become bytes, decoded as UTF-8 with
/// replacement. Decoding the whole byte string at once gives the same text as Python's
/// run-by-run decoding, since a literal non-ASCII character never continues an escaped byte.
fn unquote_plus_str(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], percent_escape(&bytes[i..])) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends Python's `quote_plus(s, safe="")`.
fn quote_plus_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_python() {
        // Outputs of Tornado 6.6.1's url_concat on CPython 3.11.
        type Args<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(&str, Args<'_>, &str)] = &[
            ("http://h/p?", &[], "http://h/p"),
            ("http://h/p?#", &[], "http://h/p"),
            (
                "http://h/p?x=1#f",
                &[("a b", "c/d~*\u{e9}")],
                "http://h/p?x=1&a+b=c%2Fd~%2A%C3%A9#f",
            ),
            ("HTTP://H/p", &[], "http://H/p"),
            ("http:p", &[("a", "b")], "http:///p?a=b"),
            ("/p", &[("a", "b")], "/p?a=b"),
            ("p?a=%7e&b=%zz&c=+", &[], "p?a=~&b=%25zz&c=+"),
            ("http://h/p;x?y", &[("a", "b")], "http://h/p;x?y=&a=b"),
            ("http://h/p;", &[("a", "b")], "http://h/p?a=b"),
            ("http://h/a;b/c;d", &[], "http://h/a;b/c;d"),
            ("  http://h/p\t", &[], "http://h/p"),
            ("mailto:x@y", &[("a", "b")], "mailto:x@y?a=b"),
            ("//h/p", &[("a", "b")], "//h/p?a=b"),
            ("http://h", &[("a", "b")], "http://h?a=b"),
            ("http://h?q", &[], "http://h?q="),
            ("file:///tmp", &[], "file:///tmp"),
            ("http://[::1]/p", &[], "http://[::1]/p"),
            ("a:b", &[], "a:b"),
            ("1a:b", &[], "1a:b"),
            ("http://h/p#", &[("a", "b")], "http://h/p?a=b"),
            ("http://h/p?a=%C3", &[], "http://h/p?a=%EF%BF%BD"),
            ("x://h/p;q", &[], "x://h/p;q"),
            ("ftp://h/p;", &[], "ftp://h/p"),
            ("http://h/p?a=1;b=2", &[], "http://h/p?a=1%3Bb%3D2"),
            ("?", &[], ""),
            ("", &[("a", "")], "?a="),
            ("http://h/p?=x", &[], "http://h/p?=x"),
        ];
        for (url, args, expected) in cases {
            assert_eq!(url_concat(url, args), *expected, "{url:?} {args:?}");
        }
    }
}
