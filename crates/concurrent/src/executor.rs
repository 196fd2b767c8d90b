//! The [`Executor`] trait, [`ThreadPoolExecutor`] and [`DummyExecutor`].

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, panic_message};
use crate::future::Future;

/// A unit of work for an executor.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Something that runs jobs, usually on other threads: Python's `concurrent.futures.Executor`
/// as Tornado uses it (`IOLoop.run_in_executor`, `run_on_executor`).
///
/// Implementors provide [`execute`](Executor::execute) and [`shutdown`](Executor::shutdown);
/// [`ExecutorExt::submit`] (implemented for every executor, `dyn Executor` included) wraps a
/// closure so that its return value, or its panic, completes a [`Future`].
pub trait Executor: Send + Sync + fmt::Debug {
    /// Queues `job` to run. Fails once the executor has been shut down.
    fn execute(&self, job: Job) -> Result<(), ShutdownError>;

    /// Stops accepting jobs. Jobs already queued still run. With `wait`, returns only after
    /// they have finished.
    fn shutdown(&self, wait: bool);
}

/// `submit`, for every [`Executor`].
pub trait ExecutorExt: Executor {
    /// Runs `f` on the executor and returns a future of its result (`Executor.submit`).
    ///
    /// If `f` panics, the future fails with an error for which [`Error::is_panic`] is true.
    /// If the future is cancelled before the job starts, `f` does not run. If the executor
    /// was shut down, the future fails with a [`ShutdownError`].
    fn submit<F, R>(&self, f: F) -> Future<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let fut = Future::new();
        let done = fut.clone();
        let job: Job = Box::new(move || {
            // concurrent.futures' set_running_or_notify_cancel: a cancelled job never runs.
            if done.cancelled() {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(f));
            let _ = match outcome {
                Ok(v) => done.set_result(v),
                Err(payload) => done.set_error(Error::from_panic(payload)),
            };
        });
        if let Err(e) = self.execute(job) {
            let _ = fut.set_exception(e);
        }
        fut
    }
}

impl<E: Executor + ?Sized> ExecutorExt for E {}

/// The job was refused because the executor was shut down (Python raises `RuntimeError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownError;

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot schedule new jobs after the executor was shut down")
    }
}

impl std::error::Error for ShutdownError {}

/// A pool of at most `max_workers` threads that run jobs in submission order
/// (`concurrent.futures.ThreadPoolExecutor`).
///
/// Threads are started lazily, one per job that finds no idle worker, up to `max_workers`,
/// and live until the pool is shut down. Dropping the pool shuts it down without waiting:
/// queued jobs still run, then the threads exit.
///
/// # Examples
///
/// ```
/// use tornado_concurrent::{Executor, ExecutorExt, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new(2);
/// let fut = pool.submit(|| 6 * 7);
/// pool.shutdown(true);
/// assert_eq!(fut.result().unwrap().unwrap(), 42);
/// ```
pub struct ThreadPoolExecutor {
    inner: Arc<Pool>,
}

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
    max_workers: usize,
    name: String,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Workers blocked waiting for a job. A new thread is started only when the queue is
    /// longer than this, so a burst of jobs uses the threads already there.
    idle: usize,
    threads: Vec<(ThreadId, JoinHandle<()>)>,
    shutdown: bool,
}

impl ThreadPoolExecutor {
    /// A pool of at most `max_workers` threads (at least one).
    pub fn new(max_workers: usize) -> Self {
        ThreadPoolExecutor::with_name(max_workers, "tornado-worker")
    }

    /// A pool whose threads are named `"{name}-{n}"`.
    pub fn with_name(max_workers: usize, name: &str) -> Self {
        ThreadPoolExecutor {
            inner: Arc::new(Pool {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    idle: 0,
                    threads: Vec::new(),
                    shutdown: false,
                }),
                work: Condvar::new(),
                max_workers: max_workers.max(1),
                name: name.to_owned(),
            }),
        }
    }

    /// The most threads this pool starts.
    pub fn max_workers(&self) -> usize {
        self.inner.max_workers
    }

    /// How many threads have been started so far.
    pub fn num_threads(&self) -> usize {
        self.inner.state.lock().threads.len()
    }
}

impl Default for ThreadPoolExecutor {
    /// Python's default size: `min(32, cpu_count + 4)`.
    fn default() -> Self {
        let cpus = thread::available_parallelism().map_or(1, |n| n.get());
        ThreadPoolExecutor::new((cpus + 4).min(32))
    }
}

impl Executor for ThreadPoolExecutor {
    fn execute(&self, job: Job) -> Result<(), ShutdownError> {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            return Err(ShutdownError);
        }
        state.queue.push_back(job);
        if state.queue.len() <= state.idle {
            self.inner.work.notify_one();
        } else if state.threads.len() < self.inner.max_workers {
            let pool = self.inner.clone();
            let name = format!("{}-{}", self.inner.name, state.threads.len());
            match thread::Builder::new()
                .name(name)
                .spawn(move || worker(&pool))
            {
                Ok(handle) => {
                    let id = handle.thread().id();
                    state.threads.push((id, handle));
                }
                // Out of threads: the job waits for a busy worker, if there is one.
                Err(e) if !state.threads.is_empty() => {
                    log::warn!(target: "general", "could not start an executor thread: {e}");
                }
                Err(e) => {
                    log::error!(target: "general", "could not start an executor thread: {e}");
                    state.queue.pop_back();
                    return Err(ShutdownError);
                }
            }
        }
        Ok(())
    }

    fn shutdown(&self, wait: bool) {
        let threads = {
            let mut state = self.inner.state.lock();
            state.shutdown = true;
            self.inner.work.notify_all();
            if wait {
                std::mem::take(&mut state.threads)
            } else {
                Vec::new()
            }
        };
        let me = thread::current().id();
        for (id, handle) in threads {
            // A job that shuts down its own pool must not wait for itself.
            if id != me {
                let _ = handle.join();
            }
        }
    }
}

fn worker(pool: &Pool) {
    loop {
        let job = {
            let mut state = pool.state.lock();
            loop {
                if let Some(job) = state.queue.pop_front() {
                    break job;
                }
                if state.shutdown {
                    return;
                }
                state.idle += 1;
                pool.work.wait(&mut state);
                state.idle -= 1;
            }
        };
        // `submit` catches panics itself; this guards jobs given straight to `execute`.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(job)) {
            log::error!(
                target: "application",
                "Exception in executor job: {}",
                panic_message(payload.as_ref())
            );
        }
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.shutdown(false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.inner.max_workers)
            .field("threads", &state.threads.len())
            .field("queued", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

/// An executor that runs each job at once, on the calling thread
/// (`tornado.concurrent.DummyExecutor`). Useful in tests and for work that is known to be
/// quick.
#[derive(Debug, Default, Clone, Copy)]
pub struct DummyExecutor;

impl Executor for DummyExecutor {
    fn execute(&self, job: Job) -> Result<(), ShutdownError> {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(job)) {
            log::error!(
                target: "application",
                "Exception in executor job: {}",
                panic_message(payload.as_ref())
            );
        }
        Ok(())
    }

    fn shutdown(&self, _wait: bool) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_threads_than_max() {
        let pool = ThreadPoolExecutor::new(3);
        let ran = Arc::new(AtomicUsize::new(0));
        let futs: Vec<_> = (0..50)
            .map(|_| {
                let r = ran.clone();
                pool.submit(move || r.fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        pool.shutdown(true);
        assert!(pool.num_threads() == 0, "shutdown(wait) joins every thread");
        assert_eq!(ran.load(Ordering::SeqCst), 50);
        assert!(futs.iter().all(|f| f.done()));
        assert!(
            pool.submit(|| ()).error().is_some(),
            "no jobs after shutdown"
        );
    }

    #[test]
    fn panics_fail_the_future() {
        let pool = ThreadPoolExecutor::new(1);
        let f = pool.submit(|| -> u8 { panic!("job failed") });
        pool.shutdown(true);
        let err = f.result().unwrap().unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("job failed"));
    }

    #[test]
    fn cancelled_jobs_do_not_run() {
        let pool = ThreadPoolExecutor::new(1);
        let gate = Arc::new(parking_lot::Mutex::new(()));
        let held = gate.lock();
        let g = gate.clone();
        let first = pool.submit(move || drop(g.lock()));
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let second = pool.submit(move || r.fetch_add(1, Ordering::SeqCst));
        assert!(second.cancel());
        drop(held);
        pool.shutdown(true);
        assert!(first.result().unwrap().is_ok());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn dummy_runs_inline() {
        let f = DummyExecutor.submit(|| 5);
        assert_eq!(f.result().unwrap().unwrap(), 5);
        let as_dyn: &dyn Executor = &DummyExecutor;
        assert_eq!(as_dyn.submit(|| 6).result().unwrap().unwrap(), 6);
    }
}
