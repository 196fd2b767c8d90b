//! The keep-alive pool: idle connections per origin, for reuse by later requests. Tornado's
//! simple client has none (it sends `Connection: close`); its maintainers asked that reuse be
//! proven safe (tornadoweb/tornado#324, #778). The rules here:
//!
//! * a connection goes back to the pool only after its response was read whole, the request
//!   was written whole, and neither side said `Connection: close` (nor did the response end
//!   at the close of the connection, nor was it HTTP/1.0);
//! * while idle, the stream watches for the peer hanging up (its close callback), and the
//!   connection leaves the pool at once when it does, or when the idle timeout passes;
//! * a connection taken from the pool that has closed meanwhile, or that received bytes
//!   while idle (nothing may arrive between responses), is closed rather than used.
//!
//! What a request costs here matters (a pooled fetch is mostly this and the exchange): the
//! list of the origin used last is kept out of the map, so that a client talking to one
//! origin looks nothing up by hash and builds no owned key ([`KeyRef`] compares in place);
//! a connection's close callback is set once, when it first comes to the pool, and names it
//! by number; and idle timeouts are one sweep timer for the pool, not a timer per check-in.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use tornado_ioloop::{IoLoop, TimeoutHandle};
use tornado_iostream::IoStream;

/// Which connections can serve a request: same scheme, host, port, route (proxy) and
/// connection options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    https: bool,
    /// Lower case.
    host: String,
    port: u16,
    proxy: Option<ProxyKey>,
    /// The TLS settings (validate_cert, ca_certs, client cert and key), as text.
    tls: String,
    source_ip: Option<IpAddr>,
    ipv4_only: bool,
}

/// A proxy's host, port and credentials (user, password).
type ProxyKey = (String, u16, Option<(String, String)>);

/// [`ProxyKey`] borrowed.
pub(crate) type ProxyRef<'a> = (&'a str, u16, Option<(&'a str, &'a str)>);

/// A request's [`PoolKey`] as borrowed parts, compared with a stored key without building
/// one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRef<'a> {
    pub(crate) https: bool,
    /// Any case.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) proxy: Option<ProxyRef<'a>>,
    pub(crate) tls: &'a str,
    pub(crate) source_ip: Option<IpAddr>,
    pub(crate) ipv4_only: bool,
}

impl KeyRef<'_> {
    fn matches(&self, key: &PoolKey) -> bool {
        self.https == key.https
            && self.port == key.port
            && self.source_ip == key.source_ip
            && self.ipv4_only == key.ipv4_only
            && self.host.eq_ignore_ascii_case(&key.host)
            && self.tls == key.tls
            && match (&self.proxy, &key.proxy) {
                (None, None) => true,
                (Some((h, p, c)), Some((kh, kp, kc))) => {
                    h == kh
                        && p == kp
                        && match (c, kc) {
                            (None, None) => true,
                            (Some((u, pw)), Some((ku, kpw))) => u == ku && pw == kpw,
                            _ => false,
                        }
                }
                _ => false,
            }
    }

    fn to_key(self) -> PoolKey {
        PoolKey {
            https: self.https,
            host: self.host.to_ascii_lowercase(),
            port: self.port,
            proxy: self.proxy.map(|(h, p, c)| {
                (
                    h.to_owned(),
                    p,
                    c.map(|(u, pw)| (u.to_owned(), pw.to_owned())),
                )
            }),
            tls: self.tls.to_owned(),
            source_ip: self.source_ip,
            ipv4_only: self.ipv4_only,
        }
    }
}

/// A connection taken from the pool, with the number it has there for as long as it lives.
pub(crate) struct Pooled {
    pub(crate) stream: IoStream,
    pub(crate) id: u64,
}

struct Idle {
    id: u64,
    stream: IoStream,
    since: Instant,
}

struct PoolInner {
    /// The origin used last and its idle connections.
    last: RefCell<Option<(PoolKey, Vec<Idle>)>>,
    /// The other origins'.
    others: RefCell<HashMap<PoolKey, Vec<Idle>>>,
    next_id: Cell<u64>,
    max_per_key: usize,
    idle_timeout: Duration,
    /// The pending sweep for idle timeouts, if any.
    sweep: Cell<Option<TimeoutHandle>>,
    io_loop: IoLoop,
}

impl PoolInner {
    /// Runs `f` on the idle list of `key`, which becomes the last used (an empty one is
    /// made when `create`).
    fn with_list<R>(
        &self,
        key: KeyRef<'_>,
        create: bool,
        f: impl FnOnce(&mut Vec<Idle>) -> R,
    ) -> Option<R> {
        let mut last = self.last.borrow_mut();
        if let Some((k, list)) = last.as_mut()
            && key.matches(k)
        {
            return Some(f(list));
        }
        let mut others = self.others.borrow_mut();
        let owned = key.to_key();
        let list = match others.remove(&owned) {
            Some(list) => list,
            None if create => Vec::new(),
            None => return None,
        };
        if let Some((k, l)) = last.take()
            && !l.is_empty()
        {
            others.insert(k, l);
        }
        let (_, list) = last.insert((owned, list));
        Some(f(list))
    }

    /// Takes connection `id` out of the pool, if it is there.
    fn take(&self, id: u64) -> Option<Idle> {
        let from = |list: &mut Vec<Idle>| {
            let pos = list.iter().position(|i| i.id == id)?;
            Some(list.remove(pos))
        };
        if let Some((_, list)) = self.last.borrow_mut().as_mut()
            && let Some(idle) = from(list)
        {
            return Some(idle);
        }
        let mut others = self.others.borrow_mut();
        let (key, idle) = others
            .iter_mut()
            .find_map(|(k, l)| from(l).map(|i| (k.clone(), i)))?;
        if others.get(&key).is_some_and(Vec::is_empty) {
            others.remove(&key);
        }
        Some(idle)
    }

    /// Every idle connection, taken out.
    fn take_all(&self) -> Vec<Idle> {
        let mut all: Vec<Idle> = self
            .last
            .borrow_mut()
            .take()
            .map(|(_, l)| l)
            .unwrap_or_default();
        all.extend(self.others.borrow_mut().drain().flat_map(|(_, l)| l));
        all
    }
}

/// Idle connections by [`PoolKey`]; the most recently used is reused first.
pub(crate) struct Pool {
    inner: Rc<PoolInner>,
}

impl Pool {
    pub(crate) fn new(max_per_key: usize, idle_timeout: Duration) -> Self {
        Pool {
            inner: Rc::new(PoolInner {
                last: RefCell::new(None),
                others: RefCell::new(HashMap::new()),
                next_id: Cell::new(0),
                max_per_key,
                idle_timeout,
                sweep: Cell::new(None),
                io_loop: IoLoop::current(),
            }),
        }
    }

    /// An idle connection for `key` that is still usable, if any.
    pub(crate) fn checkout(&self, key: KeyRef<'_>) -> Option<Pooled> {
        loop {
            let idle = self
                .inner
                .with_list(key, false, |list| list.pop())
                .flatten()?;
            if idle.stream.closed() || idle.stream.buffered_len() > 0 {
                idle.stream.clear_close_callback();
                idle.stream.close(None);
                continue;
            }
            // The close callback stays: it finds the connection missing while it is in use.
            return Some(Pooled {
                stream: idle.stream,
                id: idle.id,
            });
        }
    }

    /// Keeps `stream` for reuse, or closes it if `key` already has its share of idle
    /// connections. `id`: the number it got when it was checked in before, if it was.
    pub(crate) fn checkin(&self, key: KeyRef<'_>, stream: IoStream, id: Option<u64>) {
        let inner = &self.inner;
        if stream.closed() {
            return;
        }
        if inner.max_per_key == 0 {
            stream.clear_close_callback();
            stream.close(None);
            return;
        }
        let id = id.unwrap_or_else(|| {
            let id = inner.next_id.get();
            inner.next_id.set(id + 1);
            let weak = Rc::downgrade(inner);
            stream.set_close_callback(move || remove(&weak, id));
            id
        });
        let since = tornado_ioloop::iteration_time().unwrap_or_else(Instant::now);
        let refused = inner
            .with_list(key, true, |list| {
                if list.len() >= inner.max_per_key {
                    return Some(stream);
                }
                list.push(Idle { id, stream, since });
                None
            })
            .flatten();
        if let Some(stream) = refused {
            stream.clear_close_callback();
            stream.close(None);
            return;
        }
        self.schedule_sweep(since + inner.idle_timeout);
    }

    /// Arranges for idle connections to be closed from `at` on, unless a sweep is due.
    fn schedule_sweep(&self, at: Instant) {
        let inner = &self.inner;
        if inner.idle_timeout.is_zero() {
            return;
        }
        let pending = inner.sweep.take();
        if pending.is_some() {
            inner.sweep.set(pending);
            return;
        }
        let weak = Rc::downgrade(inner);
        let handle = inner.io_loop.call_at(at, move || sweep(&weak));
        inner.sweep.set(Some(handle));
    }

    /// How many connections are idle in the pool.
    pub(crate) fn idle_count(&self) -> usize {
        let last = self
            .inner
            .last
            .borrow()
            .as_ref()
            .map_or(0, |(_, l)| l.len());
        last + self
            .inner
            .others
            .borrow()
            .values()
            .map(Vec::len)
            .sum::<usize>()
    }

    /// Closes every idle connection.
    pub(crate) fn close_all(&self) {
        if let Some(t) = self.inner.sweep.take() {
            self.inner.io_loop.remove_timeout(t);
        }
        for idle in self.inner.take_all() {
            idle.stream.clear_close_callback();
            idle.stream.close(None);
        }
    }
}

/// Takes connection `id` out of the pool and closes it: the peer hung up while it was idle.
/// Nothing happens if it is in use.
fn remove(weak: &Weak<PoolInner>, id: u64) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    if let Some(idle) = inner.take(id) {
        idle.stream.clear_close_callback();
        idle.stream.close(None);
    }
}

/// Closes the connections idle for `idle_timeout` or more, and arranges the next sweep for
/// when the oldest of the others will be.
fn sweep(weak: &Weak<PoolInner>) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    inner.sweep.set(None);
    let now = tornado_ioloop::iteration_time().unwrap_or_else(Instant::now);
    let timeout = inner.idle_timeout;
    let mut expired = Vec::new();
    let mut next: Option<Instant> = None;
    let mut sort = |list: &mut Vec<Idle>| {
        let mut i = 0;
        while i < list.len() {
            let due = list[i].since + timeout;
            if due <= now {
                expired.push(list.remove(i));
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
                i += 1;
            }
        }
    };
    if let Some((_, list)) = inner.last.borrow_mut().as_mut() {
        sort(list);
    }
    {
        let mut others = inner.others.borrow_mut();
        others.values_mut().for_each(&mut sort);
        others.retain(|_, l| !l.is_empty());
    }
    for idle in expired {
        idle.stream.clear_close_callback();
        idle.stream.close(None);
    }
    if let Some(at) = next {
        Pool {
            inner: inner.clone(),
        }
        .schedule_sweep(at);
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &self.idle_count())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(host: &'a str, proxy: Option<ProxyRef<'a>>) -> KeyRef<'a> {
        KeyRef {
            https: false,
            host,
            port: 80,
            proxy,
            tls: "",
            source_ip: None,
            ipv4_only: false,
        }
    }

    #[test]
    fn borrowed_keys_match_their_owned_form_only() {
        let a = key("Example.COM", Some(("proxy", 3128, Some(("u", "p:w")))));
        let owned = a.to_key();
        assert_eq!(owned.host, "example.com");
        assert!(a.matches(&owned));
        assert!(key("example.com", Some(("proxy", 3128, Some(("u", "p:w"))))).matches(&owned));
        for other in [
            key("example.org", Some(("proxy", 3128, Some(("u", "p:w"))))),
            key("example.com", None),
            key("example.com", Some(("proxy", 3129, Some(("u", "p:w"))))),
            key("example.com", Some(("proxy", 3128, None))),
            key("example.com", Some(("proxy", 3128, Some(("u:p", "w"))))),
            key("example.com", Some(("proxy", 3128, Some(("u", "p"))))),
        ] {
            assert!(!other.matches(&owned), "{other:?}");
        }
        let https = KeyRef { https: true, ..a };
        assert!(!https.matches(&owned));
    }
}
