//! Port of `web_test.py::CrossOriginProtectionTest`, `CrossOriginProtectionDisabledTest`
//! and `CrossOriginProtectionCheckTrustedOriginTest` (the `cross_origin_protection` setting,
//! Tornado 6.6). The test client sends `Host: localhost`, so `http://localhost` is the
//! test's own URL (Tornado's `self.get_url("")`).

mod support;

use std::net::SocketAddr;

use support::{send, with_served};
use tornado_log::ExpectLog;
use tornado_web::{Application, ErrorHandler, Handler, RequestHandler, Result, Settings};

const OWN_URL: &str = "http://localhost";

struct Ok200;

impl RequestHandler for Ok200 {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }

    async fn head(&mut self, _h: &mut Handler) -> Result {
        Ok(())
    }

    async fn options(&mut self, _h: &mut Handler) -> Result {
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

/// `CrossOriginProtectionCheckTrustedOriginTest.Handler`.
struct TrustsExampleCom;

impl RequestHandler for TrustsExampleCom {
    fn check_trusted_origin(&mut self, _h: &mut Handler, origin: &str) -> bool {
        origin.ends_with(".example.com")
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

fn protected() -> Application {
    Application::builder()
        .route("/", || Ok200)
        .settings(Settings {
            cross_origin_protection: true,
            trusted_origins: vec!["https://trusted.example.com".to_owned()],
            ..Settings::default()
        })
        .build()
        .unwrap()
}

/// The status of `method /` with `headers` (`(name, value)` pairs) and a small form body.
async fn fetch(addr: SocketAddr, method: &str, headers: &[(&str, &str)]) -> u16 {
    let mut extra = String::from("Content-Type: application/x-www-form-urlencoded\r\n");
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = if method == "DELETE" { "" } else { "x=1" };
    send(addr, method, "/", &extra, body).await.status
}

async fn post(addr: SocketAddr, headers: &[(&str, &str)]) -> u16 {
    fetch(addr, "POST", headers).await
}

/// Expects the warning of a refused `method /` whose reason starts with `reason`.
fn refused(method: &str, reason: &str) -> ExpectLog {
    ExpectLog::new("general", &format!("403 {method} / (127.0.0.1): {reason}"))
}

#[test]
fn test_sec_fetch_site_success() {
    with_served(protected(), |a| async move {
        assert_eq!(post(a, &[("Sec-Fetch-Site", "same-origin")]).await, 200);
    });
}

#[test]
fn test_sec_fetch_site_fail() {
    with_served(protected(), |a| async move {
        let _log = refused(
            "POST",
            "Sec-Fetch-Site cross-site & origin None not allowed",
        );
        assert_eq!(post(a, &[("Sec-Fetch-Site", "cross-site")]).await, 403);
    });
}

#[test]
fn test_fallback_success() {
    with_served(protected(), |a| async move {
        assert_eq!(post(a, &[("Origin", OWN_URL)]).await, 200);
    });
}

#[test]
fn test_fallback_fail() {
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Origin 'https://evil.example.com' not allowed");
        assert_eq!(
            post(a, &[("Origin", "https://evil.example.com")]).await,
            403
        );
    });
}

#[test]
fn test_fallback_no_origin() {
    with_served(protected(), |a| async move {
        assert_eq!(post(a, &[]).await, 200);
    });
}

#[test]
fn test_sec_fetch_site_none() {
    // Direct navigation (a typed URL or a bookmark).
    with_served(protected(), |a| async move {
        assert_eq!(post(a, &[("Sec-Fetch-Site", "none")]).await, 200);
    });
}

#[test]
fn test_sec_fetch_site_same_site() {
    // Same-site (a sibling subdomain, say) is not the same origin.
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Sec-Fetch-Site same-site & origin");
        let headers = [
            ("Sec-Fetch-Site", "same-site"),
            ("Origin", "https://other.example.com"),
        ];
        assert_eq!(post(a, &headers).await, 403);
    });
}

#[test]
fn test_sec_fetch_site_takes_precedence_over_origin() {
    // With Sec-Fetch-Site, an Origin matching the host is not enough.
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Sec-Fetch-Site cross-site");
        let headers = [("Sec-Fetch-Site", "cross-site"), ("Origin", OWN_URL)];
        assert_eq!(post(a, &headers).await, 403);
    });
}

#[test]
fn test_sec_fetch_site_trusted_origin() {
    with_served(protected(), |a| async move {
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://trusted.example.com"),
        ];
        assert_eq!(post(a, &headers).await, 200);
    });
}

#[test]
fn test_sec_fetch_site_cross_site_no_origin() {
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Sec-Fetch-Site cross-site");
        assert_eq!(post(a, &[("Sec-Fetch-Site", "cross-site")]).await, 403);
    });
}

#[test]
fn test_fallback_trusted_origin() {
    with_served(protected(), |a| async move {
        assert_eq!(
            post(a, &[("Origin", "https://trusted.example.com")]).await,
            200
        );
    });
}

#[test]
fn test_fallback_trusted_origin_exact_match() {
    // Origins are compared exactly: a trailing slash or another scheme does not match.
    with_served(protected(), |a| async move {
        for origin in ["https://trusted.example.com/", "http://trusted.example.com"] {
            let _log = refused("POST", "Origin ");
            assert_eq!(post(a, &[("Origin", origin)]).await, 403, "{origin}");
        }
    });
}

#[test]
fn test_fallback_null_origin() {
    // Browsers send "null" for opaque origins such as sandboxed iframes.
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Origin 'null' not allowed");
        assert_eq!(post(a, &[("Origin", "null")]).await, 403);
    });
}

#[test]
fn test_fallback_origin_with_path() {
    with_served(protected(), |a| async move {
        let origin = format!("{OWN_URL}/foo");
        assert_eq!(post(a, &[("Origin", &origin)]).await, 200);
    });
}

#[test]
fn test_fallback_case_insensitive() {
    with_served(protected(), |a| async move {
        assert_eq!(post(a, &[("Origin", "http://LOCALHOST")]).await, 200);
    });
}

#[test]
fn test_fallback_ignores_referer() {
    // Only Origin is used; Referer is not consulted.
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Origin 'https://evil.example.com' not allowed");
        let referer = format!("{OWN_URL}/");
        let headers = [
            ("Origin", "https://evil.example.com"),
            ("Referer", &referer),
        ];
        assert_eq!(post(a, &headers).await, 403);
    });
}

#[test]
fn test_safe_methods_not_checked() {
    with_served(protected(), |a| async move {
        for method in ["GET", "HEAD", "OPTIONS"] {
            let headers = [
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "https://evil.example.com"),
            ];
            assert_eq!(fetch(a, method, &headers).await, 200, "{method}");
        }
    });
}

#[test]
fn test_other_unsafe_methods_checked() {
    // Methods the handler lacks would get 405, but the origin check comes first.
    with_served(protected(), |a| async move {
        for method in ["PUT", "DELETE", "PATCH"] {
            let _log = refused(method, "Sec-Fetch-Site ");
            let status = fetch(a, method, &[("Sec-Fetch-Site", "cross-site")]).await;
            assert_eq!(status, 403, "{method}");
        }
    });
}

/// Not in Tornado's suite: a repeated `Sec-Fetch-Site` reads as its values joined, as
/// `HTTPHeaders` gives it, so a second line cannot make a cross-site request pass.
#[test]
fn repeated_sec_fetch_site_is_not_same_origin() {
    with_served(protected(), |a| async move {
        let _log = refused("POST", "Sec-Fetch-Site same-origin,cross-site");
        let headers = [
            ("Sec-Fetch-Site", "same-origin"),
            ("Sec-Fetch-Site", "cross-site"),
        ];
        assert_eq!(post(a, &headers).await, 403);
    });
}

// ErrorHandlerCrossOriginTest: error handlers trust every origin, so a cross-site POST
// gets the error's status (the application's default handler too).

fn error_app() -> Application {
    Application::builder()
        .route("/error", || ErrorHandler::new(417))
        .settings(Settings {
            cross_origin_protection: true,
            ..Settings::default()
        })
        .build()
        .unwrap()
}

async fn cross_site_post(addr: SocketAddr, path: &str) -> u16 {
    let extra = "Sec-Fetch-Site: cross-site\r\nOrigin: https://evil.com\r\n";
    send(addr, "POST", path, extra, "").await.status
}

#[test]
fn test_error_cross_origin() {
    with_served(error_app(), |a| async move {
        let _log = ExpectLog::new("general", "").required(false);
        assert_eq!(cross_site_post(a, "/error").await, 417);
    });
}

#[test]
fn test_404_cross_origin() {
    with_served(error_app(), |a| async move {
        let _log = ExpectLog::new("general", "").required(false);
        assert_eq!(cross_site_post(a, "/404").await, 404);
    });
}

// CrossOriginProtectionWithXSRFCookiesTest: both checks apply, the cookie's first.

struct TokenPage;

impl RequestHandler for TokenPage {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let token = h.xsrf_token()?;
        h.write(token);
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

/// Serves the XSRF-and-origin application; `f` gets its address and a token.
fn with_xsrf<F, Fut>(f: F)
where
    F: FnOnce(SocketAddr, String) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let app = Application::builder()
        .route("/", || TokenPage)
        .settings(Settings {
            cross_origin_protection: true,
            xsrf_cookies: true,
            ..Settings::default()
        })
        .build()
        .unwrap();
    with_served(app, |a| async move {
        let token = support::get(a, "/", "").await.text();
        f(a, token).await;
    });
}

async fn post_with_token(addr: SocketAddr, headers: &[(&str, &str)], token: Option<&str>) -> u16 {
    let mut extra = String::new();
    for (name, value) in headers {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(t) = token {
        extra.push_str(&format!("Cookie: _xsrf={t}\r\nX-Xsrftoken: {t}\r\n"));
    }
    send(addr, "POST", "/", &extra, "").await.status
}

#[test]
fn test_both_pass() {
    with_xsrf(|a, token| async move {
        let status = post_with_token(a, &[("Sec-Fetch-Site", "same-origin")], Some(&token));
        assert_eq!(status.await, 200);
    });
}

#[test]
fn test_cookie_fails() {
    with_xsrf(|a, _token| async move {
        let _log = refused("POST", "'_xsrf' argument missing");
        let status = post_with_token(a, &[("Sec-Fetch-Site", "same-origin")], None);
        assert_eq!(status.await, 403);
    });
}

#[test]
fn test_origin_fails() {
    with_xsrf(|a, token| async move {
        let _log = refused("POST", "Sec-Fetch-Site cross-site");
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post_with_token(a, &headers, Some(&token)).await, 403);
    });
}

// CrossOriginProtectionDisabledTest

#[test]
fn test_disabled_by_default() {
    let app = Application::builder().route("/", || Ok200).build().unwrap();
    with_served(app, |a| async move {
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post(a, &headers).await, 200);
    });
}

// CrossOriginProtectionCheckTrustedOriginTest

/// `make`'s handlers at `/`, with cross-origin protection and no trusted origins.
fn protecting<F, H>(make: F) -> Application
where
    F: Fn() -> H + Send + Sync + 'static,
    H: RequestHandler,
{
    Application::builder()
        .route("/", make)
        .settings(Settings {
            cross_origin_protection: true,
            ..Settings::default()
        })
        .build()
        .unwrap()
}

fn overridden() -> Application {
    protecting(|| TrustsExampleCom)
}

#[test]
fn test_override_allows() {
    with_served(overridden(), |a| async move {
        for headers in [
            &[
                ("Sec-Fetch-Site", "same-site"),
                ("Origin", "https://app.example.com"),
            ][..],
            &[("Origin", "https://app.example.com")][..],
        ] {
            assert_eq!(post(a, headers).await, 200, "{headers:?}");
        }
    });
}

#[test]
fn test_override_rejects() {
    with_served(overridden(), |a| async move {
        for headers in [
            &[
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "https://evil.com"),
            ][..],
            &[("Origin", "https://evil.com")][..],
        ] {
            let _log = refused("POST", "");
            assert_eq!(post(a, headers).await, 403, "{headers:?}");
        }
    });
}

#[test]
fn test_override_not_called_for_same_origin() {
    // check_trusted_origin is consulted only for requests that look cross-origin: these
    // pass although it would refuse their origin.
    with_served(overridden(), |a| async move {
        for headers in [
            &[("Sec-Fetch-Site", "same-origin")][..],
            &[("Origin", OWN_URL)][..],
            // Not in Tornado's test: an untrusted Origin does not matter either then.
            &[
                ("Sec-Fetch-Site", "same-origin"),
                ("Origin", "https://evil.com"),
            ][..],
        ] {
            assert_eq!(post(a, headers).await, 200, "{headers:?}");
        }
    });
}

// CrossOriginProtectionBeforePrepareTest (its `test_check_origin_not_called` is about
// `WebSocketHandler.check_origin`, which has no counterpart here).

static PREPARED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct RecordsPrepare;

impl RequestHandler for RecordsPrepare {
    async fn prepare(&mut self, _h: &mut Handler) -> Result {
        PREPARED.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

fn before_prepare() -> Application {
    protecting(|| RecordsPrepare)
}

#[test]
fn test_rejected_before_prepare() {
    with_served(before_prepare(), |a| async move {
        let _log = refused(
            "POST",
            "Sec-Fetch-Site cross-site & origin 'https://evil.com'",
        );
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post(a, &headers).await, 403);
        assert!(!PREPARED.load(std::sync::atomic::Ordering::SeqCst));
    });
}

#[test]
fn test_websocket_upgrade_header_not_checked() {
    // A GET with `Upgrade: websocket` to a handler that is not a websocket one is a GET.
    with_served(before_prepare(), |a| async move {
        let headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(fetch(a, "GET", &headers).await, 200);
    });
}
