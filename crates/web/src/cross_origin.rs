//! Cross-origin protection (Tornado 6.6's `cross_origin_protection`, modelled on Go's
//! `http.CrossOriginProtection`): a state-changing request a browser says comes from
//! another site, or whose `Origin` is not the `Host`, is refused unless the handler trusts
//! the origin.

use http::header::{HOST, ORIGIN};

use crate::handler::Handler;
use crate::request_handler::RequestHandler;

/// `_check_cross_origin`: `None` when the request may go on, else why not (the 403's log
/// message).
pub(crate) fn check<H: RequestHandler>(handler: &mut H, h: &mut Handler) -> Option<String> {
    let headers = h.request().headers();
    // A header sent twice reads as its values joined with `,`, as `HTTPHeaders` gives it
    // (so a second `Sec-Fetch-Site` cannot make a cross-site request pass as same-origin).
    let text = |name: &str| {
        let mut values = headers.get_all(name).iter();
        let first = values.next()?;
        let mut text = String::from_utf8_lossy(first.as_bytes()).into_owned();
        for v in values {
            text.push(',');
            text.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        Some(text)
    };
    let site = text("sec-fetch-site");
    let origin = text(ORIGIN.as_str());
    let host = text(HOST.as_str()).unwrap_or_default();
    match site.as_deref() {
        // Same origin, or direct navigation (a typed URL, a bookmark).
        Some("same-origin" | "none") => None,
        // An old browser, plain HTTP, or not a browser: browsers send `Origin`.
        None => {
            let origin = origin?;
            if origin_matches_host(&origin, &host) || handler.check_trusted_origin(h, &origin) {
                return None;
            }
            Some(format!("Origin '{origin}' not allowed"))
        }
        // cross-site, same-site (a sibling subdomain is not the same origin)
        Some(site) => {
            if let Some(o) = &origin
                && !o.is_empty()
                && handler.check_trusted_origin(h, o)
            {
                return None;
            }
            let shown = origin.map_or("None".to_owned(), |o| format!("'{o}'"));
            Some(format!(
                "Sec-Fetch-Site {site} & origin {shown} not allowed"
            ))
        }
    }
}

/// `_origin_matches_host`: the origin's authority (as `urlsplit` finds it) is the `Host`,
/// port included, without regard to case. The scheme is not compared (that would need the
/// proxy's scheme headers right; this is the fallback for browsers without
/// `Sec-Fetch-Site`).
fn origin_matches_host(origin: &str, host: &str) -> bool {
    netloc(origin).eq_ignore_ascii_case(host)
}

/// The authority of a URL as `urllib.parse.urlsplit` finds it: after `scheme:` and `//`, up
/// to the first `/`, `?` or `#`; empty without `//`.
fn netloc(url: &str) -> &str {
    let rest = match url.split_once(':') {
        Some((scheme, rest))
            if scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            rest
        }
        _ => url,
    };
    let Some(after) = rest.strip_prefix("//") else {
        return "";
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    &after[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netloc_as_urlsplit_finds_it() {
        assert_eq!(netloc("http://127.0.0.1:8888"), "127.0.0.1:8888");
        assert_eq!(netloc("http://Example.COM:1/foo?x#y"), "Example.COM:1");
        assert_eq!(netloc("null"), "");
        assert_eq!(netloc("//host/x"), "host");
        assert_eq!(netloc("1http://x"), "");
        assert!(origin_matches_host("HTTP://LOCALHOST:80", "localhost:80"));
        assert!(!origin_matches_host(
            "https://evil.example.com",
            "localhost:80"
        ));
    }
}
