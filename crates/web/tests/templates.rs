//! Templates through `render` and `render_string`: the parts of Tornado 6.6.1's
//! `template_test.py` that carry over to minijinja's syntax (escaping by default, `extends`
//! and `block`, `include`, loops and conditions, unicode), plus what the web layer adds to
//! every template (`request`, `current_user`, `reverse_url`) and the caching rule of
//! `debug`. Tornado-only directives (`{% module %}`, `{% raw %}`, `{% apply %}`,
//! `{% try %}`, whitespace modes, Python expressions) have no minijinja counterpart and are
//! not ported.

mod support;

use minijinja::context;
use support::{gen_test, get, serve};
use tornado_web::{Application, Autoescape, DictLoader, Handler, RequestHandler, Result, Settings};

struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let name = h.get_argument_or("name", "<b>world</b>")?;
        match h.request().path() {
            "/page" => self.render(h, "page.html", &context! { name }),
            "/child" => self.render(h, "child.html", &context! { items => vec!["a", "b"] }),
            "/missing" => self.render(h, "missing.html", &context! {}),
            "/broken" => self.render(h, "broken.html", &context! {}),
            _ => {
                let s =
                    h.render_source("{{ reverse_url('page') }} {{ request.path }}", &context! {})?;
                h.finish_with(s)
            }
        }
    }

    fn get_current_user(&mut self, h: &mut Handler) -> Option<String> {
        h.get_cookie("user").map(str::to_owned)
    }
}

fn loader() -> DictLoader {
    DictLoader::new([
        ("page.html", "Hello, {{ name }}! user={{ current_user }} é"),
        (
            "base.html",
            "<title>{% block title %}base{% endblock %}</title>{% block body %}{% endblock %}",
        ),
        (
            "child.html",
            "{% extends 'base.html' %}{% block title %}child{% endblock %}{% block body %}{% for i in items %}[{% include 'item.html' %}]{% endfor %}{% endblock %}",
        ),
        ("item.html", "{{ i }}"),
        ("broken.html", "{% if %}"),
    ])
}

fn app(settings: Settings) -> Application {
    Application::builder()
        .route_named("/page", "page", || Page)
        .route("/.*", || Page)
        .settings(Settings {
            template_loader: Some(std::sync::Arc::new(loader())),
            ..settings
        })
        .build()
        .unwrap()
}

#[test]
fn test_escaping_by_default() {
    gen_test(|| async {
        let (_s, addr) = serve(&app(Settings::default()));
        let r = get(addr, "/page", "Cookie: user=ann\r\n").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello, &lt;b&gt;world&lt;/b&gt;! user=ann é");
        assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
        let r = get(addr, "/page?name=a'b\"c%26", "").await;
        assert_eq!(r.text(), "Hello, a&#x27;b&quot;c&amp;! user=None é");
    });
}

#[test]
fn test_no_autoescape() {
    gen_test(|| async {
        let settings = Settings {
            autoescape: Autoescape::None,
            ..Settings::default()
        };
        let (_s, addr) = serve(&app(settings));
        let r = get(addr, "/page", "").await;
        assert_eq!(r.text(), "Hello, <b>world</b>! user=None é");
    });
}

#[test]
fn test_extends_and_include() {
    gen_test(|| async {
        let (_s, addr) = serve(&app(Settings::default()));
        assert_eq!(
            get(addr, "/child", "").await.text(),
            "<title>child</title>[a][b]"
        );
    });
}

#[test]
fn namespace_functions() {
    gen_test(|| async {
        let (_s, addr) = serve(&app(Settings::default()));
        assert_eq!(get(addr, "/source", "").await.text(), "/page /source");
    });
}

#[test]
fn template_errors_are_500s() {
    gen_test(|| async {
        let (_s, addr) = serve(&app(Settings::default()));
        assert_eq!(get(addr, "/missing", "").await.status, 500);
        assert_eq!(get(addr, "/broken", "").await.status, 500);
        // With debug the page shows the template error.
        let debug = Settings {
            debug: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(&app(debug));
        let r = get(addr, "/broken", "").await;
        assert_eq!(r.status, 500);
        assert!(r.text().contains("broken.html"), "{}", r.text());
    });
}

#[test]
fn file_loader_reads_template_path_and_refuses_escapes() {
    gen_test(|| async {
        let dir = std::env::temp_dir().join(format!("tornado-rs-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("page.html"), "from a file: {{ name }}").unwrap();
        struct FromFile;
        impl RequestHandler for FromFile {
            async fn get(&mut self, h: &mut Handler) -> Result {
                let name = h.get_argument_or("t", "page.html")?;
                self.render(h, &name, &context! { name => "x" })
            }
        }
        let app = Application::builder()
            .route("/", || FromFile)
            .settings(Settings {
                template_path: Some(dir.clone()),
                ..Settings::default()
            })
            .build()
            .unwrap();
        let (_s, addr) = serve(&app);
        assert_eq!(get(addr, "/", "").await.text(), "from a file: x");
        assert_eq!(get(addr, "/?t=../../etc/passwd", "").await.status, 500);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
