//! Hello world at the HTTP layer (no web framework), the program the benchmarks measure.
//!
//! ```sh
//! cargo run --release --example hello_http -- --port 8888 [--threads N]
//! ```
//!
//! * `GET /plaintext` → `200 text/plain` `Hello, World!`
//! * `GET /json` → `200 application/json` `{"message":"Hello, World!"}`, serialized per
//!   request
//! * anything else → `404`

use serde::Serialize;
use tornado::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use tornado::http::{Method, StatusCode};
use tornado::httpserver::{
    HttpConnection, HttpMessageDelegate, HttpServer, HttpServerConnectionDelegate, RequestHeaders,
    ServerConnection, StartLine, header_map, recycle_header_map,
};
use tornado::httputil::{HttpInputError, RequestStartLine, ResponseStartLine};
use tornado::ioloop::IoLoop;
use tornado::log::{GENERAL, enable_pretty_logging};

#[path = "args.rs"]
mod args;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

// Checked once, at compile time.
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The application: a delegate of the HTTP layer, shared by every loop thread.
struct Hello;

/// One request: what it asks for, decided when its head arrives.
struct HelloRequest {
    connection: HttpConnection,
    route: Route,
}

enum Route {
    Plaintext,
    Json,
    NotFound,
}

impl HttpServerConnectionDelegate for Hello {
    type Message = HelloRequest;

    fn start_request(&self, _: &ServerConnection, connection: HttpConnection) -> HelloRequest {
        HelloRequest {
            connection,
            route: Route::NotFound,
        }
    }
}

impl HelloRequest {
    fn route(&mut self, line: &RequestStartLine) {
        self.route = match (&line.method, line.path.path()) {
            (&Method::GET, "/plaintext") => Route::Plaintext,
            (&Method::GET, "/json") => Route::Json,
            _ => Route::NotFound,
        };
    }
}

impl HttpMessageDelegate for HelloRequest {
    /// What a server calls: the headers are not needed here, so no map is built for them.
    async fn request_headers_received(
        &mut self,
        line: RequestStartLine,
        _headers: RequestHeaders,
    ) -> Result<(), HttpInputError> {
        self.route(&line);
        Ok(())
    }

    async fn headers_received(
        &mut self,
        start_line: StartLine,
        headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        // Not needed here: its allocation can serve another message.
        recycle_header_map(headers);
        if let StartLine::Request(line) = start_line {
            self.route(&line);
        }
        Ok(())
    }

    async fn data_received(&mut self, _chunk: tornado::bytes::Bytes) -> Result<(), HttpInputError> {
        Ok(())
    }

    async fn finish(&mut self) {
        let json;
        let (status, content_type, body): (StatusCode, HeaderValue, &[u8]) = match self.route {
            Route::Plaintext => (StatusCode::OK, TEXT_PLAIN, b"Hello, World!"),
            Route::Json => {
                json = serde_json::to_vec(&Message {
                    message: "Hello, World!",
                })
                .unwrap_or_default();
                (StatusCode::OK, APPLICATION_JSON, &json)
            }
            Route::NotFound => (StatusCode::NOT_FOUND, TEXT_PLAIN, b"Not Found"),
        };
        // A map from the thread's pool; the connection adds `Content-Length` (the body is
        // whole) and `Date`.
        let mut headers = header_map();
        headers.insert(CONTENT_TYPE, content_type);
        let _ = self
            .connection
            .write_response(&ResponseStartLine::new(status), headers, body);
    }
}

fn main() -> std::io::Result<()> {
    enable_pretty_logging(log::LevelFilter::Info);
    let port: u16 = args::number("port", 8888);
    let threads: usize = args::number("threads", 1);
    let server = HttpServer::new(Hello);
    let addrs = server.bind(port, tornado::tcpserver::BindOptions::new())?;
    server.start(threads)?;
    for a in &addrs {
        log::info!(target: GENERAL, "Listening on http://{a} ({threads} thread(s))");
    }
    IoLoop::current().start()
}
