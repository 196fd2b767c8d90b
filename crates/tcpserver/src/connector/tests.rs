//! Port of `tcpclient_test.py`'s `ConnectorTest` (its 23 timing cases), `TestConnectorSplit`
//! and `TestFormatAddr`.
//!
//! As in Tornado, connects are fakes whose outcome the test decides, and the timers are set
//! an hour away and fired by hand (`on_timeout`, `on_connect_timeout`), so every case is
//! deterministic. The connector is polled with a no-op waker after each event: that is the
//! "run the loop once" of Tornado's `resolve_connect`. Tornado's fake families `AF1` and
//! `AF2` are IPv4 and IPv6 here, and its addresses `"a"` to `"d"` are documentation
//! addresses.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tornado_concurrent::{Future as Settable, TimeoutError};
use tornado_ioloop::IoLoop;

use super::*;

const AF1: Family = Family::V4;
const AF2: Family = Family::V6;

fn addr(name: &str) -> SocketAddr {
    match name {
        "a" => "192.0.2.10:80",
        "b" => "192.0.2.11:80",
        "c" => "[2001:db8::c]:80",
        "d" => "[2001:db8::d]:80",
        other => panic!("no address {other}"),
    }
    .parse()
    .unwrap()
}

#[derive(Clone, Default)]
struct FakeStream {
    closed: Rc<Cell<bool>>,
}

impl Abandon for FakeStream {
    fn abandon(&self) {
        self.closed.set(true);
    }
}

/// The connects started and not yet resolved, by (family, address).
type Pending = BTreeMap<(Family, SocketAddr), Settable<bool>>;

/// The fixture (`ConnectorTest.setUp`): the connects started and not yet resolved, the
/// streams made, and the addresses whose connect fails synchronously.
#[derive(Default, Clone)]
struct Fixture {
    connect_futures: Rc<RefCell<Pending>>,
    streams: Rc<RefCell<HashMap<SocketAddr, FakeStream>>>,
    sync_failures: Rc<RefCell<HashSet<SocketAddr>>>,
}

type Conn = Connector<FakeStream>;
type ConnResult = Option<io::Result<Connected<FakeStream>>>;

impl Fixture {
    fn new(sync_failures: &[&str]) -> Self {
        let f = Fixture::default();
        f.sync_failures
            .borrow_mut()
            .extend(sync_failures.iter().map(|n| addr(n)));
        f
    }

    fn addrinfo() -> Addresses {
        vec![
            (AF1, addr("a")),
            (AF1, addr("b")),
            (AF2, addr("c")),
            (AF2, addr("d")),
        ]
    }

    /// `create_stream`: a fake stream and the future the test resolves.
    fn create_stream(&self) -> ConnectFn<FakeStream> {
        let f = self.clone();
        Box::new(move |family, a| {
            if f.sync_failures.borrow().contains(&a) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    format!("sync failure for {a}"),
                ));
            }
            let stream = FakeStream::default();
            f.streams.borrow_mut().insert(a, stream.clone());
            let future = Settable::new();
            f.connect_futures
                .borrow_mut()
                .insert((family, a), future.clone());
            let s = stream.clone();
            let attempt: AttemptFuture<FakeStream> = Box::pin(async move {
                match future.await {
                    Ok(true) => Outcome::Connected(s),
                    Ok(false) => Outcome::Failed(io::ErrorKind::ConnectionRefused.into()),
                    Err(e) if e.is_cancelled() => Outcome::Cancelled,
                    Err(e) => Outcome::Failed(io::Error::other(e.to_string())),
                }
            });
            Ok((stream, attempt))
        })
    }

    /// `start_connect`, with both timers an hour away (fired by hand).
    fn start_connect(&self, addrinfo: Addresses) -> (Conn, ConnResult) {
        let mut conn = Connector::start(
            addrinfo,
            self.create_stream(),
            Duration::from_secs(3600),
            Some(IoLoop::current().time() + Duration::from_secs(3600)),
        );
        let mut result = None;
        step(&mut conn, &mut result);
        (conn, result)
    }

    fn assert_pending(&self, keys: &[(Family, &str)]) {
        let mut want: Vec<(Family, SocketAddr)> = keys.iter().map(|(f, n)| (*f, addr(n))).collect();
        want.sort();
        let got: Vec<_> = self.connect_futures.borrow().keys().copied().collect();
        assert_eq!(got, want);
    }

    fn resolve_connect(
        &self,
        conn: &mut Conn,
        result: &mut ConnResult,
        family: Family,
        name: &str,
        success: bool,
    ) {
        let a = addr(name);
        let future = self
            .connect_futures
            .borrow_mut()
            .remove(&(family, a))
            .unwrap();
        if !success {
            self.streams.borrow_mut().remove(&a);
        }
        future.set_result(success).unwrap();
        step(conn, result);
    }

    fn cancel_connect(&self, conn: &mut Conn, result: &mut ConnResult, family: Family, name: &str) {
        let future = self
            .connect_futures
            .borrow_mut()
            .remove(&(family, addr(name)))
            .unwrap();
        assert!(future.cancel());
        step(conn, result);
    }

    fn stream(&self, name: &str) -> FakeStream {
        self.streams.borrow()[&addr(name)].clone()
    }

    /// Takes a stream out of the teardown check, returning whether it was closed.
    fn pop_closed(&self, name: &str) -> bool {
        self.streams
            .borrow_mut()
            .remove(&addr(name))
            .unwrap()
            .closed
            .get()
    }

    /// `tearDown`: no stream the test did not check was closed.
    fn teardown(&self) {
        for (a, s) in self.streams.borrow().iter() {
            assert!(!s.closed.get(), "stream {a} was closed");
        }
    }
}

/// Runs the connector once, keeping its result if it has one now. It is polled after its
/// result was given too, as Tornado's loop keeps running the connector's callbacks.
fn step(conn: &mut Conn, result: &mut ConnResult) {
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(r) = conn.poll_connect(&mut cx) {
        assert!(result.is_none(), "the connector gave a second result");
        *result = Some(r);
    }
}

fn assert_connected(result: &ConnResult, family: Family, name: &str, stream: &FakeStream) {
    match result {
        Some(Ok((f, a, s))) => {
            assert_eq!((*f, *a), (family, addr(name)));
            assert!(
                Rc::ptr_eq(&s.closed, &stream.closed),
                "not the stream of {name}"
            );
        }
        Some(Err(e)) => panic!("failed: {e}"),
        None => panic!("not done"),
    }
}

fn error_of(result: &ConnResult) -> &io::Error {
    match result {
        Some(Err(e)) => e,
        Some(Ok(_)) => panic!("connected"),
        None => panic!("not done"),
    }
}

fn timeout_message(result: &ConnResult) -> String {
    let e = error_of(result);
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    let t = e.get_ref().unwrap().downcast_ref::<TimeoutError>().unwrap();
    t.to_string()
}

/// Every stream still in the connector's keeping is closed.
fn assert_connector_streams_closed(conn: &Conn) {
    // The streams are fakes of this module: look at their flags through the connector.
    for (_, s) in &conn.streams {
        assert!(s.closed.get());
    }
}

// TestConnectorSplit

#[test]
fn test_one_family() {
    let (primary, secondary) = split(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    assert_eq!(primary, [(AF1, addr("a")), (AF1, addr("b"))]);
    assert!(secondary.is_empty());
}

#[test]
fn test_mixed() {
    let (primary, secondary) = split(vec![
        (AF1, addr("a")),
        (AF2, addr("b")),
        (AF1, addr("c")),
        (AF2, addr("d")),
    ]);
    assert_eq!(primary, [(AF1, addr("a")), (AF1, addr("c"))]);
    assert_eq!(secondary, [(AF2, addr("b")), (AF2, addr("d"))]);
}

// TestFormatAddr (`test_other`, a Unix socket path, has no counterpart: the connector only
// takes socket addresses.)

#[test]
fn test_ipv4() {
    assert_eq!(format_addr(&"1.2.3.4:443".parse().unwrap()), "1.2.3.4:443");
}

#[test]
fn test_ipv6() {
    assert_eq!(format_addr(&"[::1]:443".parse().unwrap()), "[::1]:443");
    // A scope is left out, as Tornado's formatting of the 4-tuple does.
    assert_eq!(
        format_addr(&"[fe80::1%2]:443".parse().unwrap()),
        "[fe80::1]:443"
    );
}

// ConnectorTest

#[test]
fn test_immediate_success() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", true);
    assert_connected(&result, AF1, "a", &f.stream("a"));
    f.teardown();
}

#[test]
fn test_immediate_failure() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    assert_eq!(error_of(&result).kind(), io::ErrorKind::ConnectionRefused);
    f.teardown();
}

#[test]
fn test_one_family_second_try() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", true);
    assert_connected(&result, AF1, "b", &f.stream("b"));
    f.teardown();
}

#[test]
fn test_one_family_second_try_failure() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", false);
    assert_eq!(error_of(&result).kind(), io::ErrorKind::ConnectionRefused);
    f.teardown();
}

#[test]
fn test_one_family_second_try_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    // The timeout while the first attempt is pending does nothing: no secondary family.
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", true);
    assert_connected(&result, AF1, "b", &f.stream("b"));
    f.teardown();
}

#[test]
fn test_two_families_immediate_failure() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", false);
    f.resolve_connect(&mut conn, &mut result, AF2, "c", true);
    assert_connected(&result, AF2, "c", &f.stream("c"));
    f.teardown();
}

#[test]
fn test_two_families_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF2, "c", true);
    assert_connected(&result, AF2, "c", &f.stream("c"));
    // Resolving "a" after the connection has completed does not start "b".
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[]);
    f.teardown();
}

#[test]
fn test_success_after_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", true);
    assert_connected(&result, AF1, "a", &f.stream("a"));
    // Resolving "c" after completion: its stream is closed.
    f.resolve_connect(&mut conn, &mut result, AF2, "c", true);
    assert!(f.pop_closed("c"));
    f.teardown();
}

#[test]
fn test_all_fail() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF2, "c", false);
    f.assert_pending(&[(AF1, "a"), (AF2, "d")]);
    f.resolve_connect(&mut conn, &mut result, AF2, "d", false);
    // One queue is now empty.
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    assert!(result.is_none());
    f.resolve_connect(&mut conn, &mut result, AF1, "b", false);
    assert_eq!(error_of(&result).kind(), io::ErrorKind::ConnectionRefused);
    f.teardown();
}

#[test]
fn test_sync_failure_first_address() {
    // A synchronous failure is an immediate asynchronous one: move on to the next address
    // and start the secondary family without waiting for the timeout.
    let f = Fixture::new(&["a"]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "b"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", true);
    assert_connected(&result, AF1, "b", &f.stream("b"));
    f.resolve_connect(&mut conn, &mut result, AF2, "c", true);
    assert!(f.pop_closed("c"));
    f.teardown();
}

#[test]
fn test_sync_failure_whole_family() {
    // For example, AF_INET6 sockets are not supported on this system.
    let f = Fixture::new(&["a", "b"]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF2, "c", true);
    assert_connected(&result, AF2, "c", &f.stream("c"));
    f.teardown();
}

#[test]
fn test_sync_failure_in_callback() {
    // Synchronous failures while starting the next attempt from a callback must not leave
    // the connector hanging.
    let f = Fixture::new(&["b", "c", "d"]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[]);
    // The last synchronous failure is the error ("sync failure" in Tornado's assertion).
    assert_eq!(error_of(&result).kind(), io::ErrorKind::AddrNotAvailable);
    f.teardown();
}

#[test]
fn test_sync_failure_all() {
    let f = Fixture::new(&["a", "b", "c", "d"]);
    let (_conn, result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[]);
    assert_eq!(error_of(&result).kind(), io::ErrorKind::AddrNotAvailable);
    f.teardown();
}

#[test]
fn test_attempt_cancelled() {
    // A cancelled connection attempt counts as a failure.
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.cancel_connect(&mut conn, &mut result, AF1, "a");
    f.assert_pending(&[(AF1, "b")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", true);
    assert_connected(&result, AF1, "b", &f.stream("b"));
    // The stream of the cancelled attempt is closed.
    assert!(f.pop_closed("a"));
    f.teardown();
}

#[test]
fn test_all_attempts_cancelled() {
    // If every attempt is cancelled, connect fails with an ordinary error rather than a
    // cancellation, and every stream is closed.
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF2, addr("c"))]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    f.cancel_connect(&mut conn, &mut result, AF1, "a");
    f.cancel_connect(&mut conn, &mut result, AF2, "c");
    assert_eq!(error_of(&result).kind(), io::ErrorKind::Other);
    assert!(f.pop_closed("a"));
    assert!(f.pop_closed("c"));
    f.teardown();
}

#[test]
fn test_cancel() {
    // Dropping the connector is cancelling its future.
    let f = Fixture::new(&[]);
    let (mut conn, _result) = f.start_connect(Fixture::addrinfo());
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    drop(conn);
    assert!(f.pop_closed("a"));
    assert!(f.pop_closed("c"));
    f.teardown();
}

#[test]
fn test_one_family_timeout_after_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    conn.on_connect_timeout();
    step(&mut conn, &mut result);
    // The connector closes every stream on the connect timeout.
    f.connect_futures.borrow_mut().remove(&(AF1, addr("a")));
    assert!(f.pop_closed("a"));
    conn.on_timeout();
    // Once failed with a TimeoutError, no next address is tried.
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 1);
    assert_connector_streams_closed(&conn);
    timeout_message(&result);
    f.teardown();
}

#[test]
fn test_one_family_success_before_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", true);
    conn.on_connect_timeout();
    f.assert_pending(&[]);
    assert!(!f.stream("a").closed.get());
    // The winner is handed out, not kept.
    assert_eq!(conn.streams.len(), 0);
    assert_connector_streams_closed(&conn);
    assert_connected(&result, AF1, "a", &f.stream("a"));
    f.teardown();
}

#[test]
fn test_one_family_second_try_after_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    conn.on_connect_timeout();
    step(&mut conn, &mut result);
    f.connect_futures.borrow_mut().remove(&(AF1, addr("b")));
    assert!(f.pop_closed("b"));
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 2);
    assert_connector_streams_closed(&conn);
    // The failed attempt on "a" is not part of the message.
    assert_eq!(
        timeout_message(&result),
        "Timeout while connecting to 192.0.2.11:80"
    );
    f.teardown();
}

#[test]
fn test_one_family_second_try_failure_before_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(vec![(AF1, addr("a")), (AF1, addr("b"))]);
    f.assert_pending(&[(AF1, "a")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", false);
    f.assert_pending(&[(AF1, "b")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "b", false);
    conn.on_connect_timeout();
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 2);
    assert_connector_streams_closed(&conn);
    assert_eq!(error_of(&result).kind(), io::ErrorKind::ConnectionRefused);
    f.teardown();
}

#[test]
fn test_two_family_timeout_before_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    conn.on_connect_timeout();
    step(&mut conn, &mut result);
    f.connect_futures.borrow_mut().remove(&(AF1, addr("a")));
    assert!(f.pop_closed("a"));
    f.connect_futures.borrow_mut().remove(&(AF2, addr("c")));
    assert!(f.pop_closed("c"));
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 2);
    assert_connector_streams_closed(&conn);
    assert_eq!(
        timeout_message(&result),
        "Timeout while connecting to 192.0.2.10:80, [2001:db8::c]:80"
    );
    f.teardown();
}

#[test]
fn test_two_family_success_after_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_timeout();
    f.assert_pending(&[(AF1, "a"), (AF2, "c")]);
    f.resolve_connect(&mut conn, &mut result, AF1, "a", true);
    // When one stream connects, the connector closes every other.
    f.connect_futures.borrow_mut().remove(&(AF2, addr("c")));
    assert!(f.pop_closed("c"));
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 1);
    assert_connector_streams_closed(&conn);
    assert_connected(&result, AF1, "a", &f.stream("a"));
    f.teardown();
}

#[test]
fn test_two_family_timeout_after_connect_timeout() {
    let f = Fixture::new(&[]);
    let (mut conn, mut result) = f.start_connect(Fixture::addrinfo());
    f.assert_pending(&[(AF1, "a")]);
    conn.on_connect_timeout();
    step(&mut conn, &mut result);
    f.connect_futures.borrow_mut().remove(&(AF1, addr("a")));
    assert!(f.pop_closed("a"));
    f.assert_pending(&[]);
    conn.on_timeout();
    // Once failed with a TimeoutError, the secondary family is not started.
    f.assert_pending(&[]);
    assert_eq!(conn.streams.len(), 1);
    assert_connector_streams_closed(&conn);
    timeout_message(&result);
    f.teardown();
}

// Beyond Tornado's cases: the real timers drive the same transitions.

#[test]
fn timers_fire_on_the_loop() {
    // With a 10 ms happy-eyeballs timer, the secondary family starts without help; with a
    // deadline soon after, the connector fails with a timeout naming both pending addresses.
    let f = Fixture::new(&[]);
    let io_loop = IoLoop::new();
    let f2 = f.clone();
    let result = io_loop
        .run_sync(
            move || async move {
                let mut conn = Connector::start(
                    Fixture::addrinfo(),
                    f2.create_stream(),
                    Duration::from_millis(10),
                    Some(IoLoop::current().time() + Duration::from_millis(200)),
                );
                std::future::poll_fn(|cx| conn.poll_connect(cx)).await
            },
            Some(Duration::from_secs(30)),
        )
        .unwrap();
    let result = Some(result);
    assert_eq!(
        timeout_message(&result),
        "Timeout while connecting to 192.0.2.10:80, [2001:db8::c]:80"
    );
    assert!(f.pop_closed("a"));
    assert!(f.pop_closed("c"));
    f.teardown();
}
