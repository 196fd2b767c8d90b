//! The web spider of Tornado's documentation (`docs/guide/queues.rst`, `demos/webspider`):
//! a `Queue` of URLs, N concurrent workers that `fetch` a page with `AsyncHttpClient` and put
//! the links they find beneath the base URL, a set of URLs seen, `join` with a timeout to
//! know when the crawl is over, and a summary.
//!
//! ```sh
//! cargo run --example webspider                       # crawls a small site it serves itself
//! cargo run --example webspider -- --port 8889        # ... on that port (default: any free one)
//! cargo run --example webspider -- --url http://www.tornadoweb.org/en/stable/ --concurrency 10
//! ```
//!
//! By default the example writes a small site of linked HTML pages into a temporary
//! directory, serves it on `127.0.0.1` with `web::StaticFileHandler`, and crawls it, so it
//! runs offline.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tornado::r#gen::multi;
use tornado::httpclient::{AsyncHttpClient, HttpClientError, urljoin};
use tornado::httpserver::HttpServer;
use tornado::ioloop::IoLoop;
use tornado::queues::Queue;
use tornado::web::{Application, StaticFileHandler};

#[path = "args.rs"]
mod args;

/// The demo site: path → links on the page. `/missing.html` is linked but does not exist,
/// and the off-site links must not be followed.
const SITE: &[(&str, &[&str])] = &[
    (
        "/",
        &[
            "guide/",
            "api/",
            "about.html",
            "https://www.tornadoweb.org/",
            "#top",
        ],
    ),
    (
        "/about.html",
        &["/", "guide/intro.html#why", "missing.html"],
    ),
    (
        "/guide/",
        &[
            "intro.html",
            "async.html",
            "coroutines.html",
            "queues.html",
            "../",
        ],
    ),
    (
        "/guide/intro.html",
        &["async.html", "/guide/", "mailto:someone@example.com"],
    ),
    (
        "/guide/async.html",
        &["coroutines.html", "intro.html?ref=async"],
    ),
    ("/guide/coroutines.html", &["queues.html", "/api/gen.html"]),
    ("/guide/queues.html", &["/api/queues.html", "../about.html"]),
    (
        "/api/",
        &["ioloop.html", "gen.html", "queues.html", "httpclient.html"],
    ),
    ("/api/ioloop.html", &["gen.html", "/"]),
    ("/api/gen.html", &["ioloop.html", "queues.html"]),
    (
        "/api/queues.html",
        &["httpclient.html", "/guide/queues.html"],
    ),
    (
        "/api/httpclient.html",
        &["queues.html", "http://example.invalid/elsewhere"],
    ),
];

/// The HTML of the page at `path`.
fn page(path: &str, links: &[&str]) -> String {
    let mut html = format!("<html><head><title>{path}</title></head><body><h1>{path}</h1><ul>\n");
    for link in links {
        html.push_str(&format!(
            "<li><a class=\"x\" HREF=\"{link}\">{link}</a></li>\n"
        ));
    }
    html.push_str("</ul></body></html>\n");
    html
}

/// Writes the demo site under a temporary directory (a directory's page is its
/// `index.html`) and serves it on `port` (0: any free port) with `StaticFileHandler`.
/// Returns the server, the directory and the base URL.
fn serve_site(port: u16) -> std::io::Result<(HttpServer<Application>, PathBuf, String)> {
    let root = std::env::temp_dir().join(format!("tornado-rs-webspider-{}", std::process::id()));
    for (path, links) in SITE {
        let mut file = root.join(path.trim_start_matches('/'));
        if path.ends_with('/') {
            file.push("index.html");
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&file, page(path, links))?;
    }
    let served = root.clone();
    let app = Application::builder()
        .route("/(.*)", move || {
            StaticFileHandler::new(served.clone()).default_filename("index.html")
        })
        .build()
        .map_err(std::io::Error::other)?;
    let server = app.listen_with(port, Some("127.0.0.1"), Default::default())?;
    let addr = server.local_addrs()[0];
    Ok((server, root, format!("http://{addr}/")))
}

/// The `href` of every `<a>` tag (Tornado's demo uses `HTMLParser`; a scan for the
/// attribute is enough for a demo).
fn get_links(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<a") {
        let tag_start = at + start;
        let Some(len) = lower[tag_start..].find('>') else {
            break;
        };
        let tag = &html[tag_start..tag_start + len];
        let tag_lower = &lower[tag_start..tag_start + len];
        if let Some(h) = tag_lower.find("href=") {
            let rest = &tag[h + 5..];
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest.split([' ', '>']).next().unwrap_or(""),
            };
            links.push(value.to_owned());
        }
        at = tag_start + len;
    }
    links
}

/// `urldefrag`: the URL without its fragment.
fn remove_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

async fn get_links_from_url(
    client: &AsyncHttpClient,
    url: &str,
) -> Result<Vec<String>, HttpClientError> {
    let response = client.fetch(url, true).await?;
    println!("fetched {url}");
    let html = String::from_utf8_lossy(response.body());
    Ok(get_links(&html)
        .iter()
        .map(|new_url| urljoin(url, remove_fragment(new_url)))
        .collect())
}

#[derive(Default)]
struct Crawl {
    fetching: HashSet<String>,
    fetched: HashSet<String>,
    dead: HashSet<String>,
}

async fn fetch_url(
    client: &AsyncHttpClient,
    base_url: &str,
    current_url: String,
    q: &Queue<Option<String>>,
    crawl: &RefCell<Crawl>,
) -> Result<(), HttpClientError> {
    if !crawl.borrow_mut().fetching.insert(current_url.clone()) {
        return Ok(());
    }
    println!("fetching {current_url}");
    let urls = get_links_from_url(client, &current_url).await?;
    crawl.borrow_mut().fetched.insert(current_url);
    for new_url in urls {
        // Only follow links beneath the base URL.
        if new_url.starts_with(base_url) {
            q.put(Some(new_url)).await;
        }
    }
    Ok(())
}

async fn worker(
    client: AsyncHttpClient,
    base_url: Rc<str>,
    q: Queue<Option<String>>,
    crawl: Rc<RefCell<Crawl>>,
) {
    let mut urls = q.stream();
    while let Some(url) = urls.next().await {
        let Some(url) = url else {
            q.task_done().expect("one task_done per get");
            return;
        };
        if let Err(e) = fetch_url(&client, &base_url, url.clone(), &q, &crawl).await {
            println!("Exception: {e} {url}");
            crawl.borrow_mut().dead.insert(url);
        }
        q.task_done().expect("one task_done per get");
    }
}

async fn main_async(base_url: String, concurrency: usize) {
    let q = Queue::new();
    let start = Instant::now();
    let crawl = Rc::new(RefCell::new(Crawl::default()));
    // The loop's shared client: at most 10 requests at once, connections kept alive.
    let client = AsyncHttpClient::new();
    let base: Rc<str> = base_url.clone().into();

    q.put(Some(base_url)).await;

    // Start the workers, then wait for the work queue to be empty.
    let l = IoLoop::current();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            l.spawn(worker(
                client.clone(),
                base.clone(),
                q.clone(),
                crawl.clone(),
            ))
        })
        .collect();
    if q.join_timeout(Duration::from_secs(300)).await.is_err() {
        println!("The crawl did not finish within 300 seconds.");
    }
    {
        let c = crawl.borrow();
        let done: HashSet<String> = c.fetched.union(&c.dead).cloned().collect();
        assert_eq!(c.fetching, done, "every URL fetched was fetched or is dead");
        println!(
            "Done in {:.2} seconds, fetched {} URLs.",
            start.elapsed().as_secs_f64(),
            c.fetched.len()
        );
        println!("Unable to fetch {} URLs.", c.dead.len());
        println!(
            "{} connections opened for {} requests.",
            client.connections_opened(),
            c.fetching.len()
        );
    }

    // Signal all the workers to exit.
    for _ in 0..concurrency {
        q.put(None).await;
    }
    multi(workers).await.expect("every worker exited");
}

fn main() {
    let concurrency: usize = args::number("concurrency", 10).max(1);
    let url = args::flag("url");
    let port: u16 = args::number("port", 0);
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(
            move || async move {
                let (site, base_url) = match url {
                    Some(u) => (None, u),
                    None => {
                        let (server, root, base) = serve_site(port).expect("serving the demo site");
                        println!("serving the demo site at {base}");
                        (Some((server, root)), base)
                    }
                };
                main_async(base_url, concurrency).await;
                if let Some((server, root)) = site {
                    server.stop();
                    let _ = std::fs::remove_dir_all(root);
                }
            },
            Some(Duration::from_secs(310)),
        )
        .expect("the spider finished");
}
