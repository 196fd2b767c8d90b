//! Tests of what this crate adds to the writing of responses, which Tornado's
//! `HTTP1Connection` does not have (its web layer does these): `HttpConnection::write_response`
//! (a whole response with its `Content-Length`), the automatic `Date` header, and the header
//! map pool (`header_map` / `recycle_header_map`). No Tornado test is ported here; the rules
//! checked are those of RFC 9110 (§8.6 `Content-Length`, §6.6.1 `Date`, §5.6.7 IMF-fixdate)
//! and of Tornado's `RequestHandler.finish` (a `Content-Length` for a finished body, none for
//! 1xx, 204 and 304).

mod support;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use http::header::{CONTENT_LENGTH, DATE, HeaderMap, HeaderValue};
use support::{RawResponse, connect, gen_test, raw, read_response};
use tornado_httpserver::httputil::{ResponseStartLine, is_http_output_error};
use tornado_httpserver::{
    HttpServer, HttpServerRequest, header_map, http_date, recycle_header_map,
};

/// A date set by the application, to see that it is kept.
const APP_DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

async fn app(req: HttpServerRequest) {
    let c = req.connection();
    let mut h = HeaderMap::new();
    match req.path() {
        "/with_length" => {
            h.insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
            c.write_response(&ResponseStartLine::new(StatusCode::OK), h, b"hello")
                .unwrap();
        }
        "/no_content" | "/not_modified" => {
            let code = if req.path() == "/no_content" {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::NOT_MODIFIED
            };
            // A body is refused for these codes, and nothing is written then...
            let e = c
                .write_response(&ResponseStartLine::new(code), HeaderMap::new(), b"x")
                .unwrap_err();
            assert!(is_http_output_error(&e), "{e:?}");
            // ...so the response can still be written, without one.
            c.write_response(&ResponseStartLine::new(code), h, b"")
                .unwrap();
        }
        "/app_date" => {
            h.insert(DATE, HeaderValue::from_static(APP_DATE));
            c.write_response(&ResponseStartLine::new(StatusCode::OK), h, b"hello")
                .unwrap();
        }
        "/streamed" => {
            // write_headers: no length known, so chunked (and a Date all the same).
            c.write_headers(&ResponseStartLine::new(StatusCode::OK), h, Some(b"hel"))
                .unwrap();
            c.write_buffered(b"lo").unwrap();
            c.finish().unwrap();
        }
        _ => {
            c.write_response(&ResponseStartLine::new(StatusCode::OK), h, b"hello")
                .unwrap();
        }
    }
}

fn start() -> (Rc<dyn std::any::Any>, SocketAddr) {
    let server = HttpServer::from_fn(app);
    let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
    (Rc::new(server), addr)
}

fn values<'a>(r: &'a RawResponse, name: &str) -> Vec<&'a str> {
    r.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw(addr, req.as_bytes()).await.expect("a response")
}

// write_response

#[test]
fn write_response_adds_content_length() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = get(addr, "/").await;
        assert_eq!(values(&r, "content-length"), ["5"]);
        assert!(r.header("transfer-encoding").is_none());
        assert_eq!(&r.body[..], b"hello");
        // HTTP/1.0 too: with a length, the connection can stay open when asked.
        let stream = connect(addr).await;
        for _ in 0..2 {
            stream.write(&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]);
            let r = read_response(&stream, false).await.unwrap();
            assert_eq!(values(&r, "content-length"), ["5"]);
            assert_eq!(r.header("connection"), Some("Keep-Alive"));
        }
    });
}

#[test]
fn write_response_keeps_the_applications_content_length() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = get(addr, "/with_length").await;
        assert_eq!(values(&r, "content-length"), ["5"]);
        assert_eq!(&r.body[..], b"hello");
    });
}

#[test]
fn write_response_to_head_has_the_length_but_no_body() {
    // Pipelined HEAD then GET: the second response starts right after the first's head, so
    // the HEAD response carried no body bytes.
    gen_test(|| async {
        let (_s, addr) = start();
        let stream = connect(addr).await;
        stream.write(
            &b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /streamed HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        );
        let head = read_response(&stream, true).await.unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(values(&head, "content-length"), ["5"]);
        let next = read_response(&stream, false).await.unwrap();
        assert_eq!(next.status_line, "HTTP/1.1 200 OK");
        assert_eq!(&next.body[..], b"hello");
    });
}

#[test]
fn write_response_204_and_304_have_no_length_and_no_body() {
    gen_test(|| async {
        let (_s, addr) = start();
        for (path, code) in [("/no_content", 204), ("/not_modified", 304)] {
            let stream = connect(addr).await;
            let req =
                format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
            stream.write(req.into_bytes());
            let r = read_response(&stream, false).await.unwrap();
            assert_eq!(r.status, code);
            assert!(r.header("content-length").is_none(), "{path}: {r:?}");
            assert!(r.header("transfer-encoding").is_none(), "{path}: {r:?}");
            // No body bytes: the next response follows at once.
            let next = read_response(&stream, false).await.unwrap();
            assert_eq!(next.status_line, "HTTP/1.1 200 OK", "{path}");
            assert_eq!(&next.body[..], b"hello");
        }
    });
}

// The Date header

/// An IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`, and a real one.
fn assert_imf_fixdate(s: &str) {
    let b = s.as_bytes();
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(
        b.len() == 29
            && days.contains(&&s[0..3])
            && &s[3..5] == ", "
            && digits(5..7)
            && b[7] == b' '
            && months.contains(&&s[8..11])
            && b[11] == b' '
            && digits(12..16)
            && b[16] == b' '
            && digits(17..19)
            && b[19] == b':'
            && digits(20..22)
            && b[22] == b':'
            && digits(23..25)
            && &s[25..] == " GMT",
        "not an IMF-fixdate: {s:?}"
    );
    let t = httpdate::parse_http_date(s).unwrap();
    // Formatting the time again gives the same text: the day name agrees with the date.
    assert_eq!(httpdate::fmt_http_date(t), s);
}

/// The server's clock and the test's are the same; a day's margin keeps this from being a
/// timing assertion.
fn assert_near_now(s: &str) {
    let t = httpdate::parse_http_date(s).unwrap();
    let now = SystemTime::now();
    let day = Duration::from_secs(86400);
    assert!(t > now - day && t < now + day, "{s:?}");
}

#[test]
fn date_header_is_added() {
    gen_test(|| async {
        let (_s, addr) = start();
        for path in ["/", "/streamed", "/no_content"] {
            let r = get(addr, path).await;
            let dates = values(&r, "date");
            assert_eq!(dates.len(), 1, "{path}: {r:?}");
            assert_imf_fixdate(dates[0]);
            assert_near_now(dates[0]);
        }
    });
}

#[test]
fn date_header_set_by_the_application_is_not_duplicated() {
    gen_test(|| async {
        let (_s, addr) = start();
        let r = get(addr, "/app_date").await;
        assert_eq!(values(&r, "date"), [APP_DATE]);
    });
}

#[test]
fn http_date_is_an_imf_fixdate() {
    let v = http_date();
    let s = v.to_str().unwrap();
    assert_imf_fixdate(s);
    assert_near_now(s);
}

// header_map / recycle_header_map

#[test]
fn recycled_header_map_comes_back_empty() {
    // Each test runs on its own thread, whose pool starts empty.
    let mut map = HeaderMap::with_capacity(20);
    map.insert("x-one", HeaderValue::from_static("1"));
    map.append("x-one", HeaderValue::from_static("2"));
    map.insert("x-two", HeaderValue::from_static("2"));
    let capacity = map.capacity();
    recycle_header_map(map);
    let again = header_map();
    assert!(again.is_empty());
    assert_eq!(again.get("x-one"), None);
    // It is the same allocation, not a new map.
    assert_eq!(again.capacity(), capacity);
    // The pool is now empty again: a new map has no allocation.
    assert_eq!(header_map().capacity(), 0);
}

#[test]
fn written_response_headers_are_recycled() {
    // write_headers / write_response give the map back to the pool once written: the
    // application's next header_map() is that map, empty.
    gen_test(|| async {
        let seen: Rc<RefCell<Option<(usize, usize, bool)>>> = Rc::default();
        let record = seen.clone();
        let server = HttpServer::from_fn(move |req: HttpServerRequest| {
            let record = record.clone();
            async move {
                let mut h = header_map();
                h.reserve(20);
                h.insert("x-test", HeaderValue::from_static("1"));
                let capacity = h.capacity();
                let _ = req.respond(StatusCode::OK, h, b"hello");
                let again = header_map();
                *record.borrow_mut() = Some((capacity, again.capacity(), again.is_empty()));
            }
        });
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let r = get(addr, "/").await;
        assert_eq!(r.header("x-test"), Some("1"));
        let (capacity, again, empty) = seen.borrow().expect("the handler ran");
        assert!(capacity > 0);
        assert_eq!(again, capacity);
        assert!(empty);
    });
}
