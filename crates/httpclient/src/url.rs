//! Splitting and joining URLs the way Python's `urllib.parse.urlsplit` and `urljoin` do for
//! `http` and `https` (RFC 3986 reference resolution), which is what Tornado's client uses.

use std::borrow::Cow;

/// The five parts of a URL (`urlsplit`): `scheme://netloc/path?query#fragment`. The scheme
/// is lower-cased; the other parts are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SplitUrl {
    pub(crate) scheme: String,
    /// `None` when the URL has no `//` authority part.
    pub(crate) netloc: Option<String>,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) fragment: Option<String>,
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
}

/// Python's `urlsplit` cleaning: leading C0 controls and spaces stripped and tabs and line
/// breaks removed (as Python has done since 3.9.5). Most URLs need none and are borrowed.
pub(crate) fn clean(url: &str) -> Cow<'_, str> {
    let needs_cleaning = url.as_bytes().first().is_some_and(|&b| b <= b' ')
        || url.bytes().any(|b| matches!(b, b'\t' | b'\r' | b'\n'));
    if !needs_cleaning {
        return url.into();
    }
    url.trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect::<String>()
        .into()
}

/// The five parts of a cleaned URL (see [`clean`]) as slices of it: what a request needs
/// to go out, without a copy of each part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// As written (compare without case).
    pub(crate) scheme: &'a str,
    pub(crate) netloc: Option<&'a str>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) fragment: Option<&'a str>,
}

/// Splits a cleaned URL as `urlsplit` does.
pub(crate) fn split_parts(url: &str) -> UrlParts<'_> {
    let mut rest = url;
    let mut out = UrlParts {
        scheme: "",
        netloc: None,
        path: "",
        query: None,
        fragment: None,
    };
    if let Some((scheme, after)) = rest.split_once(':')
        && is_scheme(scheme)
    {
        out.scheme = scheme;
        rest = after;
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        out.netloc = Some(&after[..end]);
        rest = &after[end..];
    }
    if let Some((before, frag)) = rest.split_once('#') {
        out.fragment = Some(frag);
        rest = before;
    }
    if let Some((before, query)) = rest.split_once('?') {
        out.query = Some(query);
        rest = before;
    }
    out.path = rest;
    out
}

impl<'a> UrlParts<'a> {
    /// The authority without its `user:password@` part.
    pub(crate) fn host_port(&self) -> &'a str {
        host_port(self.netloc.unwrap_or(""))
    }

    /// The `user:password` part of the authority, if any: (username, password).
    pub(crate) fn userinfo(&self) -> Option<(&'a str, Option<&'a str>)> {
        let (info, _) = self.netloc?.rsplit_once('@')?;
        Some(match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        })
    }

    /// The request target: path (`/` if empty) and query (Tornado's `req_path`).
    pub(crate) fn target(&self) -> String {
        let mut t = String::with_capacity(self.path.len() + 2 + self.query.map_or(0, str::len));
        t.push_str(if self.path.is_empty() { "/" } else { self.path });
        if let Some(q) = self.query.filter(|q| !q.is_empty()) {
            t.push('?');
            t.push_str(q);
        }
        t
    }

    /// The parts as owned strings, the scheme lower-cased.
    pub(crate) fn to_owned(self) -> SplitUrl {
        SplitUrl {
            scheme: self.scheme.to_ascii_lowercase(),
            netloc: self.netloc.map(str::to_owned),
            path: self.path.to_owned(),
            query: self.query.map(str::to_owned),
            fragment: self.fragment.map(str::to_owned),
        }
    }
}

/// An authority without its `user:password@` part.
fn host_port(netloc: &str) -> &str {
    netloc.rsplit_once('@').map_or(netloc, |(_, hp)| hp)
}

/// Python's `urlsplit`: the URL cleaned (see [`clean`]), then split.
pub(crate) fn split(url: &str) -> SplitUrl {
    split_parts(&clean(url)).to_owned()
}

impl SplitUrl {
    /// Python's `urlunsplit`.
    pub(crate) fn unsplit(&self) -> String {
        let mut s = String::new();
        if !self.scheme.is_empty() {
            s.push_str(&self.scheme);
            s.push(':');
        }
        if let Some(netloc) = &self.netloc {
            s.push_str("//");
            s.push_str(netloc);
            if !self.path.is_empty() && !self.path.starts_with('/') {
                s.push('/');
            }
        }
        s.push_str(&self.path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        if let Some(f) = &self.fragment {
            s.push('#');
            s.push_str(f);
        }
        s
    }

    /// The authority without its `user:password@` part.
    pub(crate) fn host_port(&self) -> &str {
        host_port(self.netloc.as_deref().unwrap_or(""))
    }
}

/// Python's `urljoin(base, url)` for hierarchical schemes (RFC 3986 §5.2).
pub(crate) fn join(base: &str, url: &str) -> String {
    if base.is_empty() {
        return url.to_owned();
    }
    if url.is_empty() {
        return base.to_owned();
    }
    let b = split(base);
    let mut r = split(url);
    if !r.scheme.is_empty() && r.scheme != b.scheme {
        return url.to_owned();
    }
    r.scheme = b.scheme.clone();
    if r.netloc.is_some() {
        r.path = remove_dot_segments(&r.path);
        return r.unsplit();
    }
    r.netloc = b.netloc.clone();
    if r.path.is_empty() {
        r.path = b.path.clone();
        if r.query.is_none() {
            r.query = b.query.clone();
        }
        return r.unsplit();
    }
    let merged = if r.path.starts_with('/') {
        r.path.clone()
    } else if b.netloc.is_some() && b.path.is_empty() {
        format!("/{}", r.path)
    } else {
        match b.path.rfind('/') {
            Some(i) => format!("{}{}", &b.path[..=i], r.path),
            None => r.path.clone(),
        }
    };
    r.path = remove_dot_segments(&merged);
    r.unsplit()
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let mut out: Vec<&str> = Vec::new();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                if out.len() > usize::from(absolute) {
                    out.pop();
                }
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut joined = out.join("/");
    if absolute && !joined.starts_with('/') {
        joined.insert(0, '/');
    }
    if trailing_slash && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_python() {
        let u = split("HTTP://me:pw@example.com:8080/a/b?x=1#frag");
        assert_eq!(u.scheme, "http");
        assert_eq!(u.netloc.as_deref(), Some("me:pw@example.com:8080"));
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query.as_deref(), Some("x=1"));
        assert_eq!(u.fragment.as_deref(), Some("frag"));
        assert_eq!(u.host_port(), "example.com:8080");
        let parts = split_parts("HTTP://me:pw@example.com:8080/a/b?x=1#frag");
        assert_eq!(parts.to_owned(), u);
        assert_eq!(parts.scheme, "HTTP");
        assert_eq!(parts.host_port(), "example.com:8080");
        assert_eq!(parts.userinfo(), Some(("me", Some("pw"))));
        assert_eq!(parts.target(), "/a/b?x=1");
        assert_eq!(split_parts("http://h").target(), "/");
        assert_eq!(split_parts("http://h?").target(), "/");
        assert_eq!(split("h:5").scheme, "h");
        assert_eq!(split("ftp://example.com/").scheme, "ftp");
        assert_eq!(split("/relative").scheme, "");
    }

    #[test]
    fn cleans_like_python() {
        // Only URLs with leading controls or spaces, tabs or line breaks are copied.
        assert!(matches!(clean("http://h/a"), Cow::Borrowed("http://h/a")));
        assert_eq!(clean(" \x01http://h/a\tb\r\nc"), "http://h/abc");
        assert_eq!(split(" http://h/a\tb").path, "/ab");
    }

    #[test]
    fn joins_like_python() {
        // RFC 3986 §5.4.1, as Python's urljoin answers them.
        let base = "http://a/b/c/d;p?q";
        for (rel, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("https://x/y", "https://x/y"),
            ("", base),
        ] {
            assert_eq!(join(base, rel), want, "{rel}");
        }
        assert_eq!(
            join("http://127.0.0.1:1/countdown/2", "/countdown/1"),
            "http://127.0.0.1:1/countdown/1"
        );
        assert_eq!(join("http://h", "x"), "http://h/x");
    }
}
