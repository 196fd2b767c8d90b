//! Port of the argument-parsing tests of `tornado/test/httpserver_test.py`:
//! `HTTPServerTest` (`test_query_string_encoding`, `test_empty_query_string`,
//! `test_empty_post_parameters`, `test_types`, `test_double_slash`, `test_post_encodings`) and
//! `HTTPConnectionTest.test_multipart_form`.
//!
//! Tornado's handlers are `RequestHandler`s; there is no web framework yet, so the same
//! handlers are written as one [`HttpServer::from_fn`] callback that routes on the path and
//! answers with the JSON Tornado's handlers write. Two differences follow from the layer:
//!
//! - `test_types` checks Python types (`str` versus `bytes`), which Rust's signatures fix at
//!   compile time; the port annotates each field with its type and checks its value instead.
//! - `test_post_encodings`: decoding an argument's bytes (UTF-8, or GBK in
//!   `PostEchoGBKHandler.decode_argument`) is the web layer's `decode_argument`; the HTTP
//!   layer delivers bytes, so the port checks that the bytes delivered are the client's text
//!   in its encoding, after percent-decoding.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Method, StatusCode, Version};
use serde_json::{Map, Value, json};
use support::{fetch, gen_test, raw};
use tornado_httpserver::{HttpServer, HttpServerRequest};

/// The handlers of `HTTPServerTest` and `HTTPConnectionTest`, by path.
async fn app(req: HttpServerRequest) {
    match req.path() {
        "/echo" | "//doubleslash" => echo(&req),
        "/typecheck" => typecheck(&req),
        "/post_utf8" | "/post_gbk" => post_echo(&req),
        "/multipart" => multipart(&req),
        _ => {
            let _ = req.respond(StatusCode::NOT_FOUND, HeaderMap::new(), b"");
        }
    }
}

fn write_json(req: &HttpServerRequest, value: &Value) {
    let mut h = HeaderMap::new();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    let _ = req.respond(StatusCode::OK, h, value.to_string().as_bytes());
}

/// `EchoHandler`: `self.write(recursive_unicode(self.request.arguments))`. Bytes that are not
/// UTF-8 make `recursive_unicode` raise, hence a 500.
fn echo(req: &HttpServerRequest) {
    let mut out = Map::new();
    for (name, values) in req.arguments() {
        let mut list = Vec::new();
        for v in values {
            match std::str::from_utf8(v) {
                Ok(s) => list.push(Value::String(s.to_owned())),
                Err(_) => {
                    let _ = req.respond(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new(), b"");
                    return;
                }
            }
        }
        out.insert(name.clone(), Value::Array(list));
    }
    write_json(req, &Value::Object(out));
}

/// `TypeCheckHandler`: the fields a handler reads, with their types written out; the values
/// are checked where Tornado checks the types. Answers the map of errors (empty if none).
fn typecheck(req: &HttpServerRequest) {
    let mut errors = Map::new();
    let mut check = |name: &str, ok: bool, got: String| {
        if !ok {
            errors.insert(name.to_owned(), Value::String(got));
        }
    };
    let post = req.method() == Method::POST;
    let method: &Method = req.method();
    check(
        "method",
        method == if post { Method::POST } else { Method::GET },
        method.to_string(),
    );
    let uri: &str = req.uri();
    let want_uri = if post {
        "/typecheck"
    } else {
        "/typecheck?foo=bar"
    };
    check("uri", uri == want_uri, uri.to_owned());
    let version: Version = req.version();
    check(
        "version",
        version == Version::HTTP_11,
        format!("{version:?}"),
    );
    let remote_ip: IpAddr = req.remote_ip();
    check(
        "remote_ip",
        remote_ip == IpAddr::from([127, 0, 0, 1]),
        remote_ip.to_string(),
    );
    let protocol: &str = req.protocol();
    check("protocol", protocol == "http", protocol.to_owned());
    let host: &str = req.host();
    check("host", host == "127.0.0.1", host.to_owned());
    let path: &str = req.path();
    check("path", path == "/typecheck", path.to_owned());
    let query: &str = req.query();
    let want_query = if post { "" } else { "foo=bar" };
    check("query", query == want_query, query.to_owned());
    let first_header = req.headers().iter().next();
    check("header_key", first_header.is_some(), "no header".to_owned());
    let header_value: Option<&str> = first_header.and_then(|(_, v)| v.to_str().ok());
    check(
        "header_value",
        header_value.is_some(),
        format!("{first_header:?}"),
    );
    let cookie: Option<(&String, &String)> = req.cookies().iter().next();
    check(
        "cookie_key",
        cookie.is_some_and(|(k, _)| k == "foo"),
        format!("{cookie:?}"),
    );
    check(
        "cookie_value",
        cookie.is_some_and(|(_, v)| v == "bar"),
        format!("{cookie:?}"),
    );
    let arg: Option<(&String, &Vec<Vec<u8>>)> = req.arguments().iter().next();
    check(
        "arg_key",
        arg.is_some_and(|(k, _)| k == "foo"),
        format!("{arg:?}"),
    );
    let arg_value: Option<&Vec<u8>> = arg.and_then(|(_, v)| v.first());
    check(
        "arg_value",
        arg_value.is_some_and(|v| v == b"bar"),
        format!("{arg_value:?}"),
    );
    if post {
        let body: &bytes::Bytes = req.body();
        check("body", &body[..] == b"foo=bar", format!("{body:?}"));
    }
    write_json(req, &Value::Object(errors));
}

/// `PostEchoHandler` / `PostEchoGBKHandler`: `get_argument("data")` (its last value), as the
/// bytes the HTTP layer delivered.
fn post_echo(req: &HttpServerRequest) {
    match req.arguments().get("data").and_then(|v| v.last()) {
        Some(data) => {
            let _ = req.respond(StatusCode::OK, HeaderMap::new(), data);
        }
        None => {
            let _ = req.respond(StatusCode::BAD_REQUEST, HeaderMap::new(), b"");
        }
    }
}

/// `MultipartTestHandler`: headers are Latin-1 (as `HTTPHeaders` decodes them), the rest
/// UTF-8.
fn multipart(req: &HttpServerRequest) {
    let header: String = req
        .headers()
        .get("x-header-encoding-test")
        .map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
        .unwrap_or_default();
    let argument = req
        .arguments()
        .get("argument")
        .and_then(|v| v.last())
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let file = req.files().get("files").and_then(|f| f.first());
    write_json(
        req,
        &json!({
            "header": header,
            "argument": argument,
            "filename": file.map(|f| f.filename.clone()),
            "filebody": file.map(|f| String::from_utf8_lossy(&f.body).into_owned()),
        }),
    );
}

fn start() -> (Rc<dyn std::any::Any>, SocketAddr) {
    let server = HttpServer::from_fn(app);
    let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
    (Rc::new(server), addr)
}

fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(body)))
}

// HTTPServerTest

#[test]
fn test_query_string_encoding() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = fetch(addr, "GET", "/echo?foo=%C3%A9", &[], None).await;
        assert_eq!(json_body(&r.body), json!({"foo": ["\u{e9}"]}));
    });
}

#[test]
fn test_empty_query_string() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = fetch(addr, "GET", "/echo?foo=&foo=", &[], None).await;
        assert_eq!(json_body(&r.body), json!({"foo": ["", ""]}));
    });
}

#[test]
fn test_empty_post_parameters() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = fetch(addr, "POST", "/echo", &[], Some(b"foo=&bar=")).await;
        assert_eq!(json_body(&r.body), json!({"foo": [""], "bar": [""]}));
    });
}

#[test]
fn test_types() {
    gen_test(|| async {
        let (_s, addr) = start();
        let headers = [("Cookie", "foo=bar")];
        let r = fetch(addr, "GET", "/typecheck?foo=bar", &headers, None).await;
        assert_eq!(json_body(&r.body), json!({}));
        let r = fetch(addr, "POST", "/typecheck", &headers, Some(b"foo=bar")).await;
        assert_eq!(json_body(&r.body), json!({}));
    });
}

#[test]
fn test_double_slash() {
    // A path that starts with "//" is a path, not a protocol-relative URL.
    gen_test(|| async {
        let (_s, addr) = start();
        let r = fetch(addr, "GET", "//doubleslash", &[], None).await;
        assert_eq!(r.status, 200);
        assert_eq!(json_body(&r.body), json!({}));
    });
}

#[test]
fn test_post_encodings() {
    gen_test(|| async {
        let (_s, addr) = start();
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        let uni_text = "chinese: \u{5f20}\u{4e09}";
        // `uni_text.encode(enc)`, and `urllib.parse.quote` of it.
        let cases: [(&str, &[u8], &str); 2] = [
            (
                "utf8",
                uni_text.as_bytes(),
                "chinese%3A%20%E5%BC%A0%E4%B8%89",
            ),
            (
                "gbk",
                b"chinese: \xd5\xc5\xc8\xfd",
                "chinese%3A%20%D5%C5%C8%FD",
            ),
        ];
        for (enc, bin_text, quoted) in cases {
            for quote in [true, false] {
                let mut body = b"data=".to_vec();
                if quote {
                    body.extend_from_slice(quoted.as_bytes());
                } else {
                    body.extend_from_slice(bin_text);
                }
                let r = fetch(addr, "POST", &format!("/post_{enc}"), &headers, Some(&body)).await;
                assert_eq!(r.status, 200, "enc={enc} quote={quote}");
                assert_eq!(&r.body[..], bin_text, "enc={enc} quote={quote}");
                if enc == "utf8" {
                    assert_eq!(std::str::from_utf8(&r.body).unwrap(), uni_text);
                }
            }
        }
    });
}

// HTTPConnectionTest

#[test]
fn test_multipart_form() {
    // Encodings here are tricky: headers are Latin-1, bodies can be anything (UTF-8 here).
    // As in Tornado's test, the body has no boundary line before its first part.
    gen_test(|| async {
        let (_s, addr) = start();
        let body = [
            &b"Content-Disposition: form-data; name=argument"[..],
            b"",
            "\u{e1}".as_bytes(),
            b"--1234567890",
            "Content-Disposition: form-data; name=\"files\"; filename=\"\u{f3}\"".as_bytes(),
            b"",
            "\u{fa}".as_bytes(),
            b"--1234567890--",
            b"",
        ]
        .join(&b"\r\n"[..]);
        let mut req = [
            &b"POST /multipart HTTP/1.0"[..],
            b"Content-Type: multipart/form-data; boundary=1234567890",
            b"X-Header-encoding-test: \xe9",
        ]
        .join(&b"\r\n"[..]);
        req.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
        req.extend_from_slice(&body);
        let r = raw(addr, &req).await.unwrap();
        let data = json_body(&r.body);
        assert_eq!(data["header"], "\u{e9}");
        assert_eq!(data["argument"], "\u{e1}");
        assert_eq!(data["filename"], "\u{f3}");
        assert_eq!(data["filebody"], "\u{fa}");
    });
}
