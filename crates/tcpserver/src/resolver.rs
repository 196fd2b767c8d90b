//! Resolvers: host names to socket addresses (`tornado.netutil.Resolver` and its
//! implementations).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use tornado_concurrent::{Executor, ExecutorExt, ThreadPoolExecutor};
use tornado_ioloop::IoLoop;

use crate::netutil::Family;

/// What a resolve gives: `(family, address)` pairs in the order the system returned them
/// (Tornado's list of `(family, address)` tuples).
pub type Addresses = Vec<(Family, SocketAddr)>;

/// The future a [`Resolver`] returns. It runs on the current loop (it need not be `Send`) and
/// may borrow the resolver and the host name.
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Addresses>> + 'a>>;

/// Turns a host name and port into socket addresses (`tornado.netutil.Resolver`).
///
/// The trait is object-safe: [`TcpClient`](crate::TcpClient) holds a `dyn Resolver`, and an
/// [`OverrideResolver`] wraps any other. Implement it to resolve some other way (a fixed
/// table, an asynchronous DNS client).
///
/// A failure is an [`io::Error`] carrying a [`ResolveError`] (Python's `socket.gaierror`);
/// test for it with [`is_resolve_error`].
pub trait Resolver {
    /// The addresses of `host` (a name or an IP literal) and `port`, only of `family` unless
    /// it is [`Family::Unspecified`] (`Resolver.resolve(host, port, family)`).
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a>;

    /// Releases what the resolver holds, such as its threads (`Resolver.close`). Default: does
    /// nothing.
    fn close(&self) {}
}

impl<R: Resolver + ?Sized> Resolver for Rc<R> {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        (**self).resolve(host, port, family)
    }

    fn close(&self) {
        (**self).close();
    }
}

impl<R: Resolver + ?Sized> Resolver for Box<R> {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        (**self).resolve(host, port, family)
    }

    fn close(&self) {
        (**self).close();
    }
}

/// A host name could not be resolved (Python's `socket.gaierror`).
///
/// Carried inside the [`io::Error`] a resolve fails with; [`is_resolve_error`] tests for it.
/// The `io::Error` keeps the kind of the system's error, or [`io::ErrorKind::NotFound`] when
/// the name resolved to no address of the family asked for.
#[derive(Debug)]
pub struct ResolveError {
    host: String,
    port: u16,
    source: Option<io::Error>,
}

impl ResolveError {
    /// The host name that failed.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port it was resolved with.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(e) => write!(f, "cannot resolve {}:{}: {e}", self.host, self.port),
            None => write!(
                f,
                "cannot resolve {}:{}: no address of the requested family",
                self.host, self.port
            ),
        }
    }
}

impl StdError for ResolveError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// `true` if `e` is a failure to resolve a host name (a [`ResolveError`]).
pub fn is_resolve_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<ResolveError>())
}

pub(crate) fn resolve_error(host: &str, port: u16, source: Option<io::Error>) -> io::Error {
    let kind = source
        .as_ref()
        .map_or(io::ErrorKind::NotFound, io::Error::kind);
    io::Error::new(
        kind,
        ResolveError {
            host: host.to_owned(),
            port,
            source,
        },
    )
}

/// The system's resolver, blocking: `getaddrinfo` for stream sockets (std's
/// `ToSocketAddrs`), keeping the addresses of `family`. IP literals are parsed without a
/// lookup. This is Tornado's `_resolve_addr`.
pub fn resolve_blocking(host: &str, port: u16, family: Family) -> io::Result<Addresses> {
    let found = (host, port)
        .to_socket_addrs()
        .map_err(|e| resolve_error(host, port, Some(e)))?;
    let addrs: Addresses = found
        .filter(|a| family.accepts(a))
        .map(|a| (Family::of(&a), a))
        .collect();
    if addrs.is_empty() {
        return Err(resolve_error(host, port, None));
    }
    Ok(addrs)
}

/// Runs [`resolve_blocking`] on `executor` (the loop's default one if `None`) and brings the
/// result back to the loop.
fn resolve_on<'a>(
    executor: Option<Arc<dyn Executor>>,
    host: &'a str,
    port: u16,
    family: Family,
) -> ResolveFuture<'a> {
    let owned = host.to_owned();
    let job = move || resolve_blocking(&owned, port, family);
    let result = match &executor {
        Some(e) => e.submit(job),
        None => IoLoop::current().run_in_executor(None, job),
    };
    Box::pin(async move {
        match result.take().await {
            Ok(addrs) => addrs,
            // The job panicked, or the executor was shut down: not a name that failed to
            // resolve, but the resolve failed all the same.
            Err(e) => Err(io::Error::other(format!("resolving {host}: {e}"))),
        }
    })
}

/// The default resolver: the system's `getaddrinfo` on the current loop's executor
/// (`tornado.netutil.DefaultLoopResolver`, which asyncio runs the same way).
///
/// Lookups run on [`IoLoop::run_in_executor`](tornado_ioloop::IoLoop::run_in_executor)'s
/// default pool, so they never block the loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultLoopResolver;

/// `tornado.netutil.DefaultExecutorResolver`: the same thing as [`DefaultLoopResolver`]
/// here, since asyncio's `getaddrinfo` also runs in the loop's default executor.
pub type DefaultExecutorResolver = DefaultLoopResolver;

impl DefaultLoopResolver {
    /// The default resolver.
    pub fn new() -> Self {
        DefaultLoopResolver
    }
}

impl Resolver for DefaultLoopResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        resolve_on(None, host, port, family)
    }
}

/// Resolves on an executor of the caller's choosing (`tornado.netutil.ExecutorResolver`).
#[derive(Debug, Clone)]
pub struct ExecutorResolver {
    executor: Arc<dyn Executor>,
    close_executor: bool,
}

impl ExecutorResolver {
    /// Runs lookups on `executor`; [`close`](Resolver::close) shuts it down if
    /// `close_executor` (Tornado's default is `true`).
    pub fn new(executor: Arc<dyn Executor>, close_executor: bool) -> Self {
        ExecutorResolver {
            executor,
            close_executor,
        }
    }
}

impl Resolver for ExecutorResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        resolve_on(Some(self.executor.clone()), host, port, family)
    }

    fn close(&self) {
        if self.close_executor {
            self.executor.shutdown(false);
        }
    }
}

/// Resolves on a pool of its own threads (`tornado.netutil.ThreadedResolver`).
///
/// Threads start lazily, up to `num_threads` (Tornado's default is 10); [`close`](
/// Resolver::close) shuts the pool down.
#[derive(Debug, Clone)]
pub struct ThreadedResolver {
    inner: ExecutorResolver,
}

/// 10: Tornado's default number of `ThreadedResolver` threads.
pub const DEFAULT_RESOLVER_THREADS: usize = 10;

impl ThreadedResolver {
    /// A resolver with a pool of at most `num_threads` threads.
    pub fn new(num_threads: usize) -> Self {
        let pool = ThreadPoolExecutor::with_name(num_threads, "tornado-resolver");
        ThreadedResolver {
            inner: ExecutorResolver::new(Arc::new(pool), true),
        }
    }
}

impl Default for ThreadedResolver {
    /// A pool of [`DEFAULT_RESOLVER_THREADS`] threads.
    fn default() -> Self {
        ThreadedResolver::new(DEFAULT_RESOLVER_THREADS)
    }
}

impl Resolver for ThreadedResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        self.inner.resolve(host, port, family)
    }

    fn close(&self) {
        self.inner.close();
    }
}

/// Resolves on the loop's own thread, blocking it while it waits
/// (`tornado.netutil.BlockingResolver`, deprecated there too). Only for tests and tools where
/// nothing else runs on the loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockingResolver;

impl BlockingResolver {
    /// A blocking resolver.
    pub fn new() -> Self {
        BlockingResolver
    }
}

impl Resolver for BlockingResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        let result = resolve_blocking(host, port, family);
        Box::pin(std::future::ready(result))
    }
}

/// Wraps a resolver with a table of overrides (`tornado.netutil.OverrideResolver`), to point
/// names elsewhere without touching the system's configuration (in tests, say).
///
/// Three kinds of entry, looked up most specific first, as in Tornado: `(host, port,
/// family)` → `(host, port)`, then `(host, port)` → `(host, port)`, then `host` → `host`.
/// The result is resolved by the wrapped resolver.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use tornado_ioloop::IoLoop;
/// use tornado_tcpserver::{BlockingResolver, Family, OverrideResolver, Resolver};
///
/// let resolver = OverrideResolver::new(BlockingResolver::new())
///     .map_host("example.com", "127.0.0.1")
///     .map_host_port(("login.example.com", 443), ("127.0.0.1", 1443));
/// let io_loop = IoLoop::new();
/// let addrs = io_loop.run_sync(|| async move {
///     resolver.resolve("login.example.com", 443, Family::Unspecified).await.unwrap()
/// }, Some(Duration::from_secs(5))).unwrap();
/// assert_eq!(addrs[0].1, "127.0.0.1:1443".parse().unwrap());
/// ```
pub struct OverrideResolver {
    resolver: Box<dyn Resolver>,
    hosts: HashMap<String, String>,
    host_ports: HashMap<(String, u16), (String, u16)>,
    host_port_families: HashMap<(String, u16, Family), (String, u16)>,
}

impl OverrideResolver {
    /// Wraps `resolver` with an empty table.
    pub fn new(resolver: impl Resolver + 'static) -> Self {
        OverrideResolver {
            resolver: Box::new(resolver),
            hosts: HashMap::new(),
            host_ports: HashMap::new(),
            host_port_families: HashMap::new(),
        }
    }

    /// Resolves `from` as if it were `to`, whatever the port (`{"example.com": "127.0.1.1"}`).
    pub fn map_host(mut self, from: &str, to: &str) -> Self {
        self.hosts.insert(from.to_owned(), to.to_owned());
        self
    }

    /// Resolves `from` (host, port) as `to` (`{("login.example.com", 443): ("localhost",
    /// 1443)}`).
    pub fn map_host_port(mut self, from: (&str, u16), to: (&str, u16)) -> Self {
        self.host_ports
            .insert((from.0.to_owned(), from.1), (to.0.to_owned(), to.1));
        self
    }

    /// Resolves `from` (host, port, family) as `to` (`{("login.example.com", 443,
    /// socket.AF_INET6): ("::1", 1443)}`).
    pub fn map_host_port_family(mut self, from: (&str, u16, Family), to: (&str, u16)) -> Self {
        self.host_port_families
            .insert((from.0.to_owned(), from.1, from.2), (to.0.to_owned(), to.1));
        self
    }

    /// Where `(host, port, family)` is redirected to.
    fn lookup<'a>(&'a self, host: &'a str, port: u16, family: Family) -> (&'a str, u16) {
        let key = (host.to_owned(), port, family);
        if let Some((h, p)) = self.host_port_families.get(&key) {
            return (h, *p);
        }
        let (host_key, _, _) = key;
        let key = (host_key, port);
        if let Some((h, p)) = self.host_ports.get(&key) {
            return (h, *p);
        }
        match self.hosts.get(host) {
            Some(h) => (h, port),
            None => (host, port),
        }
    }
}

impl Resolver for OverrideResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16, family: Family) -> ResolveFuture<'a> {
        let (host, port) = self.lookup(host, port, family);
        self.resolver.resolve(host, port, family)
    }

    /// Closes the wrapped resolver, as Tornado's does.
    fn close(&self) {
        self.resolver.close();
    }
}

impl fmt::Debug for OverrideResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OverrideResolver")
            .field("hosts", &self.hosts)
            .field("host_ports", &self.host_ports)
            .field("host_port_families", &self.host_port_families)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_lookup() {
        let v4 = resolve_blocking("127.0.0.1", 80, Family::Unspecified).unwrap();
        assert_eq!(v4, [(Family::V4, "127.0.0.1:80".parse().unwrap())]);
        let v6 = resolve_blocking("::1", 80, Family::V6).unwrap();
        assert_eq!(v6, [(Family::V6, "[::1]:80".parse().unwrap())]);
    }

    #[test]
    fn family_filter_that_leaves_nothing_is_a_resolve_error() {
        let err = resolve_blocking("127.0.0.1", 80, Family::V6).unwrap_err();
        assert!(is_resolve_error(&err));
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn override_lookup_most_specific_first() {
        let r = OverrideResolver::new(BlockingResolver)
            .map_host("a", "h")
            .map_host_port(("a", 1), ("hp", 2))
            .map_host_port_family(("a", 1, Family::V6), ("hpf", 3));
        assert_eq!(r.lookup("a", 1, Family::V6), ("hpf", 3));
        assert_eq!(r.lookup("a", 1, Family::V4), ("hp", 2));
        assert_eq!(r.lookup("a", 1, Family::Unspecified), ("hp", 2));
        assert_eq!(r.lookup("a", 9, Family::V6), ("h", 9));
        assert_eq!(r.lookup("b", 9, Family::V6), ("b", 9));
    }
}
