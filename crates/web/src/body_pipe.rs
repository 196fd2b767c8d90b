//! A one-piece channel that hands a streamed request body from the connection to the
//! handler's task, one chunk at a time: the sender waits until its chunk was taken, so a
//! slow `data_received` slows the reading of the body (flow control).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;

#[derive(Default)]
struct Pipe {
    chunk: Option<Bytes>,
    ended: bool,
    /// The body stopped before its end (the connection closed or failed).
    aborted: bool,
    /// The receiver is gone: chunks are dropped.
    dropped: bool,
    receiver: Option<Waker>,
    sender: Option<Waker>,
}

/// The connection's end.
pub(crate) struct BodySender(Rc<RefCell<Pipe>>);

/// The handler's end.
pub(crate) struct BodyReceiver(Rc<RefCell<Pipe>>);

pub(crate) fn body_pipe() -> (BodySender, BodyReceiver) {
    let pipe = Rc::new(RefCell::new(Pipe::default()));
    (BodySender(pipe.clone()), BodyReceiver(pipe))
}

impl BodySender {
    /// Hands `chunk` over; resolves when the handler took it, or at once if the handler
    /// no longer reads (returns `false` then).
    pub(crate) async fn send(&self, chunk: Bytes) -> bool {
        {
            let mut p = self.0.borrow_mut();
            if p.dropped {
                return false;
            }
            p.chunk = Some(chunk);
            if let Some(w) = p.receiver.take() {
                w.wake();
            }
        }
        poll_fn(|cx| {
            let mut p = self.0.borrow_mut();
            if p.chunk.is_none() || p.dropped {
                Poll::Ready(!p.dropped)
            } else {
                p.sender = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// The body is complete.
    pub(crate) fn end(&self) {
        let mut p = self.0.borrow_mut();
        p.ended = true;
        if let Some(w) = p.receiver.take() {
            w.wake();
        }
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        let mut p = self.0.borrow_mut();
        if !p.ended {
            // Dropped before `end`: the connection gave up on this body.
            p.aborted = true;
            if let Some(w) = p.receiver.take() {
                w.wake();
            }
        }
    }
}

/// The body did not arrive whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyAborted;

impl BodyReceiver {
    /// The next chunk, `None` at the end.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, BodyAborted> {
        poll_fn(|cx| {
            let mut p = self.0.borrow_mut();
            if let Some(chunk) = p.chunk.take() {
                if let Some(w) = p.sender.take() {
                    w.wake();
                }
                Poll::Ready(Ok(Some(chunk)))
            } else if p.ended {
                Poll::Ready(Ok(None))
            } else if p.aborted {
                Poll::Ready(Err(BodyAborted))
            } else {
                p.receiver = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

impl Drop for BodyReceiver {
    fn drop(&mut self) {
        let mut p = self.0.borrow_mut();
        p.dropped = true;
        p.chunk = None;
        if let Some(w) = p.sender.take() {
            w.wake();
        }
    }
}
