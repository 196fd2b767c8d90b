//! [`QueueStream`]: a queue as an asynchronous stream (`async for item in queue`).

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use crate::futures::Get;
use crate::queue::Queue;

/// The items of a [`Queue`] as an asynchronous stream, made by [`Queue::stream`]
/// (Tornado's `async for item in queue`, whose `__anext__` is `queue.get()`).
///
/// The standard library has no `Stream` trait yet, so this gives its two forms:
/// [`next`](QueueStream::next) for `while let` loops, and
/// [`poll_next`](QueueStream::poll_next), with the signature of `Stream::poll_next`, for
/// hand-written futures or an adapter to the `futures` crate's `Stream`. Like Tornado's,
/// the stream never ends: it waits for the next item forever, and `next` never returns
/// `None`; leave the loop with `break` or `return`.
///
/// Dropping the stream while it waits puts back an item it was already given.
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_queues::Queue;
///
/// IoLoop::new()
///     .run_sync(
///         || async {
///             let q = Queue::new();
///             for i in 0..5 {
///                 q.put_nowait(i).unwrap();
///             }
///             let mut results = Vec::new();
///             let mut items = q.stream();
///             while let Some(i) = items.next().await {
///                 results.push(i);
///                 if i == 4 {
///                     break;
///                 }
///             }
///             assert_eq!(results, [0, 1, 2, 3, 4]);
///         },
///         Some(Duration::from_secs(10)),
///     )
///     .unwrap();
/// ```
pub struct QueueStream<T> {
    queue: Queue<T>,
    /// The get in progress, kept between polls so that the stream keeps its place in line.
    pending: Option<Get<T>>,
}

impl<T> QueueStream<T> {
    pub(crate) fn new(queue: Queue<T>) -> Self {
        QueueStream {
            queue,
            pending: None,
        }
    }

    /// The next item, waiting for one; always `Some`.
    pub async fn next(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Polls for the next item; `Ready` is always `Some`.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let get = self.pending.get_or_insert_with(|| self.queue.get());
        let item = ready!(Pin::new(get).poll(cx));
        self.pending = None;
        Poll::Ready(Some(item))
    }
}

impl<T> fmt::Debug for QueueStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("waiting", &self.pending.is_some())
            .finish()
    }
}
