//! HTTP client requests per second: `tornado::httpclient::AsyncHttpClient` beside hyper's
//! pooled client (`hyper_util::client::legacy::Client`, on a tokio current-thread runtime),
//! in one run, against the same loopback server (this workspace's `HttpServer` answering
//! `Hello, World!`, on a thread and loop of its own).
//!
//! ```sh
//! cargo build --release -p tornado-benches --bin httpclient_bench
//! target/release/httpclient_bench [--duration S] [--warmup S] [--rounds N] [--concurrency N]
//!     [--only tornado-rs|hyper|no-pool] [--workload sequential|concurrent]
//! ```
//!
//! Workloads, per client: sequential fetches (one at a time), and `--concurrency` (64)
//! fetches in flight. For each, requests per second over the measured window, and the
//! connections the server saw opened per 1,000 requests (connection reuse: 0 after the
//! pool is warm; Tornado's own client, which closes every connection, shows 1,000: the third
//! client, `no-pool`, is ours with `keep_alive(false)`, which behaves as Tornado's does).
//! Rounds alternate the client order; medians are reported.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use tornado::http::StatusCode;
use tornado::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use tornado::httpclient::{AsyncHttpClient, ClientSettings, HttpRequest};
use tornado::httpserver::{
    HttpConnection, HttpMessageDelegate, HttpServer, HttpServerConnectionDelegate,
    ServerConnection, StartLine,
};
use tornado::httputil::{HttpInputError, ResponseStartLine};
use tornado::ioloop::IoLoop;

/// The server: answers every request with `Hello, World!`, and notes the highest
/// connection id it saw (ids count connections on its loop, from 0).
struct Hello {
    connections: Arc<AtomicU64>,
}

struct HelloRequest {
    connection: HttpConnection,
}

impl HttpServerConnectionDelegate for Hello {
    type Message = HelloRequest;

    fn start_request(&self, conn: &ServerConnection, connection: HttpConnection) -> HelloRequest {
        self.connections.fetch_max(conn.id + 1, Ordering::Relaxed);
        HelloRequest { connection }
    }
}

impl HttpMessageDelegate for HelloRequest {
    async fn headers_received(&mut self, _: StartLine, _: HeaderMap) -> Result<(), HttpInputError> {
        Ok(())
    }

    async fn data_received(&mut self, _: Bytes) -> Result<(), HttpInputError> {
        Ok(())
    }

    async fn finish(&mut self) {
        let mut headers = tornado::httpserver::header_map();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let _ = self.connection.write_response(
            &ResponseStartLine::new(StatusCode::OK),
            headers,
            b"Hello, World!",
        );
    }
}

fn start_server() -> (u16, Arc<AtomicU64>) {
    let connections = Arc::new(AtomicU64::new(0));
    let c = connections.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let io_loop = IoLoop::new();
        let _ = io_loop.run_sync(
            move || async move {
                let server = HttpServer::new(Hello { connections: c });
                let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
                tx.send(port).unwrap();
                std::future::pending::<()>().await;
            },
            None,
        );
    });
    (rx.recv().unwrap(), connections)
}

#[derive(Clone, Copy)]
struct Args {
    duration: Duration,
    warmup: Duration,
    rounds: usize,
    concurrency: usize,
    /// Only this client (`--only tornado-rs` or `--only hyper`), for profiling.
    only: Option<&'static str>,
    /// Only this workload (`--workload sequential` or `concurrent`).
    workload: Option<&'static str>,
}

fn parse_args() -> Args {
    let mut a = Args {
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        rounds: 3,
        concurrency: 64,
        only: None,
        workload: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut name = |choices: &[&'static str]| -> &'static str {
            let v = it.next().unwrap_or_default();
            choices
                .iter()
                .find(|c| **c == v)
                .copied()
                .unwrap_or_else(|| panic!("{flag} takes one of {choices:?}"))
        };
        match flag.as_str() {
            "--only" => {
                a.only = Some(name(&["tornado-rs", "hyper", "no-pool"]));
                continue;
            }
            "--workload" => {
                a.workload = Some(name(&["sequential", "concurrent"]));
                continue;
            }
            _ => {}
        }
        let mut value = || -> f64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{flag} takes a number"))
        };
        match flag.as_str() {
            "--duration" => a.duration = Duration::from_secs_f64(value()),
            "--warmup" => a.warmup = Duration::from_secs_f64(value()),
            "--rounds" => a.rounds = value() as usize,
            "--concurrency" => a.concurrency = (value() as usize).max(1),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// One measured window: requests done, connections opened, seconds.
#[derive(Clone, Copy, Default)]
struct Window {
    requests: u64,
    connections: u64,
    secs: f64,
}

impl Window {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.secs
    }

    fn per_1000(&self) -> f64 {
        self.connections as f64 * 1000.0 / self.requests.max(1) as f64
    }
}

fn ours(args: Args, port: u16, conns: &Arc<AtomicU64>, concurrency: usize) -> Window {
    ours_with(args, port, conns, concurrency, true)
}

/// Our client as Tornado's simple client works: `Connection: close`, a connection per request.
fn ours_no_pool(args: Args, port: u16, conns: &Arc<AtomicU64>, concurrency: usize) -> Window {
    ours_with(args, port, conns, concurrency, false)
}

fn ours_with(
    args: Args,
    port: u16,
    conns: &Arc<AtomicU64>,
    concurrency: usize,
    keep_alive: bool,
) -> Window {
    let io_loop = IoLoop::new();
    let url: Arc<str> = format!("http://127.0.0.1:{port}/").into();
    let (warmup, duration) = (args.warmup, args.duration);
    let conns = conns.clone();
    let window = io_loop
        .run_sync(
            move || async move {
                let client = AsyncHttpClient::with_settings(
                    ClientSettings::new()
                        .max_clients(concurrency)
                        .keep_alive(keep_alive),
                );
                let start = Instant::now();
                let (open, close) = (start + warmup, start + warmup + duration);
                let counted = std::rc::Rc::new(std::cell::Cell::new(0u64));
                let l = IoLoop::current();
                let tasks: Vec<_> = (0..concurrency)
                    .map(|_| {
                        let (client, url, counted) = (client.clone(), url.clone(), counted.clone());
                        l.spawn(async move {
                            loop {
                                let now = Instant::now();
                                if now >= close {
                                    break;
                                }
                                let req = HttpRequest::new(&*url).decompress_response(false);
                                let r = client.fetch(req, true).await.expect("fetch");
                                assert_eq!(r.body().len(), 13);
                                if now >= open {
                                    counted.set(counted.get() + 1);
                                }
                            }
                        })
                    })
                    .collect();
                tornado::r#gen::sleep(open).await;
                let before = conns.load(Ordering::Relaxed);
                for t in tasks {
                    t.await.unwrap();
                }
                client.close();
                Window {
                    requests: counted.get(),
                    connections: conns.load(Ordering::Relaxed) - before,
                    secs: duration.as_secs_f64(),
                }
            },
            None,
        )
        .unwrap();
    let _ = io_loop.close();
    window
}

fn hyper(args: Args, port: u16, conns: &Arc<AtomicU64>, concurrency: usize) -> Window {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let uri: hyper::Uri = format!("http://127.0.0.1:{port}/").parse().unwrap();
    let (warmup, duration) = (args.warmup, args.duration);
    rt.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(concurrency)
                .build_http::<Empty<Bytes>>();
        let start = Instant::now();
        let (open, close) = (start + warmup, start + warmup + duration);
        let counted = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, uri, counted) = (client.clone(), uri.clone(), counted.clone());
                tokio::spawn(async move {
                    loop {
                        let now = Instant::now();
                        if now >= close {
                            break;
                        }
                        let resp = client.get(uri.clone()).await.expect("hyper fetch");
                        let body = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body.len(), 13);
                        if now >= open {
                            counted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep_until(open.into()).await;
        let before = conns.load(Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        Window {
            requests: counted.load(Ordering::Relaxed),
            connections: conns.load(Ordering::Relaxed) - before,
            secs: duration.as_secs_f64(),
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args = parse_args();
    let (port, conns) = start_server();
    println!(
        "httpclient_bench: {} s windows after {} s warm-up, {} rounds, server on 127.0.0.1:{port}",
        args.duration.as_secs_f64(),
        args.warmup.as_secs_f64(),
        args.rounds
    );
    type Run = fn(Args, u16, &Arc<AtomicU64>, usize) -> Window;
    let clients: [(&str, Run); 3] = [
        ("tornado-rs", ours),
        ("hyper", hyper),
        ("no-pool", ours_no_pool),
    ];
    for (label, concurrency) in [("sequential", 1), ("concurrent", args.concurrency)] {
        if args.workload.is_some_and(|w| w != label) {
            continue;
        }
        let mut results: Vec<Vec<Window>> = vec![Vec::new(); clients.len()];
        for round in 0..args.rounds {
            for k in 0..clients.len() {
                let i = (k + round) % clients.len();
                let (name, run) = clients[i];
                if args.only.is_some_and(|o| o != name) {
                    continue;
                }
                let w = run(args, port, &conns, concurrency);
                println!(
                    "  round {round} {label:>10} {name:>10}: {:>9.0} req/s, {:.2} connections per 1,000 requests",
                    w.rate(),
                    w.per_1000()
                );
                results[i].push(w);
            }
        }
        println!("{label} ({concurrency} in flight), medians:");
        for (i, (name, _)) in clients.iter().enumerate() {
            if results[i].is_empty() {
                continue;
            }
            let rates: Vec<f64> = results[i].iter().map(Window::rate).collect();
            let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = rates.iter().copied().fold(0.0, f64::max);
            let per: Vec<f64> = results[i].iter().map(Window::per_1000).collect();
            println!(
                "  {name:>10}: {:>9.0} req/s ({lo:.0}-{hi:.0}), {:.2} connections per 1,000 requests",
                median(rates),
                median(per)
            );
        }
    }
}
