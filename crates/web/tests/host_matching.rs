//! Port of `web_test.py`'s `HostMatchingTest`, `DefaultHostMatchingTest` and
//! `NamedURLSpecGroupsTest`, and of the order in which `Application.__init__` places the
//! static-file routes. Tornado adds host routes to a running application
//! (`add_handlers`) and changes `default_host` on it; here both are given to the builder,
//! so a changed default host is a second application.

mod support;

use std::path::PathBuf;

use support::{get, with_served};
use tornado_web::{Application, Handler, RequestHandler, Result, Router, Settings};

/// `HostMatchingTest.Handler`: writes the reply it was made with (`initialize(reply)`).
struct Reply(&'static str);

impl RequestHandler for Reply {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write(self.0);
        Ok(())
    }
}

fn reply(text: &'static str) -> impl Fn() -> Reply + Send + Sync + 'static {
    move || Reply(text)
}

fn host(path: &str, text: &'static str) -> tornado_web::RouterBuilder {
    Router::builder().route(path, reply(text))
}

#[test]
fn host_matching_test_host_matching() {
    let app = Application::builder()
        .route("/foo", reply("wildcard"))
        .host("www.example.com", host("/foo", "[0]"))
        .host(r"www\.example\.com", host("/bar", "[1]"))
        .host("www.example.com", host("/baz", "[2]"))
        .host("www.e.*e.com", host("/baz", "[3]"))
        .build()
        .unwrap();
    with_served(app, |a| async move {
        // The support client says `Host: localhost`.
        assert_eq!(get(a, "/foo", "").await.body, b"wildcard");
        assert_eq!(get(a, "/bar", "").await.status, 404);
        assert_eq!(get(a, "/baz", "").await.status, 404);

        let at = |path: &'static str, host: &'static str| async move {
            support::fetch_raw(a, &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n")).await
        };
        assert_eq!(at("/foo", "www.example.com").await.body, b"[0]");
        assert_eq!(at("/bar", "www.example.com").await.body, b"[1]");
        assert_eq!(at("/baz", "www.example.com").await.body, b"[2]");
        assert_eq!(at("/baz", "www.exe.com").await.body, b"[3]");
    });
}

fn default_host_app(default_host: &str) -> Application {
    Application::builder()
        .default_host(default_host)
        .host("www.example.com", host("/foo", "[0]"))
        .host(r"www\.example\.com", host("/bar", "[1]"))
        .host("www.test.com", host("/baz", "[2]"))
        .build()
        .unwrap()
}

#[test]
fn default_host_matching_test_default_host_matching() {
    with_served(default_host_app("www.example.com"), |a| async move {
        assert_eq!(get(a, "/foo", "").await.body, b"[0]");
        assert_eq!(get(a, "/bar", "").await.body, b"[1]");
        assert_eq!(get(a, "/baz", "").await.status, 404);
        // Behind a load balancer, the default host does not apply.
        assert_eq!(get(a, "/foo", "X-Real-Ip: 127.0.0.1\r\n").await.status, 404);
    });
    // `self.app.default_host = "www.test.com"`
    with_served(default_host_app("www.test.com"), |a| async move {
        assert_eq!(get(a, "/baz", "").await.body, b"[2]");
        assert_eq!(get(a, "/foo", "").await.status, 404);
    });
}

/// `NamedURLSpecGroupsTest`'s `EchoHandler`: writes its named argument.
struct Echo;

impl RequestHandler for Echo {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let path = h.path_kwarg("path").unwrap_or_default().to_owned();
        h.write(path);
        Ok(())
    }
}

#[test]
fn named_urlspec_groups_test_named_urlspec_groups() {
    let app = Application::builder()
        .route("/str/(?P<path>.*)", || Echo)
        .route("/unicode/(?P<path>.*)", || Echo)
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/str/foo", "").await.body, b"foo");
        assert_eq!(get(a, "/unicode/bar", "").await.body, b"bar");
    });
}

/// `Application.__init__` inserts the static-file routes before the application's own:
/// a catch-all route does not hide `/static/...`, `/robots.txt` or `/favicon.ico`.
#[test]
fn static_routes_come_before_the_applications_routes() {
    let static_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/static");
    let app = Application::builder()
        .route("/(.*)", reply("catch-all"))
        .settings(Settings {
            static_path: Some(static_dir),
            ..Settings::default()
        })
        .build()
        .unwrap();
    with_served(app, |a| async move {
        let robots = get(a, "/robots.txt", "").await;
        assert_eq!(robots.status, 200);
        assert_ne!(robots.body, b"catch-all");
        let sample = get(a, "/static/sample.xml", "").await;
        assert_eq!(sample.status, 200);
        assert_ne!(sample.body, b"catch-all");
        assert_eq!(get(a, "/other", "").await.body, b"catch-all");
    });
}
