//! Port of `web_test.py`'s `GetCurrentUserTest` and `SetLazyPropertiesTest`: when
//! `get_current_user` runs. `Handler::render_string` does not look the user up (Tornado's
//! does, through the template namespace, which its skipped `test_get_current_user_is_lazy`
//! wants fixed); `RequestHandler::render` and `current_user` do. The UI-module variants are
//! not ported (UI modules are not offered), nor the locale half of `SetLazyPropertiesTest`
//! (`tornado.locale` is not ported).

mod support;

use std::sync::Arc;

use minijinja::context;
use support::{get, with_served};
use tornado_web::{Application, DictLoader, Handler, RequestHandler, Result, Settings};

/// `CurrentUserHandler`: notes whether `get_current_user` ran.
struct CurrentUser {
    loaded: bool,
}

impl RequestHandler for CurrentUser {
    async fn get(&mut self, h: &mut Handler) -> Result {
        if h.request().path() == "/with_user" {
            // `render` puts the user in the template's namespace, looking it up.
            return self.render(h, "with_user.html", &context! {});
        }
        h.render_string("without_user.html", &context! {})?;
        h.finish_with(if self.loaded { "True" } else { "False" })
    }

    fn get_current_user(&mut self, _h: &mut Handler) -> Option<String> {
        self.loaded = true;
        Some("ben".to_owned())
    }
}

fn app() -> Application {
    let loader = DictLoader::new([
        ("without_user.html", ""),
        ("with_user.html", "{{ current_user }}"),
    ]);
    Application::builder()
        .route("/.*", || CurrentUser { loaded: false })
        .settings(Settings {
            template_loader: Some(Arc::new(loader)),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

#[test]
fn get_current_user_test_get_current_user_is_lazy() {
    with_served(app(), |a| async move {
        assert_eq!(get(a, "/without_user", "").await.body, b"False");
    });
}

#[test]
fn get_current_user_test_get_current_user_works() {
    with_served(app(), |a| async move {
        assert_eq!(get(a, "/with_user", "").await.body, b"ben");
    });
}

/// `SetLazyPropertiesTest.Handler`: the user is set in `prepare`, so `get_current_user`
/// is never asked.
struct SetInPrepare;

impl RequestHandler for SetInPrepare {
    async fn prepare(&mut self, h: &mut Handler) -> Result {
        h.set_current_user(Some("Ben".to_owned()));
        Ok(())
    }

    fn get_current_user(&mut self, _h: &mut Handler) -> Option<String> {
        unreachable!("the user was set in prepare")
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        let user = self.current_user(h).unwrap_or_default();
        h.write(format!("Hello {user}"));
        Ok(())
    }
}

#[test]
fn set_lazy_properties_test_set_properties() {
    let app = Application::builder()
        .route("/", || SetInPrepare)
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/", "").await.body, b"Hello Ben");
    });
}
