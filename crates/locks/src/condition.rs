//! [`Condition`]: wait until notified.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tornado_ioloop::Deadline;

use crate::expiry::{Expiry, Polled, deadline_instant, poll_waiter};
use crate::waitlist::{Status, WaitList};

/// Lets coroutines wait until another one notifies them (`tornado.locks.Condition`).
///
/// Like `threading.Condition`, but without an underlying lock: the loop is single-threaded,
/// so there is nothing to guard between checking a state and waiting for it to change.
///
/// A `Condition` is a cheap handle: clones share the same waiters. It is `!Send`, like
/// everything tied to one loop.
///
/// Waiters are served first come, first served. A notification is delivered on the next
/// iteration of the loop (when the waiting task runs), as in Tornado since 5.0. A waiter
/// that times out or is dropped leaves the line at once; one that is dropped after being
/// notified, before it saw the notification, passes it on to the next waiter, so a
/// [`notify`](Condition::notify) is never lost to a task that went away.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_locks::Condition;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let condition = Condition::new();
///             // The waiter is in line from the call of `wait()`, before the task runs.
///             let wait = condition.wait();
///             let waiter = IoLoop::current().spawn(async move {
///                 println!("I'll wait right here");
///                 wait.await;
///                 println!("I'm done waiting");
///             });
///             println!("About to notify");
///             condition.notify(1);
///             println!("Done notifying");
///             waiter.await.unwrap();
///             // Nobody notifies now: the wait gives up and says so.
///             assert!(!condition.wait_timeout(Duration::from_millis(1)).await);
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Condition {
    /// `Rc`: shared by the handles of one loop's thread, hence `!Send`, as Tornado's
    /// primitives are not thread-safe either.
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Payload: whether a served waiter that is dropped before seeing its notification
    /// passes it on (`notify`), or not (`notify_all`, which woke everybody anyway).
    waiters: RefCell<WaitList<bool>>,
}

impl Condition {
    /// A condition with no waiters.
    pub fn new() -> Condition {
        Condition::default()
    }

    /// Waits for [`notify`](Condition::notify). The future's output is always `true`
    /// (Tornado's `wait()` resolves `True` when notified).
    ///
    /// The waiter takes its place in line when `wait` is called, not when first polled,
    /// as in Tornado; dropping the future leaves the line.
    pub fn wait(&self) -> Wait {
        self.start_wait(None)
    }

    /// Waits for [`notify`](Condition::notify) until `timeout` (an
    /// [`Instant`](std::time::Instant) on the loop's clock, or a
    /// [`Duration`](std::time::Duration) from now); the future's output is `false` if the
    /// deadline came first (`wait(timeout)`). A deadline already past answers `false` at
    /// once.
    ///
    /// The timer runs on the current [`IoLoop`](tornado_ioloop::IoLoop).
    pub fn wait_timeout(&self, timeout: impl Into<Deadline>) -> Wait {
        self.start_wait(Some(deadline_instant(timeout)))
    }

    fn start_wait(&self, deadline: Option<std::time::Instant>) -> Wait {
        let state = match deadline {
            Some(at) if at <= std::time::Instant::now() => State::Done(false),
            _ => State::Waiting(self.inner.waiters.borrow_mut().push_back(false, deadline)),
        };
        Wait {
            inner: self.inner.clone(),
            expiry: match state {
                State::Waiting(_) => deadline.map(Expiry::new),
                _ => None,
            },
            state,
        }
    }

    /// Wakes `n` waiters, first come first served (`notify(n=1)`). Waiters that timed out
    /// are skipped and do not count.
    pub fn notify(&self, n: usize) {
        self.inner.notify(n, true);
    }

    /// Wakes every waiter (`notify_all`).
    pub fn notify_all(&self) {
        self.inner.notify(usize::MAX, false);
    }

    /// How many waiters are in line. A waiter that timed out or was dropped is not counted:
    /// it leaves the line as soon as its task sees the deadline, or when it would have been
    /// served (Tornado's "garbage collection" of timed-out waiters, made immediate).
    pub fn waiters(&self) -> usize {
        self.inner.waiters.borrow().len()
    }
}

impl Inner {
    fn notify(&self, n: usize, forward: bool) {
        for _ in 0..n {
            let waker = {
                let mut waiters = self.waiters.borrow_mut();
                let Some(key) = waiters.serve_front() else {
                    return;
                };
                *waiters.payload_mut(key) = forward;
                waiters.take_waker(key)
            };
            // Woken outside the borrow: a waker may run arbitrary code.
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters())
            .finish()
    }
}

/// The future of [`Condition::wait`] and [`Condition::wait_timeout`]: `true` when notified,
/// `false` at the deadline.
#[must_use = "a waiter does nothing unless awaited; dropping it leaves the line"]
pub struct Wait {
    inner: Rc<Inner>,
    state: State,
    /// Beside the state, not in it: the state is replaced on completion and stays small.
    expiry: Option<Expiry>,
}

enum State {
    Waiting(usize),
    Done(bool),
    Taken,
}

impl Future for Wait {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = &mut *self;
        let notified = match this.state {
            State::Waiting(key) => {
                match poll_waiter(&this.inner.waiters, key, this.expiry.as_mut(), cx) {
                    Polled::Pending => return Poll::Pending,
                    Polled::Served => true,
                    Polled::Expired => false,
                }
            }
            State::Done(notified) => notified,
            State::Taken => panic!("`Wait` polled after completion"),
        };
        if let State::Waiting(key) = std::mem::replace(&mut this.state, State::Taken) {
            this.inner.waiters.borrow_mut().remove(key);
        }
        Poll::Ready(notified)
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        if let State::Waiting(key) = self.state {
            let (status, forward) = self.inner.waiters.borrow_mut().remove(key);
            if status == Status::Served && forward {
                // Notified, but gone before it could act on it: the notification goes to
                // the next waiter instead of vanishing.
                self.inner.notify(1, true);
            }
        }
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Waiting(_) => "waiting",
            State::Done(true) => "notified",
            State::Done(false) => "timed out",
            State::Taken => "done",
        };
        f.debug_struct("Wait").field("state", &state).finish()
    }
}
