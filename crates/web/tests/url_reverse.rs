//! Port of `web_test.py`'s `URLSpecReverseTest`: reversing a route's pattern
//! (`URLSpec.reverse`), here through a named route and `Application::reverse_url`.

use tornado_web::{Application, Handler, RequestHandler, Result};

struct Nothing;

impl RequestHandler for Nothing {
    async fn get(&mut self, _h: &mut Handler) -> Result {
        Ok(())
    }
}

fn reverse(pattern: &str, args: &[&str]) -> std::result::Result<String, tornado_web::RoutingError> {
    Application::builder()
        .route_named(pattern, "it", || Nothing)
        .build()
        .unwrap()
        .reverse_url("it", args)
}

#[test]
fn url_spec_reverse_test_test_reverse() {
    assert_eq!(reverse(r"/favicon\.ico", &[]).unwrap(), "/favicon.ico");
    assert_eq!(reverse(r"^/favicon\.ico$", &[]).unwrap(), "/favicon.ico");
}

#[test]
fn url_spec_reverse_test_test_non_reversible() {
    // A route can still be made with a pattern that cannot be reversed.
    let pattern = r"^/api/v\d+/foo/(\w+)$";
    assert!(reverse(pattern, &["bar"]).is_err(), "{pattern}");
}

#[test]
fn url_spec_reverse_test_test_reverse_arguments() {
    assert_eq!(
        reverse(r"^/api/v1/foo/(\w+)$", &["bar"]).unwrap(),
        "/api/v1/foo/bar"
    );
    assert_eq!(
        reverse(r"/api\.v1/foo/([0-9]+)/icon\.png", &["5"]).unwrap(),
        "/api.v1/foo/5/icon.png"
    );
}
