//! Port of `web_test.py::XSRFTest`, `XSRFCookieNameTest` and `XSRFCookieKwargsTest`.
//! `test_versioning` changes the token version per request through the settings in
//! Tornado; here two applications (one per version) share the cookie format, which is what
//! the test checks. The cross-origin protection tests are in `cross_origin.rs`.

mod support;

use std::net::SocketAddr;

use support::{gen_test, get, send, serve};
use tornado_log::ExpectLog;
use tornado_web::{Application, CookieOptions, Handler, RequestHandler, Result, Settings};

struct Token;

impl RequestHandler for Token {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let t = h.xsrf_token()?;
        h.write(t);
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.write("ok");
        Ok(())
    }
}

fn app(version: u32, name: &str, options: CookieOptions) -> Application {
    Application::builder()
        .route("/", || Token)
        .settings(Settings {
            xsrf_cookies: true,
            xsrf_cookie_version: version,
            xsrf_cookie_name: name.to_owned(),
            xsrf_cookie_options: options,
            ..Settings::default()
        })
        .build()
        .unwrap()
}

async fn token(addr: SocketAddr, cookie: Option<(&str, &str)>) -> String {
    let extra = cookie.map_or(String::new(), |(n, t)| format!("Cookie: {n}={t}\r\n"));
    let r = get(addr, "/", &extra).await;
    assert_eq!(r.status, 200);
    r.text()
}

async fn post(
    addr: SocketAddr,
    cookie: Option<&str>,
    body_token: Option<&str>,
    extra: &str,
) -> u16 {
    let mut headers = String::from("Content-Type: application/x-www-form-urlencoded\r\n");
    if let Some(c) = cookie {
        headers.push_str(&format!("Cookie: _xsrf={c}\r\n"));
    }
    headers.push_str(extra);
    let body = body_token.map_or(String::new(), |t| {
        format!("_xsrf={}", t.replace('|', "%7C"))
    });
    send(addr, "POST", "/", &headers, &body).await.status
}

fn with_app<F, Fut>(f: F)
where
    F: FnOnce(SocketAddr, SocketAddr) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    gen_test(|| async move {
        let (_s2, v2) = serve(&app(2, "_xsrf", CookieOptions::default()));
        let (_s1, v1) = serve(&app(1, "_xsrf", CookieOptions::default()));
        let _access = ExpectLog::new("access", "").required(false);
        f(v2, v1).await;
    });
}

#[test]
fn test_xsrf_fail_no_token() {
    with_app(|addr, _| async move {
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): '_xsrf' argument missing",
        );
        assert_eq!(post(addr, None, None, "").await, 403);
    });
}

#[test]
fn test_xsrf_fail_body_no_cookie() {
    with_app(|addr, _| async move {
        let t = token(addr, None).await;
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): XSRF cookie does not match POST",
        );
        assert_eq!(post(addr, None, Some(&t), "").await, 403);
    });
}

#[test]
fn test_xsrf_fail_argument_invalid_format() {
    with_app(|addr, _| async move {
        let t = token(addr, None).await;
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): '_xsrf' argument has invalid format",
        );
        assert_eq!(post(addr, Some(&t), Some("3|"), "").await, 403);
    });
}

#[test]
fn test_xsrf_fail_cookie_invalid_format() {
    with_app(|addr, _| async move {
        let t = token(addr, None).await;
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): XSRF cookie does not match POST",
        );
        assert_eq!(post(addr, Some("3|"), Some(&t), "").await, 403);
    });
}

#[test]
fn test_xsrf_fail_cookie_no_body() {
    with_app(|addr, _| async move {
        let t = token(addr, None).await;
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): '_xsrf' argument missing",
        );
        assert_eq!(post(addr, Some(&t), None, "").await, 403);
    });
}

#[test]
fn test_xsrf_success_short_and_non_hex_tokens() {
    // test_xsrf_success_short_token, test_xsrf_success_non_hex_token
    with_app(|addr, _| async move {
        assert_eq!(
            post(addr, Some("deadbeef"), Some("deadbeef"), "").await,
            200
        );
        assert_eq!(post(addr, Some("xoxo"), Some("xoxo"), "").await, 200);
    });
}

#[test]
fn test_xsrf_success_post_body_query_and_header() {
    // test_xsrf_success_post_body, test_xsrf_success_query_string, test_xsrf_success_header
    with_app(|addr, _| async move {
        let t = token(addr, None).await;
        assert_eq!(post(addr, Some(&t), Some(&t), "").await, 200);
        let q = format!("/?_xsrf={}", t.replace('|', "%7C"));
        let r = send(addr, "POST", &q, &format!("Cookie: _xsrf={t}\r\n"), "").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            post(addr, Some(&t), None, &format!("X-Xsrftoken: {t}\r\n")).await,
            200
        );
        assert_eq!(
            post(addr, Some(&t), None, &format!("X-Csrftoken: {t}\r\n")).await,
            200
        );
    });
}

#[test]
fn test_distinct_tokens() {
    with_app(|addr, _| async move {
        let mut tokens = std::collections::HashSet::new();
        for _ in 0..10 {
            tokens.insert(token(addr, None).await);
        }
        assert_eq!(tokens.len(), 10);
    });
}

#[test]
fn test_cross_user() {
    with_app(|addr, _| async move {
        let t1 = token(addr, None).await;
        let t2 = token(addr, None).await;
        for t in [&t1, &t2] {
            assert_eq!(post(addr, Some(t), Some(t), "").await, 200);
        }
        let _l = ExpectLog::new(
            "general",
            "403 POST / (127.0.0.1): XSRF cookie does not match POST",
        );
        assert_eq!(post(addr, Some(&t1), Some(&t2), "").await, 403);
        assert_eq!(post(addr, Some(&t2), Some(&t1), "").await, 403);
    });
}

#[test]
fn test_refresh_token() {
    with_app(|addr, _| async move {
        let first = token(addr, None).await;
        let mut seen = std::collections::HashSet::from([first.clone()]);
        let mut t = first.clone();
        for _ in 0..5 {
            t = token(addr, Some(("_xsrf", &t))).await;
            seen.insert(t.clone());
            assert_eq!(post(addr, Some(&t), Some(&first), "").await, 200);
        }
        assert_eq!(seen.len(), 6);
    });
}

#[test]
fn test_versioning() {
    with_app(|v2, v1| async move {
        assert_ne!(token(v1, None).await, token(v1, None).await);
        let v1_token = token(v1, None).await;
        for _ in 0..5 {
            assert_eq!(token(v1, Some(("_xsrf", &v1_token))).await, v1_token);
        }
        let v2_token = token(v2, Some(("_xsrf", &v1_token))).await;
        assert_ne!(v1_token, v2_token);
        assert_ne!(v2_token, token(v2, Some(("_xsrf", &v1_token))).await);
        for (cookie, body) in [(&v1_token, &v2_token), (&v2_token, &v1_token)] {
            assert_eq!(post(v2, Some(cookie), Some(body), "").await, 200);
        }
    });
}

#[test]
fn xsrf_cookie_name_and_options() {
    // XSRFCookieNameTest: another cookie name, with its attributes on the cookie.
    gen_test(|| async {
        let secure = CookieOptions {
            secure: true,
            ..CookieOptions::default()
        };
        let (_s, addr) = serve(&app(2, "__Host-xsrf", secure));
        let _access = ExpectLog::new("access", "").required(false);
        let r = get(addr, "/", "").await;
        let cookie = r.header("set-cookie").unwrap().to_owned();
        assert!(cookie.starts_with("__Host-xsrf=2|"), "{cookie}");
        assert!(cookie.ends_with("; Path=/; Secure"), "{cookie}");
        let t = r.text();
        let headers = format!(
            "Content-Type: application/x-www-form-urlencoded\r\nCookie: __Host-xsrf={t}\r\n"
        );
        let body = format!("_xsrf={}", t.replace('|', "%7C"));
        assert_eq!(send(addr, "POST", "/", &headers, &body).await.status, 200);
    });
}

/// `XSRFCookieKwargsTest`: `xsrf_cookie_kwargs` reach the XSRF cookie.
#[test]
fn test_xsrf_httponly() {
    let options = CookieOptions {
        httponly: true,
        expires_days: Some(2.0),
        ..CookieOptions::default()
    };
    gen_test(|| async move {
        let (_server, addr) = serve(&app(2, "_xsrf", options));
        let r = get(addr, "/", "").await;
        let cookie = r.header("Set-Cookie").expect("an XSRF cookie").to_owned();
        let lower = cookie.to_ascii_lowercase();
        assert!(lower.contains("httponly"), "{cookie}");
        let expires = cookie
            .split(';')
            .map(str::trim)
            .find_map(|attr| {
                attr.strip_prefix("expires=")
                    .or(attr.strip_prefix("Expires="))
            })
            .expect("an expiry");
        let expires = httpdate::parse_http_date(expires).expect("an HTTP date");
        let want = std::time::SystemTime::now() + std::time::Duration::from_secs(2 * 86400);
        let off = match want.duration_since(expires) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(off.as_secs() < 10, "{cookie}");
    });
}
