//! Port of `web_test.py` classes about a request's way through a handler:
//! `ClearAllCookiesTest`, `FinishInPrepareTest`, `Default404Test`, `Custom404Test`,
//! `CacheTest` (`compute_etag` overridden, against `If-None-Match` lists) and
//! `PathArgsInPrepareTest`.

mod support;

use std::net::SocketAddr;

use support::{get, with_served};
use tornado_web::{Application, CookieOptions, ETag, Handler, RequestHandler, Result};

/// `ClearAllCookiesTest.Handler`
struct ClearAll;

impl RequestHandler for ClearAll {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.clear_all_cookies(&CookieOptions::default())?;
        h.write("ok");
        Ok(())
    }
}

/// `FinishInPrepareTest.Handler`
struct FinishInPrepare;

impl RequestHandler for FinishInPrepare {
    async fn prepare(&mut self, h: &mut Handler) -> Result {
        h.finish_with("done")
    }

    async fn get(&mut self, _h: &mut Handler) -> Result {
        Err(tornado_web::Error::msg("should not reach this method"))
    }
}

/// `Custom404Test.Custom404Handler`
struct Custom404;

impl RequestHandler for Custom404 {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_status(404);
        h.write("custom 404 response");
        Ok(())
    }
}

/// `CacheTest.EtagHandler`: the ETag is what was written.
struct EtagIsBody;

impl RequestHandler for EtagIsBody {
    fn compute_etag(h: &Handler) -> Option<ETag> {
        http::HeaderValue::from_bytes(h.output())
            .ok()
            .map(ETag::from)
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        let etag = h.path_args()[0].clone();
        h.write(etag);
        Ok(())
    }
}

/// `PathArgsInPrepareTest.Handler`
struct PathArgsInPrepare;

impl RequestHandler for PathArgsInPrepare {
    async fn prepare(&mut self, h: &mut Handler) -> Result {
        let kwargs: serde_json::Map<String, serde_json::Value> = h
            .path_kwargs()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        let args = h.path_args().to_vec();
        h.write_json(&serde_json::json!({"args": args, "kwargs": kwargs}))
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        let path = h
            .path_args()
            .first()
            .map(String::as_str)
            .or_else(|| h.path_kwarg("path"));
        assert_eq!(path, Some("foo"));
        h.finish()
    }
}

struct Plain;

impl RequestHandler for Plain {}

fn app() -> Application {
    Application::builder()
        .route("/clear", || ClearAll)
        .route("/prepare", || FinishInPrepare)
        .route("/etag/(.*)", || EtagIsBody)
        .route("/pos/(.*)", || PathArgsInPrepare)
        .route("/kw/(?P<path>.*)", || PathArgsInPrepare)
        .route("/foo", || Plain)
        .build()
        .unwrap()
}

#[test]
fn test_clear_all_cookies() {
    with_served(app(), |a| async move {
        let r = get(a, "/clear", "Cookie: foo=bar; baz=xyzzy\r\n").await;
        let mut set: Vec<String> = r
            .headers
            .get_all("Set-Cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        set.sort();
        assert_eq!(set.len(), 2, "{set:?}");
        assert!(set[0].starts_with("baz=\"\";"), "{set:?}");
        assert!(set[1].starts_with("foo=\"\";"), "{set:?}");
    });
}

#[test]
fn test_finish_in_prepare() {
    with_served(app(), |a| async move {
        let r = get(a, "/prepare", "").await;
        assert_eq!((r.status, r.text()), (200, "done".to_owned()));
    });
}

#[test]
fn test_404() {
    // Default404Test: the default handler's page.
    with_served(app(), |a| async move {
        let r = get(a, "/", "").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.text(),
            "<html><title>404: Not Found</title><body>404: Not Found</body></html>"
        );
    });
}

#[test]
fn test_custom_404() {
    // Custom404Test.test_404: `default_handler_class`.
    let app = Application::builder()
        .route("/foo", || Plain)
        .default_handler(|| Custom404)
        .build()
        .unwrap();
    with_served(app, |a| async move {
        let r = get(a, "/", "").await;
        assert_eq!(
            (r.status, r.text()),
            (404, "custom 404 response".to_owned())
        );
    });
}

/// `CacheTest._test_etag`
async fn etag_status(a: SocketAddr, computed: &str, listed: &str) -> u16 {
    let path = format!("/etag/{}", computed.replace('"', "%22"));
    get(a, &path, &format!("If-None-Match: {listed}\r\n"))
        .await
        .status
}

#[test]
fn test_cache_etags() {
    // CacheTest: test_wildcard_etag, test_strong_etag_match,
    // test_multiple_strong_etag_match, test_strong_etag_not_match,
    // test_multiple_strong_etag_not_match, test_weak_etag_match,
    // test_multiple_weak_etag_match, test_weak_etag_not_match,
    // test_multiple_weak_etag_not_match.
    with_served(app(), |a| async move {
        for (computed, listed, status) in [
            ("\"xyzzy\"", "*", 304),
            ("\"xyzzy\"", "\"xyzzy\"", 304),
            ("\"xyzzy1\"", "\"xyzzy1\", \"xyzzy2\"", 304),
            ("\"xyzzy\"", "\"xyzzy1\"", 200),
            ("\"xyzzy\"", "\"xyzzy1\", \"xyzzy2\"", 200),
            ("\"xyzzy1\"", "W/\"xyzzy1\"", 304),
            ("\"xyzzy2\"", "W/\"xyzzy1\", W/\"xyzzy2\"", 304),
            ("\"xyzzy2\"", "W/\"xyzzy1\"", 200),
            ("\"xyzzy3\"", "W/\"xyzzy1\", W/\"xyzzy2\"", 200),
        ] {
            assert_eq!(
                etag_status(a, computed, listed).await,
                status,
                "{computed} against {listed}"
            );
        }
    });
}

#[test]
fn test_pos() {
    with_served(app(), |a| async move {
        let r = get(a, "/pos/foo", "").await;
        assert_eq!(r.status, 200);
        let data: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(data, serde_json::json!({"args": ["foo"], "kwargs": {}}));
    });
}

#[test]
fn test_kw() {
    with_served(app(), |a| async move {
        let r = get(a, "/kw/foo", "").await;
        assert_eq!(r.status, 200);
        let data: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            data,
            serde_json::json!({"args": [], "kwargs": {"path": "foo"}})
        );
    });
}
