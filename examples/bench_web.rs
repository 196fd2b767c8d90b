//! The benchmarks' hello world through the web framework: `Application` and
//! `RequestHandler`s, as Tornado's entry in the peer kit (`python/tornado_server.py`) is
//! written, Tornado's defaults kept (an `ETag` computed for every GET).
//!
//! ```sh
//! cargo run --release --example bench_web -- --port 8888 [--threads N]
//! ```
//!
//! * `GET /plaintext` → `200 text/plain` `Hello, World!`
//! * `GET /json` → `200 application/json` `{"message":"Hello, World!"}`, serialized per
//!   request
//! * anything else → `404`
//!
//! Requests are not logged (the peers log none): the access log is at info, and this
//! program prints warnings and errors only once it listens.

use serde::Serialize;
use tornado::http::header::{CONTENT_TYPE, HeaderValue};
use tornado::ioloop::IoLoop;
use tornado::log::{GENERAL, enable_pretty_logging};
use tornado::web::{Application, Handler, RequestHandler, Result};

#[path = "args.rs"]
mod args;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

struct Plaintext;

impl RequestHandler for Plaintext {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.set_header(CONTENT_TYPE, TEXT_PLAIN)?;
        h.finish_with(b"Hello, World!")
    }
}

struct Json;

impl RequestHandler for Json {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let body = serde_json::to_vec(&Message {
            message: "Hello, World!",
        })?;
        h.set_header(CONTENT_TYPE, APPLICATION_JSON)?;
        h.finish_with(body)
    }
}

fn main() -> std::io::Result<()> {
    enable_pretty_logging(log::LevelFilter::Info);
    let port: u16 = args::number("port", 8888);
    let threads: usize = args::number("threads", 1);
    let app = Application::builder()
        .route("/plaintext", || Plaintext)
        .route("/json", || Json)
        .build()
        .map_err(std::io::Error::other)?;
    let server = tornado::httpserver::HttpServer::new(app);
    let addrs = server.bind(port, tornado::tcpserver::BindOptions::new())?;
    server.start(threads)?;
    for a in &addrs {
        log::info!(target: GENERAL, "Listening on http://{a} ({threads} thread(s))");
    }
    enable_pretty_logging(log::LevelFilter::Warn);
    log::set_max_level(log::LevelFilter::Warn);
    IoLoop::current().start()
}
