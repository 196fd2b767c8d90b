//! A tour of the event loop: timers, `PeriodicCallback`, `run_in_executor`, `multi` and
//! `with_timeout`, with Tornado's log format.
//!
//! ```sh
//! cargo run --release --example ioloop_tour
//! ```
//!
//! A heartbeat ticks every 100 ms throughout. Blocking the loop for 300 ms stops it (the
//! lesson of Tornado's "/sleep blocks everybody" demo); the same wait in the executor does
//! not. Then three simulated downloads run concurrently under `multi`, and a slow one is cut
//! short by `with_timeout`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tornado::r#gen::{multi, sleep, with_timeout};
use tornado::ioloop::{IoLoop, PeriodicCallback};
use tornado::log::{GENERAL, enable_pretty_logging};

fn main() {
    enable_pretty_logging(log::LevelFilter::Info);
    let io_loop = IoLoop::new();
    let result = io_loop.run_sync(tour, Some(Duration::from_secs(30)));
    if let Err(e) = result {
        log::error!(target: GENERAL, "the tour failed: {e}");
        std::process::exit(1);
    }
}

async fn tour() {
    let io_loop = IoLoop::current();
    let start = Instant::now();

    // Timers: call_later with equal or different delays run in deadline order.
    for (delay_ms, name) in [(30, "third"), (10, "first"), (20, "second")] {
        io_loop.call_later(Duration::from_millis(delay_ms), move || {
            log::info!(target: GENERAL, "timer {name} fired after {delay_ms} ms");
        });
    }
    sleep(Duration::from_millis(50)).await;

    // A heartbeat; the gaps between beats show when the loop was blocked.
    let beats = Rc::new(Cell::new(0u32));
    let last = Rc::new(Cell::new(Instant::now()));
    let heartbeat = {
        let (beats, last) = (beats.clone(), last.clone());
        PeriodicCallback::new(
            move || {
                let gap = last.replace(Instant::now()).elapsed();
                beats.set(beats.get() + 1);
                log::info!(target: GENERAL, "heartbeat {} ({} ms since the last)", beats.get(), gap.as_millis());
            },
            Duration::from_millis(100),
        )
    };
    last.set(Instant::now());
    heartbeat.start();
    sleep(Duration::from_millis(250)).await;

    log::info!(target: GENERAL, "blocking the loop itself for 300 ms: the heartbeat stops");
    std::thread::sleep(Duration::from_millis(300));
    sleep(Duration::from_millis(150)).await;

    log::info!(target: GENERAL, "the same 300 ms in the executor: the heartbeat goes on");
    let answer = io_loop
        .run_in_executor(None, || {
            std::thread::sleep(Duration::from_millis(300));
            42
        })
        .await
        .expect("the job ran");
    log::info!(target: GENERAL, "the executor answered {answer}");

    // Concurrent work: three "downloads" of different lengths, all at once.
    let downloads: Vec<_> = [("a.html", 120), ("b.css", 60), ("c.js", 90)]
        .into_iter()
        .map(|(name, ms)| {
            io_loop.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                format!("{name} ({ms} ms)")
            })
        })
        .collect();
    let t = Instant::now();
    let fetched = multi(downloads).await.expect("no download failed");
    log::info!(
        target: GENERAL,
        "multi fetched {} in {} ms (concurrently, not 270 ms)",
        fetched.join(", "),
        t.elapsed().as_millis()
    );

    // A deadline: the slow one is abandoned at 100 ms.
    let slow = io_loop.spawn(sleep(Duration::from_secs(5)));
    match with_timeout(Duration::from_millis(100), slow)
        .message("the slow download took too long")
        .await
    {
        Ok(_) => log::info!(target: GENERAL, "the slow download finished"),
        Err(e) => log::warn!(target: GENERAL, "with_timeout: {e}"),
    }

    heartbeat.stop();
    log::info!(
        target: GENERAL,
        "{} heartbeats in {} ms; done",
        beats.get(),
        start.elapsed().as_millis()
    );
}
