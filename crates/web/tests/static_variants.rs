//! Port of `web_test.py`'s static-file variants: `StaticDefaultFilenameTest`,
//! `StaticDefaultFilenameRootTest`, `StaticFileWithPathTest`, `StaticFileSymlinkedRootTest`,
//! and `DefaultHandlerArgumentsTest` and `ApplicationTest`. Not ported:
//! `StaticFileAlternateDataStreamTest` (Windows' `::$DATA` streams), `CustomStaticFileTest`
//! and `StaticFileMultiRootTest` (subclasses of `StaticFileHandler` overriding its class
//! methods, which are not override points here), `HandlerByNameTest` (handlers named by
//! Python import strings).

mod support;

use std::path::{Path, PathBuf};

use support::{get, with_served};
use tornado_web::{Application, ErrorHandler, Settings, StaticFileHandler};

fn static_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/static")
}

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tornado-rs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn default_filename_app(prefix: &str) -> Application {
    Application::builder()
        .settings(Settings {
            static_path: Some(static_dir()),
            static_url_prefix: prefix.to_owned(),
            static_default_filename: Some("index.html".to_owned()),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

#[test]
fn static_default_filename_test_static_default_filename() {
    with_served(default_filename_app("/static/"), |a| async move {
        let r = get(a, "/static/dir/", "").await;
        assert_eq!(r.status, 200);
        let index = std::fs::read(static_dir().join("dir/index.html")).unwrap();
        assert_eq!(r.body, index);
    });
}

#[test]
fn static_default_filename_test_static_default_redirect() {
    with_served(default_filename_app("/static/"), |a| async move {
        let r = get(a, "/static/dir", "").await;
        assert_eq!(r.status, 301);
        assert!(r.header("Location").unwrap().ends_with("/static/dir/"));
    });
}

/// The open redirect of Tornado before 6.3.2: with `static_url_prefix` `/` and a default
/// filename, `//evil.com/../<root>/dir` resolved inside the root, and its redirect to add
/// the slash was protocol-relative.
#[test]
fn static_default_filename_root_test_no_open_redirect() {
    with_served(default_filename_app("/"), |a| async move {
        let root = static_dir();
        let target = format!("//evil.com/..{}/dir", root.display());
        let r = get(a, &target, "").await;
        assert_eq!(r.status, 403, "{target}");
        assert_eq!(r.header("Location"), None);
    });
}

#[test]
fn static_default_filename_root_test_no_open_redirect_backslash() {
    with_served(default_filename_app("/"), |a| async move {
        let r = get(a, "/\\evil.com/../dir", "").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.header("Location"), None);
    });
}

#[test]
fn static_file_with_path_test_test_serve() {
    let templates = TempDir::new("with-path");
    std::fs::write(templates.path().join("utf8.html"), "H\u{e9}llo\n").unwrap();
    let root = templates.path().to_owned();
    let app = Application::builder()
        .route("/foo/(.*)", move || StaticFileHandler::new(root.clone()))
        .settings(Settings {
            static_path: Some(static_dir()),
            static_default_filename: Some("index.html".to_owned()),
            ..Settings::default()
        })
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/foo/utf8.html", "").await.body, b"H\xc3\xa9llo\n");
    });
    drop(templates);
}

/// The root itself may be reached through a symlink: that does not make every request
/// look like an escape.
#[test]
fn static_file_symlinked_root_test_test_symlinked_root() {
    let tmp = TempDir::new("symlinked-root");
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("inside.txt"), "inside").unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let app = Application::builder()
        .route("/static/(.*)", move || StaticFileHandler::new(link.clone()))
        .build()
        .unwrap();
    with_served(app, |a| async move {
        let r = get(a, "/static/inside.txt", "").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"inside");
    });
    drop(tmp);
}

#[test]
fn default_handler_arguments_test_test_403() {
    let app = Application::builder()
        .route("/foo", || ErrorHandler::new(200))
        .default_handler(|| ErrorHandler::new(403))
        .build()
        .unwrap();
    with_served(app, |a| async move {
        assert_eq!(get(a, "/", "").await.status, 403);
    });
}

#[test]
fn application_test_test_listen() {
    support::gen_test(|| async {
        let app = Application::builder().build().unwrap();
        let server = app
            .listen_with(0, Some("127.0.0.1"), Default::default())
            .unwrap();
        server.stop();
    });
}
