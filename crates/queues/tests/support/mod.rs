//! Helpers of the queue tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tornado_ioloop::{IoLoop, Task};

/// `@gen_test`: runs on a fresh loop, failing after 10 seconds.
pub(crate) fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(10)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// Polls once: `Some(output)` if the future is done (Tornado's `future.done()`).
pub(crate) fn now<F: Future + Unpin>(f: &mut F) -> Option<F::Output> {
    match Pin::new(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) fn spawn<F: Future + 'static>(f: F) -> Task<F::Output> {
    IoLoop::current().spawn(f)
}
