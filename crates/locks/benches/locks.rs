//! `Lock` and `Semaphore` beside tokio's `Mutex` and `Semaphore` on a current-thread runtime,
//! in the same process.
//!
//! * `lock/acquire_release/uncontended`: one task acquires and releases in a loop.
//! * `lock/acquire_release/16_tasks`: 16 tasks take turns; each yields to the loop while it
//!   holds the lock, so every acquire but the first of a turn waits in line and is woken by
//!   a release. Time per acquire/release pair.
//! * `semaphore/acquire_release/uncontended` and `semaphore/acquire_release/16_tasks_4_permits`:
//!   the same with a semaphore of one permit (uncontended) and of four permits shared by 16
//!   tasks.
//!
//! Ours: `tornado_locks` on an `IoLoop`, tasks spawned with `IoLoop::spawn`, yielding with
//! `gen::moment`. Tokio: `tokio::sync::{Mutex, Semaphore}` on a `current_thread` runtime,
//! tasks spawned with `tokio::spawn`, yielding with `tokio::task::yield_now`.
//!
//! Run: `cargo bench -p tornado-locks --bench locks`. Results: `docs/BENCHMARKS.md`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use tornado_gen::moment;
use tornado_ioloop::IoLoop;
use tornado_locks::{Lock, Semaphore};

const TASKS: u64 = 16;

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Runs `body` on a loop and returns the time it measured.
fn on_loop<F, Fut>(io_loop: &IoLoop, body: F) -> Duration
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Duration> + 'static,
{
    io_loop.run_sync(body, None).unwrap()
}

fn lock(c: &mut Criterion) {
    let mut g = c.benchmark_group("lock/acquire_release");

    g.bench_function("uncontended/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            on_loop(&io_loop, move || async move {
                let lock = Lock::new();
                let start = Instant::now();
                for _ in 0..iters {
                    let guard = lock.acquire().await;
                    black_box(&guard);
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("uncontended/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let lock = tokio::sync::Mutex::new(());
                let start = Instant::now();
                for _ in 0..iters {
                    let guard = lock.lock().await;
                    black_box(&guard);
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("16_tasks/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            on_loop(&io_loop, move || async move {
                let l = IoLoop::current();
                let lock = Lock::new();
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        l.spawn(async move {
                            for _ in 0..iters.div_ceil(TASKS) {
                                let _guard = lock.acquire().await;
                                moment().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("16_tasks/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let lock = lock.clone();
                        tokio::spawn(async move {
                            for _ in 0..iters.div_ceil(TASKS) {
                                let _guard = lock.lock().await;
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn semaphore(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore/acquire_release");

    g.bench_function("uncontended/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            on_loop(&io_loop, move || async move {
                let sem = Semaphore::new(1);
                let start = Instant::now();
                for _ in 0..iters {
                    let permit = sem.acquire().await;
                    black_box(&permit);
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("uncontended/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let sem = tokio::sync::Semaphore::new(1);
                let start = Instant::now();
                for _ in 0..iters {
                    let permit = sem.acquire().await.unwrap();
                    black_box(&permit);
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("16_tasks_4_permits/tornado", |b| {
        let io_loop = IoLoop::new();
        b.iter_custom(|iters| {
            on_loop(&io_loop, move || async move {
                let l = IoLoop::current();
                let sem = Semaphore::new(4);
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = sem.clone();
                        l.spawn(async move {
                            for _ in 0..iters.div_ceil(TASKS) {
                                let _permit = sem.acquire().await;
                                moment().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });

    g.bench_function("16_tasks_4_permits/tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|iters| {
            rt.block_on(async move {
                let sem = Arc::new(tokio::sync::Semaphore::new(4));
                let start = Instant::now();
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = sem.clone();
                        tokio::spawn(async move {
                            for _ in 0..iters.div_ceil(TASKS) {
                                let _permit = sem.acquire().await.unwrap();
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

criterion_group!(benches, lock, semaphore);
criterion_main!(benches);
