//! `Queue` put+get throughput beside tokio's `mpsc` channels on a current-thread runtime, in
//! the same process.
//!
//! `put_get/<bound>/<n>_producers`: `n` producer tasks put their share of the items, one
//! consumer (the measuring task) gets them all; time per item, from the first spawn to the
//! last item received.
//!
//! * `unbounded`: ours `Queue::new()` with `put(item).await` (never waits); tokio
//!   `mpsc::unbounded_channel` with `send(item)`.
//! * `maxsize_100`: ours `Queue::with_maxsize(100)` with `put(item).await`; tokio
//!   `mpsc::channel(100)` with `send(item).await`. Producers wait while it is full.
//!
//! Ours runs on an `IoLoop` with tasks spawned by `IoLoop::spawn`; tokio on a
//! `current_thread` runtime with `tokio::spawn`. Tornado's own `Queue` doing the same work is
//! measured by `benches/tornado_queue.py`.
//!
//! Run: `cargo bench -p tornado-queues --bench queues`. Results: `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tornado_ioloop::IoLoop;
use tornado_queues::Queue;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Ours: `producers` tasks put `per_producer` items each into a queue of `maxsize`.
fn ours(io_loop: &IoLoop, maxsize: usize, producers: u64, per_producer: u64) -> Duration {
    io_loop
        .run_sync(
            move || async move {
                let l = IoLoop::current();
                let q = Queue::with_maxsize(maxsize);
                let start = Instant::now();
                for p in 0..producers {
                    let q = q.clone();
                    l.spawn_callback(async move {
                        for i in 0..per_producer {
                            q.put(p * per_producer + i).await;
                        }
                    });
                }
                for _ in 0..producers * per_producer {
                    black_box(q.get().await);
                }
                start.elapsed()
            },
            None,
        )
        .unwrap()
}

/// Tokio: the same with an `mpsc` channel (`bound` 0 means unbounded).
fn tokio_mpsc(
    rt: &tokio::runtime::Runtime,
    bound: usize,
    producers: u64,
    per_producer: u64,
) -> Duration {
    rt.block_on(async move {
        let start = Instant::now();
        let total = producers * per_producer;
        if bound == 0 {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for p in 0..producers {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..per_producer {
                        tx.send(p * per_producer + i).unwrap();
                    }
                });
            }
            for _ in 0..total {
                black_box(rx.recv().await.unwrap());
            }
        } else {
            let (tx, mut rx) = tokio::sync::mpsc::channel(bound);
            for p in 0..producers {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..per_producer {
                        tx.send(p * per_producer + i).await.unwrap();
                    }
                });
            }
            for _ in 0..total {
                black_box(rx.recv().await.unwrap());
            }
        }
        start.elapsed()
    })
}

fn put_get(c: &mut Criterion) {
    let mut g = c.benchmark_group("put_get");
    for (bound_name, maxsize) in [("unbounded", 0), ("maxsize_100", 100)] {
        for producers in [1u64, 16] {
            let id = format!("{bound_name}/{producers}_producers");
            g.bench_function(format!("{id}/tornado"), |b| {
                let io_loop = IoLoop::new();
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(producers);
                    let elapsed = ours(&io_loop, maxsize, producers, per);
                    // Scale to `iters` items when rounding up added a few.
                    elapsed.mul_f64(iters as f64 / (per * producers) as f64)
                });
            });
            g.bench_function(format!("{id}/tokio"), |b| {
                let rt = tokio_rt();
                b.iter_custom(|iters| {
                    let per = iters.div_ceil(producers);
                    let elapsed = tokio_mpsc(&rt, maxsize, producers, per);
                    elapsed.mul_f64(iters as f64 / (per * producers) as f64)
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, put_get);
criterion_main!(benches);
