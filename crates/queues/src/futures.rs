//! The futures of [`Queue::get`](crate::Queue::get) and [`Queue::put`](crate::Queue::put),
//! with and without a timeout.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tornado_concurrent::TimeoutError;
use tornado_locks::__private::{Expiry, Polled, Status, check};

use crate::queue::Core;

/// A get in progress: what [`Get`] and [`GetTimeout`] share.
pub(crate) struct Getting<T> {
    core: Rc<Core<T>>,
    state: GetState<T>,
}

/// Small on purpose (the deadline lives beside it, in `GetTimeout`): it is moved on every
/// completion, and a get is the hot path of a queue.
pub(crate) enum GetState<T> {
    /// In line for an item (key of the slot in `getters`).
    Waiting(usize),
    /// Holds an item not yet delivered.
    Ready(T),
    TimedOut,
    Taken,
}

impl<T> Getting<T> {
    pub(crate) fn new(core: Rc<Core<T>>, state: GetState<T>) -> Self {
        Getting { core, state }
    }

    /// `true` while in line (a timeout then needs its timer).
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self.state, GetState::Waiting(_))
    }

    /// `Ready(Some(item))`, or `Ready(None)` at the deadline.
    pub(crate) fn poll_get(
        &mut self,
        expiry: Option<&mut Expiry>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<T>> {
        if let GetState::Waiting(key) = self.state {
            let mut s = self.core.state.borrow_mut();
            if s.getters.poll_status(key, cx.waker()) == Status::Queued {
                drop(s);
                if check(Status::Queued, expiry, cx) == Polled::Pending {
                    return Poll::Pending;
                }
                s = self.core.state.borrow_mut();
            }
            // Served: the slot holds the item. Expired: it holds none.
            let (_, item) = s.getters.remove(key);
            drop(s);
            self.state = match item {
                Some(item) => GetState::Ready(item),
                None => GetState::TimedOut,
            };
        }
        match std::mem::replace(&mut self.state, GetState::Taken) {
            GetState::Ready(item) => Poll::Ready(Some(item)),
            GetState::TimedOut => Poll::Ready(None),
            GetState::Waiting(_) | GetState::Taken => panic!("get polled after completion"),
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            GetState::Waiting(_) => "waiting",
            GetState::Ready(_) => "ready",
            GetState::TimedOut => "timed out",
            GetState::Taken => "done",
        }
    }
}

impl<T> Drop for Getting<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if matches!(self.state, GetState::Taken | GetState::TimedOut) {
            return; // the common case: delivered
        }
        let item = match std::mem::replace(&mut self.state, GetState::Taken) {
            GetState::Waiting(key) => self.core.state.borrow_mut().getters.remove(key).1,
            GetState::Ready(item) => Some(item),
            GetState::TimedOut | GetState::Taken => None,
        };
        if let Some(item) = item {
            // Given to this getter, never delivered: it goes back, not lost.
            self.core.give_back(item);
        }
    }
}

/// A put in progress: what [`Put`] and [`PutTimeout`] share.
pub(crate) struct Putting<T> {
    core: Rc<Core<T>>,
    state: PutState,
}

pub(crate) enum PutState {
    /// In line with its item (key of the slot in `putters`, which holds the item).
    Waiting(usize),
    /// The item is in the queue (or with a getter).
    Done,
    /// The item was not put, and was dropped.
    TimedOut,
    Taken,
}

impl<T> Putting<T> {
    pub(crate) fn new(core: Rc<Core<T>>, state: PutState) -> Self {
        Putting { core, state }
    }

    /// `true` while in line (a timeout then needs its timer).
    pub(crate) fn is_waiting(&self) -> bool {
        matches!(self.state, PutState::Waiting(_))
    }

    /// `Ready(true)` once put, `Ready(false)` at the deadline.
    pub(crate) fn poll_put(
        &mut self,
        expiry: Option<&mut Expiry>,
        cx: &mut Context<'_>,
    ) -> Poll<bool> {
        if let PutState::Done = self.state {
            // The common case, a put that found room: only the tag is written.
            self.state = PutState::Taken;
            return Poll::Ready(true);
        }
        if let PutState::Waiting(key) = self.state {
            let status = self
                .core
                .state
                .borrow_mut()
                .putters
                .poll_status(key, cx.waker());
            if check(status, expiry, cx) == Polled::Pending {
                return Poll::Pending;
            }
            // Served: the slot's item was admitted. Expired: it still holds the item.
            let (_, item) = self.core.state.borrow_mut().putters.remove(key);
            self.state = match item {
                None => PutState::Done,
                Some(item) => {
                    drop(item); // outside the borrow: dropping an item may run any code
                    PutState::TimedOut
                }
            };
        }
        match std::mem::replace(&mut self.state, PutState::Taken) {
            PutState::Done => Poll::Ready(true),
            PutState::TimedOut => Poll::Ready(false),
            PutState::Waiting(_) | PutState::Taken => panic!("put polled after completion"),
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            PutState::Waiting(_) => "waiting",
            PutState::Done => "put",
            PutState::TimedOut => "timed out",
            PutState::Taken => "done",
        }
    }
}

impl<T> Drop for Putting<T> {
    #[inline(always)]
    fn drop(&mut self) {
        if let PutState::Waiting(key) = self.state {
            // Withdrawn before it was admitted: the item is dropped, never put.
            let (_, item) = self.core.state.borrow_mut().putters.remove(key);
            drop(item);
        }
    }
}

/// The future of [`Queue::get`](crate::Queue::get): the next item.
#[must_use = "dropping a get puts back an item it was given"]
pub struct Get<T> {
    pub(crate) getting: Getting<T>,
}

impl<T> Future for Get<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.getting
            .poll_get(None, cx)
            .map(|item| item.expect("a get without a deadline cannot time out"))
    }
}

// The futures hold no self-references; `T` is only ever moved out.
impl<T> Unpin for Get<T> {}

impl<T> fmt::Debug for Get<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("state", &self.getting.state_name())
            .finish()
    }
}

/// The future of [`Queue::get_timeout`](crate::Queue::get_timeout).
#[must_use = "dropping a get puts back an item it was given"]
pub struct GetTimeout<T> {
    pub(crate) getting: Getting<T>,
    /// `None` when the get was answered at once.
    pub(crate) expiry: Option<Expiry>,
}

impl<T> Future for GetTimeout<T> {
    type Output = Result<T, TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.getting
            .poll_get(this.expiry.as_mut(), cx)
            .map(|item| item.ok_or_else(TimeoutError::new))
    }
}

impl<T> Unpin for GetTimeout<T> {}

impl<T> fmt::Debug for GetTimeout<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetTimeout")
            .field("state", &self.getting.state_name())
            .finish()
    }
}

/// The future of [`Queue::put`](crate::Queue::put).
#[must_use = "dropping a pending put withdraws its item"]
pub struct Put<T> {
    pub(crate) putting: Putting<T>,
}

impl<T> Future for Put<T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.putting.poll_put(None, cx).map(|_| ())
    }
}

impl<T> Unpin for Put<T> {}

impl<T> fmt::Debug for Put<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("state", &self.putting.state_name())
            .finish()
    }
}

/// The future of [`Queue::put_timeout`](crate::Queue::put_timeout).
#[must_use = "dropping a pending put withdraws its item"]
pub struct PutTimeout<T> {
    pub(crate) putting: Putting<T>,
    /// `None` when the put was answered at once.
    pub(crate) expiry: Option<Expiry>,
}

impl<T> Future for PutTimeout<T> {
    type Output = Result<(), TimeoutError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.putting.poll_put(this.expiry.as_mut(), cx).map(|put| {
            if put {
                Ok(())
            } else {
                Err(TimeoutError::new())
            }
        })
    }
}

impl<T> Unpin for PutTimeout<T> {}

impl<T> fmt::Debug for PutTimeout<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutTimeout")
            .field("state", &self.putting.state_name())
            .finish()
    }
}
