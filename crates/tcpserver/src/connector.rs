//! Happy eyeballs (RFC 6555): Tornado's `tcpclient._Connector`, as a state machine that a
//! task polls.
//!
//! The addresses are split by family: the family of the first address is primary, the rest
//! secondary. Primary addresses are tried one after another; the secondary family starts
//! after [`INITIAL_CONNECT_TIMEOUT`], or at once when a primary attempt fails. The first
//! attempt to connect wins and every other stream is closed; the overall deadline closes
//! every stream. The connector is generic over the stream and over how one address is
//! connected, so that its timing can be tested with fake connects (Tornado's
//! `ConnectorTest`, ported at the bottom of this file).

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tornado_concurrent::TimeoutError;
use tornado_ioloop::{IoLoop, Sleep};

use crate::netutil::Family;
use crate::resolver::Addresses;

/// 0.3 s: how long the primary family has before the secondary one is tried too (Tornado's
/// `_INITIAL_CONNECT_TIMEOUT`; RFC 6555 suggests 150 to 250 ms).
pub(crate) const INITIAL_CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// A stream the connector can give up on.
pub(crate) trait Abandon {
    /// Closes the stream (its connect, if still in progress, is abandoned).
    fn abandon(&self);
}

/// How one connection attempt ended.
pub(crate) enum Outcome<S> {
    Connected(S),
    Failed(io::Error),
    /// Counted as a failure, but not reported as the error, since the caller was not the
    /// one cancelled (Tornado's `CancelledError` from an attempt).
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "TcpClient's own attempts are never cancelled; Tornado's tests cancel fakes"
        )
    )]
    Cancelled,
}

/// The future of one attempt.
pub(crate) type AttemptFuture<S> = Pin<Box<dyn Future<Output = Outcome<S>>>>;

/// Starts connecting one address: the stream (closed if the connector gives up on it) and the
/// future of the attempt, or an error if the attempt could not even start (no socket of that
/// family, a source address that cannot be bound), which counts as an immediate failure.
pub(crate) type ConnectFn<S> =
    Box<dyn FnMut(Family, SocketAddr) -> io::Result<(S, AttemptFuture<S>)>>;

/// The winner: its family, its address, and the connected stream.
pub(crate) type Connected<S> = (Family, SocketAddr, S);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    Primary,
    Secondary,
}

struct Attempt<S> {
    id: u64,
    queue: Queue,
    family: Family,
    addr: SocketAddr,
    future: AttemptFuture<S>,
}

/// Tornado's `_Connector`.
///
/// Invariants: `attempts` are the attempts in progress (Tornado's `pending_addrs` are their
/// addresses), each with its stream in `streams`; `streams` keeps every stream made and not
/// handed out (failed ones too, as Tornado's set does), so that giving up closes them all;
/// `remaining` counts addresses whose attempt has not ended; once `done`, `result` holds the
/// outcome until polled, `attempts` is empty, and nothing new starts.
pub(crate) struct Connector<S: Abandon> {
    connect: ConnectFn<S>,
    primary: VecDeque<(Family, SocketAddr)>,
    secondary: VecDeque<(Family, SocketAddr)>,
    attempts: Vec<Attempt<S>>,
    streams: Vec<(u64, S)>,
    next_id: u64,
    remaining: usize,
    /// The happy-eyeballs timer: when it fires, the secondary family starts.
    timeout: Option<Sleep>,
    /// The caller's overall deadline.
    connect_timeout: Option<Sleep>,
    last_error: Option<io::Error>,
    done: bool,
    result: Option<io::Result<Connected<S>>>,
}

/// Splits `addrinfo` by family: the first address's family, then the others (Tornado's
/// `_Connector.split`), each in the order given.
pub(crate) fn split(addrinfo: Addresses) -> (Addresses, Addresses) {
    let Some(&(primary_family, _)) = addrinfo.first() else {
        return (Vec::new(), Vec::new());
    };
    addrinfo
        .into_iter()
        .partition(|(family, _)| *family == primary_family)
}

/// `1.2.3.4:443` or `[::1]:443` (Tornado's `_format_addr`; an IPv6 scope is left out, as
/// there).
pub(crate) fn format_addr(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

impl<S: Abandon> Connector<S> {
    /// Starts connecting (`_Connector.start`): the happy-eyeballs timer fires after
    /// `timeout`, the whole attempt fails at `connect_timeout`, and the first primary address
    /// is tried at once.
    pub(crate) fn start(
        addrinfo: Addresses,
        connect: ConnectFn<S>,
        timeout: Duration,
        connect_timeout: Option<Instant>,
    ) -> Self {
        let remaining = addrinfo.len();
        let (primary, secondary) = split(addrinfo);
        let io_loop = IoLoop::current();
        let mut connector = Connector {
            connect,
            primary: primary.into(),
            secondary: secondary.into(),
            attempts: Vec::new(),
            streams: Vec::new(),
            next_id: 0,
            remaining,
            // The timers are set before the first attempt: it may fail at once, and then
            // `on_connect_done` skips ahead to the secondary family through them.
            timeout: Some(io_loop.sleep(timeout)),
            connect_timeout: connect_timeout.map(|at| io_loop.sleep(at)),
            last_error: None,
            done: false,
            result: None,
        };
        connector.try_connect(Queue::Primary);
        connector
    }

    /// Starts the next attempt from `queue`; when it is empty and no attempt is left, fails
    /// with the last error.
    fn try_connect(&mut self, queue: Queue) {
        let next = match queue {
            Queue::Primary => self.primary.pop_front(),
            Queue::Secondary => self.secondary.pop_front(),
        };
        let Some((family, addr)) = next else {
            // This queue is done, but the other one may still be working: fail only when
            // every attempt has ended.
            if self.remaining == 0 && !self.done {
                let err = self
                    .last_error
                    .take()
                    .unwrap_or_else(|| io::Error::other("connection failed"));
                self.finish(Err(err));
                // Every attempt ended, but a cancelled attempt's stream may still be open.
                self.close_streams();
            }
            return;
        };
        match (self.connect)(family, addr) {
            Ok((stream, future)) => {
                let id = self.next_id;
                self.next_id += 1;
                self.streams.push((id, stream));
                self.attempts.push(Attempt {
                    id,
                    queue,
                    family,
                    addr,
                    future,
                });
            }
            // A synchronous failure (say, no IPv6 on this host) takes the asynchronous path,
            // so the connector moves on to the next address.
            Err(e) => self.on_connect_done(queue, None, family, addr, Outcome::Failed(e)),
        }
    }

    fn on_connect_done(
        &mut self,
        queue: Queue,
        id: Option<u64>,
        family: Family,
        addr: SocketAddr,
        outcome: Outcome<S>,
    ) {
        self.remaining = self.remaining.saturating_sub(1);
        let stream = match outcome {
            Outcome::Connected(stream) => stream,
            failed => {
                if self.done {
                    return;
                }
                if let Outcome::Failed(e) = failed {
                    self.last_error = Some(e);
                }
                self.try_connect(queue);
                if self.timeout.is_some() {
                    // The first attempt failed: start the secondary family now rather than
                    // when the timer fires.
                    self.on_timeout();
                }
                return;
            }
        };
        self.clear_timeouts();
        if self.done {
            // A late arrival.
            stream.abandon();
            return;
        }
        self.streams.retain(|(i, _)| Some(*i) != id);
        self.finish(Ok((family, addr, stream)));
        self.close_streams();
    }

    /// The happy-eyeballs timer fired (or a primary attempt failed first): start the
    /// secondary family.
    pub(crate) fn on_timeout(&mut self) {
        self.timeout = None;
        if !self.done {
            self.try_connect(Queue::Secondary);
        }
    }

    /// The caller's deadline passed: fail with a `TimeoutError` that names the addresses
    /// still being tried, and close every stream.
    pub(crate) fn on_connect_timeout(&mut self) {
        self.connect_timeout = None;
        if !self.done {
            let pending: BTreeSet<String> =
                self.attempts.iter().map(|a| format_addr(&a.addr)).collect();
            let mut message = String::from("Timeout while connecting");
            for (i, addr) in pending.iter().enumerate() {
                let sep = if i == 0 { " to " } else { ", " };
                let _ = write!(message, "{sep}{addr}");
            }
            let err = io::Error::new(io::ErrorKind::TimedOut, TimeoutError::with_message(message));
            self.finish(Err(err));
        }
        self.close_streams();
    }

    fn clear_timeouts(&mut self) {
        self.timeout = None;
        self.connect_timeout = None;
    }

    fn finish(&mut self, result: io::Result<Connected<S>>) {
        self.done = true;
        self.result = Some(result);
        // What the attempts still in progress would report no longer matters: their streams
        // are closed by the caller of `finish` right after.
        self.attempts.clear();
    }

    fn close_streams(&self) {
        for (_, stream) in &self.streams {
            stream.abandon();
        }
    }

    /// Runs the connector: timers first, in deadline order, then the attempts that ended.
    /// Ready with the winner, or the error, once; pending forever after that.
    pub(crate) fn poll_connect(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Connected<S>>> {
        loop {
            if let Some(result) = self.result.take() {
                return Poll::Ready(result);
            }
            if self.done {
                return Poll::Pending;
            }
            let eyeballs = poll_sleep(&mut self.timeout, cx);
            let deadline = poll_sleep(&mut self.connect_timeout, cx);
            match (eyeballs, deadline) {
                (None, None) => {}
                (Some(e), Some(d)) if d < e => {
                    self.on_connect_timeout();
                    self.on_timeout();
                    continue;
                }
                (Some(_), Some(_)) => {
                    self.on_timeout();
                    self.on_connect_timeout();
                    continue;
                }
                (Some(_), None) => {
                    self.on_timeout();
                    continue;
                }
                (None, Some(_)) => {
                    self.on_connect_timeout();
                    continue;
                }
            }
            let ended = self.attempts.iter_mut().enumerate().find_map(|(i, a)| {
                match a.future.as_mut().poll(cx) {
                    Poll::Ready(outcome) => Some((i, outcome)),
                    Poll::Pending => None,
                }
            });
            let Some((i, outcome)) = ended else {
                return Poll::Pending;
            };
            let a = self.attempts.remove(i);
            self.on_connect_done(a.queue, Some(a.id), a.family, a.addr, outcome);
        }
    }
}

/// Polls an optional timer; if it fired, clears it and gives its deadline.
fn poll_sleep(sleep: &mut Option<Sleep>, cx: &mut Context<'_>) -> Option<Instant> {
    let s = sleep.as_mut()?;
    if Pin::new(&mut *s).poll(cx).is_ready() {
        let at = s.deadline();
        *sleep = None;
        return Some(at);
    }
    None
}

impl<S: Abandon> Drop for Connector<S> {
    /// The caller gave up (the connect future was dropped, Tornado's cancelled future): close
    /// every stream rather than leave connects open until the OS gives up on them. After a
    /// success this closes nothing new: the winner is no longer in `streams`.
    fn drop(&mut self) {
        self.close_streams();
    }
}

#[cfg(test)]
mod tests;
