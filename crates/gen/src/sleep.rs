//! [`sleep`] and [`moment`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tornado_ioloop::{Deadline, IoLoop, Sleep};

/// Completes after `duration` (or at an [`Instant`](std::time::Instant)) on the current loop
/// (`tornado.gen.sleep`). It always passes through the loop at least once.
pub fn sleep(duration: impl Into<Deadline>) -> Sleep {
    IoLoop::current().sleep(duration)
}

/// Yields to the loop once: other callbacks and tasks run before this task goes on
/// (`tornado.gen.moment`). Useful in long computations that should not hold the loop.
pub fn moment() -> Moment {
    Moment { yielded: false }
}

/// The future returned by [`moment`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Moment {
    yielded: bool,
}

impl Future for Moment {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A wake-up from inside a run is queued for the next iteration, after I/O.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
