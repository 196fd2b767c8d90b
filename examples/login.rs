//! Signed-cookie login with Tornado's building blocks: `@authenticated` pages, an
//! XSRF-protected form, templates with `extends`, and static files with versioned URLs.
//!
//! ```sh
//! cargo run --release --example login -- --port 8888
//! # open http://localhost:8888/ : you are sent to /login?next=%2F
//! ```
//!
//! The password is `tornado`. The `user` cookie is signed with the `cookie_secret` (pass
//! `--secret S` to choose it; a random one is made otherwise, so restarts sign everyone out).

use std::path::PathBuf;

use minijinja::context;
use tornado::ioloop::IoLoop;
use tornado::log::{GENERAL, enable_pretty_logging};
use tornado::web::{
    Application, CookieOptions, CookieSecret, Handler, RequestHandler, Result, Settings,
};

#[path = "args.rs"]
mod args;

/// Handlers that know the user from the signed `user` cookie.
fn user_of(h: &mut Handler) -> Option<String> {
    h.get_signed_cookie("user")
        .and_then(|v| String::from_utf8(v).ok())
}

struct Home;

impl RequestHandler for Home {
    fn get_current_user(&mut self, h: &mut Handler) -> Option<String> {
        user_of(h)
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        self.authenticated(h)?;
        let note = h
            .get_signed_cookie("note")
            .and_then(|v| String::from_utf8(v).ok())
            .unwrap_or_default();
        self.render(h, "home.html", &context! { note, saved => "" })
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        // The XSRF check has already run (the xsrf_cookies setting): a form from another
        // site never gets here.
        self.authenticated(h)?;
        let note = h.get_argument_or("note", "")?;
        h.set_signed_cookie("note", note.as_bytes())?;
        self.render(h, "home.html", &context! { note => &note, saved => &note })
    }
}

struct Login;

impl RequestHandler for Login {
    fn get_current_user(&mut self, h: &mut Handler) -> Option<String> {
        user_of(h)
    }

    async fn get(&mut self, h: &mut Handler) -> Result {
        let next = h.get_argument_or("next", "/")?;
        self.render(h, "login.html", &context! { next, error => "" })
    }

    async fn post(&mut self, h: &mut Handler) -> Result {
        let name = h.get_argument_or("name", "")?;
        let password = h.get_argument_or("password", "")?;
        let next = h.get_argument_or("next", "/")?;
        if name.is_empty() || password != "tornado" {
            h.set_status(403);
            return self.render(
                h,
                "login.html",
                &context! { next, error => "Wrong name or password." },
            );
        }
        h.set_signed_cookie("user", name.as_bytes())?;
        // Only local paths: never redirect to another site from user input.
        let next = if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
            next
        } else {
            "/".to_owned()
        };
        h.redirect(&next, false)
    }
}

struct Logout;

impl RequestHandler for Logout {
    async fn post(&mut self, h: &mut Handler) -> Result {
        h.clear_cookie("user", &CookieOptions::default())?;
        h.redirect("/login", false)
    }
}

fn main() -> std::io::Result<()> {
    enable_pretty_logging(log::LevelFilter::Info);
    let port: u16 = args::number("port", 8888);
    let secret = args::flag("secret")
        .map(String::into_bytes)
        .unwrap_or_else(|| {
            let mut key = vec![0u8; 32];
            getrandom::fill(&mut key).expect("OS randomness");
            key
        });
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("login");
    let app = Application::builder()
        .route_named("/", "home", || Home)
        .route_named("/login", "login", || Login)
        .route_named("/logout", "logout", || Logout)
        .settings(Settings {
            cookie_secret: Some(CookieSecret::new(secret)),
            xsrf_cookies: true,
            login_url: Some("/login".into()),
            template_path: Some(here.join("templates")),
            static_path: Some(here.join("static")),
            ..Settings::default()
        })
        .build()
        .map_err(std::io::Error::other)?;
    let server = app.listen(port)?;
    for a in server.local_addrs() {
        log::info!(target: GENERAL, "Listening on http://{a}");
    }
    IoLoop::current().start()
}
