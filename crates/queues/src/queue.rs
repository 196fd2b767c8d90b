//! [`Queue`]: coordinate producer and consumer coroutines.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Instant;

use tornado_ioloop::Deadline;
use tornado_locks::__private::{Expiry, WaitList, deadline_instant};
use tornado_locks::{Event, EventWait, EventWaitTimeout};

use crate::buffer::Buffer;
use crate::error::{QueueEmpty, QueueFull, TaskDoneError};
use crate::futures::{Get, GetState, GetTimeout, Getting, Put, PutState, PutTimeout, Putting};
use crate::stream::QueueStream;

/// What the handles of one queue share.
pub(crate) struct Core<T> {
    pub(crate) state: RefCell<State<T>>,
    /// Set exactly while no task is unfinished (`join` waits for it), as in Tornado. So it
    /// is cleared only when `unfinished` goes from 0 to 1, not on every put.
    finished: Event,
}

/// Invariants: getters are in line only while `buf` is empty (a put serves the first getter
/// directly), and putters only while the queue is full (a get admits the first putter's
/// item). So an item or a free slot never waits while someone waits for it.
pub(crate) struct State<T> {
    maxsize: usize,
    buf: Buffer<T>,
    /// Payload: the item a getter was served, until it takes it.
    pub(crate) getters: WaitList<Option<T>>,
    /// Payload: the item a putter waits to put, until it is admitted.
    pub(crate) putters: WaitList<Option<T>>,
    /// Items put and not yet marked done by `task_done`.
    unfinished: usize,
}

impl<T> State<T> {
    fn full(&self) -> bool {
        self.maxsize != 0 && self.buf.len() >= self.maxsize
    }
}

impl<T> Core<T> {
    /// `put_nowait`: hands `item` to the first getter, or buffers it; `Err(item)` if full.
    pub(crate) fn try_put(&self, item: T) -> Result<(), T> {
        let (waker, first_unfinished) = {
            let mut s = self.state.borrow_mut();
            let waker = match s.getters.serve_front() {
                Some(key) => {
                    debug_assert!(s.buf.is_empty(), "getters wait only on an empty queue");
                    *s.getters.payload_mut(key) = Some(item);
                    s.getters.take_waker(key)
                }
                None if s.full() => return Err(item),
                None => {
                    s.buf.push(item);
                    None
                }
            };
            s.unfinished += 1;
            (waker, s.unfinished == 1)
        };
        if first_unfinished {
            self.finished.clear();
        }
        // Woken outside the borrow: a waker may run arbitrary code.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// `get_nowait`: the next item, after admitting the first waiting putter's.
    pub(crate) fn try_get(&self) -> Option<T> {
        let mut s = self.state.borrow_mut();
        let Some(key) = s.putters.serve_front() else {
            return s.buf.pop();
        };
        let admitted = s.putters.payload_mut(key).take();
        let waker = s.putters.take_waker(key);
        let mut first_unfinished = false;
        if let Some(item) = admitted {
            s.buf.push(item);
            s.unfinished += 1;
            first_unfinished = s.unfinished == 1;
        }
        let item = s.buf.pop();
        drop(s);
        if first_unfinished {
            self.finished.clear();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        item
    }

    /// Takes back an item a getter was given but will never deliver (its future was
    /// dropped): the first waiting getter gets it, else it goes back where the next get
    /// finds it first. Its task stays unfinished. This may leave the queue above
    /// `maxsize` for a while (the slot it had was given to a later put); no putter is
    /// admitted until it is back below.
    pub(crate) fn give_back(&self, item: T) {
        let waker = {
            let mut s = self.state.borrow_mut();
            match s.getters.serve_front() {
                Some(key) => {
                    *s.getters.payload_mut(key) = Some(item);
                    s.getters.take_waker(key)
                }
                None => {
                    s.buf.push_next(item);
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Coordinates producer and consumer coroutines (`tornado.queues.Queue`): items come out in
/// the order they were put.
///
/// With a `maxsize`, [`put`](Queue::put) waits while the queue is full; unbounded (0, the
/// default) it never waits. [`get`](Queue::get) waits while it is empty. Getters and
/// putters are served first come, first served, and take their place in line when `get` or
/// `put` is called, as in Tornado. [`task_done`](Queue::task_done) and
/// [`join`](Queue::join) let a producer wait until every item was processed.
///
/// Nothing is lost to a future that goes away: a getter that times out or is dropped
/// leaves the line, and an item it was already given goes back to the queue (to the next
/// getter, or to the head of the queue); a putter that times out or is dropped never puts
/// its item.
///
/// A `Queue` is a cheap handle: clones share the same queue. It is `!Send`, like Tornado's
/// queues, which are not thread-safe: to feed one from another thread, send the item with
/// [`IoLoopHandle::add_callback`](tornado_ioloop::IoLoopHandle::add_callback) and call
/// [`put_nowait`](Queue::put_nowait) there.
///
/// See [`PriorityQueue`](crate::PriorityQueue) and [`LifoQueue`](crate::LifoQueue) for the
/// other orders, and the [crate documentation](crate) for an example.
pub struct Queue<T> {
    /// `Rc`: shared by the handles of one loop's thread, hence `!Send`.
    core: Rc<Core<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            core: self.core.clone(),
        }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue::new()
    }
}

impl<T> Queue<T> {
    /// An unbounded queue (`Queue()`, `maxsize=0`).
    pub fn new() -> Queue<T> {
        Queue::with_maxsize(0)
    }

    /// A queue of at most `maxsize` items; 0 means unbounded (`Queue(maxsize)`).
    pub fn with_maxsize(maxsize: usize) -> Queue<T> {
        Queue::with_buffer(maxsize, Buffer::fifo())
    }

    pub(crate) fn with_buffer(maxsize: usize, buf: Buffer<T>) -> Queue<T> {
        let finished = Event::new();
        finished.set();
        Queue {
            core: Rc::new(Core {
                state: RefCell::new(State {
                    maxsize,
                    buf,
                    getters: WaitList::new(),
                    putters: WaitList::new(),
                    unfinished: 0,
                }),
                finished,
            }),
        }
    }

    /// The number of items allowed in the queue; 0 means unbounded (`maxsize`).
    pub fn maxsize(&self) -> usize {
        self.core.state.borrow().maxsize
    }

    /// The number of items in the queue (`qsize`).
    pub fn qsize(&self) -> usize {
        self.core.state.borrow().buf.len()
    }

    /// `true` if the queue holds no item (`empty`).
    pub fn empty(&self) -> bool {
        self.core.state.borrow().buf.is_empty()
    }

    /// `true` if the queue holds `maxsize` items; never for an unbounded queue (`full`).
    pub fn full(&self) -> bool {
        self.core.state.borrow().full()
    }

    /// Puts `item`, waiting while the queue is full (`put(item)`).
    ///
    /// If there is room, the item is in the queue (or given to a waiting getter) when `put`
    /// returns, and the future is ready at once. Otherwise the putter takes its place in
    /// line; dropping the future withdraws the item.
    pub fn put(&self, item: T) -> Put<T> {
        Put {
            putting: self.start_put(item, None),
        }
    }

    /// Puts `item`, or fails with a [`TimeoutError`](tornado_concurrent::TimeoutError) at
    /// `timeout` (an [`Instant`] on the loop's clock or a
    /// [`Duration`](std::time::Duration) from now; `put(item, timeout)`). A deadline already
    /// past answers at once. On timeout the item was not put, and is dropped.
    pub fn put_timeout(&self, item: T, timeout: impl Into<Deadline>) -> PutTimeout<T> {
        let at = deadline_instant(timeout);
        let putting = self.start_put(item, Some(at));
        PutTimeout {
            expiry: putting.is_waiting().then(|| Expiry::new(at)),
            putting,
        }
    }

    fn start_put(&self, item: T, deadline: Option<Instant>) -> Putting<T> {
        let state = match self.core.try_put(item) {
            Ok(()) => PutState::Done,
            Err(item) => match deadline {
                Some(at) if at <= Instant::now() => {
                    drop(item);
                    PutState::TimedOut
                }
                _ => PutState::Waiting(
                    self.core
                        .state
                        .borrow_mut()
                        .putters
                        .push_back(Some(item), deadline),
                ),
            },
        };
        Putting::new(self.core.clone(), state)
    }

    /// Puts `item` without waiting, or gives it back in [`QueueFull`] if the queue is full
    /// (`put_nowait`).
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        self.core.try_put(item).map_err(QueueFull)
    }

    /// Takes the next item, waiting while the queue is empty (`get()`).
    ///
    /// If an item is there, the future holds it when `get` returns. Otherwise the getter
    /// takes its place in line. Dropping the future before it delivered its item puts the
    /// item back.
    pub fn get(&self) -> Get<T> {
        Get {
            getting: self.start_get(None),
        }
    }

    /// Takes the next item, or fails with a
    /// [`TimeoutError`](tornado_concurrent::TimeoutError) at `timeout` (an [`Instant`] on
    /// the loop's clock or a [`Duration`](std::time::Duration) from now; `get(timeout)`). A
    /// deadline already past answers at once.
    pub fn get_timeout(&self, timeout: impl Into<Deadline>) -> GetTimeout<T> {
        let at = deadline_instant(timeout);
        let getting = self.start_get(Some(at));
        GetTimeout {
            expiry: getting.is_waiting().then(|| Expiry::new(at)),
            getting,
        }
    }

    fn start_get(&self, deadline: Option<Instant>) -> Getting<T> {
        let state = match self.core.try_get() {
            Some(item) => GetState::Ready(item),
            None => match deadline {
                Some(at) if at <= Instant::now() => GetState::TimedOut,
                _ => GetState::Waiting(
                    self.core
                        .state
                        .borrow_mut()
                        .getters
                        .push_back(None, deadline),
                ),
            },
        };
        Getting::new(self.core.clone(), state)
    }

    /// Takes the next item without waiting, or fails with [`QueueEmpty`] (`get_nowait`).
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        self.core.try_get().ok_or(QueueEmpty)
    }

    /// Marks one item taken from the queue as processed (`task_done`). When every item put
    /// has been marked, [`join`](Queue::join) returns.
    ///
    /// Fails with [`TaskDoneError`] if called more times than items were put (Tornado
    /// raises `ValueError`).
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let finished = {
            let mut s = self.core.state.borrow_mut();
            if s.unfinished == 0 {
                return Err(TaskDoneError);
            }
            s.unfinished -= 1;
            s.unfinished == 0
        };
        if finished {
            self.core.finished.set();
        }
        Ok(())
    }

    /// Waits until every item put has been marked with [`task_done`](Queue::task_done)
    /// (`join()`).
    pub fn join(&self) -> EventWait {
        self.core.finished.wait()
    }

    /// Waits until every item put has been processed, or fails with a
    /// [`TimeoutError`](tornado_concurrent::TimeoutError) at `timeout` (`join(timeout)`).
    pub fn join_timeout(&self, timeout: impl Into<Deadline>) -> EventWaitTimeout {
        self.core.finished.wait_timeout(timeout)
    }

    /// The items as an asynchronous stream (`async for item in queue`): see
    /// [`QueueStream`].
    pub fn stream(&self) -> QueueStream<T> {
        QueueStream::new(self.clone())
    }

    /// Getters waiting in line (Tornado's `getters[n]` in `repr`).
    pub fn getters(&self) -> usize {
        self.core.state.borrow().getters.len()
    }

    /// Putters waiting in line (Tornado's `putters[n]` in `repr`).
    pub fn putters(&self) -> usize {
        self.core.state.borrow().putters.len()
    }

    /// Items put and not yet marked with [`task_done`](Queue::task_done) (Tornado's
    /// `tasks=n` in `repr`).
    pub fn unfinished_tasks(&self) -> usize {
        self.core.state.borrow().unfinished
    }
}

impl<T: fmt::Debug> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.core.state.borrow();
        struct Items<'a, T>(&'a Buffer<T>);
        impl<T: fmt::Debug> fmt::Debug for Items<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug_items(f)
            }
        }
        f.debug_struct(s.buf.class_name())
            .field("maxsize", &s.maxsize)
            .field("queue", &Items(&s.buf))
            .field("getters", &s.getters.len())
            .field("putters", &s.putters.len())
            .field("tasks", &s.unfinished)
            .finish()
    }
}
