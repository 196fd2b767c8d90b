//! [`PriorityQueue`] and [`LifoQueue`]: a [`Queue`] that hands items out in another order.

use std::fmt;
use std::ops::Deref;

use crate::buffer::Buffer;
use crate::queue::Queue;

/// A [`Queue`] that hands out the lowest item first (`tornado.queues.PriorityQueue`).
///
/// Items are typically `(priority, data)` tuples, which Rust orders the way Python does.
/// Every method is [`Queue`]'s (through `Deref`, Tornado's subclassing); only the order
/// differs. Items of equal priority come out in no particular order, as with `heapq`.
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_queues::PriorityQueue;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let q = PriorityQueue::new();
///             q.put_nowait((1, "medium-priority item")).unwrap();
///             q.put_nowait((0, "high-priority item")).unwrap();
///             q.put_nowait((10, "low-priority item")).unwrap();
///             assert_eq!(q.get().await, (0, "high-priority item"));
///             assert_eq!(q.get().await, (1, "medium-priority item"));
///             assert_eq!(q.get().await, (10, "low-priority item"));
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
pub struct PriorityQueue<T> {
    queue: Queue<T>,
}

impl<T: Ord> PriorityQueue<T> {
    /// An unbounded priority queue (`PriorityQueue()`).
    pub fn new() -> PriorityQueue<T> {
        PriorityQueue::with_maxsize(0)
    }

    /// A priority queue of at most `maxsize` items; 0 means unbounded.
    pub fn with_maxsize(maxsize: usize) -> PriorityQueue<T> {
        PriorityQueue {
            queue: Queue::with_buffer(maxsize, Buffer::priority()),
        }
    }
}

/// A [`Queue`] that hands out the most recently put item first (`tornado.queues.LifoQueue`).
///
/// Every method is [`Queue`]'s (through `Deref`, Tornado's subclassing); only the order
/// differs.
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_queues::LifoQueue;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let q = LifoQueue::new();
///             for i in [3, 2, 1] {
///                 q.put_nowait(i).unwrap();
///             }
///             assert_eq!([q.get().await, q.get().await, q.get().await], [1, 2, 3]);
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
pub struct LifoQueue<T> {
    queue: Queue<T>,
}

impl<T> LifoQueue<T> {
    /// An unbounded LIFO queue (`LifoQueue()`).
    pub fn new() -> LifoQueue<T> {
        LifoQueue::with_maxsize(0)
    }

    /// A LIFO queue of at most `maxsize` items; 0 means unbounded.
    pub fn with_maxsize(maxsize: usize) -> LifoQueue<T> {
        LifoQueue {
            queue: Queue::with_buffer(maxsize, Buffer::lifo()),
        }
    }
}

/// What the two kinds share: cheap clones, `Deref` to the queue, conversion into it.
macro_rules! queue_kind {
    ($kind:ident, $($bound:tt)*) => {
        impl<T> Clone for $kind<T> {
            fn clone(&self) -> Self {
                $kind {
                    queue: self.queue.clone(),
                }
            }
        }

        impl<T: $($bound)*> Default for $kind<T> {
            fn default() -> Self {
                $kind::new()
            }
        }

        impl<T> Deref for $kind<T> {
            type Target = Queue<T>;

            fn deref(&self) -> &Queue<T> {
                &self.queue
            }
        }

        impl<T> From<$kind<T>> for Queue<T> {
            /// The same queue as a plain [`Queue`] handle (it keeps its order), for code
            /// that takes any queue.
            fn from(kind: $kind<T>) -> Queue<T> {
                kind.queue
            }
        }

        impl<T: fmt::Debug> fmt::Debug for $kind<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.queue, f)
            }
        }
    };
}

queue_kind!(PriorityQueue, Ord);
queue_kind!(LifoQueue, Sized);
