//! From `httpclient_test.py::HTTPClientCommonTestCase`: redirects (following, without a
//! `Location`, PUT with and without a body, the method after 301/302/303/307, 307 keeping
//! the body, credentials in the URL, and `Authorization`/`Cookie` stripped across origins).

mod support;

use http::Method;
use support::{fetch, get, with_server};
use tornado_httpclient::{HttpRequest, HttpResponse};

#[test]
fn test_follow_redirect() {
    with_server(|s, c| async move {
        let r = fetch(&c, get(s.url("/countdown/2")).follow_redirects(false)).await;
        assert_eq!(r.code(), 302);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with("/countdown/1")
        );
        let r = fetch(&c, get(s.url("/countdown/2"))).await;
        assert_eq!(r.code(), 200);
        assert!(r.effective_url().ends_with("/countdown/0"));
        assert_eq!(&r.body()[..], b"Zero");
    });
}

#[test]
fn test_redirect_without_location() {
    with_server(|s, c| async move {
        let r = fetch(
            &c,
            get(s.url("/redirect_without_location")).follow_redirects(true),
        )
        .await;
        assert_eq!(r.code(), 301);
    });
}

#[test]
fn test_redirect_put_with_body() {
    with_server(|s, c| async move {
        let r = fetch(
            &c,
            get(s.url("/redirect?url=/put&status=307"))
                .method(Method::PUT)
                .body("hello"),
        )
        .await;
        assert_eq!(&r.body()[..], b"Put body: hello");
    });
}

#[test]
fn test_redirect_put_without_body() {
    with_server(|s, c| async move {
        let r = fetch(
            &c,
            get(s.url("/redirect?url=/put&status=307"))
                .method(Method::PUT)
                .allow_nonstandard_methods(true),
        )
        .await;
        assert_eq!(&r.body()[..], b"Put body: ");
    });
}

#[test]
fn test_method_after_redirect() {
    with_server(|s, c| async move {
        for status in [301, 302, 303] {
            let url = s.url(&format!("/redirect?url=/all_methods&status={status}"));
            let r = fetch(&c, get(&url).method(Method::POST).body("")).await;
            assert_eq!(&r.body()[..], b"GET");
            for method in [Method::GET, Method::OPTIONS, Method::PUT, Method::DELETE] {
                let r = fetch(
                    &c,
                    get(&url)
                        .method(method.clone())
                        .allow_nonstandard_methods(true),
                )
                .await;
                if status == 303 {
                    assert!(r.body() == method.as_str() || r.body() == "GET");
                } else {
                    assert_eq!(r.body(), method.as_str());
                }
            }
            let r = fetch(&c, get(&url).method(Method::HEAD)).await;
            assert_eq!(r.code(), 200);
            assert!(r.body().is_empty());
        }
        for status in [307, 308] {
            let url = s.url(&format!("/redirect?url=/all_methods&status={status}"));
            for method in [
                Method::GET,
                Method::OPTIONS,
                Method::POST,
                Method::PUT,
                Method::DELETE,
            ] {
                let r = fetch(
                    &c,
                    get(&url)
                        .method(method.clone())
                        .allow_nonstandard_methods(true),
                )
                .await;
                assert_eq!(r.body(), method.as_str());
            }
            let r = fetch(&c, get(&url).method(Method::HEAD)).await;
            assert_eq!(r.code(), 200);
            assert!(r.body().is_empty());
        }
    });
}

#[test]
fn test_credentials_in_url() {
    with_server(|s, c| async move {
        let url = s.url("/auth").replace("http://", "http://me:secret@");
        let r = fetch(&c, get(url)).await;
        assert_eq!(&r.body()[..], b"Basic bWU6c2VjcmV0");
    });
}

#[test]
fn test_put_307() {
    with_server(|s, c| async move {
        let r = fetch(
            &c,
            get(s.url("/redirect?status=307&url=/put"))
                .method(Method::PUT)
                .body("hello"),
        )
        .await;
        r.rethrow().unwrap();
        assert_eq!(&r.body()[..], b"Put body: hello");
    });
}

fn echoed(r: &HttpResponse) -> Vec<String> {
    r.text()
        .lines()
        .map(|l| l.split(':').next().unwrap().to_owned())
        .collect()
}

#[test]
fn test_strip_headers_on_redirect() {
    with_server(|s, c| async move {
        type Case = (&'static str, fn(HttpRequest) -> HttpRequest, &'static str);
        let cases: [Case; 4] = [
            (
                "manual auth header",
                |r| r.header("Authorization", "secret"),
                "",
            ),
            ("credentials in URL", |r| r, "me:secret"),
            (
                "auth parameters",
                |r| r.auth_username("me").auth_password("secret"),
                "",
            ),
            ("manual cookie header", |r| r.header("Cookie", "secret"), ""),
        ];
        for (name, setup, creds) in cases {
            for (origin, target) in [
                ("different", s.url2("/echo_headers")),
                ("same", s.url("/echo_headers")),
            ] {
                let mut url = s.url(&format!("/redirect?url={target}&status=302"));
                if !creds.is_empty() {
                    url = url.replacen("http://", &format!("http://{creds}@"), 1);
                }
                let r = fetch(&c, setup(get(url))).await;
                r.rethrow().unwrap();
                let names = echoed(&r);
                assert!(names.iter().any(|n| n == "user-agent"), "{name} {origin}");
                if origin == "different" {
                    assert!(
                        !names.iter().any(|n| n == "authorization" || n == "cookie"),
                        "{name}: {names:?}"
                    );
                } else if name != "credentials in URL" {
                    assert!(
                        names.iter().any(|n| n == "authorization" || n == "cookie"),
                        "{name}: {names:?}"
                    );
                }
            }
        }
    });
}
