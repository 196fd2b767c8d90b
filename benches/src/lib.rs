//! The load generator of `echo_bench`: raw mio on one thread, so that the client costs as
//! little as possible and the same for every server measured.
//!
//! Each workload runs a warm-up, then a measured window; `mark(true)` is called when the
//! window opens and `mark(false)` when it closes, so the caller can sample the server's CPU
//! time at exactly those moments.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// What a measured window saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Operations completed in the window (round trips, connections).
    pub ops: u64,
    /// Bytes echoed back in the window.
    pub bytes: u64,
    /// The window's length.
    pub elapsed: Duration,
}

/// The window of a run: warm-up, then measurement.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Time before the measurement starts.
    pub warmup: Duration,
    /// Time measured.
    pub duration: Duration,
}

/// Tracks the window and the counts inside it.
struct Clock<'a> {
    start: Instant,
    window: Window,
    opened: Option<Instant>,
    measured: Measured,
    mark: &'a mut dyn FnMut(bool),
}

impl Clock<'_> {
    /// Advances the clock; `false` once the window has closed.
    fn tick(&mut self) -> bool {
        let now = Instant::now();
        if self.opened.is_none() && now >= self.start + self.window.warmup {
            (self.mark)(true);
            self.opened = Some(now);
        }
        if let Some(opened) = self.opened
            && now >= opened + self.window.duration
        {
            (self.mark)(false);
            self.measured.elapsed = now - opened;
            return false;
        }
        true
    }

    fn count(&mut self, ops: u64, bytes: u64) {
        if self.opened.is_some() {
            self.measured.ops += ops;
            self.measured.bytes += bytes;
        }
    }
}

fn connect(poll: &Poll, addr: SocketAddr, token: Token) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    poll.registry()
        .register(&mut s, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(s)
}

/// Reads everything available; `Ok(None)` at end of file.
fn drain(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    let mut total = 0;
    loop {
        match s.read(buf) {
            Ok(0) => return Ok(None),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Some(total)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes what the socket takes; returns how much.
fn push(s: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match s.write(&data[done..]) {
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn eof() -> io::Error {
    io::Error::new(ErrorKind::UnexpectedEof, "the server closed a connection")
}

/// One connection of the round-trip workload: one message in flight at a time.
struct PingPong {
    stream: TcpStream,
    connected: bool,
    /// Bytes of the current message still to send.
    unsent: usize,
    /// Bytes of the echo received so far.
    received: usize,
}

/// `conns` connections each send a `size`-byte message and wait for its echo before the
/// next: completed round trips per window.
pub fn round_trips(
    addr: SocketAddr,
    conns: usize,
    size: usize,
    window: Window,
    mark: &mut dyn FnMut(bool),
) -> io::Result<Measured> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let message = vec![b'x'; size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut all = Vec::with_capacity(conns);
    for i in 0..conns {
        all.push(PingPong {
            stream: connect(&poll, addr, Token(i))?,
            connected: false,
            unsent: size,
            received: 0,
        });
    }
    let mut clock = Clock {
        start: Instant::now(),
        window,
        opened: None,
        measured: Measured::default(),
        mark,
    };
    while clock.tick() {
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for ev in events.iter() {
            let c = &mut all[ev.token().0];
            if ev.is_writable() && !c.connected {
                c.connected = true;
                c.stream.set_nodelay(true)?;
            }
            if !c.connected {
                continue;
            }
            if ev.is_readable() {
                let n = drain(&mut c.stream, &mut buf)?.ok_or_else(eof)?;
                c.received += n;
                if c.received >= size {
                    // The echo is complete: count it and send the next message.
                    c.received -= size;
                    clock.count(1, size as u64);
                    c.unsent = size;
                }
            }
            if c.unsent > 0 {
                c.unsent -= push(&mut c.stream, &message[size - c.unsent..])?;
            }
        }
    }
    Ok(clock.measured)
}

/// One connection streams `chunk`-byte writes and reads the echo, with at most `in_flight`
/// bytes sent and not yet echoed: bytes echoed per window.
pub fn bulk(
    addr: SocketAddr,
    chunk: usize,
    in_flight: usize,
    window: Window,
    mark: &mut dyn FnMut(bool),
) -> io::Result<Measured> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(64);
    let data = vec![b'y'; chunk];
    let mut buf = vec![0u8; 256 * 1024];
    let mut s = connect(&poll, addr, Token(0))?;
    let (mut sent, mut received, mut offset) = (0u64, 0u64, 0usize);
    let mut connected = false;
    let mut clock = Clock {
        start: Instant::now(),
        window,
        opened: None,
        measured: Measured::default(),
        mark,
    };
    while clock.tick() {
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        if events.iter().any(|e| e.is_writable()) {
            connected = true;
        }
        if !connected {
            continue;
        }
        let n = drain(&mut s, &mut buf)?.ok_or_else(eof)?;
        received += n as u64;
        clock.count(0, n as u64);
        // Edge-triggered: keep writing until the socket is full or the window of bytes in
        // flight is, since no new edge comes for a socket that was not full.
        while sent - received < in_flight as u64 {
            let w = push(&mut s, &data[offset..])?;
            if w == 0 {
                break;
            }
            sent += w as u64;
            offset = (offset + w) % chunk;
        }
    }
    Ok(clock.measured)
}

/// `concurrency` clients in a loop: connect, send one byte, wait for its echo, close with a
/// reset (no `TIME_WAIT` left on either side): connections served per window.
pub fn accepts(
    addr: SocketAddr,
    concurrency: usize,
    window: Window,
    mark: &mut dyn FnMut(bool),
) -> io::Result<Measured> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut buf = [0u8; 64];
    // Tokens carry a generation, so that an event for a slot's previous socket is ignored.
    let token = |slot: usize, generation: usize| Token(slot | (generation << 20));
    let mut slots: Vec<(TcpStream, usize, bool)> = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        slots.push((connect(&poll, addr, token(i, 0))?, 0, false));
    }
    let mut clock = Clock {
        start: Instant::now(),
        window,
        opened: None,
        measured: Measured::default(),
        mark,
    };
    while clock.tick() {
        poll.poll(&mut events, Some(Duration::from_millis(10)))?;
        for ev in events.iter() {
            let (slot, generation) = (ev.token().0 & 0xfffff, ev.token().0 >> 20);
            let (s, current, sent) = &mut slots[slot];
            if generation != *current {
                continue;
            }
            if ev.is_writable() && !*sent {
                if push(s, b"!")? == 1 {
                    *sent = true;
                }
                continue;
            }
            if ev.is_readable() && *sent {
                match drain(s, &mut buf)? {
                    Some(0) => continue,
                    Some(_) => {}
                    None => return Err(eof()),
                }
                clock.count(1, 1);
                socket2::SockRef::from(&*s).set_linger(Some(Duration::ZERO))?;
                poll.registry().deregister(s)?;
                let next = *current + 1;
                slots[slot] = (connect(&poll, addr, token(slot, next))?, next, false);
            }
        }
    }
    Ok(clock.measured)
}

/// Opens `n` connections (at most `concurrency` connecting at once), does one `size`-byte
/// round trip on each, and returns them, idle. Close them with [`close_with_reset`].
pub fn open_idle(
    addr: SocketAddr,
    n: usize,
    concurrency: usize,
    size: usize,
) -> io::Result<Vec<std::net::TcpStream>> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let message = vec![b'z'; size];
    let mut buf = vec![0u8; 64 * 1024];
    // Each slot: the stream, whether its message went out, and how much echo came back.
    let mut pending: Vec<Option<(TcpStream, bool, usize)>> = Vec::new();
    let mut done = Vec::with_capacity(n);
    let (mut started, mut in_flight) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.len() < n {
        while in_flight < concurrency && started < n {
            pending.push(Some((connect(&poll, addr, Token(started))?, false, 0)));
            started += 1;
            in_flight += 1;
        }
        if Instant::now() > deadline {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                "opening idle connections",
            ));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for ev in events.iter() {
            let i = ev.token().0;
            let Some((s, sent, got)) = pending[i].as_mut() else {
                continue;
            };
            if ev.is_writable() && !*sent {
                if push(s, &message)? != size {
                    return Err(io::Error::other("a small write did not go out at once"));
                }
                *sent = true;
            }
            if ev.is_readable() && *sent {
                *got += drain(s, &mut buf)?.ok_or_else(eof)?;
                if *got >= size {
                    let (mut s, _, _) = pending[i].take().unwrap();
                    poll.registry().deregister(&mut s)?;
                    done.push(std::net::TcpStream::from(s));
                    in_flight -= 1;
                }
            }
        }
    }
    Ok(done)
}

/// Closes connections with a reset, so that none lingers in `TIME_WAIT`.
pub fn close_with_reset(conns: Vec<std::net::TcpStream>) {
    for c in conns {
        let _ = socket2::SockRef::from(&c).set_linger(Some(Duration::ZERO));
    }
}
