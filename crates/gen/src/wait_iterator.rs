//! [`WaitIterator`]: results in the order the futures complete.

use std::cell::Cell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::task::{Context, Poll};

use crate::unordered::Unordered;

/// Yields the outputs of several futures in the order they complete
/// (`tornado.gen.WaitIterator`), telling which one each came from.
///
/// ```
/// use std::time::Duration;
/// use tornado_gen::{WaitIterator, sleep};
/// use tornado_ioloop::IoLoop;
///
/// let io_loop = IoLoop::new();
/// let order = io_loop
///     .run_sync(
///         || async {
///             let slow = Box::pin(async { sleep(Duration::from_millis(20)).await; "slow" });
///             let fast = Box::pin(async { "fast" });
///             let futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>> =
///                 vec![slow, fast];
///             let mut it = WaitIterator::new(futures);
///             let mut order = Vec::new();
///             while let Some(result) = it.next().await {
///                 order.push((*it.current_index().unwrap(), result));
///             }
///             order
///         },
///         None,
///     )
///     .unwrap();
/// assert_eq!(order, [(1, "fast"), (0, "slow")]);
/// ```
///
/// A future completes once and its output is handed out once; the iterator then drops the
/// future (it keeps no reference to it). The same shared future (a
/// [`tornado_concurrent::Future`] clone) may be given twice; each copy yields.
pub struct WaitIterator<K, F: Future> {
    futures: Unordered<F>,
    keys: Vec<K>,
    /// Cleared by `done()` once everything was handed out, as Tornado does.
    current: Cell<Option<usize>>,
}

impl<F: Future> WaitIterator<usize, F> {
    /// Waits for `futures`; [`current_index`](WaitIterator::current_index) is the position of
    /// the one that produced the latest output.
    pub fn new(futures: impl IntoIterator<Item = F>) -> Self {
        let futures: Vec<F> = futures.into_iter().collect();
        let keys = (0..futures.len()).collect();
        WaitIterator {
            futures: Unordered::new(futures),
            keys,
            current: Cell::new(None),
        }
    }
}

impl<K, F: Future> WaitIterator<K, F> {
    /// Waits for keyed futures (Tornado's `WaitIterator(**futures)`);
    /// [`current_index`](WaitIterator::current_index) is the key of the latest.
    pub fn from_keyed(futures: impl IntoIterator<Item = (K, F)>) -> Self {
        let (keys, futures): (Vec<K>, Vec<F>) = futures.into_iter().unzip();
        WaitIterator {
            futures: Unordered::new(futures),
            keys,
            current: Cell::new(None),
        }
    }

    /// `true` when every output has been handed out. Like Tornado's, it then clears
    /// [`current_index`](WaitIterator::current_index).
    pub fn done(&self) -> bool {
        let done = self.futures.remaining() == 0;
        if done {
            self.current.set(None);
        }
        done
    }

    /// The index (or key) of the future whose output [`next`](WaitIterator::next) returned
    /// last; `None` before the first and after the last.
    pub fn current_index(&self) -> Option<&K> {
        self.current.get().map(|i| &self.keys[i])
    }

    /// The next output to become available, or `None` when all have been handed out.
    pub async fn next(&mut self) -> Option<F::Output> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Polls for the next output, for use in hand-written futures and streams.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        match self.futures.poll_next(cx) {
            Poll::Ready(Some((i, out))) => {
                self.current.set(Some(i));
                Poll::Ready(Some(out))
            }
            Poll::Ready(None) => {
                self.current.set(None);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<K: fmt::Debug, F: Future> fmt::Debug for WaitIterator<K, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitIterator")
            .field("remaining", &self.futures.remaining())
            .field("current_index", &self.current_index())
            .finish()
    }
}
