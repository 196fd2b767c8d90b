//! A set of futures polled only when woken, yielding outputs in completion order. The engine
//! of [`multi`](crate::multi) and [`WaitIterator`](crate::WaitIterator).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use parking_lot::Mutex;

struct ReadyQueue {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    /// Children woken since they were last polled, oldest first.
    queue: Vec<usize>,
    /// `queued[i]`: child `i` is in `queue` (so many wake-ups queue it once).
    queued: Vec<bool>,
    parent: Option<Waker>,
}

struct ChildWaker {
    index: usize,
    ready: Arc<ReadyQueue>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let parent = {
            let mut inner = self.ready.inner.lock();
            if inner.queued[self.index] {
                return;
            }
            inner.queued[self.index] = true;
            inner.queue.push(self.index);
            inner.parent.clone()
        };
        if let Some(p) = parent {
            p.wake();
        }
    }
}

/// Futures indexed by position. Each has its own waker, so a wake-up polls only the child
/// that was woken: waiting on n futures costs O(n) in all, not O(n²).
pub(crate) struct Unordered<F> {
    /// `None` once a child has completed (its future is dropped at once: no reference to a
    /// finished future is kept).
    futures: Vec<Option<Pin<Box<F>>>>,
    wakers: Vec<Waker>,
    ready: Arc<ReadyQueue>,
    remaining: usize,
}

impl<F: Future> Unordered<F> {
    pub(crate) fn new(futures: impl IntoIterator<Item = F>) -> Self {
        let futures: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
        let n = futures.len();
        let ready = Arc::new(ReadyQueue {
            inner: Mutex::new(ReadyInner {
                // Every child is polled once at first.
                queue: (0..n).collect(),
                queued: vec![true; n],
                parent: None,
            }),
        });
        let wakers = (0..n)
            .map(|index| {
                Waker::from(Arc::new(ChildWaker {
                    index,
                    ready: ready.clone(),
                }))
            })
            .collect();
        Unordered {
            futures,
            wakers,
            ready,
            remaining: n,
        }
    }

    /// Children not yet completed.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// The next child to complete, with its index; `None` when all have.
    ///
    /// Polls each child woken before this call at most once, so a child that keeps waking
    /// itself cannot keep this call from returning.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, F::Output)>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let batch = {
            let mut inner = self.ready.inner.lock();
            match &mut inner.parent {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            std::mem::take(&mut inner.queue)
        };
        let mut result = None;
        let mut unpolled = Vec::new();
        for (pos, &index) in batch.iter().enumerate() {
            if result.is_some() {
                unpolled.extend_from_slice(&batch[pos..]);
                break;
            }
            self.ready.inner.lock().queued[index] = false;
            let Some(fut) = self.futures[index].as_mut() else {
                continue;
            };
            let mut child_cx = Context::from_waker(&self.wakers[index]);
            if let Poll::Ready(out) = fut.as_mut().poll(&mut child_cx) {
                self.futures[index] = None;
                self.remaining -= 1;
                result = Some((index, out));
            }
        }
        if !unpolled.is_empty() {
            // Children woken but not polled in this call stay first in line.
            let mut inner = self.ready.inner.lock();
            let later = std::mem::take(&mut inner.queue);
            inner.queue = unpolled;
            inner.queue.extend(later);
        }
        match result {
            Some(r) => Poll::Ready(Some(r)),
            None => Poll::Pending,
        }
    }
}
