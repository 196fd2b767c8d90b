//! [`Sleep`]: a future that completes at a deadline on the loop's clock.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

use crate::core::Core;
use crate::timers::{Deadline, TimeoutHandle, TimerAction};

/// Completes once its deadline has passed. Made by [`IoLoop::sleep`](crate::IoLoop::sleep)
/// (and `gen::sleep`).
///
/// The timer is set on the first poll and holds only the task's waker (no callback, no
/// allocation). Like Tornado's `gen.sleep`, it always goes through the loop once, even for a
/// deadline already past. Dropping it removes the timer.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    core: Weak<Core>,
    deadline: Instant,
    timer: Option<TimeoutHandle>,
}

impl Sleep {
    pub(crate) fn new(core: &Rc<Core>, deadline: impl Into<Deadline>) -> Sleep {
        Sleep {
            core: Rc::downgrade(core),
            deadline: deadline.into().instant(),
            timer: None,
        }
    }

    /// The instant this sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `true` once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline <= Instant::now()
    }

    /// Moves the deadline; the next poll sets a new timer.
    pub fn reset(&mut self, deadline: impl Into<Deadline>) {
        self.cancel_timer();
        self.deadline = deadline.into().instant();
    }

    fn cancel_timer(&mut self) {
        if let (Some(handle), Some(core)) = (self.timer.take(), self.core.upgrade()) {
            let action = core.timers.borrow_mut().remove(handle);
            drop(action);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(core) = self.core.upgrade() else {
            // The loop is gone: there is nothing left to wait for.
            return Poll::Ready(());
        };
        match self.timer {
            None => {
                if core.is_closed() {
                    return Poll::Ready(());
                }
                let handle = core
                    .timers
                    .borrow_mut()
                    .insert(self.deadline, TimerAction::Wake(cx.waker().clone()));
                self.timer = Some(handle);
                Poll::Pending
            }
            Some(handle) => {
                if core.timers.borrow_mut().update_waker(handle, cx.waker()) {
                    Poll::Pending
                } else {
                    // Fired (or dropped by `close`).
                    self.timer = None;
                    Poll::Ready(())
                }
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel_timer();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.timer.is_some())
            .finish()
    }
}
