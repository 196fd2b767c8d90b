//! Port of `web_test.py::CookieTest` (every test), with the handlers of that class.
//! `test_set_cookie_deprecated` (mixed-case keyword arguments) has no Rust counterpart:
//! the options are a struct. `test_set_cookie_max_age_sanitized`: a non-integer max-age
//! cannot be expressed (`max_age` is a `u64`), so it is checked that a number is written as
//! a number.

mod support;

use support::{gen_test, get, serve};
use tornado_web::{Application, CookieOptions, Handler, HttpError, RequestHandler, Result};

struct Cookies;

impl RequestHandler for Cookies {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let path = h.request().path().to_owned();
        match path.as_str() {
            "/set" => {
                h.set_cookie("str", "asdf")?;
                h.set_cookie("unicode", "qwer")?;
                h.set_cookie("bytes", "zxcv")?;
            }
            "/get" => {
                let v = h.get_cookie("foo").unwrap_or("default").to_owned();
                h.write(v);
            }
            "/set_domain" => {
                let o = CookieOptions {
                    domain: Some("foo.com".into()),
                    path: Some("/foo".into()),
                    ..CookieOptions::default()
                };
                h.set_cookie_with("unicode_args", "blah", &o)?;
            }
            "/special_char" => {
                h.set_cookie("equals", "a=b")?;
                h.set_cookie("semicolon", "a;b")?;
                h.set_cookie("quote", "a\"b")?;
            }
            "/forbidden_char" => {
                for c in (0u8..0x20).chain([0x7f, b';']).map(char::from) {
                    if h.set_cookie(&format!("foo{c}"), "bar").is_ok() {
                        h.write(format!(
                            "Didn't get expected exception for char {c:?} in name\n"
                        ));
                    }
                    let attempts = [
                        (
                            "domain",
                            CookieOptions {
                                domain: Some(format!("example{c}.com")),
                                ..CookieOptions::default()
                            },
                        ),
                        (
                            "path",
                            CookieOptions {
                                path: Some(format!("/{c}")),
                                ..CookieOptions::default()
                            },
                        ),
                        (
                            "samesite",
                            CookieOptions {
                                samesite: Some(format!("a{c}")),
                                ..CookieOptions::default()
                            },
                        ),
                    ];
                    for (what, o) in attempts {
                        match h.set_cookie_with("foo", "bar", &o) {
                            Ok(()) => h.write(format!(
                                "Didn't get expected exception for char {c:?} in {what}\n"
                            )),
                            Err(e)
                                if !e
                                    .to_string()
                                    .contains(&format!("Invalid cookie attribute {what}")) =>
                            {
                                h.write(format!(
                                    "unexpected exception for char {c:?} in {what}: {e}\n"
                                ))
                            }
                            Err(_) => {}
                        }
                    }
                }
            }
            "/set_overwrite" => {
                let domain = CookieOptions {
                    domain: Some("example.com".into()),
                    ..CookieOptions::default()
                };
                h.set_cookie_with("a", "b", &domain)?;
                h.set_cookie_with("c", "d", &domain)?;
                h.set_cookie("a", "e")?;
            }
            "/set_max_age" => {
                let o = CookieOptions {
                    max_age: Some(10),
                    ..CookieOptions::default()
                };
                h.set_cookie_with("foo", "bar", &o)?;
            }
            "/set_expires_days" => {
                let o = CookieOptions {
                    expires_days: Some(10.0),
                    ..CookieOptions::default()
                };
                h.set_cookie_with("foo", "bar", &o)?;
            }
            "/set_falsy_flags" => {
                let flags = |secure, httponly| CookieOptions {
                    secure,
                    httponly,
                    ..CookieOptions::default()
                };
                h.set_cookie_with("a", "1", &flags(true, false))?;
                h.set_cookie_with("b", "1", &flags(false, false))?;
                h.set_cookie_with("c", "1", &flags(false, true))?;
                h.set_cookie_with("d", "1", &flags(false, false))?;
            }
            "/clear" => {
                h.clear_cookie("foo", &CookieOptions::default())?;
            }
            "/value_with_space" if h.set_cookie("foo", "a b").is_err() => {
                return Err(HttpError::new(400).into());
            }
            _ => {}
        }
        Ok(())
    }
}

fn with_app<F, Fut>(f: F)
where
    F: FnOnce(std::net::SocketAddr) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    gen_test(|| async move {
        let app = Application::builder()
            .route("/.*", || Cookies)
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        f(addr).await;
    });
}

fn set_cookies(r: &support::Response) -> Vec<String> {
    let mut v: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn test_set_cookie() {
    with_app(|addr| async move {
        let r = get(addr, "/set", "").await;
        assert_eq!(
            set_cookies(&r),
            [
                "bytes=zxcv; Path=/",
                "str=asdf; Path=/",
                "unicode=qwer; Path=/"
            ]
        );
    });
}

#[test]
fn test_get_cookie() {
    with_app(|addr| async move {
        assert_eq!(get(addr, "/get", "Cookie: foo=bar\r\n").await.text(), "bar");
        assert_eq!(
            get(addr, "/get", "Cookie: foo=\"bar\"\r\n").await.text(),
            "bar"
        );
        assert_eq!(
            get(addr, "/get", "Cookie: /=exception;\r\n").await.text(),
            "default"
        );
    });
}

#[test]
fn test_set_cookie_domain() {
    with_app(|addr| async move {
        let r = get(addr, "/set_domain", "").await;
        assert_eq!(
            set_cookies(&r),
            ["unicode_args=blah; Domain=foo.com; Path=/foo"]
        );
    });
}

#[test]
fn test_cookie_special_char() {
    with_app(|addr| async move {
        let r = get(addr, "/special_char", "").await;
        let headers = set_cookies(&r);
        assert_eq!(headers.len(), 3);
        assert_eq!(headers[0], "equals=\"a=b\"; Path=/");
        assert_eq!(headers[1], "quote=\"a\\\"b\"; Path=/");
        assert_eq!(headers[2], "semicolon=\"a\\073b\"; Path=/");
        let data = [
            ("foo=a=b", "a=b"),
            ("foo=\"a=b\"", "a=b"),
            ("foo=\"a;b\"", "\"a"),
            ("foo=a\\073b", "a\\073b"),
            ("foo=\"a\\073b\"", "a;b"),
            ("foo=\"a\\\"b\"", "a\"b"),
        ];
        for (header, expected) in data {
            let r = get(addr, "/get", &format!("Cookie: {header}\r\n")).await;
            assert_eq!(r.text(), expected, "{header}");
        }
    });
}

#[test]
fn test_set_cookie_forbidden_char() {
    with_app(|addr| async move {
        let r = get(addr, "/forbidden_char", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "");
    });
}

#[test]
fn test_set_cookie_overwrite() {
    with_app(|addr| async move {
        let r = get(addr, "/set_overwrite", "").await;
        assert_eq!(
            set_cookies(&r),
            ["a=e; Path=/", "c=d; Domain=example.com; Path=/"]
        );
    });
}

#[test]
fn test_set_cookie_max_age() {
    with_app(|addr| async move {
        let r = get(addr, "/set_max_age", "").await;
        assert_eq!(set_cookies(&r), ["foo=bar; Max-Age=10; Path=/"]);
    });
}

#[test]
fn test_set_cookie_expires_days() {
    with_app(|addr| async move {
        let r = get(addr, "/set_expires_days", "").await;
        let header = &set_cookies(&r)[0];
        let expires = header
            .strip_prefix("foo=bar; expires=")
            .and_then(|rest| rest.strip_suffix("; Path=/"))
            .expect(header);
        let when = httpdate::parse_http_date(expires).unwrap();
        let want = std::time::SystemTime::now() + std::time::Duration::from_secs(10 * 86_400);
        let diff = want.duration_since(when).unwrap_or_else(|e| e.duration());
        assert!(diff.as_secs() < 60, "{header}");
    });
}

#[test]
fn test_set_cookie_false_flags() {
    with_app(|addr| async move {
        let r = get(addr, "/set_falsy_flags", "").await;
        assert_eq!(
            set_cookies(&r),
            [
                "a=1; Path=/; Secure",
                "b=1; Path=/",
                "c=1; HttpOnly; Path=/",
                "d=1; Path=/"
            ]
        );
    });
}

#[test]
fn clear_cookie_expires_it() {
    with_app(|addr| async move {
        let r = get(addr, "/clear", "").await;
        let header = &set_cookies(&r)[0];
        assert!(header.starts_with("foo=\"\"; expires="), "{header}");
        assert!(header.ends_with("; Path=/"), "{header}");
    });
}

#[test]
fn cookie_values_with_spaces_are_refused() {
    with_app(|addr| async move {
        let r = get(addr, "/value_with_space", "").await;
        assert_eq!(r.status, 400);
        assert!(r.header("set-cookie").is_none());
    });
}
