//! [`PeriodicCallback`]: Tornado's `PeriodicCallback`.

use std::any::Any;
use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tornado_concurrent::panic_message;

use crate::IoLoop;
use crate::timers::TimeoutHandle;

use crate::task::LocalFuture;

enum Callback {
    Sync(Box<dyn FnMut()>),
    Async(Box<dyn FnMut() -> LocalFuture>),
}

/// Calls a function every `callback_time`, on the current loop.
///
/// Tornado's rules:
/// * the period runs from the start of one call to the start of the next;
/// * a call that overruns makes the schedule skip the missed cycles rather than queue them,
///   so that it stays on multiples of the period;
/// * an async callback (see [`new_async`](PeriodicCallback::new_async)) is awaited before the
///   next call is scheduled, so calls never overlap;
/// * `jitter` (a fraction: 0.1 allows ±5 %) spreads each period at random around its nominal
///   length;
/// * a panic in the callback is logged on the `application` target and the schedule goes on.
///
/// [`start`](PeriodicCallback::start) must be called. Dropping the `PeriodicCallback` does not
/// stop it (in Tornado the loop keeps a reference): call [`stop`](PeriodicCallback::stop).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use tornado_ioloop::{IoLoop, PeriodicCallback};
///
/// let io_loop = IoLoop::new();
/// let ticks = Rc::new(Cell::new(0));
/// io_loop
///     .run_sync(
///         || {
///             let t = ticks.clone();
///             let pc = PeriodicCallback::new(move || t.set(t.get() + 1), Duration::from_millis(5));
///             pc.start();
///             async move {
///                 IoLoop::current().sleep(Duration::from_millis(60)).await;
///                 pc.stop();
///             }
///         },
///         None,
///     )
///     .unwrap();
/// assert!(ticks.get() >= 3);
/// ```
#[derive(Clone)]
pub struct PeriodicCallback {
    inner: Rc<RefCell<Periodic>>,
}

struct Periodic {
    /// `None` while the callback runs (it may call `stop`, which borrows this struct).
    callback: Option<Callback>,
    callback_time: Duration,
    jitter: f64,
    running: bool,
    io_loop: Option<IoLoop>,
    timeout: Option<TimeoutHandle>,
    next_timeout: Instant,
    rng: u64,
}

impl PeriodicCallback {
    /// Calls `callback` every `callback_time`.
    ///
    /// # Panics
    ///
    /// If `callback_time` is zero (Tornado raises `ValueError`).
    pub fn new(callback: impl FnMut() + 'static, callback_time: Duration) -> Self {
        PeriodicCallback::with_callback(Callback::Sync(Box::new(callback)), callback_time)
    }

    /// Calls `callback` every `callback_time` and awaits the future it returns before the
    /// next call is scheduled (Tornado's coroutine callbacks).
    ///
    /// # Panics
    ///
    /// If `callback_time` is zero.
    pub fn new_async<F, Fut>(mut callback: F, callback_time: Duration) -> Self
    where
        F: FnMut() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        PeriodicCallback::with_callback(
            Callback::Async(Box::new(move || Box::pin(callback()))),
            callback_time,
        )
    }

    fn with_callback(callback: Callback, callback_time: Duration) -> Self {
        assert!(
            !callback_time.is_zero(),
            "Periodic callback must have a positive callback_time"
        );
        PeriodicCallback {
            inner: Rc::new(RefCell::new(Periodic {
                callback: Some(callback),
                callback_time,
                jitter: 0.0,
                running: false,
                io_loop: None,
                timeout: None,
                next_timeout: Instant::now(),
                rng: RandomState::new().hash_one(0x5eed_u64) | 1,
            })),
        }
    }

    /// Sets the jitter: each period is multiplied by a random factor in
    /// `1 ± jitter / 2`. Default is `0.0` (no jitter).
    pub fn with_jitter(self, jitter: f64) -> Self {
        self.inner.borrow_mut().jitter = jitter.max(0.0);
        self
    }

    /// The nominal period.
    pub fn callback_time(&self) -> Duration {
        self.inner.borrow().callback_time
    }

    /// Starts calling, on the current loop; the first call is one period from now.
    pub fn start(&self) {
        let io_loop = IoLoop::current();
        {
            let mut p = self.inner.borrow_mut();
            if p.running {
                return;
            }
            p.running = true;
            p.next_timeout = io_loop.time();
            p.io_loop = Some(io_loop);
        }
        schedule_next(&self.inner);
    }

    /// Stops calling. A call in progress finishes; no other follows.
    pub fn stop(&self) {
        let (io_loop, timeout) = {
            let mut p = self.inner.borrow_mut();
            p.running = false;
            (p.io_loop.clone(), p.timeout.take())
        };
        if let (Some(l), Some(t)) = (io_loop, timeout) {
            l.remove_timeout(t);
        }
    }

    /// `true` between [`start`](PeriodicCallback::start) and [`stop`](PeriodicCallback::stop).
    pub fn is_running(&self) -> bool {
        self.inner.borrow().running
    }
}

fn schedule_next(inner: &Rc<RefCell<Periodic>>) {
    let mut p = inner.borrow_mut();
    if !p.running {
        return;
    }
    let Some(io_loop) = p.io_loop.clone() else {
        return;
    };
    let period = jittered(p.callback_time, p.jitter, next_random(&mut p.rng));
    p.next_timeout = next_timeout(p.next_timeout, io_loop.time(), period);
    let me = inner.clone();
    p.timeout = Some(io_loop.call_at(p.next_timeout, move || run(&me)));
}

fn run(inner: &Rc<RefCell<Periodic>>) {
    let callback = {
        let mut p = inner.borrow_mut();
        p.timeout = None;
        if !p.running {
            return;
        }
        p.callback.take()
    };
    let Some(mut callback) = callback else {
        return;
    };
    let pending = match &mut callback {
        Callback::Sync(f) => {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
                log_panic(payload);
            }
            None
        }
        Callback::Async(f) => match catch_unwind(AssertUnwindSafe(f)) {
            Ok(fut) => Some(fut),
            Err(payload) => {
                log_panic(payload);
                None
            }
        },
    };
    inner.borrow_mut().callback = Some(callback);
    match pending {
        None => schedule_next(inner),
        Some(fut) => {
            let me = inner.clone();
            let io_loop = inner.borrow().io_loop.clone();
            if let Some(io_loop) = io_loop {
                io_loop.spawn_callback(async move {
                    if let Err(payload) = (CatchUnwind(fut)).await {
                        log_panic(payload);
                    }
                    schedule_next(&me);
                });
            }
        }
    }
}

fn log_panic(payload: Box<dyn Any + Send>) {
    log::error!(
        target: "application",
        "Exception in periodic callback: {}",
        panic_message(payload.as_ref())
    );
}

/// Polls a future, turning a panic into an error so that the schedule survives it.
struct CatchUnwind(LocalFuture);

impl Future for CatchUnwind {
    type Output = Result<(), Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Tornado's `_update_next`: the next start time after `next`, given the time `now`.
///
/// If the schedule fell behind, whole periods are skipped so that calls stay on multiples of
/// the period from the first start. If `now` is before `next` (Tornado's clock going
/// backwards; with a monotonic clock, a call that started early), one period is added, so the
/// schedule always moves forward.
fn next_timeout(next: Instant, now: Instant, period: Duration) -> Instant {
    if next <= now {
        let behind = (now - next).as_secs_f64();
        let periods = (behind / period.as_secs_f64()).floor() + 1.0;
        next + period.mul_f64(periods)
    } else {
        next + period
    }
}

/// `period * (1 + jitter * (random - 0.5))`, with `random` in `[0, 1)`.
fn jittered(period: Duration, jitter: f64, random: f64) -> Duration {
    if jitter == 0.0 {
        return period;
    }
    period.mul_f64((1.0 + jitter * (random - 0.5)).max(0.0))
}

/// xorshift64*: enough randomness to de-synchronise timers, with no dependency.
fn next_random(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

impl fmt::Debug for PeriodicCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.inner.borrow();
        f.debug_struct("PeriodicCallback")
            .field("callback_time", &p.callback_time)
            .field("jitter", &p.jitter)
            .field("running", &p.running)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! Port of `ioloop_test.py::TestPeriodicCallbackMath`.
    use super::*;

    /// Tornado's `simulate_calls`: each call starts at the scheduled time and lasts the given
    /// number of seconds (negative: the clock moved back). Times are seconds after a base.
    fn simulate_calls(durations: &[f64], randoms: &[f64], jitter: f64) -> Vec<f64> {
        let base = Instant::now();
        let at = |s: f64| base + Duration::from_secs_f64(s);
        let period = Duration::from_secs(10);
        let mut next = at(1000.0);
        let mut now = next;
        let mut calls = Vec::new();
        for (i, d) in durations.iter().enumerate() {
            let p = jittered(period, jitter, randoms.get(i).copied().unwrap_or(0.5));
            next = next_timeout(next, now, p);
            let t = (next - base).as_secs_f64();
            calls.push((t * 1000.0).round() / 1000.0);
            now = at(t + d);
        }
        calls
    }

    #[test]
    fn test_basic() {
        assert_eq!(
            simulate_calls(&[0.0; 5], &[], 0.0),
            [1010.0, 1020.0, 1030.0, 1040.0, 1050.0]
        );
    }

    #[test]
    fn test_overrun() {
        let durations = [9.0, 9.0, 10.0, 11.0, 20.0, 20.0, 35.0, 35.0, 0.0, 0.0, 0.0];
        let expected = [
            1010.0, 1020.0, 1030.0, 1050.0, 1070.0, 1100.0, 1130.0, 1170.0, 1210.0, 1220.0, 1230.0,
        ];
        assert_eq!(simulate_calls(&durations, &[], 0.0), expected);
    }

    #[test]
    fn test_clock_backwards() {
        assert_eq!(
            simulate_calls(&[-2.0, -1.0, -3.0, -2.0, 0.0], &[], 0.0),
            [1010.0, 1020.0, 1030.0, 1040.0, 1050.0]
        );
        assert_eq!(
            simulate_calls(&[-100.0, 0.0, 0.0], &[], 0.0),
            [1010.0, 1020.0, 1030.0]
        );
    }

    #[test]
    fn test_jitter() {
        assert_eq!(
            simulate_calls(&[0.0; 4], &[0.5, 1.0, 0.0, 0.75], 0.5),
            [1010.0, 1022.5, 1030.0, 1041.25]
        );
    }

    #[test]
    fn test_timedelta() {
        let pc = PeriodicCallback::new(|| (), Duration::from_secs(83));
        assert_eq!(pc.callback_time().as_millis(), 83_000);
    }

    #[test]
    fn random_is_in_unit_interval() {
        let mut s = 0x1234_5678_9abc_def1;
        for _ in 0..10_000 {
            let r = next_random(&mut s);
            assert!((0.0..1.0).contains(&r));
        }
    }

    #[test]
    #[should_panic(expected = "positive callback_time")]
    fn zero_period_is_refused() {
        let _ = PeriodicCallback::new(|| (), Duration::ZERO);
    }
}
