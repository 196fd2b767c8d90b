//! Port of `web_test.py::RedirectHandlerTest`: `RedirectHandler`'s substitutions, query
//! arguments, and Tornado 6.6's refusal of substitutions that change the scheme or host.

mod support;

use std::net::SocketAddr;

use support::{get, with_served};
use tornado_log::ExpectLog;
use tornado_web::{Application, RedirectHandler};

fn app() -> Application {
    let to = |url: &'static str| move || RedirectHandler::new(url, true);
    Application::builder()
        .route("/src", to("/dst"))
        .route("/src2", to("/dst2?foo=bar"))
        .route(r"/any/(.*)", to("{0}"))
        .route(r"/moved(.*)", to("https://example.com{0}"))
        .route(r"/(.*)/target", to("/{0}/destination"))
        .route(r"/hostless/(.*)", to("https://{0}"))
        .route(r"/schemeonly/(.*)", to("https:{0}"))
        .route(r"/(.*?)/(.*?)/(.*)", to("/{1}/{0}/{2}"))
        .build()
        .unwrap()
}

async fn redirect(a: SocketAddr, path: &str) -> (u16, Option<String>) {
    let r = get(a, path, "").await;
    (r.status, r.header("Location").map(str::to_owned))
}

fn moved(to: &str) -> (u16, Option<String>) {
    (301, Some(to.to_owned()))
}

/// `path` is refused with 400 and the warning `reason` starts.
async fn refused(a: SocketAddr, path: &str, reason: &str) {
    let _log = ExpectLog::new("general", &format!("400 GET {path} (127.0.0.1): {reason}"));
    assert_eq!(redirect(a, path).await, (400, None), "{path}");
}

const CANNOT: &str = "Redirect URL cannot change the scheme or netloc";

#[test]
fn test_basic_redirect() {
    with_served(app(), |a| async move {
        assert_eq!(redirect(a, "/src").await, moved("/dst"));
    });
}

#[test]
fn test_redirect_with_argument() {
    with_served(app(), |a| async move {
        assert_eq!(redirect(a, "/src?foo=bar").await, moved("/dst?foo=bar"));
    });
}

#[test]
fn test_redirect_with_appending_argument() {
    with_served(app(), |a| async move {
        assert_eq!(
            redirect(a, "/src2?foo2=bar2").await,
            moved("/dst2?foo=bar&foo2=bar2")
        );
    });
}

#[test]
fn test_redirect_pattern() {
    with_served(app(), |a| async move {
        assert_eq!(redirect(a, "/a/b/c").await, moved("/b/a/c"));
    });
}

#[test]
fn test_redirect_double_slash() {
    with_served(app(), |a| async move {
        // The pattern reorders the components.
        assert_eq!(
            redirect(a, "/a/example.com/b").await,
            moved("/example.com/a/b")
        );
        // `//example.com/a/b` would be a protocol-relative redirect to another host.
        refused(a, "/a//example.com/a/b", CANNOT).await;
        // Browsers read backslashes as slashes, drop tabs and newlines, and skip any
        // number of slashes before a host; path arguments are percent-decoded.
        for path in [
            "/a/%5Cexample.com/b",
            "/a/%09/example.com/b",
            "/a///example.com/b",
            "/a////example.com/b",
            "/a/%2F%2F%5Cexample.com/b",
        ] {
            refused(a, path, CANNOT).await;
        }
    });
}

#[test]
fn test_substitution_after_first_slash() {
    with_served(app(), |a| async move {
        for (path, location) in [
            ("/ok/target", "/ok/destination"),
            ("/a/b/target", "/a/b/destination"),
            ("/ok/target?x=1", "/ok/destination?x=1"),
        ] {
            assert_eq!(redirect(a, path).await, moved(location), "{path}");
        }
        for path in [
            "/%2Fevil.com/target",
            "/%2F%2Fevil.com/target",
            "/%5C%5Cevil.com/target",
            "/%09//evil.com/target",
            "/%2Fevil.com/target?x=1",
        ] {
            refused(a, path, CANNOT).await;
        }
    });
}

#[test]
fn test_invalid_characters() {
    // These would otherwise be a 500 from setting the header.
    with_served(app(), |a| async move {
        for path in ["/any/%0Afoo", "/any/a%00b", "/any/%2F%2F%5B?x=1"] {
            refused(a, path, "Redirect URL ").await;
        }
    });
}

#[test]
fn test_non_ascii() {
    // Non-ASCII characters (slash look-alikes included) are fine, sent as UTF-8.
    with_served(app(), |a| async move {
        for (value, quoted) in [
            ("\u{e9}", "%C3%A9"),
            ("\u{4e2d}\u{6587}", "%E4%B8%AD%E6%96%87"),
            (
                "\u{ff0f}\u{ff0f}example.com",
                "%EF%BC%8F%EF%BC%8Fexample.com",
            ),
        ] {
            let r = get(a, &format!("/any/{quoted}"), "").await;
            assert_eq!(r.status, 301, "{value}");
            let location = r.headers.get("Location").expect("a Location").as_bytes();
            assert_eq!(location, value.as_bytes());
        }
    });
}

#[test]
fn test_substitution_in_host() {
    // Substitutions cannot supply the host, with extra slashes or a query string either.
    with_served(app(), |a| async move {
        for path in [
            "/hostless/evil.com",
            "/hostless//evil.com",
            "/schemeonly/evil.com",
            "/schemeonly/evil.com?x=1",
            "/schemeonly////evil.com",
        ] {
            refused(a, path, CANNOT).await;
        }
    });
}

#[test]
fn test_redirect_cannot_change_host() {
    // Substitutions right after the host could extend it or add user info.
    with_served(app(), |a| async move {
        assert_eq!(
            redirect(a, "/moved/x").await,
            moved("https://example.com/x")
        );
        for path in ["/moved.evil.com/x", "/moved@evil.com/x", "/moved:8080/x"] {
            refused(a, path, CANNOT).await;
        }
    });
}

#[test]
fn test_template_starting_with_substitution() {
    // A relative URL is fine; an absolute one from the client is not.
    with_served(app(), |a| async move {
        assert_eq!(redirect(a, "/any/foo/bar").await, moved("foo/bar"));
        for path in [
            "/any/https://evil.com/",
            "/any/%5C%5Cevil.com/",
            "/any////evil.com/",
            "/any/javascript:alert(1)",
        ] {
            refused(a, path, CANNOT).await;
        }
    });
}
