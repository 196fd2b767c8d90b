//! Helpers of the loop's tests: waiting for the loop as Tornado's `AsyncTestCase` does.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use tornado_ioloop::IoLoop;

/// The longest any test waits for the loop: a stuck test fails instead of hanging.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `AsyncTestCase.wait()`: runs the loop until something calls `stop`, failing the test if
/// nothing does in time.
pub(crate) fn wait(io_loop: &IoLoop) {
    let timed_out = Rc::new(Cell::new(false));
    let t = timed_out.clone();
    let l = io_loop.clone();
    let guard = io_loop.call_later(TEST_TIMEOUT, move || {
        t.set(true);
        l.stop();
    });
    io_loop.start().unwrap();
    io_loop.remove_timeout(guard);
    assert!(!timed_out.get(), "the loop was not stopped in time");
}

pub(crate) fn stopper(io_loop: &IoLoop) -> impl FnOnce() + 'static {
    let l = io_loop.clone();
    move || l.stop()
}
