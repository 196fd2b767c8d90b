//! `routing_test.py`, as far as this crate's routing goes: `RuleRouterTest` (host rules
//! before the others, a nested router that does not match lets the next rules try, named
//! rules reversed, a callable of the HTTP layer as a target through `FallbackHandler`, 404
//! for the rest) and the reversal rules of `PathMatches` (`test_reverse_url` cases).
//!
//! Routers of one's own (`BasicRouterTestCase`, `HTTPMethodRouterTestCase`,
//! `CustomRouterTestCase`, the nested custom router of `RuleRouterTest`) are in
//! `custom_routers.rs`. Not ported: the `HTTPServerConnectionDelegate` target of
//! `RuleRouterTest` (a rule's target is a handler, a router or a `FindHandler`; the HTTP
//! layer is reached through `FallbackHandler`), and `WSGIContainerTestCase` (WSGI).

mod support;

use std::sync::Arc;

use support::{gen_test, get, serve};
use tornado_web::{Application, FallbackHandler, Handler, RequestHandler, Result, Router};

struct Named(&'static str);

impl RequestHandler for Named {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let url = h.reverse_url(self.0, &[])?;
        h.finish_with(format!("{}: {url}", self.0))
    }
}

#[test]
fn test_rule_based_router() {
    gen_test(|| async {
        let callable = Arc::new(|req: tornado_httpserver::HttpServerRequest| async move {
            let _ = req.respond(http::StatusCode::OK, http::HeaderMap::new(), b"OK");
        });
        let nested = Router::builder()
            .route_named("/nested_handler", "nested_handler", || {
                Named("nested_handler")
            })
            .build()
            .unwrap();
        let app = Application::builder()
            .host(
                r"www\.example\.com",
                Router::builder().route_named("/first_handler", "second_handler", || {
                    Named("second_handler")
                }),
            )
            .router(Some("/.*handler"), nested)
            .route_named("/first_handler", "first_handler", || Named("first_handler"))
            .route("/request_callable", move || {
                FallbackHandler::new(callable.clone())
            })
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let _quiet = tornado_log::ExpectLog::new("access", "").required(false);
        assert_eq!(
            get(addr, "/first_handler", "").await.text(),
            "first_handler: /first_handler"
        );
        let r = support::fetch_raw(
            addr,
            "GET /first_handler HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        )
        .await;
        assert_eq!(r.text(), "second_handler: /first_handler");
        assert_eq!(
            get(addr, "/nested_handler", "").await.text(),
            "nested_handler: /nested_handler"
        );
        assert_eq!(get(addr, "/nested_not_found_handler", "").await.status, 404);
        assert_eq!(get(addr, "/request_callable", "").await.text(), "OK");
        assert_eq!(get(addr, "/404", "").await.status, 404);
    });
}

#[test]
fn reverse_url_rules() {
    // From web_test.py's test_reverse_url and routing's PathMatches.reverse.
    use tornado_web::routing::PathMatches;
    let p = PathMatches::new("/decode_arg/(.*)").unwrap();
    assert_eq!(p.reverse(&["foo"]).unwrap(), "/decode_arg/foo");
    assert_eq!(p.reverse(&["42"]).unwrap(), "/decode_arg/42");
    assert_eq!(p.reverse(&["\u{e9}"]).unwrap(), "/decode_arg/%C3%A9");
    assert_eq!(p.reverse(&["1 + 1"]).unwrap(), "/decode_arg/1%20%2B%201");
    // Tornado's _find_groups keeps what follows a group as text, `?` included.
    let p = PathMatches::new("/optional_path/(.+)?").unwrap();
    assert_eq!(p.reverse(&["x"]).unwrap(), "/optional_path/x?");
}
