//! The producer/consumer pattern of Tornado's web spider demo (`demos/webspider`): a
//! `Queue` of URLs, N concurrent workers that fetch a page and put the links they find,
//! `task_done`/`join` with a timeout to know when the crawl is over, and a sentinel per
//! worker to stop them.
//!
//! `examples/webspider.rs` is the same program over real HTTP (`AsyncHttpClient`); this one
//! keeps a simulated site, to show the queue alone: each page
//! takes a random 2-20 ms, links to a few others (and to pages outside the site, which are
//! not followed), and some pages are dead. It runs offline in well under a second.
//!
//! Run: `cargo run --example queue_spider`.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tornado::r#gen::{multi, sleep};
use tornado::ioloop::IoLoop;
use tornado::queues::Queue;

const BASE_URL: &str = "http://spider.test/";
const PAGES: u64 = 120;
const CONCURRENCY: usize = 10;

/// A small xorshift generator for the simulated delays: the example needs no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The page number of a URL of the simulated site.
fn page_number(url: &str) -> Option<u64> {
    url.strip_prefix(BASE_URL)?
        .strip_prefix("page/")?
        .parse()
        .ok()
}

fn page_url(n: u64) -> String {
    format!("{BASE_URL}page/{n}")
}

/// Tornado's `get_links_from_url`, simulated: waits a random while, then gives the page's
/// links, or an error for a dead page.
async fn get_links_from_url(url: &str, rng: &RefCell<Rng>) -> Result<Vec<String>, String> {
    let delay = rng.borrow_mut().below(19) + 2;
    sleep(Duration::from_millis(delay)).await;
    let n = if url == BASE_URL {
        0
    } else {
        page_number(url).ok_or_else(|| "HTTP 404: Not Found".to_owned())?
    };
    if n % 17 == 11 {
        return Err("HTTP 500: Internal Server Error".to_owned());
    }
    // A tree (2n+1, 2n+2) so that every page is reachable, plus a few cross links, a link
    // back home and one off-site link that the spider must not follow.
    let mut links: Vec<String> = [2 * n + 1, 2 * n + 2, (n * 7 + 3) % PAGES, n / 2]
        .into_iter()
        .filter(|&m| m < PAGES)
        .map(page_url)
        .collect();
    links.push(BASE_URL.to_owned());
    links.push(format!("https://www.tornadoweb.org/en/stable/?from={n}"));
    Ok(links)
}

#[derive(Default)]
struct Crawl {
    fetching: HashSet<String>,
    fetched: HashSet<String>,
    dead: HashSet<String>,
}

async fn fetch_url(
    current_url: String,
    q: &Queue<Option<String>>,
    crawl: &RefCell<Crawl>,
    rng: &RefCell<Rng>,
) -> Result<(), String> {
    if !crawl.borrow_mut().fetching.insert(current_url.clone()) {
        return Ok(());
    }
    println!("fetching {current_url}");
    let urls = get_links_from_url(&current_url, rng).await?;
    crawl.borrow_mut().fetched.insert(current_url);
    for new_url in urls {
        // Only follow links beneath the base URL.
        if new_url.starts_with(BASE_URL) {
            q.put(Some(new_url)).await;
        }
    }
    Ok(())
}

async fn worker(q: Queue<Option<String>>, crawl: Rc<RefCell<Crawl>>, rng: Rc<RefCell<Rng>>) {
    let mut urls = q.stream();
    while let Some(url) = urls.next().await {
        let Some(url) = url else {
            // The sentinel: the crawl is over.
            q.task_done().expect("one task_done per get");
            return;
        };
        if let Err(e) = fetch_url(url.clone(), &q, &crawl, &rng).await {
            println!("Exception: {e} {url}");
            crawl.borrow_mut().dead.insert(url);
        }
        q.task_done().expect("one task_done per get");
    }
}

async fn main_async() {
    let q = Queue::new();
    let start = Instant::now();
    let crawl = Rc::new(RefCell::new(Crawl::default()));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let rng = Rc::new(RefCell::new(Rng((0x9E37_79B9_7F4A_7C15 ^ seed) | 1)));

    q.put(Some(BASE_URL.to_owned())).await;

    // Start the workers, then wait for the work queue to be empty.
    let l = IoLoop::current();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| l.spawn(worker(q.clone(), crawl.clone(), rng.clone())))
        .collect();
    let progress = {
        let crawl = crawl.clone();
        tornado::ioloop::PeriodicCallback::new(
            move || {
                let c = crawl.borrow();
                println!(
                    "... {} fetched, {} dead so far",
                    c.fetched.len(),
                    c.dead.len()
                );
            },
            Duration::from_millis(100),
        )
    };
    progress.start();
    q.join_timeout(Duration::from_secs(300))
        .await
        .expect("the crawl finished within 300 s");
    progress.stop();

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
    }

    // Signal all the workers to exit.
    for _ in 0..CONCURRENCY {
        q.put(None).await;
    }
    multi(workers).await.expect("every worker exited");
}

fn main() {
    IoLoop::new()
        .run_sync(main_async, Some(Duration::from_secs(310)))
        .expect("the spider finished");
}
