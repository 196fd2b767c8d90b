//! [`Event`]: a flag coroutines can wait for.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use tornado_concurrent::TimeoutError;
use tornado_ioloop::Deadline;

use crate::expiry::{Expiry, Polled, deadline_instant, poll_waiter};
use crate::waitlist::WaitList;

/// A flag that blocks coroutines until it is set (`tornado.locks.Event`), like
/// `threading.Event`.
///
/// Once set, [`wait`](Event::wait) returns at once until [`clear`](Event::clear) is called.
/// An `Event` is a cheap handle: clones share the same flag. It is `!Send`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_locks::Event;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let event = Event::new();
///             let waiter = IoLoop::current().spawn({
///                 let event = event.clone();
///                 async move {
///                     println!("Waiting for event");
///                     event.wait().await;
///                     println!("Not waiting this time");
///                     event.wait().await;
///                     println!("Done");
///                 }
///             });
///             println!("About to set the event");
///             event.set();
///             waiter.await.unwrap();
///             event.clear();
///             assert!(event.wait_timeout(Duration::from_millis(1)).await.is_err());
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Event {
    /// `Rc`: shared by the handles of one loop's thread, hence `!Send`.
    inner: Rc<Inner>,
}

#[derive(Default)]
struct Inner {
    value: Cell<bool>,
    waiters: RefCell<WaitList<()>>,
}

impl Event {
    /// A clear event.
    pub fn new() -> Event {
        Event::default()
    }

    /// `true` if the flag is set (`is_set`).
    pub fn is_set(&self) -> bool {
        self.inner.value.get()
    }

    /// Sets the flag and wakes every waiter (`set`). Later waits return at once.
    pub fn set(&self) {
        if self.inner.value.replace(true) {
            return;
        }
        loop {
            let waker = {
                let mut waiters = self.inner.waiters.borrow_mut();
                let Some(key) = waiters.serve_front() else {
                    return;
                };
                waiters.take_waker(key)
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Clears the flag (`clear`): later waits block until [`set`](Event::set). Waiters
    /// already woken by a `set` stay woken.
    pub fn clear(&self) {
        self.inner.value.set(false);
    }

    /// Waits until the flag is set (`wait()`). If it is set now, the future is ready at once.
    pub fn wait(&self) -> EventWait {
        EventWait {
            waiter: self.start_wait(None),
        }
    }

    /// Waits until the flag is set, or fails with a [`TimeoutError`] at `timeout` (an
    /// [`Instant`] on the loop's clock or a [`Duration`](std::time::Duration) from now;
    /// `wait(timeout)`). A deadline already past answers at once.
    pub fn wait_timeout(&self, timeout: impl Into<Deadline>) -> EventWaitTimeout {
        EventWaitTimeout {
            waiter: self.start_wait(Some(deadline_instant(timeout))),
        }
    }

    fn start_wait(&self, deadline: Option<Instant>) -> Waiter {
        let state = if self.is_set() {
            State::Done(true)
        } else {
            match deadline {
                Some(at) if at <= Instant::now() => State::Done(false),
                _ => State::Waiting(self.inner.waiters.borrow_mut().push_back((), deadline)),
            }
        };
        Waiter {
            inner: self.inner.clone(),
            expiry: match state {
                State::Waiting(_) => deadline.map(Expiry::new),
                _ => None,
            },
            state,
        }
    }

    /// How many waiters wait for the flag.
    pub fn waiters(&self) -> usize {
        self.inner.waiters.borrow().len()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("state", &if self.is_set() { "set" } else { "clear" })
            .finish()
    }
}

/// What [`EventWait`] and [`EventWaitTimeout`] share.
struct Waiter {
    inner: Rc<Inner>,
    state: State,
    /// Beside the state, not in it: the state is replaced on completion and stays small.
    expiry: Option<Expiry>,
}

enum State {
    Waiting(usize),
    /// `true`: the flag was set; `false`: timed out.
    Done(bool),
    Taken,
}

impl Waiter {
    fn poll_set(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let set = match self.state {
            State::Waiting(key) => {
                match poll_waiter(&self.inner.waiters, key, self.expiry.as_mut(), cx) {
                    Polled::Pending => return Poll::Pending,
                    Polled::Served => true,
                    Polled::Expired => false,
                }
            }
            State::Done(set) => set,
            State::Taken => panic!("event waiter polled after completion"),
        };
        if let State::Waiting(key) = std::mem::replace(&mut self.state, State::Taken) {
            self.inner.waiters.borrow_mut().remove(key);
        }
        Poll::Ready(set)
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            State::Waiting(_) => "waiting",
            State::Done(true) => "set",
            State::Done(false) => "timed out",
            State::Taken => "done",
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        // `set` wakes everybody, so a waiter that leaves has nothing to pass on.
        if let State::Waiting(key) = self.state {
            self.inner.waiters.borrow_mut().remove(key);
        }
    }
}

/// The future of [`Event::wait`].
#[must_use = "a waiter does nothing unless awaited"]
pub struct EventWait {
    waiter: Waiter,
}

impl Future for EventWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.waiter.poll_set(cx).map(|_| ())
    }
}

impl fmt::Debug for EventWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("state", &self.waiter.state_name())
            .finish()
    }
}

/// The future of [`Event::wait_timeout`].
#[must_use = "a waiter does nothing unless awaited"]
pub struct EventWaitTimeout {
    waiter: Waiter,
}

impl Future for EventWaitTimeout {
    type Output = Result<(), TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.waiter.poll_set(cx).map(|set| {
            if set {
                Ok(())
            } else {
                Err(TimeoutError::new())
            }
        })
    }
}

impl fmt::Debug for EventWaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWaitTimeout")
            .field("state", &self.waiter.state_name())
            .finish()
    }
}
