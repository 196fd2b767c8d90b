//! Port of `web_test.py::StaticFileTest` and `StaticFileSymlinkTest` (the symlink cases
//! that apply on one root), with fixtures of our own in `tests/static/` (`robots.txt` has
//! the same 26 bytes as Tornado's, so the same SHA-512 version). Not ported:
//! `test_static_windows_special_filenames` and the alternate-data-stream tests (Windows),
//! `test_include_host_override` (Tornado's `include_host` class attribute: here
//! `static_url_with` takes it), `StaticFileVersionPathTest` cache-size internals, the
//! multi-root handler (a subclass in Tornado's tests).

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;

use support::{Response, fetch_raw, gen_test, serve};
use tornado_log::ExpectLog;
use tornado_web::{Application, Handler, RequestHandler, Result, Settings, StaticFileHandler};

const ROBOTS_TXT_HASH: &str = "63a36e950e134b5217e33c763e88840c10a07d80e6057d92b9ac97508de7fb1fa6f0e9b7531e169657165ea764e8963399cb6d921ffe6078425aaafe54c04563";

fn static_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/static")
}

struct StaticUrl {
    include_host: bool,
}

impl RequestHandler for StaticUrl {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let path = h.path_args()[0].clone();
        let with_v = h.get_argument_or("include_version", "1")? == "1";
        let url = h.static_url_with(&path, self.include_host, with_v)?;
        h.write(url);
        Ok(())
    }
}

fn app() -> Application {
    Application::builder()
        .route("/static_url/(.*)", || StaticUrl {
            include_host: false,
        })
        .route("/abs_static_url/(.*)", || StaticUrl { include_host: true })
        .route("/root_static/(.*)", || StaticFileHandler::new("/"))
        .route("/with_index/(.*)", || {
            StaticFileHandler::new(static_dir()).default_filename("index.html")
        })
        .settings(Settings {
            static_path: Some(static_dir()),
            ..Settings::default()
        })
        .build()
        .unwrap()
}

fn with_app<F, Fut>(f: F)
where
    F: FnOnce(SocketAddr) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    gen_test(|| async move {
        let (_server, addr) = serve(&app());
        let _access = ExpectLog::new("access", "").required(false);
        f(addr).await;
    });
}

async fn fetch(addr: SocketAddr, method: &str, path: &str, headers: &str) -> Response {
    fetch_raw(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n"),
    )
    .await
}

/// A HEAD and a GET; their `Content-*` headers must agree. Returns the GET's response.
async fn get_and_head(addr: SocketAddr, path: &str, headers: &str) -> Response {
    let head = fetch(addr, "HEAD", path, headers).await;
    let get = fetch(addr, "GET", path, headers).await;
    for name in head.headers.keys().chain(get.headers.keys()) {
        if name.as_str().starts_with("content-") {
            assert_eq!(
                head.headers.get(name),
                get.headers.get(name),
                "{name} differs between GET and HEAD"
            );
        }
    }
    get
}

#[test]
fn test_static_files() {
    with_app(|addr| async move {
        assert!(
            fetch(addr, "GET", "/robots.txt", "")
                .await
                .text()
                .contains("Disallow: /")
        );
        let r = fetch(addr, "GET", "/static/robots.txt", "").await;
        assert!(r.text().contains("Disallow: /"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
    });
}

#[test]
fn test_static_files_cacheable() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/robots.txt?v=12345", "").await;
        assert!(r.text().contains("Disallow: /"));
        assert!(r.header("cache-control").is_some());
        assert!(r.header("expires").is_some());
    });
}

#[test]
fn test_static_compressed_files() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/static/sample.xml.gz", "").await;
        assert_eq!(r.header("content-type"), Some("application/gzip"));
        let r = fetch(addr, "GET", "/static/sample.xml.bz2", "").await;
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        let r = fetch(addr, "GET", "/static/sample.xml", "").await;
        assert!(matches!(
            r.header("content-type"),
            Some("text/xml" | "application/xml")
        ));
    });
}

#[test]
fn test_static_url() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/static_url/robots.txt", "").await;
        assert_eq!(r.text(), format!("/static/robots.txt?v={ROBOTS_TXT_HASH}"));
    });
}

#[test]
fn test_absolute_static_url() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/abs_static_url/robots.txt", "").await;
        assert_eq!(
            r.text(),
            format!("http://localhost/static/robots.txt?v={ROBOTS_TXT_HASH}")
        );
    });
}

#[test]
fn test_relative_and_absolute_version_exclusion() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/static_url/robots.txt?include_version=0", "").await;
        assert_eq!(r.text(), "/static/robots.txt");
        let r = fetch(
            addr,
            "GET",
            "/abs_static_url/robots.txt?include_version=0",
            "",
        )
        .await;
        assert_eq!(r.text(), "http://localhost/static/robots.txt");
    });
}

#[test]
fn test_static_304_if_modified_since() {
    with_app(|addr| async move {
        let r1 = get_and_head(addr, "/static/robots.txt", "").await;
        let lm = r1.header("last-modified").unwrap().to_owned();
        let r2 = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("If-Modified-Since: {lm}\r\n"),
        )
        .await;
        assert_eq!(r2.status, 304);
        assert!(r2.header("content-length").is_none());
    });
}

#[test]
fn test_static_304_if_none_match() {
    with_app(|addr| async move {
        let r1 = get_and_head(addr, "/static/robots.txt", "").await;
        let etag = r1.header("etag").unwrap().to_owned();
        let r2 = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("If-None-Match: {etag}\r\n"),
        )
        .await;
        assert_eq!(r2.status, 304);
    });
}

#[test]
fn test_static_304_etag_modified_bug() {
    with_app(|addr| async move {
        let r1 = get_and_head(addr, "/static/robots.txt", "").await;
        let lm = r1.header("last-modified").unwrap().to_owned();
        let r2 = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("If-None-Match: \"MISMATCH\"\r\nIf-Modified-Since: {lm}\r\n"),
        )
        .await;
        assert_eq!(r2.status, 200);
    });
}

#[test]
fn test_static_304_if_modified_since_invalid_and_pre_epoch() {
    // test_static_304_if_modified_since_invalid, test_static_if_modified_since_pre_epoch
    with_app(|addr| async move {
        let r = get_and_head(addr, "/static/robots.txt", "If-Modified-Since: !nv@l!d\r\n").await;
        assert_eq!(r.status, 200);
        let r = get_and_head(
            addr,
            "/static/robots.txt",
            "If-Modified-Since: Fri, 01 Jan 1960 00:00:00 GMT\r\n",
        )
        .await;
        assert_eq!(r.status, 200);
    });
}

#[test]
fn test_static_if_modified_since_time_zone() {
    with_app(|addr| async move {
        let mtime = std::fs::metadata(static_dir().join("robots.txt"))
            .unwrap()
            .modified()
            .unwrap();
        let at = |t| tornado_httpserver::httputil::format_timestamp(t);
        let before = at(mtime - std::time::Duration::from_secs(1));
        let after = at(mtime + std::time::Duration::from_secs(1));
        let r = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("If-Modified-Since: {before}\r\n"),
        )
        .await;
        assert_eq!(r.status, 200);
        let r = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("If-Modified-Since: {after}\r\n"),
        )
        .await;
        assert_eq!(r.status, 304);
    });
}

#[test]
fn test_static_etag() {
    with_app(|addr| async move {
        let r = get_and_head(addr, "/static/robots.txt", "").await;
        assert_eq!(r.header("etag").unwrap(), format!("\"{ROBOTS_TXT_HASH}\""));
    });
}

#[test]
fn test_static_ranges() {
    // Every range test of StaticFileTest.
    with_app(|addr| async move {
        let full = std::fs::read(static_dir().join("robots.txt")).unwrap();
        let r = get_and_head(addr, "/static/robots.txt", "Range: bytes=0-9\r\n").await;
        assert_eq!(
            (r.status, &r.body[..]),
            (206, &b"User-agent"[..]),
            "test_static_with_range"
        );
        assert_eq!(r.header("etag").unwrap(), format!("\"{ROBOTS_TXT_HASH}\""));
        assert_eq!(
            (r.header("content-length"), r.header("content-range")),
            (Some("10"), Some("bytes 0-9/26"))
        );
        for (range, name) in [
            ("bytes=0-", "full_file"),
            ("bytes=0-10000000", "full_past_end"),
            ("bytes=-1000000", "neg_past_start"),
        ] {
            let r = get_and_head(addr, "/static/robots.txt", &format!("Range: {range}\r\n")).await;
            assert_eq!(r.status, 200, "test_static_with_range_{name}");
            assert_eq!(r.body, full);
            assert_eq!(r.header("content-length"), Some("26"));
            assert!(r.header("content-range").is_none());
        }
        let r = get_and_head(addr, "/static/robots.txt", "Range: bytes=1-10000000\r\n").await;
        assert_eq!(
            (r.status, &r.body[..]),
            (206, &full[1..]),
            "partial_past_end"
        );
        assert_eq!(
            (r.header("content-length"), r.header("content-range")),
            (Some("25"), Some("bytes 1-25/26"))
        );
        for range in ["bytes=22-", "bytes=-4"] {
            let r = get_and_head(addr, "/static/robots.txt", &format!("Range: {range}\r\n")).await;
            assert_eq!(&r.body[..], b": /\n", "{range}");
            assert_eq!(
                (r.header("content-length"), r.header("content-range")),
                (Some("4"), Some("bytes 22-25/26"))
            );
        }
        let r = get_and_head(addr, "/static/robots.txt", "Range: asdf\r\n").await;
        assert_eq!(r.status, 200, "test_static_invalid_range");
        for range in ["bytes=-0", "bytes=26", "bytes=10-3"] {
            let r = get_and_head(addr, "/static/robots.txt", &format!("Range: {range}\r\n")).await;
            assert_eq!(r.status, 416, "{range}");
            assert_eq!(r.header("content-range"), Some("bytes */26"));
        }
    });
}

#[test]
fn test_static_head() {
    with_app(|addr| async move {
        let r = fetch(addr, "HEAD", "/static/robots.txt", "").await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        assert_eq!(r.header("content-length"), Some("26"));
        assert_eq!(r.header("etag").unwrap(), format!("\"{ROBOTS_TXT_HASH}\""));
        let r = fetch(addr, "HEAD", "/static/robots.txt", "Range: bytes=1-4\r\n").await;
        assert_eq!((r.status, r.body.len()), (206, 0), "test_static_head_range");
        assert_eq!(r.header("content-length"), Some("4"));
    });
}

#[test]
fn test_static_range_if_none_match() {
    with_app(|addr| async move {
        let r = get_and_head(
            addr,
            "/static/robots.txt",
            &format!("Range: bytes=1-4\r\nIf-None-Match: \"{ROBOTS_TXT_HASH}\"\r\n"),
        )
        .await;
        assert_eq!(r.status, 304);
        assert!(r.body.is_empty());
        assert!(r.header("content-length").is_none());
        assert_eq!(r.header("etag").unwrap(), format!("\"{ROBOTS_TXT_HASH}\""));
    });
}

#[test]
fn test_static_404() {
    with_app(|addr| async move {
        let _l = ExpectLog::new("general", "").required(false);
        assert_eq!(get_and_head(addr, "/static/blarg", "").await.status, 404);
    });
}

#[test]
fn test_static_directory_without_default_filename() {
    with_app(|addr| async move {
        let _l = ExpectLog::new(
            "general",
            "403 GET /static/dir/ (127.0.0.1): dir/ is not a file",
        );
        assert_eq!(get_and_head(addr, "/static/dir/", "").await.status, 403);
    });
}

#[test]
fn default_filename_and_its_redirect() {
    with_app(|addr| async move {
        let r = fetch(addr, "GET", "/with_index/dir", "").await;
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("/with_index/dir/"));
        let r = fetch(addr, "GET", "/with_index/dir/", "").await;
        assert_eq!(r.status, 200);
        assert!(r.text().contains("the index"));
    });
}

#[test]
fn test_path_traversal_protection() {
    with_app(|addr| async move {
        let _l = ExpectLog::new(
            "general",
            "403 GET /static/../static_foo.txt (127.0.0.1): ../static_foo.txt is not in root static directory",
        );
        assert_eq!(
            get_and_head(addr, "/static/../static_foo.txt", "")
                .await
                .status,
            403
        );
    });
}

#[test]
fn test_root_static_path() {
    with_app(|addr| async move {
        let path = static_dir().join("robots.txt");
        let url = format!(
            "/root_static{}",
            tornado_web::escape::url_escape_with(path.to_str().unwrap(), false)
        );
        assert_eq!(get_and_head(addr, &url, "").await.status, 200);
    });
}

#[test]
fn symlinks_escaping_the_root_are_refused() {
    // StaticFileSymlinkTest: a link inside the root to a file inside is served; to a file
    // or a directory outside is refused.
    gen_test(|| async {
        let base = std::env::temp_dir().join(format!("tornado-rs-static-{}", std::process::id()));
        let root = base.join("root");
        let outside = base.join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("regular.txt"), "regular").unwrap();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(root.join("regular.txt"), root.join("inside_link.txt")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("outside_link.txt"))
            .unwrap();
        std::os::unix::fs::symlink(&outside, root.join("outside_dir")).unwrap();
        let app = Application::builder()
            .route("/s/(.*)", {
                let root = root.clone();
                move || StaticFileHandler::new(root.clone())
            })
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let _l = ExpectLog::new("general", "").required(false);
        let _a = ExpectLog::new("access", "").required(false);
        assert_eq!(
            fetch(addr, "GET", "/s/regular.txt", "").await.text(),
            "regular"
        );
        assert_eq!(
            fetch(addr, "GET", "/s/inside_link.txt", "").await.text(),
            "regular"
        );
        let r = fetch(addr, "GET", "/s/outside_link.txt", "").await;
        assert_eq!(r.status, 403);
        assert!(!r.text().contains("secret"));
        assert_eq!(
            fetch(addr, "GET", "/s/outside_dir/secret.txt", "")
                .await
                .status,
            403
        );
        let _ = std::fs::remove_dir_all(&base);
    });
}

#[test]
fn security_corpus_static_cases() {
    // security_corpus_test.py 4.2.1, 6.3.2 and 6.6.0 with static_url_prefix "/" and a
    // default filename: no traversal by prefix, no protocol-relative redirects.
    gen_test(|| async {
        let app = Application::builder()
            .route("/(.*)", || {
                StaticFileHandler::new(static_dir()).default_filename("index.html")
            })
            .build()
            .unwrap();
        let (_server, addr) = serve(&app);
        let _l = ExpectLog::new("general", "").required(false);
        let _a = ExpectLog::new("access", "").required(false);
        let r = fetch(addr, "GET", "/../static_foo.txt", "").await;
        assert_eq!(r.status, 403, "4.2.1");
        assert!(!r.text().contains("must not be served"));
        let dir = static_dir();
        let r = fetch(
            addr,
            "GET",
            &format!("//evil.com/..{}/dir", dir.display()),
            "",
        )
        .await;
        assert!(
            r.header("location").is_none(),
            "6.3.2: {:?}",
            r.header("location")
        );
        assert_eq!(r.status, 403, "6.3.2");
        let r = fetch(addr, "GET", "/\\evil.com/../dir", "").await;
        assert!(r.header("location").is_none(), "6.6.0");
        assert_eq!(r.status, 403, "6.6.0");
    });
}
