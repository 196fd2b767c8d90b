//! Port of `web_test.py`'s method and early-exit classes: `UnimplementedHTTPMethodsTest`,
//! `UnimplementedNonStandardMethodsTest`, `AllHTTPMethodsTest`, `PatchMethodTest`,
//! `FinishExceptionTest` and `GetArgumentErrorTest`.
//!
//! `Finish` carries no chunk here (Tornado's `raise Finish(chunk)` finishes with it): the
//! handler writes the chunk, then returns `Finish`. `MissingArgumentError.arg_name` has no
//! field of its own: the name is in the error's log message.

mod support;

use std::net::SocketAddr;

use http::Method;
use support::{get, send, with_served};
use tornado_web::{Application, Finish, Handler, RequestHandler, Result};

/// `UnimplementedHTTPMethodsTest.Handler` and `UnimplementedNonStandardMethodsTest.Handler`
/// (whose `other` is not in `SUPPORTED_METHODS`, so it is never called).
struct Nothing;

impl RequestHandler for Nothing {}

/// `AllHTTPMethodsTest.Handler`: every standard verb but PATCH writes its name.
struct EchoMethod;

impl EchoMethod {
    fn method(h: &mut Handler) -> Result {
        let m = h.request().method().to_string();
        h.write(m);
        Ok(())
    }
}

impl RequestHandler for EchoMethod {
    async fn get(&mut self, h: &mut Handler) -> Result {
        Self::method(h)
    }
    async fn delete(&mut self, h: &mut Handler) -> Result {
        Self::method(h)
    }
    async fn options(&mut self, h: &mut Handler) -> Result {
        Self::method(h)
    }
    async fn post(&mut self, h: &mut Handler) -> Result {
        Self::method(h)
    }
    async fn put(&mut self, h: &mut Handler) -> Result {
        Self::method(h)
    }
}

/// `PatchMethodTest.Handler`: `OTHER` added to the supported methods (`OTHER_METHODS`).
struct PatchAndOther;

impl RequestHandler for PatchAndOther {
    const OTHER_METHODS: &'static [&'static str] = &["OTHER"];

    async fn patch(&mut self, h: &mut Handler) -> Result {
        h.write("patch");
        Ok(())
    }

    async fn other_method(&mut self, h: &mut Handler, method: &Method) -> Result {
        assert_eq!(method.as_str(), "OTHER");
        h.write("other");
        Ok(())
    }
}

/// `FinishExceptionTest.Handler`
struct FinishWith401;

impl RequestHandler for FinishWith401 {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_status(401);
        h.set_header("WWW-Authenticate", "Basic realm=\"something\"")?;
        h.write("authentication required");
        Err(Finish.into())
    }
}

/// `GetArgumentErrorTest.Handler`
struct CatchMissing;

impl RequestHandler for CatchMissing {
    async fn get(&mut self, h: &mut Handler) -> Result {
        match h.get_argument("foo") {
            Ok(_) => h.write_json(&serde_json::json!({})),
            Err(e) => {
                let message = e.as_http().and_then(|e| e.log_message()).unwrap_or("");
                let value = serde_json::json!({"log_message": message});
                h.write_json(&value)
            }
        }
    }
}

async fn status(a: SocketAddr, method: &str, path: &str) -> u16 {
    send(a, method, path, "", "").await.status
}

fn app() -> Application {
    Application::builder()
        .route("/nothing", || Nothing)
        .route("/echo", || EchoMethod)
        .route("/patch", || PatchAndOther)
        .route("/finish", || FinishWith401)
        .route("/missing", || CatchMissing)
        .build()
        .unwrap()
}

#[test]
fn test_unimplemented_standard_methods() {
    with_served(app(), |a| async move {
        for method in ["HEAD", "GET", "DELETE", "OPTIONS", "POST", "PUT"] {
            assert_eq!(status(a, method, "/nothing").await, 405, "{method}");
        }
    });
}

#[test]
fn test_unimplemented_patch() {
    with_served(app(), |a| async move {
        assert_eq!(status(a, "PATCH", "/nothing").await, 405);
    });
}

#[test]
fn test_unimplemented_other() {
    with_served(app(), |a| async move {
        assert_eq!(status(a, "OTHER", "/nothing").await, 405);
    });
}

#[test]
fn test_standard_methods() {
    with_served(app(), |a| async move {
        let r = send(a, "HEAD", "/echo", "", "").await;
        assert!(r.body.is_empty());
        for method in ["GET", "DELETE", "OPTIONS", "POST", "PUT"] {
            let r = send(a, method, "/echo", "", "").await;
            assert_eq!(r.text(), method);
        }
    });
}

#[test]
fn test_patch() {
    with_served(app(), |a| async move {
        assert_eq!(send(a, "PATCH", "/patch", "", "").await.text(), "patch");
    });
}

#[test]
fn test_other() {
    with_served(app(), |a| async move {
        assert_eq!(send(a, "OTHER", "/patch", "", "").await.text(), "other");
    });
}

#[test]
fn test_finish_exception() {
    with_served(app(), |a| async move {
        for path in ["/finish", "/finish?finish_value=1"] {
            let r = get(a, path, "").await;
            assert_eq!(r.status, 401);
            assert_eq!(
                r.header("WWW-Authenticate"),
                Some("Basic realm=\"something\"")
            );
            assert_eq!(r.text(), "authentication required");
        }
    });
}

#[test]
fn test_catch_error() {
    with_served(app(), |a| async move {
        let r = get(a, "/missing", "").await;
        let data: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            data,
            serde_json::json!({"log_message": "Missing argument foo"})
        );
    });
}

/// Not in Tornado's suite: a 405's `Allow` lists the handler's other methods too.
#[test]
fn allow_lists_other_methods() {
    with_served(app(), |a| async move {
        let r = send(a, "DELETE", "/patch", "", "").await;
        assert_eq!(r.status, 405);
        let allow = r.header("Allow").unwrap_or_default().to_owned();
        assert!(allow.ends_with(", OTHER"), "{allow}");
        assert!(allow.contains("PATCH"), "{allow}");
    });
}
