//! Why blocking calls hurt an event loop, and the two ways out (see the README's section
//! "`/sleep` and `/justnow`").
//!
//! ```sh
//! cargo run --release --example sleep_justnow -- --port 8888
//! curl localhost:8888/sleep & sleep 0.2; time curl localhost:8888/justnow
//! ```
//!
//! * `/sleep` calls `std::thread::sleep(5 s)` on the loop: the whole server, `/justnow`
//!   included, waits for it.
//! * `/sleep_executor` runs the same blocking sleep on the loop's thread pool
//!   (`run_in_executor`) and awaits it: the loop keeps serving.
//! * `/sleep_async` awaits `gen::sleep(5 s)`, a timer: nothing blocks at all.
//! * `/justnow` answers at once with the time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tornado::r#gen::sleep;
use tornado::ioloop::IoLoop;
use tornado::log::{GENERAL, enable_pretty_logging};
use tornado::web::{Application, Handler, RequestHandler, Result};

#[path = "args.rs"]
mod args;

const NAP: Duration = Duration::from_secs(5);

/// Blocks the loop: don't do this.
struct Sleep;

impl RequestHandler for Sleep {
    async fn get(&mut self, h: &mut Handler) -> Result {
        std::thread::sleep(NAP);
        h.write("slept 5 s, and nobody else was served meanwhile\n");
        Ok(())
    }
}

/// The same blocking call on a worker thread.
struct SleepExecutor;

impl RequestHandler for SleepExecutor {
    async fn get(&mut self, h: &mut Handler) -> Result {
        IoLoop::current()
            .run_in_executor(None, || std::thread::sleep(NAP))
            .await
            .map_err(|e| tornado::web::Error::msg(e.to_string()))?;
        h.write("slept 5 s on a worker thread; the loop went on serving\n");
        Ok(())
    }
}

/// A timer instead of a blocking call.
struct SleepAsync;

impl RequestHandler for SleepAsync {
    async fn get(&mut self, h: &mut Handler) -> Result {
        sleep(NAP).await;
        h.write("waited 5 s on a timer; the loop went on serving\n");
        Ok(())
    }
}

struct JustNow;

impl RequestHandler for JustNow {
    async fn get(&mut self, h: &mut Handler) -> Result {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        h.write(format!(
            "i sleep, therefore i am ({:.3})\n",
            now.as_secs_f64()
        ));
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    enable_pretty_logging(log::LevelFilter::Info);
    let port: u16 = args::number("port", 8888);
    let app = Application::builder()
        .route("/sleep", || Sleep)
        .route("/sleep_executor", || SleepExecutor)
        .route("/sleep_async", || SleepAsync)
        .route("/justnow", || JustNow)
        .build()
        .map_err(std::io::Error::other)?;
    let server = app.listen(port)?;
    for a in server.local_addrs() {
        log::info!(target: GENERAL, "Listening on http://{a}");
    }
    IoLoop::current().start()
}
