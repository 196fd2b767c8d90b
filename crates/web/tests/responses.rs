//! Port of the response-shaping classes of `web_test.py`: `ClearHeaderTest`,
//! `Header204Test`, `Header204viaHTTPErrorTest`, `Header304Test`, `StatusReasonTest`,
//! `DateHeaderTest` and `RaiseWithReasonTest`. Tornado's client reports the reason phrase; here the raw client
//! reads it from the status line.

mod support;

use std::net::SocketAddr;

use support::{Response, get, with_served};
use tornado_web::{Application, Handler, HttpError, RequestHandler, Result};

/// `ClearHeaderTest.Handler`
struct ClearHeader;

impl RequestHandler for ClearHeader {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_header("h1", "foo")?;
        h.set_header("h2", "bar")?;
        h.clear_header("h1");
        h.clear_header("nonexistent");
        // Multi-valued headers, added with add_header, clear as a whole.
        h.add_header("Set-Cookie", "a=b")?;
        h.add_header("Set-Cookie", "c=d")?;
        h.clear_header("Set-Cookie");
        Ok(())
    }
}

/// `Header204Test.Handler`
struct NoContent;

impl RequestHandler for NoContent {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_status(204);
        h.finish()
    }
}

/// `Header204viaHTTPErrorTest.Handler`
struct NoContentError;

impl RequestHandler for NoContentError {
    async fn get(&mut self, _h: &mut Handler) -> Result {
        Err(HttpError::new(204).into())
    }
}

/// `Header304Test.Handler`
struct English;

impl RequestHandler for English {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_header("Content-Language", "en_US")?;
        h.write("hello");
        Ok(())
    }
}

/// `StatusReasonTest.Handler`
struct StatusReason;

impl RequestHandler for StatusReason {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let code: u16 = h
            .get_argument("code")?
            .parse()
            .map_err(|_| HttpError::new(400))?;
        // The raw argument, as `self.request.arguments` has it (not stripped).
        let reason = h
            .request()
            .query_arguments()
            .get("reason")
            .and_then(|v| v.first().map(|r| String::from_utf8_lossy(r).into_owned()));
        let mut e = HttpError::new(code);
        if let Some(r) = reason {
            e = e.with_reason(r);
        }
        Err(e.into())
    }
}

/// `RaiseWithReasonTest.Handler`
struct RaiseWithReason;

impl RequestHandler for RaiseWithReason {
    async fn get(&mut self, _h: &mut Handler) -> Result {
        Err(HttpError::new(682).with_reason("Foo").into())
    }
}

fn app() -> Application {
    Application::builder()
        .route("/clear", || ClearHeader)
        .route("/204", || NoContent)
        .route("/204_error", || NoContentError)
        .route("/304", || English)
        .route("/status", || StatusReason)
        .route("/raise", || RaiseWithReason)
        .build()
        .unwrap()
}

#[test]
fn test_clear_header() {
    with_served(app(), |a| async move {
        let r = get(a, "/clear", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("h1"), None);
        assert_eq!(r.header("h2"), Some("bar"));
        assert_eq!(r.header("Set-Cookie"), None);
    });
}

#[test]
fn test_204_headers() {
    with_served(app(), |a| async move {
        let r = get(a, "/204", "").await;
        assert_eq!(r.status, 204);
        assert_eq!(r.header("Content-Length"), None);
        assert_eq!(r.header("Transfer-Encoding"), None);
    });
}

/// `Header204viaHTTPErrorTest`
#[test]
fn test_204_headers_via_httperror() {
    with_served(app(), |a| async move {
        let r = get(a, "/204_error", "").await;
        assert_eq!(r.status, 204);
        assert_eq!(r.header("Content-Length"), None);
        assert_eq!(r.header("Transfer-Encoding"), None);
        assert!(r.body.is_empty());
    });
}

#[test]
fn test_304_headers() {
    with_served(app(), |a| async move {
        let first = get(a, "/304", "").await;
        assert_eq!(first.header("Content-Length"), Some("5"));
        assert_eq!(first.header("Content-Language"), Some("en_US"));
        let etag = first.header("Etag").expect("an ETag").to_owned();
        let second = get(a, "/304", &format!("If-None-Match: {etag}\r\n")).await;
        assert_eq!(second.status, 304);
        assert_eq!(second.header("Content-Length"), None);
        assert_eq!(second.header("Content-Language"), None);
        // Not an entity header, but chunking must not add it to a 304.
        assert_eq!(second.header("Transfer-Encoding"), None);
    });
}

async fn status(a: SocketAddr, query: &str) -> Response {
    get(a, &format!("/status?{query}"), "").await
}

#[test]
fn test_status() {
    with_served(app(), |a| async move {
        let r = status(a, "code=304").await;
        assert_eq!((r.status, r.reason.as_str()), (304, "Not Modified"));
        let r = status(a, "code=304&reason=Foo").await;
        assert_eq!((r.status, r.reason.as_str()), (304, "Foo"));
        let r = status(a, "code=682&reason=Bar").await;
        assert_eq!((r.status, r.reason.as_str()), (682, "Bar"));
        let r = status(a, "code=682").await;
        assert_eq!((r.status, r.reason.as_str()), (682, "Unknown"));
    });
}

#[test]
fn test_header_injection() {
    with_served(app(), |a| async move {
        let r = status(a, "code=200&reason=OK%0D%0AX-Injection:injected").await;
        assert_eq!((r.status, r.reason.as_str()), (200, "Unknown"));
        assert_eq!(r.header("X-Injection"), None);
    });
}

#[test]
fn test_reason_xss() {
    with_served(app(), |a| async move {
        let r = status(a, "code=400&reason=<script>alert(1)</script>").await;
        assert_eq!((r.status, r.reason.as_str()), (400, "Unknown"));
        assert!(!r.text().contains("script"), "{}", r.text());
        assert!(r.text().contains("Unknown"), "{}", r.text());
    });
}

#[test]
fn test_date_header() {
    with_served(app(), |a| async move {
        let r = get(a, "/304", "").await;
        let date = httpdate::parse_http_date(r.header("Date").expect("a Date")).unwrap();
        let skew = match date.duration_since(std::time::SystemTime::now()) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        assert!(skew < std::time::Duration::from_secs(2), "{skew:?}");
    });
}

#[test]
fn test_raise_with_reason() {
    with_served(app(), |a| async move {
        let r = get(a, "/raise", "").await;
        assert_eq!((r.status, r.reason.as_str()), (682, "Foo"));
        assert!(r.text().contains("682: Foo"), "{}", r.text());
    });
}

#[test]
fn test_httperror_str() {
    assert_eq!(
        HttpError::new(682).with_reason("Foo").to_string(),
        "HTTP 682: Foo"
    );
}

#[test]
fn test_httperror_str_from_httputil() {
    assert_eq!(HttpError::new(682).to_string(), "HTTP 682: Unknown");
}
