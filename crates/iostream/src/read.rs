//! The read operations of `IoStream`: `read_until`, `read_until_regex`, `read_bytes`,
//! `read_into`, `read_until_close`.

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use bytes::Bytes;
use regex::bytes::Regex;

use crate::IoStream;
use crate::error::{is_connection_reset, unsatisfiable};
use crate::stream::{Fill, Stream};

/// Shown the buffered bytes, says how many of them make a complete item and what it is,
/// or `None` while the item is still incomplete.
type ItemParser<'a, T> = dyn FnMut(&[u8]) -> io::Result<Option<(usize, T)>> + 'a;

/// Marks a read as outstanding for as long as it lives (Tornado allows one at a time).
struct ReadGuard<'a>(&'a Stream);

impl<'a> ReadGuard<'a> {
    fn begin(stream: &'a Stream) -> io::Result<ReadGuard<'a>> {
        if stream.reading.replace(true) {
            return Err(io::Error::other("Already reading"));
        }
        Ok(ReadGuard(stream))
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.0.end_read();
    }
}

impl Stream {
    /// Reads until `delimiter`; `scanned` remembers how much of the buffer was searched, so
    /// that each byte is examined about once however the data trickles in.
    fn poll_read_until(
        &self,
        cx: &mut Context<'_>,
        delimiter: &[u8],
        max_bytes: Option<usize>,
        scanned: &mut usize,
    ) -> Poll<io::Result<Bytes>> {
        loop {
            {
                let mut rbuf = self.rbuf.borrow_mut();
                let from = scanned.saturating_sub(delimiter.len().saturating_sub(1));
                if let Some(end) = rbuf.find(delimiter, from) {
                    if max_bytes.is_some_and(|m| end > m) {
                        drop(rbuf);
                        return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                    }
                    return Poll::Ready(Ok(rbuf.take(end)));
                }
                *scanned = rbuf.len();
                if max_bytes.is_some_and(|m| rbuf.len() > m) {
                    drop(rbuf);
                    return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                }
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => return Poll::Ready(Err(self.closed_error())),
            }
        }
    }

    fn poll_read_until_regex(
        &self,
        cx: &mut Context<'_>,
        regex: &Regex,
        max_bytes: Option<usize>,
    ) -> Poll<io::Result<Bytes>> {
        loop {
            {
                let mut rbuf = self.rbuf.borrow_mut();
                if let Some(m) = regex.find(rbuf.as_slice()) {
                    let end = m.end();
                    if max_bytes.is_some_and(|max| end > max) {
                        drop(rbuf);
                        return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                    }
                    return Poll::Ready(Ok(rbuf.take(end)));
                }
                if max_bytes.is_some_and(|m| rbuf.len() > m) {
                    drop(rbuf);
                    return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                }
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => return Poll::Ready(Err(self.closed_error())),
            }
        }
    }

    /// Tornado logs an unsatisfiable read at info and closes the connection; the read fails
    /// with a `StreamClosedError` whose real error is the `UnsatisfiableReadError`.
    fn unsatisfiable(&self, max_bytes: Option<usize>) -> io::Error {
        let max = max_bytes.unwrap_or(0);
        log::info!(
            target: "general",
            "Unsatisfiable read, closing connection: delimiter not found within {max} bytes"
        );
        self.close(Some(unsatisfiable(max)));
        self.closed_error()
    }

    /// Reads until `parse`, shown every buffered byte, reports a complete item.
    fn poll_read_with<T>(
        &self,
        cx: &mut Context<'_>,
        max_bytes: Option<usize>,
        parse: &mut ItemParser<'_, T>,
    ) -> Poll<io::Result<(Bytes, T)>> {
        loop {
            {
                let mut rbuf = self.rbuf.borrow_mut();
                if !rbuf.is_empty() {
                    match parse(rbuf.as_slice()) {
                        Ok(Some((n, _))) if max_bytes.is_some_and(|m| n > m) => {
                            drop(rbuf);
                            return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                        }
                        Ok(Some((n, value))) => return Poll::Ready(Ok((rbuf.take(n), value))),
                        Ok(None) => {}
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
                if max_bytes.is_some_and(|m| rbuf.len() > m) {
                    drop(rbuf);
                    return Poll::Ready(Err(self.unsatisfiable(max_bytes)));
                }
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => return Poll::Ready(Err(self.closed_error())),
            }
        }
    }

    pub(crate) fn poll_read_bytes(
        &self,
        cx: &mut Context<'_>,
        n: usize,
        partial: bool,
    ) -> Poll<io::Result<Bytes>> {
        loop {
            {
                let mut rbuf = self.rbuf.borrow_mut();
                let len = rbuf.len();
                if len >= n || (partial && len > 0) {
                    return Poll::Ready(Ok(rbuf.take(n.min(len))));
                }
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => return Poll::Ready(Err(self.closed_error())),
            }
        }
    }

    fn poll_read_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        filled: &mut usize,
        partial: bool,
    ) -> Poll<io::Result<usize>> {
        loop {
            *filled += self.rbuf.borrow_mut().take_into(&mut buf[*filled..]);
            if *filled == buf.len() || (partial && *filled > 0) {
                return Poll::Ready(Ok(*filled));
            }
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => {
                    *filled += self.rbuf.borrow_mut().take_into(&mut buf[*filled..]);
                    if *filled == buf.len() || (partial && *filled > 0) {
                        return Poll::Ready(Ok(*filled));
                    }
                    return Poll::Ready(Err(self.closed_error()));
                }
            }
        }
    }

    fn poll_read_until_close(&self, cx: &mut Context<'_>) -> Poll<io::Result<Bytes>> {
        loop {
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Fill::Data) => {}
                Poll::Ready(Fill::Closed) => {
                    // A reset counts as a normal close, but any other error means the data
                    // is truncated and must not be reported as complete (Tornado 6.5.9).
                    let error = self.error.borrow().clone();
                    return Poll::Ready(match error {
                        Some(e) if !is_connection_reset(&e) => Err(self.closed_error()),
                        _ => Ok(self.rbuf.borrow_mut().take_all()),
                    });
                }
            }
        }
    }
}

impl IoStream {
    /// Reads until `delimiter` has been read, and returns everything up to and including it
    /// (`read_until`).
    ///
    /// With `max_bytes`, a delimiter not found within that many bytes is an
    /// [`UnsatisfiableReadError`](crate::UnsatisfiableReadError) and closes the stream, so
    /// that a peer cannot make the buffer grow without bound.
    pub async fn read_until(
        &self,
        delimiter: &[u8],
        max_bytes: Option<usize>,
    ) -> io::Result<Bytes> {
        let _guard = ReadGuard::begin(&self.inner)?;
        let mut scanned = 0;
        poll_fn(|cx| {
            self.inner
                .poll_read_until(cx, delimiter, max_bytes, &mut scanned)
        })
        .await
    }

    /// Reads until `regex` matches, and returns everything up to the end of the match
    /// (`read_until_regex`). `max_bytes` as for [`read_until`](IoStream::read_until).
    pub async fn read_until_regex(
        &self,
        regex: &Regex,
        max_bytes: Option<usize>,
    ) -> io::Result<Bytes> {
        let _guard = ReadGuard::begin(&self.inner)?;
        poll_fn(|cx| self.inner.poll_read_until_regex(cx, regex, max_bytes)).await
    }

    /// Reads `num_bytes` bytes; with `partial`, returns as soon as any are available (but
    /// never more than `num_bytes`) (`read_bytes`).
    pub async fn read_bytes(&self, num_bytes: usize, partial: bool) -> io::Result<Bytes> {
        let _guard = ReadGuard::begin(&self.inner)?;
        poll_fn(|cx| self.inner.poll_read_bytes(cx, num_bytes, partial)).await
    }

    /// Reads into `buf` until it is full, or with `partial` as soon as any bytes have been
    /// read; returns the count (`read_into`).
    pub async fn read_into(&self, buf: &mut [u8], partial: bool) -> io::Result<usize> {
        let _guard = ReadGuard::begin(&self.inner)?;
        let mut filled = 0;
        poll_fn(|cx| self.inner.poll_read_into(cx, buf, &mut filled, partial)).await
    }

    /// Reads until `parse` recognises a complete item at the front of the buffered data, and
    /// returns the item's bytes (taken off the buffer) with what `parse` made of them.
    ///
    /// `parse` is called with every byte buffered so far, each time more arrive, and returns
    /// `Ok(Some((len, value)))` for a complete item of `len` bytes, `Ok(None)` to wait for
    /// more, or an error, which the read returns as it is (the stream stays open). It should
    /// keep its own state to avoid rescanning what it has already seen. `max_bytes` works as
    /// in [`read_until`](IoStream::read_until). This is how protocol parsers (HTTP heads)
    /// read without copying.
    pub async fn read_with<T>(
        &self,
        max_bytes: Option<usize>,
        mut parse: impl FnMut(&[u8]) -> io::Result<Option<(usize, T)>>,
    ) -> io::Result<(Bytes, T)> {
        let _guard = ReadGuard::begin(&self.inner)?;
        poll_fn(|cx| self.inner.poll_read_with(cx, max_bytes, &mut parse)).await
    }

    /// Runs `f` on the bytes received and not yet read, without reading more.
    pub fn peek_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        f(self.inner.rbuf.borrow().as_slice())
    }

    /// Reads everything until the peer closes (`read_until_close`). The data is buffered up
    /// to `max_buffer_size`; for more, read in a loop with `read_bytes(n, true)`.
    ///
    /// A connection reset counts as a normal close; any other error is reported instead of
    /// the (truncated) data.
    pub async fn read_until_close(&self) -> io::Result<Bytes> {
        let _guard = ReadGuard::begin(&self.inner)?;
        poll_fn(|cx| self.inner.poll_read_until_close(cx)).await
    }
}
