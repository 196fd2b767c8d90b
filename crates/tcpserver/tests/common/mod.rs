//! Helpers shared by this crate's integration tests (Tornado's `AsyncTestCase`, `gen_test`
//! and the `TestTCPServer` of `tcpclient_test.py`).

#![allow(dead_code, reason = "each test file uses some of the helpers")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;
use tornado_locks::Condition;
use tornado_tcpserver::{BindOptions, Family, StreamHandler, TcpServer};

/// Runs `f` on a fresh loop, with a deadline generous enough for a slow, busy machine
/// (`@gen_test`), then closes the loop.
pub(crate) fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(60)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// Says why a test returns early: Rust's test harness has no runtime skip.
pub(crate) fn skip(reason: &str) {
    eprintln!("skipped: {reason}");
}

/// A queue of the streams a server accepted (Tornado's tests use a `tornado.queues.Queue`,
/// which is the same layer as this crate, so it cannot be used here).
#[derive(Clone, Default)]
pub(crate) struct StreamQueue {
    items: Rc<RefCell<VecDeque<IoStream>>>,
    cond: Condition,
}

impl StreamQueue {
    pub(crate) fn put(&self, stream: IoStream) {
        self.items.borrow_mut().push_back(stream);
        self.cond.notify_all();
    }

    pub(crate) async fn get(&self) -> IoStream {
        loop {
            if let Some(s) = self.items.borrow_mut().pop_front() {
                return s;
            }
            self.cond.wait().await;
        }
    }
}

/// Hands every accepted stream to a queue, and keeps them all to close at `stop`.
#[derive(Clone, Default)]
pub(crate) struct Collect {
    pub(crate) queue: StreamQueue,
    pub(crate) streams: Rc<RefCell<Vec<IoStream>>>,
}

impl StreamHandler for Collect {
    async fn handle_stream(&self, stream: IoStream, _address: Option<SocketAddr>) {
        self.streams.borrow_mut().push(stream.clone());
        self.queue.put(stream);
    }
}

/// `tcpclient_test.TestTCPServer`: listens on `localhost` for `family` on a free port.
pub(crate) struct TestTcpServer {
    pub(crate) server: TcpServer<Collect>,
    pub(crate) handler: Collect,
    pub(crate) port: u16,
}

impl TestTcpServer {
    pub(crate) fn new(family: Family) -> TestTcpServer {
        let handler = Collect::default();
        let server = TcpServer::new(handler.clone());
        let sockets = BindOptions::new()
            .address("localhost")
            .family(family)
            .bind(0)
            .expect("bind localhost");
        let port = sockets[0].local_addr().unwrap().port();
        server.add_sockets(sockets).unwrap();
        TestTcpServer {
            server,
            handler,
            port,
        }
    }

    pub(crate) async fn next_stream(&self) -> IoStream {
        self.handler.queue.get().await
    }

    /// Stops accepting and closes every accepted stream.
    pub(crate) fn stop(&self) {
        self.server.stop();
        for s in self.handler.streams.borrow().iter() {
            s.close(None);
        }
    }
}

/// `true` if this host can bind `::1`.
pub(crate) fn have_ipv6() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

/// `true` if `localhost` resolves to an IPv6 address here.
pub(crate) fn localhost_has_ipv6() -> bool {
    tornado_tcpserver::resolve_blocking("localhost", 80, Family::V6).is_ok()
}

/// A self-signed certificate for `names`: (its PEM, its key's PEM).
pub(crate) fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}
