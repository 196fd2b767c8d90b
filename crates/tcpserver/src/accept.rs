//! `add_accept_handler`: accepting connections on a listening socket.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tornado_concurrent::panic_message;
use tornado_ioloop::{Events, IoLoop, Registration, Sleep, Task};

use crate::netutil::DEFAULT_BACKLOG;

/// A listening socket: TCP or Unix.
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener (from [`bind_sockets`](crate::bind_sockets)).
    Tcp(TcpListener),
    /// A Unix listener (from [`bind_unix_socket`](crate::bind_unix_socket)).
    Unix(UnixListener),
}

impl From<TcpListener> for Listener {
    fn from(l: TcpListener) -> Self {
        Listener::Tcp(l)
    }
}

impl From<UnixListener> for Listener {
    fn from(l: UnixListener) -> Self {
        Listener::Unix(l)
    }
}

impl Listener {
    fn accept(&self) -> io::Result<Connection> {
        match self {
            Listener::Tcp(l) => l.accept().map(|(s, a)| Connection::Tcp(s, a)),
            Listener::Unix(l) => l.accept().map(|(s, _)| Connection::Unix(s)),
        }
    }

    /// The address a TCP listener is bound to.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok(),
            Listener::Unix(_) => None,
        }
    }

    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(true),
            Listener::Unix(l) => l.set_nonblocking(true),
        }
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
        }
    }
}

/// An accepted connection.
#[derive(Debug)]
pub enum Connection {
    /// A TCP connection and the peer's address.
    Tcp(TcpStream, SocketAddr),
    /// A Unix-socket connection.
    Unix(UnixStream),
}

/// Stops an accept handler; see [`add_accept_handler`].
pub struct AcceptHandle {
    task: Task<()>,
    local_addr: Option<SocketAddr>,
}

impl AcceptHandle {
    /// Stops accepting and closes the listening socket (Tornado's remover, followed by the
    /// `sock.close()` that `TCPServer.stop` does).
    pub fn remove(self) {
        self.task.cancel();
    }

    /// The address the listener is bound to, for TCP.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }
}

impl fmt::Debug for AcceptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptHandle")
            .field("local_addr", &self.local_addr)
            .field("active", &!self.task.done())
            .finish()
    }
}

/// How long to stop accepting after running out of descriptors, so that a flood does not
/// turn into a busy loop of failing `accept` calls while connections close.
const EMFILE_BACKOFF: Duration = Duration::from_millis(100);

/// Calls `callback` with each connection accepted on `listener`, on the current loop
/// (`tornado.netutil.add_accept_handler`).
///
/// At most 128 connections (Tornado's backlog) are accepted per readiness event before the
/// loop is given a turn, so that a flood of connections cannot starve the connections
/// already open. A panic in `callback` is logged on the `application` target and accepting
/// goes on. Running out of descriptors (`EMFILE`) is logged and accepting pauses briefly.
///
/// Unlike Tornado's, the handler owns the listener: dropping the returned handle keeps it
/// accepting (detached); [`AcceptHandle::remove`] stops it and closes the socket.
pub fn add_accept_handler(
    listener: impl Into<Listener>,
    mut callback: impl FnMut(Connection) + 'static,
) -> io::Result<AcceptHandle> {
    let listener = listener.into();
    listener.set_nonblocking()?;
    let io_loop = IoLoop::current();
    let reg = Registration::new(&io_loop, listener.as_raw_fd())?;
    let local_addr = listener.local_addr();
    let task = io_loop.spawn(async move {
        // Field order matters on drop: the registration goes before the socket it watches.
        let reg = reg;
        let listener = listener;
        let mut backoff: Option<Pin<Box<Sleep>>> = None;
        poll_fn(|cx| -> Poll<()> {
            if let Some(sleep) = backoff.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                backoff = None;
            }
            let mut accepted = 0;
            loop {
                if accepted == DEFAULT_BACKLOG {
                    // Let the loop run the other work; carry on next iteration.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                if !reg.is_ready(Events::READ) && reg.poll_ready(cx, Events::READ).is_pending() {
                    return Poll::Pending;
                }
                match listener.accept() {
                    Ok(conn) => {
                        accepted += 1;
                        if let Err(p) = catch_unwind(AssertUnwindSafe(|| callback(conn))) {
                            log::error!(
                                target: "application",
                                "Exception in accept callback: {}",
                                panic_message(p.as_ref())
                            );
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        reg.clear_ready(Events::READ);
                    }
                    // The peer gave up before we accepted: nothing to do (Tornado ignores
                    // ECONNABORTED too).
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                        ) => {}
                    Err(e) => {
                        log::error!(target: "general", "Error accepting connection: {e}");
                        let mut sleep = Box::pin(IoLoop::current().sleep(EMFILE_BACKOFF));
                        if sleep.as_mut().poll(cx).is_pending() {
                            backoff = Some(sleep);
                            return Poll::Pending;
                        }
                    }
                }
            }
        })
        .await
    });
    Ok(AcceptHandle { task, local_addr })
}
