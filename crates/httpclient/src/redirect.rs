//! Following a redirect (Tornado's `_HTTPConnection.finish` when `_should_follow_redirect`).

use http::Method;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, TRANSFER_ENCODING,
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
