//! The write side of `IoStream`: `write`, `write_buffered`, `flush`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};

use crate::IoStream;
use crate::error::buffer_full;
use crate::stream::Stream;

impl Stream {
    /// Appends to the write buffer; returns the byte count the data ends at.
    pub(crate) fn queue(&self, data: Bytes) -> io::Result<u64> {
        if self.closed.get() {
            return Err(self.closed_error());
        }
        if let Some(max) = self.settings.max_write_buffer_size
            && self.wbuf.borrow().len() + data.len() > max
        {
            return Err(buffer_full("write"));
        }
        let end = self.queued.get() + data.len() as u64;
        self.wbuf.borrow_mut().push(data);
        self.queued.set(end);
        Ok(end)
    }

    /// Appends a copy of `data`; returns the byte count it ends at.
    pub(crate) fn queue_slice(&self, data: &[u8]) -> io::Result<u64> {
        if self.closed.get() {
            return Err(self.closed_error());
        }
        if let Some(max) = self.settings.max_write_buffer_size
            && self.wbuf.borrow().len() + data.len() > max
        {
            return Err(buffer_full("write"));
        }
        let end = self.queued.get() + data.len() as u64;
        self.wbuf.borrow_mut().push_slice(data);
        self.queued.set(end);
        Ok(end)
    }

    pub(crate) fn queue_with<R>(&self, f: impl FnOnce(&mut BytesMut) -> R) -> io::Result<R> {
        if self.closed.get() {
            return Err(self.closed_error());
        }
        if let Some(max) = self.settings.max_write_buffer_size
            && self.wbuf.borrow().len() >= max
        {
            return Err(buffer_full("write"));
        }
        let (r, added) = self.wbuf.borrow_mut().append_with(f);
        self.queued.set(self.queued.get() + added as u64);
        Ok(r)
    }

    fn poll_written(&self, cx: &mut Context<'_>, target: u64) -> Poll<io::Result<()>> {
        if self.written.get() >= target {
            return Poll::Ready(Ok(()));
        }
        if self.closed.get() {
            return Poll::Ready(Err(self.closed_error()));
        }
        if let Err(e) = self.try_flush() {
            return Poll::Ready(Err(e));
        }
        if self.written.get() >= target {
            return Poll::Ready(Ok(()));
        }
        self.add_write_waiter(target, cx.waker());
        self.ensure_flusher();
        Poll::Pending
    }
}

impl IoStream {
    /// Queues `data` and starts sending it at once; the returned future resolves when every
    /// byte has been handed to the OS (`write`).
    ///
    /// The data is queued by the call itself, not when the future is polled: dropping the
    /// future does not cancel the write, and writes are sent in the order of the calls.
    /// Writes made while the stream is still connecting wait for the connection.
    ///
    /// Fails (through the future) if the stream is closed, or if the data would take the
    /// write buffer past `max_write_buffer_size`.
    pub fn write(&self, data: impl Into<Bytes>) -> WriteFuture {
        let target = self.inner.queue(data.into()).and_then(|end| {
            self.inner.try_flush()?;
            Ok(end)
        });
        WriteFuture {
            stream: self.inner.clone(),
            target,
        }
    }

    /// Queues a copy of `data` without sending it yet; [`flush`](IoStream::flush) (or the
    /// next [`write`](IoStream::write)) sends it. Many small writes then leave in one system
    /// call, which is how an HTTP server answers pipelined requests.
    pub fn write_buffered(&self, data: &[u8]) -> io::Result<()> {
        self.inner.queue_slice(data).map(|_| ())
    }

    /// Queues `data` (not copied) without sending it yet; see
    /// [`write_buffered`](IoStream::write_buffered).
    pub fn write_buffered_bytes(&self, data: Bytes) -> io::Result<()> {
        self.inner.queue(data).map(|_| ())
    }

    /// Lets `f` append to the write buffer in place (no intermediate copy), without sending;
    /// returns what `f` returns. For serializers that build many small pieces (HTTP heads).
    ///
    /// `max_write_buffer_size` is checked before `f` runs, against what is already queued.
    pub fn write_buffered_with<R>(&self, f: impl FnOnce(&mut BytesMut) -> R) -> io::Result<R> {
        self.inner.queue_with(f)
    }

    /// Sends everything queued so far; resolves when it has all been handed to the OS.
    pub fn flush(&self) -> WriteFuture {
        let end = self.inner.queued.get();
        let target = self.inner.try_flush().map(|()| end);
        WriteFuture {
            stream: self.inner.clone(),
            target,
        }
    }

    /// Bytes queued and not yet sent (excluding a transport's own buffers).
    pub fn pending_write_len(&self) -> usize {
        self.inner.wbuf.borrow().len()
    }

    /// `true` while written data waits to be sent (`writing`).
    pub fn writing(&self) -> bool {
        self.inner.has_pending_output()
    }
}

/// Resolves when the data of one `write` (or everything before a `flush`) has been sent.
///
/// Not `#[must_use]`: the data is sent whether or not the future is awaited, and Tornado code
/// routinely ignores write futures.
pub struct WriteFuture {
    stream: Rc<Stream>,
    target: io::Result<u64>,
}

impl Future for WriteFuture {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &this.target {
            Ok(target) => this.stream.poll_written(cx, *target),
            Err(_) => {
                let e = std::mem::replace(&mut this.target, Ok(0)).unwrap_err();
                Poll::Ready(Err(e))
            }
        }
    }
}

impl fmt::Debug for WriteFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteFuture")
            .field("target", &self.target.as_ref().ok())
            .field("written", &self.stream.written.get())
            .finish()
    }
}
