//! The errors of a queue: [`QueueEmpty`], [`QueueFull`] and [`TaskDoneError`]. Timeouts are
//! [`TimeoutError`](tornado_concurrent::TimeoutError)s, shared with every other layer.

use std::fmt;

/// [`Queue::get_nowait`](crate::Queue::get_nowait) found no item
/// (`tornado.queues.QueueEmpty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueEmpty;

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue empty")
    }
}

impl std::error::Error for QueueEmpty {}

/// [`Queue::put_nowait`](crate::Queue::put_nowait) found the queue at its maximum size
/// (`tornado.queues.QueueFull`). It gives the item back, as `std::sync::mpsc::SendError`
/// does: in Rust the caller would otherwise have lost it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueFull<T>(pub T);

impl<T> QueueFull<T> {
    /// The item that did not fit.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueFull<T> {
    // No `T: Debug` bound, so that any `QueueFull<T>` is an error type.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue full")
    }
}

impl<T> std::error::Error for QueueFull<T> {}

/// [`Queue::task_done`](crate::Queue::task_done) was called more times than items were put
/// (Tornado raises `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tornado's message.
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
