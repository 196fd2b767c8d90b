//! The state behind an `IoStream`: buffers, the descriptor, and the three operations every
//! read and write is built from: fill the read buffer, flush the write buffer, close.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tornado_ioloop::{Events, IoLoop, Registration};

use crate::buffer::{ReadBuffer, WriteBuffer};
use crate::error::{StreamClosedError, buffer_full, is_connection_reset};
use crate::settings::StreamSettings;
use crate::transport::{ReadOutcome, Transport};

/// Everything a stream owns. Shared by `Rc` between the `IoStream` handles, the futures of
/// pending operations, and the background flush task.
///
/// Invariant: no `RefCell` here is borrowed across a call that can run user code (a waker,
/// a close callback) or re-enter the stream.
pub(crate) struct Stream {
    pub(crate) me: Weak<Stream>,
    pub(crate) io_loop: IoLoop,
    pub(crate) reg: Registration,
    /// `None` once closed (dropping it closes the descriptor).
    pub(crate) transport: RefCell<Option<Transport>>,
    pub(crate) rbuf: RefCell<ReadBuffer>,
    pub(crate) wbuf: RefCell<WriteBuffer>,
    pub(crate) settings: StreamSettings,
    pub(crate) closed: Cell<bool>,
    /// A read operation is outstanding (Tornado allows one at a time).
    pub(crate) reading: Cell<bool>,
    /// A non-blocking connect is in progress: writes are queued, not flushed.
    pub(crate) connecting: Cell<bool>,
    /// The background flush task is running.
    flushing: Cell<bool>,
    /// The last write hit `WouldBlock` and no writable event has been seen since.
    write_blocked: Cell<bool>,
    pub(crate) error: RefCell<Option<Arc<io::Error>>>,
    close_callback: RefCell<Option<Box<dyn FnOnce()>>>,
    /// Total bytes ever queued for writing, and ever written: a write future waits until
    /// `written` reaches the `queued` value its data ended at.
    pub(crate) queued: Cell<u64>,
    pub(crate) written: Cell<u64>,
    write_waiters: RefCell<Vec<(u64, Waker)>>,
    /// Tasks waiting for a connect to finish.
    connect_waiters: RefCell<Vec<Waker>>,
    /// The task watching for a close while nothing is read (see `watch_for_close`).
    idle_watcher: RefCell<Option<Waker>>,
}

thread_local! {
    /// One scratch buffer per thread for reads: the OS writes into it, and only what arrived
    /// is copied to the stream's buffer. Streams thus never zero or keep a 64 KiB buffer each.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a scratch buffer of `len` bytes.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < len {
            s.resize(len, 0);
        }
        f(&mut s[..len])
    })
}

/// What a fill of the read buffer achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Bytes arrived: data was appended to the read buffer, or the transport's state
    /// changed (a TLS handshake step). The caller re-checks what it waits for.
    Data,
    /// The stream is closed (now or before): nothing more will arrive.
    Closed,
}

impl Stream {
    pub(crate) fn new(
        io_loop: IoLoop,
        transport: Transport,
        settings: StreamSettings,
        connecting: bool,
    ) -> io::Result<Rc<Stream>> {
        let reg = Registration::new(&io_loop, transport.fd())?;
        Ok(Rc::new_cyclic(|me| Stream {
            me: me.clone(),
            io_loop,
            reg,
            transport: RefCell::new(Some(transport)),
            rbuf: RefCell::new(ReadBuffer::default()),
            wbuf: RefCell::new(WriteBuffer::default()),
            settings,
            closed: Cell::new(false),
            reading: Cell::new(false),
            connecting: Cell::new(connecting),
            flushing: Cell::new(false),
            write_blocked: Cell::new(false),
            error: RefCell::new(None),
            close_callback: RefCell::new(None),
            queued: Cell::new(0),
            written: Cell::new(0),
            write_waiters: RefCell::new(Vec::new()),
            connect_waiters: RefCell::new(Vec::new()),
            idle_watcher: RefCell::new(None),
        }))
    }

    /// The error readers and writers get once the stream is closed.
    pub(crate) fn closed_error(&self) -> io::Error {
        StreamClosedError::new(self.error.borrow().clone()).into_io()
    }

    /// Reads once from the descriptor into the read buffer, waiting for readiness if needed.
    pub(crate) fn poll_fill(&self, cx: &mut Context<'_>) -> Poll<Fill> {
        loop {
            if self.closed.get() {
                return Poll::Ready(Fill::Closed);
            }
            if !self.reg.is_ready(Events::READ) {
                if self.reg.poll_ready(cx, Events::READ).is_pending() {
                    return Poll::Pending;
                }
                continue;
            }
            let buffered = self.rbuf.borrow().len();
            let max = self.settings.max_buffer_size;
            // Never read more than one byte past the limit: that byte proves it was passed.
            // (The buffer never holds more than `max`: passing it closes the stream.)
            let want = self
                .settings
                .get_read_chunk_size()
                .min((max + 1).saturating_sub(buffered))
                .max(1);
            let outcome = {
                let transport = self.transport.borrow();
                let Some(t) = transport.as_ref() else {
                    return Poll::Ready(Fill::Closed);
                };
                with_scratch(want, |scratch| t.read(scratch, &mut self.rbuf.borrow_mut()))
            };
            match outcome {
                Ok(ReadOutcome::Data { n, drained }) => {
                    debug_assert!(n > 0);
                    if drained {
                        // A short read drained the socket: the next read would only say
                        // WouldBlock, so skip it until the loop reports new data.
                        self.reg.clear_ready(Events::READ);
                    }
                    if self.rbuf.borrow().len() > max {
                        log::error!(target: "general", "Reached maximum read buffer size");
                        self.close(Some(buffer_full("read")));
                        return Poll::Ready(Fill::Closed);
                    }
                    self.after_transport_io();
                    return Poll::Ready(Fill::Data);
                }
                Ok(ReadOutcome::NoData) => {
                    // Only protocol bytes arrived (a TLS handshake record). The caller may be
                    // waiting for exactly that (the end of a handshake): let it look.
                    self.after_transport_io();
                    return Poll::Ready(Fill::Data);
                }
                Ok(ReadOutcome::WouldBlock) => {
                    self.reg.clear_ready(Events::READ);
                    self.after_transport_io();
                }
                Ok(ReadOutcome::Eof) => {
                    self.close(None);
                    return Poll::Ready(Fill::Closed);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if crate::transport::is_tls_error(&e) {
                        log::warn!(target: "general", "SSL Error on {}: {e}", self.reg.fd());
                    } else if !is_connection_reset(&e) {
                        log::warn!(target: "general", "error on read: {e}");
                    }
                    self.close(Some(e));
                    return Poll::Ready(Fill::Closed);
                }
            }
        }
    }

    /// A transport may owe the peer bytes after a read (a TLS handshake reply): make sure
    /// something flushes them.
    fn after_transport_io(&self) {
        let wants = self
            .transport
            .borrow()
            .as_ref()
            .is_some_and(|t| t.wants_write());
        if wants {
            let _ = self.try_flush();
        }
    }

    /// `true` if bytes wait to be written: the write buffer, or a transport's own.
    pub(crate) fn has_pending_output(&self) -> bool {
        !self.wbuf.borrow().is_empty()
            || self
                .transport
                .borrow()
                .as_ref()
                .is_some_and(|t| t.wants_write())
    }

    /// Writes as much of the write buffer as the descriptor takes now. When output remains,
    /// makes sure the background flush task will finish the job.
    pub(crate) fn try_flush(&self) -> io::Result<()> {
        if self.closed.get() {
            return Err(self.closed_error());
        }
        if self.connecting.get() {
            return Ok(());
        }
        if self.write_blocked.get() {
            if !self.reg.is_ready(Events::WRITE) {
                self.ensure_flusher();
                return Ok(());
            }
            self.write_blocked.set(false);
        }
        let result = {
            let transport = self.transport.borrow();
            match transport.as_ref() {
                Some(t) => t.flush(&mut self.wbuf.borrow_mut()),
                None => return Err(self.closed_error()),
            }
        };
        match result {
            Ok(progress) => {
                if progress.written > 0 {
                    self.written
                        .set(self.written.get() + progress.written as u64);
                    self.wake_write_waiters();
                }
                if progress.blocked {
                    self.reg.clear_ready(Events::WRITE);
                    self.write_blocked.set(true);
                    self.ensure_flusher();
                }
                Ok(())
            }
            Err(e) => {
                if !is_connection_reset(&e) {
                    log::warn!(target: "general", "Write error on {}: {e}", self.reg.fd());
                }
                let err = crate::error::clone_io_error(&e);
                self.close(Some(e));
                Err(StreamClosedError::new(Some(Arc::new(err))).into_io())
            }
        }
    }

    fn wake_write_waiters(&self) {
        let written = self.written.get();
        let ready: Vec<Waker> = {
            let mut waiters = self.write_waiters.borrow_mut();
            if waiters.is_empty() {
                return;
            }
            let mut ready = Vec::new();
            waiters.retain(|(target, w)| {
                if *target <= written {
                    ready.push(w.clone());
                    false
                } else {
                    true
                }
            });
            ready
        };
        for w in ready {
            w.wake();
        }
    }

    /// Registers a task waiting until `target` bytes have been written.
    pub(crate) fn add_write_waiter(&self, target: u64, waker: &Waker) {
        let mut waiters = self.write_waiters.borrow_mut();
        match waiters
            .iter_mut()
            .find(|(t, w)| *t == target && w.will_wake(waker))
        {
            Some(_) => {}
            None => waiters.push((target, waker.clone())),
        }
    }

    /// Starts the task that finishes a connect and flushes the write buffer in the
    /// background, unless it runs. It is the only task that waits for the descriptor to
    /// become writable, so any number of write and connect futures can wait on it.
    pub(crate) fn ensure_flusher(&self) {
        if self.closed.get() || self.flushing.replace(true) {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            return;
        };
        self.io_loop.spawn_callback(async move {
            std::future::poll_fn(|cx| me.poll_flush_driver(cx)).await;
            me.flushing.set(false);
        });
    }

    fn poll_flush_driver(&self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.closed.get() {
                return Poll::Ready(());
            }
            if self.connecting.get() {
                if !self.reg.is_ready(Events::WRITE) {
                    if self.reg.poll_ready(cx, Events::WRITE).is_pending() {
                        return Poll::Pending;
                    }
                    continue;
                }
                self.finish_connect();
                continue;
            }
            if !self.has_pending_output() {
                return Poll::Ready(());
            }
            if self.write_blocked.get() && !self.reg.is_ready(Events::WRITE) {
                if self.reg.poll_ready(cx, Events::WRITE).is_pending() {
                    return Poll::Pending;
                }
                continue;
            }
            self.write_blocked.set(false);
            // `try_flush` would spawn another driver when blocked; this one is it.
            let result = {
                let transport = self.transport.borrow();
                match transport.as_ref() {
                    Some(t) => t.flush(&mut self.wbuf.borrow_mut()),
                    None => return Poll::Ready(()),
                }
            };
            match result {
                Ok(progress) => {
                    if progress.written > 0 {
                        self.written
                            .set(self.written.get() + progress.written as u64);
                        self.wake_write_waiters();
                    }
                    if progress.blocked {
                        self.reg.clear_ready(Events::WRITE);
                        self.write_blocked.set(true);
                    }
                }
                Err(e) => {
                    if !is_connection_reset(&e) {
                        log::warn!(target: "general", "Write error on {}: {e}", self.reg.fd());
                    }
                    self.close(Some(e));
                    return Poll::Ready(());
                }
            }
        }
    }

    /// The socket became writable while connecting: the connect succeeded or failed.
    fn finish_connect(&self) {
        let error = match self.transport.borrow().as_ref() {
            Some(t) => match t.socket().take_error() {
                Ok(e) => e,
                Err(e) => Some(e),
            },
            None => None,
        };
        self.connecting.set(false);
        if let Some(e) = error {
            self.close(Some(e));
        }
        let waiters = std::mem::take(&mut *self.connect_waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }

    /// Waits for a connect started by the stream's constructor to finish.
    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.connecting.get() || self.closed.get() {
            return Poll::Ready(if self.closed.get() {
                Err(self.closed_error())
            } else {
                Ok(())
            });
        }
        let mut waiters = self.connect_waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        drop(waiters);
        self.ensure_flusher();
        Poll::Pending
    }

    /// Closes the stream: the descriptor is closed, unwritten data dropped, every waiting
    /// operation woken (to fail, unless the read buffer can satisfy it), and the close callback
    /// scheduled to run after the callbacks already queued. Closing twice does nothing.
    pub(crate) fn close(&self, error: Option<io::Error>) {
        if self.closed.replace(true) {
            return;
        }
        if let Some(e) = error {
            *self.error.borrow_mut() = Some(Arc::new(e));
        }
        self.reg.deregister();
        let transport = self.transport.borrow_mut().take();
        drop(transport);
        self.wbuf.borrow_mut().clear();
        let waiters = std::mem::take(&mut *self.write_waiters.borrow_mut());
        for (_, w) in waiters {
            w.wake();
        }
        let waiters = std::mem::take(&mut *self.connect_waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
        if let Some(w) = self.idle_watcher.borrow_mut().take() {
            w.wake();
        }
        if let Some(cb) = self.close_callback.borrow_mut().take() {
            self.io_loop.add_callback(cb);
        }
    }

    /// Takes the transport away (for `start_tls`): the descriptor stays open, this stream
    /// becomes closed, and its close callback is dropped without running.
    pub(crate) fn detach(&self) -> Option<Transport> {
        if self.closed.replace(true) {
            return None;
        }
        self.close_callback.borrow_mut().take();
        self.reg.deregister();
        self.transport.borrow_mut().take()
    }

    pub(crate) fn set_close_callback(&self, callback: Option<Box<dyn FnOnce()>>) {
        let watch = callback.is_some();
        *self.close_callback.borrow_mut() = callback;
        if watch {
            self.watch_for_close();
        }
    }

    /// Tornado listens for a close while no read is pending when a close callback is set, so
    /// that a peer hanging up is noticed. Here a small task does that: while no read is
    /// outstanding, it waits for readability and reads into the buffer (which is where a
    /// later read finds the data), until the stream closes or data arrives.
    fn watch_for_close(&self) {
        if self.closed.get() || self.idle_watcher.borrow().is_some() {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            return;
        };
        *self.idle_watcher.borrow_mut() = Some(Waker::noop().clone());
        self.io_loop.spawn_callback(async move {
            std::future::poll_fn(|cx| {
                if me.closed.get() || me.close_callback.borrow().is_none() {
                    return Poll::Ready(());
                }
                *me.idle_watcher.borrow_mut() = Some(cx.waker().clone());
                if me.connecting.get() && me.poll_connected(cx).is_pending() {
                    return Poll::Pending;
                }
                if me.reading.get() || !me.rbuf.borrow().is_empty() {
                    // A reader will notice the close; it wakes this task when it is done.
                    return Poll::Pending;
                }
                match me.poll_fill(cx) {
                    Poll::Ready(Fill::Closed) => Poll::Ready(()),
                    Poll::Ready(Fill::Data) | Poll::Pending => Poll::Pending,
                }
            })
            .await;
            me.idle_watcher.borrow_mut().take();
        });
    }

    /// Called when a read operation ends: the close watcher may resume.
    pub(crate) fn end_read(&self) {
        self.reading.set(false);
        let watcher = self.idle_watcher.borrow().clone();
        if let Some(w) = watcher {
            w.wake();
        }
    }
}
