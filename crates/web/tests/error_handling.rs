//! Port of `web_test.py`'s `ErrorHandlerXSRFTest` and `ExceptionHandlerTest`: error
//! handlers answer before the XSRF check, and how raised errors are logged and answered.
//! `RequestHandler.log_exception` is not an override point here (errors are logged as
//! Tornado's default does), so `test_known_error` checks the answer `write_error` makes and
//! the default log record.

mod support;

use std::fmt;

use support::{fetch_raw, get, with_served};
use tornado_log::ExpectLog;
use tornado_web::{
    Application, Error, ErrorHandler, Handler, HttpError, RequestHandler, Result, Settings,
};

fn post(path: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
}

fn xsrf_app() -> Application {
    Application::builder()
        .route("/error", || ErrorHandler::new(417))
        .settings(Settings {
            xsrf_cookies: true,
            ..Settings::default()
        })
        .build()
        .unwrap()
}

#[test]
fn error_handler_xsrf_test_test_error_xsrf() {
    with_served(xsrf_app(), |a| async move {
        assert_eq!(fetch_raw(a, &post("/error")).await.status, 417);
    });
}

#[test]
fn error_handler_xsrf_test_test_404_xsrf() {
    with_served(xsrf_app(), |a| async move {
        assert_eq!(fetch_raw(a, &post("/404")).await.status, 404);
    });
}

/// Python's `PermissionError`.
#[derive(Debug)]
struct PermissionError(&'static str);

impl fmt::Display for PermissionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for PermissionError {}

/// Python's `ZeroDivisionError`.
#[derive(Debug)]
struct ZeroDivision;

impl fmt::Display for ZeroDivision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("division by zero")
    }
}

impl std::error::Error for ZeroDivision {}

/// `ExceptionHandlerTest.Handler`
struct Raising;

impl RequestHandler for Raising {
    async fn get(&mut self, h: &mut Handler) -> Result {
        match h.get_argument("exc")?.as_str() {
            "http" => Err(HttpError::new(410)
                .with_log_message("no longer here")
                .into()),
            "zero" => Err(Error::Other(Box::new(ZeroDivision))),
            "permission" => Err(Error::Other(Box::new(PermissionError("not allowed")))),
            _ => Ok(()),
        }
    }

    async fn write_error(&mut self, h: &mut Handler, status: u16, error: Option<&Error>) -> Result {
        if let Some(Error::Other(e)) = error {
            if e.is::<PermissionError>() {
                h.set_status(403);
                h.write("PermissionError");
                return Ok(());
            }
        }
        h.default_write_error(status, error);
        Ok(())
    }
}

fn raising_app() -> Application {
    Application::builder()
        .route("/", || Raising)
        .build()
        .unwrap()
}

#[test]
fn exception_handler_test_test_http_error() {
    // HTTP errors are logged as warnings, with no stack trace.
    with_served(raising_app(), |a| async move {
        let _logged = ExpectLog::new("general", "410 GET /?exc=http");
        assert_eq!(get(a, "/?exc=http", "").await.status, 410);
    });
}

#[test]
fn exception_handler_test_test_unknown_error() {
    with_served(raising_app(), |a| async move {
        let _logged = ExpectLog::new("application", "Uncaught exception");
        assert_eq!(get(a, "/?exc=zero", "").await.status, 500);
    });
}

#[test]
fn exception_handler_test_test_known_error() {
    // write_error can override the response.
    with_served(raising_app(), |a| async move {
        let _logged = ExpectLog::new("application", "Uncaught exception");
        let r = get(a, "/?exc=permission", "").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.body, b"PermissionError");
    });
}
