//! Port of `routing_test.py`'s routers of one's own: `BasicRouterTestCase`,
//! `HTTPMethodRouterTestCase`, `CustomRouterTestCase`, and the nested custom router of
//! `RuleRouterTest`. A Tornado `Router` is a [`FindHandler`]; what its `find_handler`
//! returns (`app.get_handler_delegate(request, Handler, path_args=...)`) is a [`Route`].
//!
//! Tornado's settings are a dict with room for an `app_name`; here the applications of
//! `CustomRouterTestCase` tell themselves apart by their `login_url` setting.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use http::Method;
use support::{get, send, with_served};
use tornado_httpserver::HttpServerRequest;
use tornado_web::{
    Application, FallbackHandler, FindHandler, Handler, HandlerFactory, HttpError, RequestHandler,
    Result, Route, Settings,
};

// BasicRouterTestCase: a router answering every request itself, at the HTTP layer.

struct BasicRouter(HandlerFactory);

impl FindHandler for BasicRouter {
    fn find_handler(&self, _request: &HttpServerRequest) -> Option<Route> {
        Some(Route::new(&self.0))
    }
}

fn basic_router() -> BasicRouter {
    let answer = Arc::new(|req: HttpServerRequest| async move {
        let _ = req.respond(http::StatusCode::OK, http::HeaderMap::new(), b"OK");
    });
    BasicRouter(HandlerFactory::new(move || {
        FallbackHandler::new(answer.clone())
    }))
}

#[test]
fn test_basic_router() {
    let app = Application::builder()
        .custom_router(None, basic_router())
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/any_request", "").await.text(), "OK");
    });
}

// HTTPMethodRouterTestCase: GET and POST to different handler types, the path as argument.

type Resources = Arc<Mutex<HashMap<String, Vec<u8>>>>;

struct GetResource(Resources);

impl RequestHandler for GetResource {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let path = h.path_args()[0].clone();
        let Some(body) = self.0.lock().unwrap().get(&path).cloned() else {
            return Err(HttpError::new(404).into());
        };
        h.finish_with(body)
    }
}

struct PostResource(Resources);

impl RequestHandler for PostResource {
    async fn post(&mut self, h: &mut Handler) -> Result {
        let path = h.path_args()[0].clone();
        let body = h.request().body().to_vec();
        self.0.lock().unwrap().insert(path, body);
        Ok(())
    }
}

struct HttpMethodRouter {
    get: HandlerFactory,
    post: HandlerFactory,
}

impl FindHandler for HttpMethodRouter {
    fn find_handler(&self, request: &HttpServerRequest) -> Option<Route> {
        let handler = if *request.method() == Method::GET {
            &self.get
        } else {
            &self.post
        };
        Some(Route::new(handler).path_args([request.path()]))
    }
}

#[test]
fn test_http_method_router() {
    let resources: Resources = Arc::default();
    let (r1, r2) = (resources.clone(), resources);
    let router = HttpMethodRouter {
        get: HandlerFactory::new(move || GetResource(r1.clone())),
        post: HandlerFactory::new(move || PostResource(r2.clone())),
    };
    let app = Application::builder()
        .custom_router(None, router)
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(
            send(a, "POST", "/post_resource", "", "data").await.status,
            200
        );
        assert_eq!(get(a, "/get_resource", "").await.status, 404);
        let r = get(a, "/post_resource", "").await;
        assert_eq!((r.status, r.text()), (200, "data".to_owned()));
    });
}

// CustomRouterTestCase: one router sends paths to handlers of two applications.

/// `_get_named_handler(name)`: writes its application's name and its own reversed path.
struct Named(&'static str);

impl RequestHandler for Named {
    async fn get(&mut self, h: &mut Handler) -> Result {
        if let Some(app_name) = h.settings().login_url.clone() {
            h.write(format!("{app_name}: "));
        }
        let path = h.reverse_url(self.0, &[])?;
        h.finish_with(format!("{}: {path}", self.0))
    }
}

/// `CustomRouter`: routes added after the applications that use it are made.
#[derive(Clone, Default)]
struct CustomRouter {
    routes: Arc<RwLock<HashMap<String, Route>>>,
}

impl CustomRouter {
    fn add_route(&self, path: &str, app: &Application, handler: &HandlerFactory) {
        let route = Route::new(handler).application(app);
        self.routes.write().unwrap().insert(path.to_owned(), route);
    }
}

impl FindHandler for CustomRouter {
    fn find_handler(&self, request: &HttpServerRequest) -> Option<Route> {
        self.routes.read().unwrap().get(request.path()).cloned()
    }

    fn reverse_url(&self, name: &str, _args: &[&str]) -> Option<String> {
        let path = format!("/{name}");
        self.routes
            .read()
            .unwrap()
            .contains_key(&path)
            .then_some(path)
    }
}

/// An application named `name` whose `reverse_url` is the router's (Tornado's
/// `CustomApplication`).
fn named_app(name: &str, router: &CustomRouter) -> Application {
    Application::builder()
        .custom_router(None, router.clone())
        .settings(Settings {
            login_url: Some(name.to_owned()),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

#[test]
fn test_custom_router() {
    let router = CustomRouter::default();
    let (app1, app2) = (named_app("app1", &router), named_app("app2", &router));
    let first = HandlerFactory::new(|| Named("first_handler"));
    let second = HandlerFactory::new(|| Named("second_handler"));
    router.add_route("/first_handler", &app1, &first);
    router.add_route("/second_handler", &app2, &second);
    router.add_route("/first_handler_second_app", &app2, &first);
    // The server's application routes through the same router.
    let served = Application::builder()
        .custom_router(None, router.clone())
        .build()
        .unwrap();
    with_served(served, |a| async move {
        for (path, body) in [
            ("/first_handler", "app1: first_handler: /first_handler"),
            ("/second_handler", "app2: second_handler: /second_handler"),
            (
                "/first_handler_second_app",
                "app2: first_handler: /first_handler",
            ),
        ] {
            assert_eq!(get(a, path, "").await.text(), body, "{path}");
        }
    });
    // The routes name the applications, which hold the router: break the cycle.
    router.routes.write().unwrap().clear();
}

// RuleRouterTest, the custom router among an application's rules: what it does not find
// goes to the next rules, then to the default 404.

#[test]
fn test_rule_based_router_with_a_custom_router() {
    let router = CustomRouter::default();
    let app = Application::builder()
        .custom_router(Some("/.*handler"), router.clone())
        .route_named("/first_handler", "first_handler", || Named("first_handler"))
        .build()
        .unwrap();
    router.add_route(
        "/nested_handler",
        &app,
        &HandlerFactory::new(|| Named("nested_handler")),
    );
    let served = app.clone();
    with_served(served, |a| async move {
        assert_eq!(
            get(a, "/first_handler", "").await.text(),
            "first_handler: /first_handler"
        );
        assert_eq!(
            get(a, "/nested_handler", "").await.text(),
            "nested_handler: /nested_handler"
        );
        assert_eq!(get(a, "/nested_not_found_handler", "").await.status, 404);
        assert_eq!(get(a, "/404", "").await.status, 404);
    });
    router.routes.write().unwrap().clear();
}

/// Not in Tornado's suite: path arguments given by name reach `path_kwargs`.
#[test]
fn named_path_arguments() {
    struct Kw;
    impl RequestHandler for Kw {
        async fn get(&mut self, h: &mut Handler) -> Result {
            let v = h.path_kwarg("id").unwrap_or("none").to_owned();
            h.finish_with(v)
        }
    }
    struct ById(HandlerFactory);
    impl FindHandler for ById {
        fn find_handler(&self, request: &HttpServerRequest) -> Option<Route> {
            let id = request.path().strip_prefix("/item/")?;
            Some(Route::new(&self.0).path_kwargs([("id", id)]))
        }
    }
    let app = Application::builder()
        .custom_router(None, ById(HandlerFactory::new(|| Kw)))
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/item/42", "").await.text(), "42");
        assert_eq!(get(a, "/other", "").await.status, 404);
    });
}
