//! Port of `web_test.py::DecoratorTest`: `@removeslash` and `@addslash`, which here are
//! `Handler::removeslash` and `Handler::addslash` called at the top of a method.

mod support;

use std::net::SocketAddr;

use support::{get, send, with_served};
use tornado_log::ExpectLog;
use tornado_web::{Application, Handler, RequestHandler, Result};

struct RemoveSlash;

impl RequestHandler for RemoveSlash {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.removeslash()?;
        h.write("removed");
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.removeslash()?;
        h.write("posted");
        Ok(())
    }
}

struct AddSlash;

impl RequestHandler for AddSlash {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.addslash()?;
        h.write("added");
        Ok(())
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        h.addslash()?;
        h.write("posted");
        Ok(())
    }
}

async fn location(addr: SocketAddr, path: &str) -> (u16, Option<String>) {
    let r = get(addr, path, "").await;
    (r.status, r.header("Location").map(str::to_owned))
}

fn app() -> Application {
    Application::builder()
        .route("/removeslash/", || RemoveSlash)
        .route("/addslash", || AddSlash)
        // Catch-all routes can see paths that start with two slashes.
        .route(r"/+rem.*", || RemoveSlash)
        .route(r"/+add.*", || AddSlash)
        .route(r"/", || RemoveSlash)
        .build()
        .unwrap()
}

#[test]
fn test_removeslash() {
    with_served(app(), |a| async move {
        assert_eq!(
            location(a, "/removeslash/").await,
            (301, Some("/removeslash".to_owned()))
        );
        assert_eq!(
            location(a, "/removeslash/?foo=bar").await,
            (301, Some("/removeslash?foo=bar".to_owned()))
        );
    });
}

#[test]
fn test_addslash() {
    with_served(app(), |a| async move {
        assert_eq!(
            location(a, "/addslash").await,
            (301, Some("/addslash/".to_owned()))
        );
        assert_eq!(
            location(a, "/addslash?foo=bar").await,
            (301, Some("/addslash/?foo=bar".to_owned()))
        );
    });
}

#[test]
fn test_no_protocol_relative_redirect() {
    // Redirecting to //example.com would be an open redirect.
    with_served(app(), |a| async move {
        for path in [
            "//add.example.com",
            "///add.example.com",
            "//rem.example.com/",
            "//rem.example.com//",
            "///rem.example.com/x/",
        ] {
            let _log = ExpectLog::new(
                "general",
                &format!("403 GET {path} (127.0.0.1): cannot redirect path"),
            );
            let (status, location) = location(a, path).await;
            assert_eq!(status, 403, "{path}");
            assert_eq!(location, None, "{path}");
        }
    });
}

/// Not in Tornado's suite: the paths the redirects leave alone run the method, `/` is not
/// redirected to nothing, and other methods than GET and HEAD get 404.
#[test]
fn paths_already_right_and_other_methods() {
    with_served(app(), |a| async move {
        let r = get(a, "/", "").await;
        assert_eq!((r.status, r.text()), (200, "removed".to_owned()));
        let r = get(a, "/addslash/", "").await;
        assert_eq!((r.status, r.text()), (200, "added".to_owned()));
        let r = get(a, "/removeslash", "").await;
        assert_eq!((r.status, r.text()), (200, "removed".to_owned()));
        let _log = ExpectLog::new("general", "").required(false);
        assert_eq!(send(a, "POST", "/removeslash/", "", "").await.status, 404);
        assert_eq!(send(a, "POST", "/addslash", "", "").await.status, 404);
        assert_eq!(send(a, "POST", "/addslash/", "", "").await.status, 200);
    });
}
