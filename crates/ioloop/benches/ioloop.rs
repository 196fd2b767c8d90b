//! The loop's primitives beside tokio's current-thread runtime, in the same process.
//!
//! Each pair does the same work the way each runtime's users would write it:
//!
//! * `call_later/schedule_fire/10000_pending`: a timer due at once, run to completion, with
//!   10,000 far-off timers pending. Ours: `call_later(0, cb)`; tokio: a spawned task that
//!   awaits `sleep(0)` (tokio's idiom for a delayed callback).
//! * `call_later/schedule_cancel/10000_pending`: a one-hour timer set and cancelled. Ours:
//!   `call_later` + `remove_timeout`; tokio: a `sleep(1h)` polled once (which registers it)
//!   and dropped.
//! * `add_callback/same_thread`: ours `add_callback`; tokio `spawn` of a task that runs the
//!   callback.
//! * `add_callback/other_thread`: another thread queues callbacks (ours: `IoLoopHandle`;
//!   tokio: `Handle::spawn`), the loop runs them.
//! * `spawn_await/trivial`: spawn a task that returns at once and await it.
//! * `ping_pong/concurrent_future`: two tasks hand a counter back and forth; ours through
//!   `tornado_concurrent::Future`, tokio through `tokio::sync::oneshot`.
//!
//! Run: `cargo bench -p tornado-ioloop --bench ioloop`. Results: `docs/BENCHMARKS.md`.

use std::cell::Cell;
use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tornado_concurrent::Future as SharedFuture;
use tornado_ioloop::IoLoop;

const PENDING: usize = 10_000;
const HOUR: Duration = Duration::from_secs(3600);

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Waits (yielding to the loop) until `count` reaches `target`.
async fn ours_until(count: &Rc<Cell<u64>>, target: u64) {
    while count.get() < target {
        tornado_gen_free_moment().await;
    }
}

/// `gen::moment` without depending on the gen crate (a higher layer).
fn tornado_gen_free_moment() -> impl std::future::Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

fn call_later(c: &mut Criterion) {
    let mut g = c.benchmark_group("call_later");

    g.bench_function("schedule_fire/10000_pending/tornado", |b| {
        let io_loop = IoLoop::new();
        let far: Vec<_> = (0..PENDING)
            .map(|_| io_loop.call_later(HOUR, || ()))
            .collect();
        b.iter_custom(|iters| {
            io_loop
                .run_sync(
                    move || async move {
                        let l = IoLoop::current();
                        let count = Rc::new(Cell::new(0u64));
                        let start = Instant::now();
                        for _ in 0..iters {
                            let c = count.clone();
                            l.call_later(Duration::ZERO, move || c.set(c.get() + 1));
                        }
                        ours_until(&count, iters).await;
                        start.elapsed()
                    },
                    None,
                )
                .unwrap()
        });
        for t in far {
            io_loop.remove_timeout(t);
        }
    });

    g.bench_function("schedule_fire/10000_pending/tokio", |b| {
        let rt = tokio_rt();
        let _far: Vec<_> = rt.block_on(async {
            (0..PENDING)
                .map(|_| tokio::spawn(tokio::time::sleep(HOUR)))
                .collect()
        });
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let count = Arc::new(AtomicU64::new(0));
                let start = Instant::now();
                for _ in 0..iters {
                    let c = count.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::ZERO).await;
                        c.fetch_add(1, Ordering::Relaxed);
                    });
                }
                while count.load(Ordering::Relaxed) < iters {
                    tokio::task::yield_now().await;
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("schedule_cancel/10000_pending/tornado", |b| {
        let io_loop = IoLoop::new();
        let far: Vec<_> = (0..PENDING)
            .map(|_| io_loop.call_later(HOUR, || ()))
            .collect();
        b.iter(|| {
            let t = io_loop.call_later(HOUR, || ());
            io_loop.remove_timeout(black_box(t));
        });
        for t in far {
            io_loop.remove_timeout(t);
        }
    });

    g.bench_function("schedule_cancel/10000_pending/tokio", |b| {
        let rt = tokio_rt();
        let _far: Vec<_> = rt.block_on(async {
            (0..PENDING)
                .map(|_| tokio::spawn(tokio::time::sleep(HOUR)))
                .collect()
        });
        let _guard = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        b.iter(|| {
            let mut s = pin!(tokio::time::sleep(HOUR));
            let _ = black_box(s.as_mut().poll(&mut cx));
        });
    });
    g.finish();
}

fn add_callback(c: &mut Criterion) {
    let mut g = c.benchmark_group("add_callback");

    g.bench_function("same_thread/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            io_loop
                .run_sync(
                    move || async move {
                        let l = IoLoop::current();
                        let count = Rc::new(Cell::new(0u64));
                        let start = Instant::now();
                        for _ in 0..iters {
                            let c = count.clone();
                            l.add_callback(move || c.set(c.get() + 1));
                        }
                        ours_until(&count, iters).await;
                        start.elapsed()
                    },
                    None,
                )
                .unwrap()
        });
    });

    g.bench_function("same_thread/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let count = Rc::new(Cell::new(0u64));
                let local = tokio::task::LocalSet::new();
                let start = Instant::now();
                local
                    .run_until(async {
                        for _ in 0..iters {
                            let c = count.clone();
                            tokio::task::spawn_local(async move { c.set(c.get() + 1) });
                        }
                        while count.get() < iters {
                            tokio::task::yield_now().await;
                        }
                    })
                    .await;
                start.elapsed()
            })
        });
    });

    g.bench_function("other_thread/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            let handle = io_loop.handle();
            io_loop
                .run_sync(
                    move || async move {
                        let count = Arc::new(AtomicU64::new(0));
                        let c = count.clone();
                        let start = Instant::now();
                        let producer = std::thread::spawn(move || {
                            for _ in 0..iters {
                                let c = c.clone();
                                handle.add_callback(move || {
                                    c.fetch_add(1, Ordering::Relaxed);
                                });
                            }
                        });
                        while count.load(Ordering::Relaxed) < iters {
                            IoLoop::current().sleep(Duration::from_micros(50)).await;
                        }
                        producer.join().unwrap();
                        start.elapsed()
                    },
                    None,
                )
                .unwrap()
        });
    });

    g.bench_function("other_thread/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            let handle = rt.handle().clone();
            rt.block_on(async move {
                let count = Arc::new(AtomicU64::new(0));
                let c = count.clone();
                let start = Instant::now();
                let producer = std::thread::spawn(move || {
                    for _ in 0..iters {
                        let c = c.clone();
                        handle.spawn(async move {
                            c.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                });
                while count.load(Ordering::Relaxed) < iters {
                    tokio::time::sleep(Duration::from_micros(50)).await;
                }
                producer.join().unwrap();
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn spawn_await(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_await");

    g.bench_function("trivial/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            io_loop
                .run_sync(
                    move || async move {
                        let l = IoLoop::current();
                        let start = Instant::now();
                        for i in 0..iters {
                            black_box(l.spawn(async move { i }).await.unwrap());
                        }
                        start.elapsed()
                    },
                    None,
                )
                .unwrap()
        });
    });

    g.bench_function("trivial/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let start = Instant::now();
                for i in 0..iters {
                    black_box(tokio::spawn(async move { i }).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong");

    g.bench_function("concurrent_future/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            io_loop
                .run_sync(
                    move || async move {
                        let l = IoLoop::current();
                        // Each side sends the next counter value and the future to answer on.
                        type Msg = (u64, SharedFuture<Reply>);
                        #[derive(Clone)]
                        struct Reply(u64, SharedFuture<Msg>);
                        let first: SharedFuture<Msg> = SharedFuture::new();
                        let mut inbox = first.clone();
                        let ponger = l.spawn(async move {
                            loop {
                                let Ok((n, reply)) = inbox.take().await else {
                                    return;
                                };
                                let next = SharedFuture::new();
                                reply.set_result(Reply(n + 1, next.clone())).ok();
                                if n + 1 >= iters {
                                    return;
                                }
                                inbox = next;
                            }
                        });
                        let start = Instant::now();
                        let mut to_pong = first;
                        let mut n = 0;
                        while n < iters {
                            let reply = SharedFuture::new();
                            to_pong.set_result((n, reply.clone())).ok();
                            let Reply(m, next) = reply.take().await.unwrap();
                            n = m + 1;
                            to_pong = next;
                        }
                        let elapsed = start.elapsed();
                        ponger.cancel();
                        elapsed
                    },
                    None,
                )
                .unwrap()
        });
    });

    g.bench_function("concurrent_future/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                use tokio::sync::oneshot;
                type Msg = (u64, oneshot::Sender<Reply>);
                struct Reply(u64, oneshot::Sender<Msg>);
                let (first_tx, first_rx) = oneshot::channel::<Msg>();
                let ponger = tokio::spawn(async move {
                    let mut inbox = first_rx;
                    loop {
                        let Ok((n, reply)) = inbox.await else {
                            return;
                        };
                        let (tx, rx) = oneshot::channel();
                        let _ = reply.send(Reply(n + 1, tx));
                        if n + 1 >= iters {
                            return;
                        }
                        inbox = rx;
                    }
                });
                let start = Instant::now();
                let mut to_pong = first_tx;
                let mut n = 0;
                while n < iters {
                    let (tx, rx) = oneshot::channel();
                    let _ = to_pong.send((n, tx));
                    let Reply(m, next) = rx.await.unwrap();
                    n = m + 1;
                    to_pong = next;
                }
                let elapsed = start.elapsed();
                ponger.abort();
                elapsed
            })
        });
    });
    g.finish();
}

criterion_group!(benches, call_later, add_callback, spawn_await, ping_pong);
criterion_main!(benches);
