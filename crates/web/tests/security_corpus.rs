//! Replays Tornado 6.6.1's `security_corpus_test.py` (`SecurityCorpusTest`): raw requests
//! against the corpus's handlers, each with the status it must get, bytes that must not
//! appear in the response, and a budget of log records (none on `application`, which would
//! mean an unhandled error; at most two on `general`).
//!
//! The static-file cases (4.2.1, 6.3.2, 6.6.0) are in `static_file.rs`, beside the handler's
//! fixtures; 4.0.0 (a cross-origin WebSocket) waits for the WebSocket crate.
//!
//! `test_scaling`: the three inputs are sent here at Tornado's larger size and must be
//! answered; the linear-time checks themselves (Tornado's `assert_linear_scaling`, on the
//! parsers behind the cookie and Content-Disposition cases) are in
//! `crates/httpserver/tests/httputil.rs` (`security_corpus_test::test_scaling`).

mod support;

use support::gen_test;
use tornado_httpserver::HttpServerSettings;
use tornado_iostream::IoStream;
use tornado_log::ExpectLog;
use tornado_web::{Application, CookieOptions, Error, Handler, HttpError, RequestHandler, Result};

fn request(method: &str, target: &str, headers: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n");
    if let Some(b) = body {
        if !headers.contains("Transfer-Encoding") {
            head.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
    }
    // Latin-1, as the corpus encodes its requests.
    let mut out: Vec<u8> = head
        .chars()
        .chain(headers.chars())
        .chain("\r\n".chars())
        .map(|c| c as u32 as u8)
        .collect();
    out.extend_from_slice(body.unwrap_or_default());
    out
}

fn post(content_type: &str, body: &[u8]) -> Vec<u8> {
    request(
        "POST",
        "/echo",
        &format!("Content-Type: {content_type}\r\n"),
        Some(body),
    )
}

fn multipart(parts: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(b"--1234\r\n");
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--1234--\r\n");
    post("multipart/form-data; boundary=1234", &body)
}

const PART: &[u8] = b"Content-Disposition: form-data; name=\"a\"\r\n\r\nb";

struct Echo;

impl RequestHandler for Echo {
    async fn get(&mut self, h: &mut Handler) -> Result {
        self.post(h).await
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        let r = h.request();
        let counts = serde_json::json!({
            "cookies": r.cookies().len(),
            "arguments": r.arguments().len(),
            "files": r.files().len(),
        });
        h.write_json(&counts)
    }
}

struct Status;

impl RequestHandler for Status {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let code: u16 = h
            .get_argument("code")?
            .parse()
            .map_err(|_| HttpError::new(400))?;
        let reason = h.get_argument("reason")?;
        h.set_status_reason(code, Some(reason.clone()));
        if h.get_status() >= 400 {
            let e = Error::Http(HttpError::new(code).with_reason(reason));
            self.send_error(h, code, Some(&e)).await;
        } else {
            h.write("ok");
        }
        Ok(())
    }
}

struct Cookie;

impl RequestHandler for Cookie {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let options = CookieOptions {
            domain: h.get_arguments("domain")?.pop(),
            path: Some(h.get_argument_or("path", "/")?),
            samesite: h.get_arguments("samesite")?.pop(),
            ..CookieOptions::default()
        };
        if h.set_cookie_with("a", "b", &options).is_err() {
            self.send_error(h, 400, None).await;
        }
        Ok(())
    }
}

struct Header;

impl RequestHandler for Header {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let value = h.get_argument("value")?;
        if h.set_header("X-Test", value.as_str()).is_err() {
            self.send_error(h, 400, None).await;
        }
        Ok(())
    }
}

struct Redirect;

impl RequestHandler for Redirect {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let url = h.get_argument("url")?;
        if h.redirect(&url, false).is_err() {
            self.send_error(h, 400, None).await;
        }
        Ok(())
    }
}

struct Xsrf;

impl RequestHandler for Xsrf {
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

struct Signed;

impl RequestHandler for Signed {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let name = h.get_argument("name")?;
        if h.get_signed_cookie(&name).is_none() {
            self.send_error(h, 403, None).await;
        } else {
            h.write("ok");
        }
        Ok(())
    }
}

const COOKIE_SECRET: &str = "secret";

fn xsrf_app() -> Application {
    Application::builder()
        .route("/xsrf", || Xsrf)
        .route("/signed", || Signed)
        .settings(tornado_web::Settings {
            xsrf_cookies: true,
            cookie_secret: Some(tornado_web::CookieSecret::new(COOKIE_SECRET)),
            ..tornado_web::Settings::default()
        })
        .build()
        .unwrap()
}

/// A signed cookie for the name "a", and the same bytes split so that the start of the
/// value moves into the name (the 3.2.1 forgery).
fn forged_cookie() -> (String, String) {
    let signed = tornado_web::signed_value::create_signed_value(
        &tornado_web::CookieSecret::new(COOKIE_SECRET),
        "a",
        b"AAAABBBB",
        2,
        tornado_web::signed_value::now(),
    )
    .unwrap();
    (format!("a{}", &signed[..4]), signed[4..].to_owned())
}

fn xsrf_cases() -> Vec<Case> {
    let (forged_name, forged_value) = forged_cookie();
    vec![
        case(
            "1.1.1",
            "xsrf exemption for XMLHttpRequest",
            request(
                "POST",
                "/xsrf",
                "X-Requested-With: XMLHttpRequest\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                Some(b"a=b"),
            ),
            403,
        ),
        case(
            "3.2.1",
            "signed cookie moved to another name",
            request(
                "GET",
                &format!("/signed?name={forged_name}"),
                &format!("Cookie: {forged_name}={forged_value}\r\n"),
                None,
            ),
            403,
        ),
        case(
            "4.4.2",
            "cookie injected by another cookie's value",
            request(
                "POST",
                "/xsrf",
                "Cookie: a=b]_xsrf=injected\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                Some(b"_xsrf=injected"),
            ),
            403,
        ),
    ]
}

fn app() -> Application {
    Application::builder()
        .route("/echo", || Echo)
        .route("/status", || Status)
        .route("/cookie", || Cookie)
        .route("/header", || Header)
        .route("/redirect", || Redirect)
        .build()
        .unwrap()
}

/// Sends `data` on a new connection; the response (head and body), or nothing if the
/// server closed without answering.
async fn send(addr: std::net::SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let stream = IoStream::connect(addr).await.unwrap();
    stream.write(data);
    let Ok(head) = stream.read_until(b"\r\n\r\n", Some(1 << 20)).await else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let body = match length {
        Some(n) => stream.read_bytes(n, false).await.unwrap_or_default(),
        None => stream.read_until_close().await.unwrap_or_default(),
    };
    let mut out = head.to_vec();
    out.extend_from_slice(&body);
    out
}

struct Case {
    advisory: &'static str,
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    forbidden: Option<&'static str>,
}

fn case(advisory: &'static str, name: &'static str, request: Vec<u8>, status: u16) -> Case {
    Case {
        advisory,
        name,
        request,
        status,
        forbidden: None,
    }
}

fn forbidding(mut c: Case, bytes: &'static str) -> Case {
    c.forbidden = Some(bytes);
    c
}

fn cases() -> Vec<Case> {
    let cl = |value: &str, rest: &[u8]| {
        let mut r = request(
            "POST",
            "/echo",
            &format!("Content-Length: {value}\r\n"),
            None,
        );
        r.extend_from_slice(rest);
        r
    };
    let chunked = |headers: &str, body: &[u8]| request("POST", "/echo", headers, Some(body));
    let te = "Transfer-Encoding: chunked\r\n";
    vec![
        forbidding(
            case(
                "2.2.1",
                "set_header injection",
                request(
                    "GET",
                    "/header?value=a%0D%0AX-Injection:%20injected",
                    "",
                    None,
                ),
                400,
            ),
            "X-Injection",
        ),
        forbidding(
            case(
                "2.2.1",
                "redirect header injection",
                request(
                    "GET",
                    "/redirect?url=/a%0D%0AX-Injection:%20injected",
                    "",
                    None,
                ),
                400,
            ),
            "X-Injection",
        ),
        case("6.3.3", "content-length plus sign", cl("+1", b"x"), 400),
        case(
            "6.3.3",
            "content-length underscore",
            cl("1_0", &[b'x'; 10]),
            400,
        ),
        case("6.3.3", "content-length not a number", cl("foo", b""), 400),
        case(
            "6.3.3",
            "chunk size underscore",
            chunked(
                te,
                &[b"1_a\r\n".as_slice(), &[b'x'; 26], b"\r\n0\r\n\r\n"].concat(),
            ),
            400,
        ),
        case(
            "6.3.3",
            "chunk size hex prefix",
            chunked(te, b"0x2\r\nok\r\n0\r\n\r\n"),
            400,
        ),
        case(
            "6.3.3",
            "chunk size sign",
            chunked(te, b"+2\r\nok\r\n0\r\n\r\n"),
            400,
        ),
        case(
            "6.4.1",
            "transfer-encoding gzip, chunked",
            chunked(
                "Transfer-Encoding: gzip, chunked\r\n",
                b"2\r\nok\r\n0\r\n\r\n",
            ),
            400,
        ),
        case(
            "6.4.1",
            "transfer-encoding repeated",
            chunked(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                b"2\r\nok\r\n0\r\n\r\n",
            ),
            400,
        ),
        case(
            "6.4.1",
            "transfer-encoding and content-length",
            chunked(
                "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n",
                b"2\r\nok\r\n0\r\n\r\n",
            ),
            400,
        ),
        case(
            "6.4.1",
            "transfer-encoding with no-break space",
            chunked(
                "Transfer-Encoding: \u{a0}chunked\r\n",
                b"2\r\nok\r\n0\r\n\r\n",
            ),
            400,
        ),
        case(
            "6.4.1",
            "content-length with no-break space",
            cl("2\u{a0}", b"ok"),
            400,
        ),
        case(
            "6.5.0 CVE-2025-47287",
            "malformed multipart parts",
            multipart(&[b"Content-Disposition: invalid; name=\"a\"\r\n\r\nb".as_slice(); 50]),
            400,
        ),
        case(
            "6.5.0 CVE-2025-47287",
            "multipart part without headers",
            multipart(&[b"b".as_slice(); 50]),
            400,
        ),
        forbidding(
            case(
                "6.5.3 CVE-2025-67724",
                "reason header injection",
                request(
                    "GET",
                    "/status?code=200&reason=OK%0D%0AX-Injection:injected",
                    "",
                    None,
                ),
                200,
            ),
            "X-Injection",
        ),
        forbidding(
            case(
                "6.5.3 CVE-2025-67724",
                "reason xss",
                request(
                    "GET",
                    "/status?code=400&reason=<script>alert(1)</script>",
                    "",
                    None,
                ),
                400,
            ),
            "<script>",
        ),
        case(
            "6.5.5",
            "too many multipart parts",
            multipart(&[PART; 150]),
            400,
        ),
        forbidding(
            case(
                "6.5.5",
                "cookie domain injection",
                request("GET", "/cookie?domain=example.com;%20HttpOnly", "", None),
                400,
            ),
            "HttpOnly",
        ),
        forbidding(
            case(
                "6.5.5",
                "cookie path injection",
                request("GET", "/cookie?path=/;Secure", "", None),
                400,
            ),
            "Secure",
        ),
        forbidding(
            case(
                "6.5.5",
                "cookie samesite injection",
                request("GET", "/cookie?samesite=Lax;Partitioned", "", None),
                400,
            ),
            "Partitioned",
        ),
        case(
            "6.5.5",
            "multipart header with bare CR",
            multipart(&[
                b"Content-Disposition: form-data; name=\"f\"; filename=\"a\rb.txt\"\r\n\r\nb"
                    .as_slice(),
            ]),
            400,
        ),
        case(
            "6.5.8",
            "too many urlencoded arguments",
            post(
                "application/x-www-form-urlencoded",
                &vec![b"a=b".as_slice(); 1001].join(&b'&'),
            ),
            400,
        ),
        case(
            "6.5.9",
            "too many query arguments",
            request(
                "GET",
                &format!("/echo?{}", vec!["a=b"; 1001].join("&")),
                "",
                None,
            ),
            400,
        ),
    ]
}

#[test]
fn test_cases() {
    gen_test(|| async {
        let app = app();
        let (_server, addr) = support::serve(&app);
        let xsrf = xsrf_app();
        let (_xsrf_server, xsrf_addr) = support::serve(&xsrf);
        let all = cases()
            .into_iter()
            .map(|c| (addr, c))
            .chain(xsrf_cases().into_iter().map(|c| (xsrf_addr, c)));
        for (addr, c) in all {
            let access = ExpectLog::new("access", "").required(false);
            let general = ExpectLog::new("general", "").required(false);
            let application = ExpectLog::new("application", "").required(false);
            let response = send(addr, c.request).await;
            let label = format!("{}: {}", c.advisory, c.name);
            let status_line =
                String::from_utf8_lossy(response.split(|&b| b == b'\r').next().unwrap_or_default())
                    .into_owned();
            assert!(
                status_line.starts_with(&format!("HTTP/1.1 {} ", c.status)),
                "{label}: {status_line:?}"
            );
            if let Some(f) = c.forbidden {
                assert!(
                    !response.windows(f.len()).any(|w| w == f.as_bytes()),
                    "{label}: {f:?} in {:?}",
                    String::from_utf8_lossy(&response)
                );
            }
            assert_eq!(
                application.matched(),
                0,
                "{label}: an unhandled error was logged"
            );
            assert!(
                general.matched() <= 2,
                "{label}: {} log records",
                general.matched()
            );
            drop(access);
        }
    });
}

#[test]
fn test_xsrf_token_masked() {
    // 3.2.2: the token in a page is masked differently on each request (BREACH).
    gen_test(|| async {
        let app = xsrf_app();
        let (_server, addr) = support::serve(&app);
        let _logs = ExpectLog::new("access", "").required(false);
        let cookie = "Cookie: _xsrf=0123456789abcdef0123456789abcdef\r\n";
        let mut bodies = Vec::new();
        for _ in 0..2 {
            let response = send(addr, request("GET", "/xsrf", cookie, None)).await;
            let text = String::from_utf8_lossy(&response).into_owned();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
            assert!(!body.contains("0123456789abcdef"), "{body}");
            bodies.push(body.to_owned());
        }
        assert_ne!(bodies[0], bodies[1]);
    });
}

#[test]
fn test_scaling() {
    // The three inputs of the corpus's scaling checks, at their larger size, are answered.
    gen_test(|| async {
        let app = app();
        let (_server, addr) = support::serve(&app);
        let large = app
            .listen_with(
                0,
                Some("127.0.0.1"),
                HttpServerSettings::new().max_header_size(1 << 20),
            )
            .unwrap();
        let large_addr = large.local_addrs()[0];
        let _logs = ExpectLog::new("access", "").required(false);
        let cookie = format!("Cookie: a=\"b={}\"\r\n", "\\\\".repeat(10_000));
        let r = send(addr, request("GET", "/echo", &cookie, None)).await;
        assert!(r.starts_with(b"HTTP/1.1 200 "), "cookie backslashes");
        let r = send(
            large_addr,
            request("GET", "/echo", &"X: a\r\n".repeat(100_000), None),
        )
        .await;
        assert!(r.starts_with(b"HTTP/1.1 200 "), "repeated header");
        let part = [
            b"Content-Disposition: form-data; x=\"".as_slice(),
            &[b';'; 10_000],
            b"\"; name=\"a\"\r\n\r\nb",
        ]
        .concat();
        let r = send(addr, multipart(&[&part])).await;
        assert!(
            r.starts_with(b"HTTP/1.1 "),
            "content-disposition semicolons"
        );
    });
}
