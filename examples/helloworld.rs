//! Tornado's "Hello, world" (`demos/helloworld`), line for line:
//!
//! ```sh
//! cargo run --release --example helloworld -- --port 8888
//! curl http://localhost:8888/
//! ```

use tornado::ioloop::IoLoop;
use tornado::log::{GENERAL, enable_pretty_logging};
use tornado::web::{Application, Handler, RequestHandler, Result};

#[path = "args.rs"]
mod args;

struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, h: &mut Handler) -> Result {
        h.write("Hello, world");
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    enable_pretty_logging(log::LevelFilter::Info);
    let port: u16 = args::number("port", 8888);
    let app = Application::builder()
        .route("/", || MainHandler)
        .build()
        .map_err(std::io::Error::other)?;
    let server = app.listen(port)?;
    for a in server.local_addrs() {
        log::info!(target: GENERAL, "Listening on http://{a}");
    }
    IoLoop::current().start()
}
