//! Following a redirect (Tornado's `_HTTPConnection.finish` when `_should_follow_redirect`).

use http::Method;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST,
    PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};

use crate::request::{DEFAULT_MAX_REDIRECTS, HttpRequest};
use crate::url::{join, split};

/// The next request of a redirect (Tornado's `_HTTPConnection.finish`): same headers but
/// `Host`; across origins without credentials and cookies (6.5.6); as a GET without body
/// after a 303 (but for HEAD), and after a 301 or 302 answering a POST.
pub(crate) fn redirect_request(
    mut req: HttpRequest,
    original_url: &str,
    code: u16,
    location: &str,
) -> HttpRequest {
    let new_url = join(&req.url, location);
    let orig = split(original_url);
    let mut new = split(&new_url);
    req.url = new_url;
    let same_origin =
        orig.scheme == new.scheme && orig.host_port().eq_ignore_ascii_case(new.host_port());
    if !same_origin {
        req.auth_username = None;
        req.auth_password = None;
        if let Some(netloc) = &new.netloc
            && netloc.contains('@')
        {
            new.netloc = Some(new.host_port().to_owned());
            req.url = new.unsplit();
        }
        req.headers.remove(AUTHORIZATION);
        req.headers.remove(COOKIE);
    }
    req.max_redirects = Some(
        req.max_redirects
            .unwrap_or(DEFAULT_MAX_REDIRECTS)
            .saturating_sub(1),
    );
    req.headers.remove(HOST);
    // Made again for each request that goes through a proxy in the clear; it must not reach
    // a server (through a tunnel, after a redirect to https).
    req.headers.remove(PROXY_AUTHORIZATION);
    if (code == 303 && req.method != Method::HEAD)
        || ((code == 301 || code == 302) && req.method == Method::POST)
    {
        req.method = Method::GET;
        req.body = None;
        req.body_producer = None;
        for h in [
            CONTENT_LENGTH,
            CONTENT_TYPE,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            req.headers.remove(h);
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method) -> HttpRequest {
        HttpRequest::new("http://me:pw@a.example:8080/x?y")
            .method(method)
            .body("data")
            .header("Authorization", "Basic x")
            .header("Cookie", "c=1")
            .header("Content-Type", "text/plain")
            .header("Host", "a.example:8080")
            .header("Proxy-Authorization", "Basic p")
            .header("X-Other", "kept")
    }

    #[test]
    fn same_origin_keeps_credentials() {
        let r = redirect_request(
            request(Method::PUT),
            "http://me:pw@a.example:8080/x?y",
            307,
            "/z",
        );
        assert_eq!(r.url, "http://me:pw@a.example:8080/z");
        assert!(r.headers.contains_key(AUTHORIZATION) && r.headers.contains_key(COOKIE));
        assert_eq!(r.method, Method::PUT);
        assert!(r.body.is_some());
        assert!(!r.headers.contains_key(HOST) && !r.headers.contains_key(PROXY_AUTHORIZATION));
        assert_eq!(r.max_redirects, Some(DEFAULT_MAX_REDIRECTS - 1));
    }

    #[test]
    fn other_origin_drops_credentials() {
        for location in [
            "http://b.example/",
            "https://a.example:8080/",
            "http://a.example:8081/",
        ] {
            let r = redirect_request(
                request(Method::GET),
                "http://me:pw@a.example:8080/x",
                302,
                location,
            );
            assert!(!r.headers.contains_key(AUTHORIZATION), "{location}");
            assert!(!r.headers.contains_key(COOKIE), "{location}");
            assert!(r.auth_username.is_none());
            assert_eq!(r.headers["x-other"], "kept");
        }
        // User info in the new URL is dropped across origins too.
        let r = redirect_request(
            request(Method::GET),
            "http://a.example/",
            302,
            "http://u:p@b.example/",
        );
        assert_eq!(r.url, "http://b.example/");
    }

    #[test]
    fn method_changes() {
        let post = |code| redirect_request(request(Method::POST), "http://a.example/", code, "/n");
        for code in [301, 302, 303] {
            let r = post(code);
            assert_eq!(r.method, Method::GET, "{code}");
            assert!(r.body.is_none() && !r.headers.contains_key(CONTENT_TYPE));
        }
        for code in [307, 308] {
            assert_eq!(post(code).method, Method::POST);
        }
        let head = redirect_request(request(Method::HEAD), "http://a.example/", 303, "/n");
        assert_eq!(head.method, Method::HEAD);
        let put = redirect_request(request(Method::PUT), "http://a.example/", 302, "/n");
        assert_eq!(put.method, Method::PUT);
    }
}
