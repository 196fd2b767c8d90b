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

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::rc::{Rc, Weak};
use std::time::Duration;

use tornado_ioloop::{IoLoop, TimeoutHandle};
use tornado_iostream::IoStream;

/// Which connections can serve a request: same scheme, host, port, route (proxy) and
/// connection options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    pub(crate) scheme: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Proxy host, port and credentials.
    pub(crate) proxy: Option<(String, u16, Option<String>)>,
    /// The TLS settings (validate_cert, ca_certs, client cert and key), as text.
    pub(crate) tls: String,
    pub(crate) source_ip: Option<IpAddr>,
    pub(crate) ipv4_only: bool,
}

struct Idle {
    id: u64,
    stream: IoStream,
    timer: Option<TimeoutHandle>,
}

struct PoolInner {
    idle: RefCell<HashMap<PoolKey, Vec<Idle>>>,
    next_id: Cell<u64>,
    max_per_key: usize,
    idle_timeout: Duration,
    io_loop: IoLoop,
}

/// Idle connections by [`PoolKey`]; the most recently used is reused first.
pub(crate) struct Pool {
    inner: Rc<PoolInner>,
}

impl Pool {
    pub(crate) fn new(max_per_key: usize, idle_timeout: Duration) -> Self {
        Pool {
            inner: Rc::new(PoolInner {
                idle: RefCell::new(HashMap::new()),
                next_id: Cell::new(0),
                max_per_key,
                idle_timeout,
                io_loop: IoLoop::current(),
            }),
        }
    }

    /// An idle connection for `key` that is still usable, if any.
    pub(crate) fn checkout(&self, key: &PoolKey) -> Option<IoStream> {
        loop {
            let idle = {
                let mut map = self.inner.idle.borrow_mut();
                let list = map.get_mut(key)?;
                let idle = list.pop();
                if list.is_empty() {
                    map.remove(key);
                }
                idle?
            };
            if let Some(t) = idle.timer {
                self.inner.io_loop.remove_timeout(t);
            }
            idle.stream.clear_close_callback();
            if idle.stream.closed() || idle.stream.buffered_len() > 0 {
                idle.stream.close(None);
                continue;
            }
            return Some(idle.stream);
        }
    }

    /// Keeps `stream` for reuse, or closes it if `key` already has its share of idle
    /// connections.
    pub(crate) fn checkin(&self, key: PoolKey, stream: IoStream) {
        let inner = &self.inner;
        if stream.closed() {
            return;
        }
        let full = inner
            .idle
            .borrow()
            .get(&key)
            .is_some_and(|l| l.len() >= inner.max_per_key);
        if full || inner.max_per_key == 0 {
            stream.close(None);
            return;
        }
        let id = inner.next_id.get();
        inner.next_id.set(id + 1);
        let weak = Rc::downgrade(inner);
        let k = key.clone();
        let timer = (!inner.idle_timeout.is_zero()).then(|| {
            let weak = weak.clone();
            inner.io_loop.call_later(inner.idle_timeout, move || {
                remove(&weak, &k, id, false);
            })
        });
        let k = key.clone();
        stream.set_close_callback(move || remove(&weak, &k, id, true));
        inner
            .idle
            .borrow_mut()
            .entry(key)
            .or_default()
            .push(Idle { id, stream, timer });
    }

    /// How many connections are idle in the pool.
    pub(crate) fn idle_count(&self) -> usize {
        self.inner.idle.borrow().values().map(Vec::len).sum()
    }

    /// Closes every idle connection.
    pub(crate) fn close_all(&self) {
        let all: Vec<Idle> = self
            .inner
            .idle
            .borrow_mut()
            .drain()
            .flat_map(|(_, l)| l)
            .collect();
        for idle in all {
            if let Some(t) = idle.timer {
                self.inner.io_loop.remove_timeout(t);
            }
            idle.stream.clear_close_callback();
            idle.stream.close(None);
        }
    }
}

/// Takes connection `id` out of the pool and closes it: its idle time is up, or (`closed`)
/// the peer hung up.
fn remove(weak: &Weak<PoolInner>, key: &PoolKey, id: u64, closed: bool) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let idle = {
        let mut map = inner.idle.borrow_mut();
        let Some(list) = map.get_mut(key) else {
            return;
        };
        let Some(pos) = list.iter().position(|i| i.id == id) else {
            return;
        };
        let idle = list.remove(pos);
        if list.is_empty() {
            map.remove(key);
        }
        idle
    };
    if let Some(t) = idle.timer
        && closed
    {
        inner.io_loop.remove_timeout(t);
    }
    idle.stream.clear_close_callback();
    idle.stream.close(None);
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &self.idle_count())
            .finish_non_exhaustive()
    }
}
