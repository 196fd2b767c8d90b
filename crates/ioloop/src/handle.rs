//! [`IoLoopHandle`]: the one part of a loop that crosses threads.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::task::TaskRef;

/// Work handed to a loop from another thread.
pub(crate) enum Remote {
    Callback(Box<dyn FnOnce() + Send + 'static>),
    /// A task woken from another thread (or while its loop was not running).
    Wake(TaskRef),
}

/// The thread-safe side of a loop: its queue of work from other threads and the mio waker
/// that interrupts its poll.
pub(crate) struct Shared {
    pub(crate) id: u64,
    queue: Mutex<Vec<Remote>>,
    /// Set by a pusher (before it wakes the loop), cleared by the loop before it drains the
    /// queue. While it is set, further pushes skip the waker's `write(2)`: one wake-up per
    /// batch, however many threads push.
    notified: AtomicBool,
    waker: mio::Waker,
    /// Once set, callbacks from other threads are dropped (Tornado ignores `add_callback`
    /// on a closed loop).
    closed: AtomicBool,
    stop_requested: AtomicBool,
}

impl Shared {
    pub(crate) fn new(id: u64, waker: mio::Waker) -> Self {
        Shared {
            id,
            queue: Mutex::new(Vec::new()),
            notified: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
            stop_requested: AtomicBool::new(false),
        }
    }

    pub(crate) fn push(&self, item: Remote) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        self.queue.lock().push(item);
        self.notify();
    }

    fn notify(&self) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            // A failed wake can only mean the eventfd is gone, i.e. the loop was dropped.
            let _ = self.waker.wake();
        }
    }

    /// Moves everything queued so far into `out`, oldest first.
    pub(crate) fn drain_into(&self, out: &mut Vec<Remote>) {
        // Cheap check first: nothing was pushed since the last drain.
        if !self.notified.load(Ordering::Acquire) {
            return;
        }
        self.notified.store(false, Ordering::Release);
        out.append(&mut self.queue.lock());
    }

    pub(crate) fn close(&self) -> Vec<Remote> {
        self.closed.store(true, Ordering::Release);
        std::mem::take(&mut *self.queue.lock())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::Release);
        self.notify();
    }

    pub(crate) fn take_stop_request(&self) -> bool {
        // A plain load first: the locked swap is only paid when a stop was requested.
        self.stop_requested.load(Ordering::Acquire)
            && self.stop_requested.swap(false, Ordering::AcqRel)
    }
}

/// A `Send + Sync` handle to an [`IoLoop`](crate::IoLoop), for other threads.
///
/// An `IoLoop` is single-threaded and `!Send`, as Tornado's is: `add_callback` is the only
/// method Tornado allows from other threads, and that is what this handle offers (plus
/// [`stop`](IoLoopHandle::stop)). The callback runs on the loop's thread, where it can use
/// [`IoLoop::current`](crate::IoLoop::current) and everything else.
///
/// # Examples
///
/// ```
/// use tornado_ioloop::IoLoop;
///
/// let io_loop = IoLoop::new();
/// let handle = io_loop.handle();
/// let worker = std::thread::spawn(move || {
///     handle.add_callback(|| IoLoop::current().stop());
/// });
/// io_loop.start().unwrap(); // returns once the callback from the other thread ran
/// worker.join().unwrap();
/// ```
#[derive(Clone)]
pub struct IoLoopHandle {
    pub(crate) shared: Arc<Shared>,
}

impl IoLoopHandle {
    /// Runs `callback` on the loop's thread, on its next iteration (thread-safe
    /// `IOLoop.add_callback`). Callbacks from one thread run in the order they were added.
    /// Does nothing once the loop is closed.
    pub fn add_callback(&self, callback: impl FnOnce() + Send + 'static) {
        self.shared.push(Remote::Callback(Box::new(callback)));
    }

    /// Asks the loop to stop after its current iteration, as [`IoLoop::stop`] does from the
    /// loop's own thread.
    ///
    /// [`IoLoop::stop`]: crate::IoLoop::stop
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// `true` once the loop has been closed.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl fmt::Debug for IoLoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoLoopHandle")
            .field("id", &self.shared.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}
