//! I/O readiness: Tornado's `add_handler` on raw file descriptors, and [`Registration`], the
//! waker-based form that streams are built on.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::ops::{BitAnd, BitOr, BitOrAssign};
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::unix::SourceFd;
use mio::{Interest, Token};
use slab::Slab;

use crate::core::{Core, run_guarded};

/// The token of the loop's cross-thread waker; no registration gets it.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

/// A set of I/O events, with Tornado's values (`IOLoop.READ`, `WRITE`, `ERROR`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Events(u32);

impl Events {
    /// No events (`IOLoop.NONE`).
    pub const NONE: Events = Events(0);
    /// Readable, or the peer closed its side (`IOLoop.READ`).
    pub const READ: Events = Events(0x001);
    /// Writable (`IOLoop.WRITE`).
    pub const WRITE: Events = Events(0x004);
    /// An error or hang-up on the descriptor (`IOLoop.ERROR`).
    pub const ERROR: Events = Events(0x018);

    /// The raw bits, as Tornado's integers.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// `true` if every event in `other` is in `self`.
    pub fn contains(self, other: Events) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    /// `true` if `self` and `other` share an event.
    pub fn intersects(self, other: Events) -> bool {
        self.0 & other.0 != 0
    }

    /// `true` for [`Events::NONE`].
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn interest(self) -> Option<Interest> {
        match (
            self.intersects(Events::READ),
            self.intersects(Events::WRITE),
        ) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }

    fn from_mio(event: &mio::event::Event) -> Events {
        let mut e = Events::NONE;
        if event.is_readable() || event.is_read_closed() {
            e |= Events::READ;
        }
        if event.is_writable() {
            e |= Events::WRITE;
        }
        if event.is_error() || (event.is_read_closed() && event.is_write_closed()) {
            e |= Events::ERROR;
        }
        e
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events(self.0 | rhs.0)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, rhs: Events) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events(self.0 & rhs.0)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if self.intersects(Events::READ) {
            names.push("READ");
        }
        if self.intersects(Events::WRITE) {
            names.push("WRITE");
        }
        if self.intersects(Events::ERROR) {
            names.push("ERROR");
        }
        if names.is_empty() {
            names.push("NONE");
        }
        write!(f, "Events({})", names.join("|"))
    }
}

type HandlerFn = Rc<RefCell<dyn FnMut(RawFd, Events)>>;

struct Handler {
    fd: RawFd,
    events: Events,
    callback: HandlerFn,
    /// The object the descriptor came from, kept alive (and dropped, closing what it owns)
    /// until the handler is removed or the loop closed.
    _owner: Box<dyn Any>,
}

/// Readiness of a [`Registration`], and the futures waiting on it.
///
/// `ready` holds `READ` and `WRITE`, which `clear_ready` clears (after a `WouldBlock` or a
/// short read), and two bits that stay set once seen, because the kernel reports them only
/// once under edge triggering: `ERROR` and `READ_CLOSED` (the peer shut down its side).
/// A short read that drained the data must not hide a close that arrived with it.
struct SourceState {
    ready: Cell<Events>,
    reader: Cell<Option<Waker>>,
    writer: Cell<Option<Waker>>,
}

/// The peer closed its sending side (`EPOLLRDHUP`/`EPOLLHUP`); internal to registrations.
const READ_CLOSED: Events = Events(0x2000);

impl SourceState {
    fn is_ready(&self, direction: Events) -> bool {
        let ready = self.ready.get();
        if ready.intersects(Events::ERROR) {
            return true;
        }
        if direction.intersects(Events::READ) && ready.intersects(Events::READ | READ_CLOSED) {
            return true;
        }
        direction.intersects(Events::WRITE) && ready.intersects(Events::WRITE)
    }

    fn set_ready(&self, events: Events) {
        self.ready.set(self.ready.get() | events);
        if events.intersects(Events::READ | READ_CLOSED | Events::ERROR)
            && let Some(w) = self.reader.take()
        {
            w.wake();
        }
        if events.intersects(Events::WRITE | Events::ERROR)
            && let Some(w) = self.writer.take()
        {
            w.wake();
        }
    }
}

enum Entry {
    Handler(Handler),
    Source(Rc<SourceState>),
}

struct Slot {
    /// Combined with the slab key into the mio token, so that an event for a descriptor that
    /// was removed is never delivered to whatever reused its slot in the same batch.
    gen_: u32,
    entry: Entry,
}

/// Every descriptor the loop watches.
pub(crate) struct IoRegistry {
    slots: Slab<Slot>,
    handlers_by_fd: HashMap<RawFd, usize>,
    next_gen: u32,
}

fn token(key: usize, gen_: u32) -> Token {
    // Slab keys stay far below 2^32; the generation takes the high half.
    Token((key & 0xffff_ffff) | ((gen_ as usize) << 32))
}

fn split_token(t: Token) -> (usize, u32) {
    (t.0 & 0xffff_ffff, (t.0 >> 32) as u32)
}

impl IoRegistry {
    pub(crate) fn new() -> Self {
        IoRegistry {
            slots: Slab::new(),
            handlers_by_fd: HashMap::new(),
            next_gen: 0,
        }
    }

    fn insert(&mut self, entry: Entry) -> (usize, Token) {
        let gen_ = self.next_gen;
        self.next_gen = self.next_gen.wrapping_add(1);
        let key = self.slots.insert(Slot { gen_, entry });
        (key, token(key, gen_))
    }

    /// Takes every entry out (on close), deregistering the descriptors.
    pub(crate) fn drain(&mut self, registry: &mio::Registry) -> Vec<Box<dyn Any>> {
        self.handlers_by_fd.clear();
        let mut owners = Vec::new();
        for slot in self.slots.drain() {
            if let Entry::Handler(h) = slot.entry {
                let _ = registry.deregister(&mut SourceFd(&h.fd));
                owners.push(h._owner);
                drop(h.callback);
            }
        }
        owners
    }
}

impl Core {
    pub(crate) fn dispatch_io(&self, event: &mio::event::Event) {
        let (key, gen_) = split_token(event.token());
        let events = Events::from_mio(event);
        let target = {
            let io = self.io.borrow();
            match io.slots.get(key) {
                Some(slot) if slot.gen_ == gen_ => match &slot.entry {
                    Entry::Source(s) => Err(s.clone()),
                    Entry::Handler(h) => Ok((h.fd, h.events, h.callback.clone())),
                },
                _ => return,
            }
        };
        match target {
            Err(source) => {
                let mut events = events;
                if event.is_read_closed() {
                    events |= READ_CLOSED;
                }
                source.set_ready(events)
            }
            Ok((fd, wanted, callback)) => {
                let delivered = events & (wanted | Events::ERROR);
                if delivered.is_empty() {
                    return;
                }
                run_guarded(Box::new(|| (callback.borrow_mut())(fd, delivered)));
                self.rearm_handler(key, gen_);
            }
        }
    }

    /// mio is edge-triggered; Tornado's handlers are level-triggered (a handler that leaves
    /// data unread is called again). Re-registering after each call re-arms the descriptor,
    /// and the kernel reports it again at once if it is still ready.
    fn rearm_handler(&self, key: usize, gen_: u32) {
        let io = self.io.borrow();
        if let Some(Slot {
            gen_: g,
            entry: Entry::Handler(h),
        }) = io.slots.get(key)
            && *g == gen_
            && let Some(interest) = h.events.interest()
        {
            let _ = self
                .registry
                .reregister(&mut SourceFd(&h.fd), token(key, gen_), interest);
        }
    }

    pub(crate) fn add_handler(
        &self,
        fd: RawFd,
        owner: Box<dyn Any>,
        callback: HandlerFn,
        events: Events,
    ) -> io::Result<()> {
        let mut io = self.io.borrow_mut();
        if io.handlers_by_fd.contains_key(&fd) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("fd {fd} already has a handler"),
            ));
        }
        let (key, tok) = io.insert(Entry::Handler(Handler {
            fd,
            events,
            callback,
            _owner: owner,
        }));
        if let Some(interest) = events.interest()
            && let Err(e) = self.registry.register(&mut SourceFd(&fd), tok, interest)
        {
            io.slots.remove(key);
            return Err(e);
        }
        io.handlers_by_fd.insert(fd, key);
        Ok(())
    }

    pub(crate) fn update_handler(&self, fd: RawFd, events: Events) -> io::Result<()> {
        let mut io = self.io.borrow_mut();
        let Some(&key) = io.handlers_by_fd.get(&fd) else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("fd {fd} has no handler"),
            ));
        };
        let slot = &mut io.slots[key];
        let tok = token(key, slot.gen_);
        let Entry::Handler(h) = &mut slot.entry else {
            unreachable!("handlers_by_fd only names handlers");
        };
        let was = h.events.interest();
        h.events = events;
        match (was, events.interest()) {
            (Some(_), Some(i)) => self.registry.reregister(&mut SourceFd(&fd), tok, i),
            (None, Some(i)) => self.registry.register(&mut SourceFd(&fd), tok, i),
            (Some(_), None) => self.registry.deregister(&mut SourceFd(&fd)),
            (None, None) => Ok(()),
        }
    }

    pub(crate) fn remove_handler(&self, fd: RawFd) -> bool {
        let removed = {
            let mut io = self.io.borrow_mut();
            let Some(key) = io.handlers_by_fd.remove(&fd) else {
                return false;
            };
            let slot = io.slots.remove(key);
            if let Entry::Handler(h) = &slot.entry
                && h.events.interest().is_some()
            {
                let _ = self.registry.deregister(&mut SourceFd(&fd));
            }
            slot
        };
        // Dropped outside the borrow: the owner's Drop may do anything.
        drop(removed);
        true
    }
}

/// A descriptor registered with a loop for edge-triggered readiness, for futures to poll.
///
/// This is the building block of the non-blocking streams above this crate (Tornado's
/// `IOStream` calls `add_handler`; a Rust stream polls a `Registration` instead, so that no
/// callback and no allocation sits between a readiness event and the task that waits for
/// it). The pattern is mio's: try the operation; on `WouldBlock`, call
/// [`clear_ready`](Registration::clear_ready) and then
/// [`poll_ready`](Registration::poll_ready), which returns `Pending` and wakes the task when
/// the loop sees the descriptor become ready again.
///
/// The descriptor is registered for both directions. Dropping the registration deregisters
/// it; it does not close the descriptor, which the caller owns and must keep open until then.
pub struct Registration {
    core: Rc<Core>,
    key: usize,
    gen_: u32,
    fd: RawFd,
    state: Rc<SourceState>,
    deregistered: Cell<bool>,
}

impl Registration {
    /// Registers `fd` with `io_loop`. The descriptor should be in non-blocking mode.
    pub fn new(io_loop: &crate::IoLoop, fd: RawFd) -> io::Result<Registration> {
        let core = io_loop.core.clone();
        if core.is_closed() {
            return Err(io::Error::other(crate::Error::closed()));
        }
        let state = Rc::new(SourceState {
            ready: Cell::new(Events::NONE),
            reader: Cell::new(None),
            writer: Cell::new(None),
        });
        let (key, tok) = core.io.borrow_mut().insert(Entry::Source(state.clone()));
        let gen_ = split_token(tok).1;
        if let Err(e) = core.registry.register(
            &mut SourceFd(&fd),
            tok,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            core.io.borrow_mut().slots.remove(key);
            return Err(e);
        }
        Ok(Registration {
            core,
            key,
            gen_,
            fd,
            state,
            deregistered: Cell::new(false),
        })
    }

    /// `true` if an operation in `direction` ([`Events::READ`] or [`Events::WRITE`]) may
    /// make progress: the direction was reported ready and not cleared since, or the
    /// descriptor has an error or (for reads) the peer closed its side.
    pub fn is_ready(&self, direction: Events) -> bool {
        self.state.is_ready(direction)
    }

    /// `Ready` if [`is_ready(direction)`](Registration::is_ready); otherwise remembers the
    /// task's waker and returns `Pending`. One waiter per direction: a second task polling the
    /// same direction replaces the first.
    pub fn poll_ready(&self, cx: &mut Context<'_>, direction: Events) -> Poll<()> {
        if self.state.is_ready(direction) {
            return Poll::Ready(());
        }
        let slot = if direction.intersects(Events::READ) {
            &self.state.reader
        } else {
            &self.state.writer
        };
        let waker = match slot.take() {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        slot.set(Some(waker));
        Poll::Pending
    }

    /// Forgets that `direction` was ready: call it after the operation reported
    /// `WouldBlock` (or, for reads, returned fewer bytes than asked, which on a stream
    /// socket means its buffer was drained). An error or the peer's close stay remembered.
    pub fn clear_ready(&self, direction: Events) {
        let ready = self.state.ready.get();
        let clear = direction.0 & (Events::READ.0 | Events::WRITE.0);
        self.state.ready.set(Events(ready.0 & !clear));
    }

    /// The registered descriptor.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Stops watching the descriptor (call it before closing the descriptor) and wakes the
    /// tasks waiting on it, so that they find out the state changed. Later polls see every
    /// direction ready, so nothing waits on a descriptor that will never report again.
    /// Doing it twice does nothing.
    pub fn deregister(&self) {
        if self.deregistered.replace(true) {
            return;
        }
        if !self.core.is_closed() {
            let _ = self.core.registry.deregister(&mut SourceFd(&self.fd));
        }
        self.state
            .set_ready(Events::READ | Events::WRITE | Events::ERROR);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.core.is_closed() {
            if !self.deregistered.get() {
                let _ = self.core.registry.deregister(&mut SourceFd(&self.fd));
            }
            let mut io = self.core.io.borrow_mut();
            if io.slots.get(self.key).is_some_and(|s| s.gen_ == self.gen_) {
                io.slots.remove(self.key);
            }
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("fd", &self.fd)
            .field("read_ready", &self.is_ready(Events::READ))
            .field("write_ready", &self.is_ready(Events::WRITE))
            .finish()
    }
}

/// Accepts anything with a descriptor for [`IoLoop::add_handler`](crate::IoLoop::add_handler).
pub(crate) fn owner_fd<S: AsRawFd + 'static>(source: S) -> (RawFd, Box<dyn Any>) {
    let fd = source.as_raw_fd();
    (fd, Box::new(source))
}
