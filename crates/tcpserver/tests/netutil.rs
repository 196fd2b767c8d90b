//! Port of `tornado/test/netutil_test.py`: the resolver tests (`BlockingResolverTest`,
//! `BlockingResolverErrorTest`, `ThreadedResolverTest`, `ThreadedResolverErrorTest`,
//! `OverrideResolverTest`, and the same cases for the default and executor resolvers) and
//! `TestPortAllocation`. `IsValidIPTest` is a unit test of `src/netutil.rs`.
//!
//! Tornado mocks `getaddrinfo` to make lookups fail; here the name `"an invalid domain"` is
//! rejected by the C library itself (a host name cannot contain spaces), with no query on the
//! network, so the error cases are as deterministic.
//!
//! Beyond Tornado: `bind_unix_socket` (mode, a stale socket file, a regular file in the way,
//! the abstract namespace) and `add_accept_handler`'s limit of 128 connections per turn of
//! the loop.

mod common;

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;

use common::gen_test;
use tornado_concurrent::ThreadPoolExecutor;
use tornado_gen::moment;
use tornado_ioloop::IoLoop;
use tornado_tcpserver::{
    BindOptions, BlockingResolver, Connection, DefaultLoopResolver, ExecutorResolver, Family,
    OverrideResolver, Resolver, ThreadedResolver, add_accept_handler, bind_sockets,
    bind_unix_socket, is_resolve_error,
};

/// `_ResolverTestMixin.test_localhost`.
async fn check_localhost(resolver: &dyn Resolver) {
    let addrinfo = resolver
        .resolve("localhost", 80, Family::Unspecified)
        .await
        .unwrap();
    let v4 = (Family::V4, SocketAddr::from(([127, 0, 0, 1], 80)));
    let v6 = (Family::V6, "[::1]:80".parse().unwrap());
    assert!(
        addrinfo.contains(&v4) || addrinfo.contains(&v6),
        "loopback address not found in {addrinfo:?}"
    );
}

/// `_ResolverErrorTestMixin.test_bad_host`.
async fn check_bad_host(resolver: &dyn Resolver) {
    let err = resolver
        .resolve("an invalid domain", 80, Family::Unspecified)
        .await
        .unwrap_err();
    assert!(is_resolve_error(&err), "{err}");
}

mod blocking_resolver_test {
    use super::*;

    #[test]
    fn test_localhost() {
        gen_test(|| async { check_localhost(&BlockingResolver::new()).await });
    }

    #[test]
    fn test_bad_host() {
        gen_test(|| async { check_bad_host(&BlockingResolver::new()).await });
    }
}

mod threaded_resolver_test {
    use super::*;

    #[test]
    fn test_localhost() {
        gen_test(|| async {
            let resolver = ThreadedResolver::default();
            check_localhost(&resolver).await;
            resolver.close();
        });
    }

    #[test]
    fn test_bad_host() {
        gen_test(|| async {
            let resolver = ThreadedResolver::new(2);
            check_bad_host(&resolver).await;
            resolver.close();
        });
    }

    #[test]
    fn close_shuts_the_pool_down() {
        // A closed resolver refuses work: an error, not a hang.
        gen_test(|| async {
            let resolver = ThreadedResolver::default();
            resolver.close();
            let err = resolver
                .resolve("localhost", 80, Family::Unspecified)
                .await
                .unwrap_err();
            assert!(!is_resolve_error(&err), "{err}");
        });
    }
}

mod default_loop_resolver_test {
    use super::*;

    #[test]
    fn test_localhost() {
        gen_test(|| async { check_localhost(&DefaultLoopResolver::new()).await });
    }

    #[test]
    fn test_bad_host() {
        gen_test(|| async { check_bad_host(&DefaultLoopResolver::new()).await });
    }

    #[test]
    fn lookups_run_off_the_loop() {
        // The loop keeps turning while the executor resolves.
        gen_test(|| async {
            let turns = Rc::new(Cell::new(0u32));
            let t = turns.clone();
            IoLoop::current().spawn_callback(async move {
                loop {
                    t.set(t.get() + 1);
                    moment().await;
                }
            });
            check_localhost(&DefaultLoopResolver::new()).await;
            assert!(turns.get() > 0);
        });
    }
}

mod executor_resolver_test {
    use super::*;

    #[test]
    fn test_localhost() {
        gen_test(|| async {
            let pool = Arc::new(ThreadPoolExecutor::new(1));
            let resolver = ExecutorResolver::new(pool, true);
            check_localhost(&resolver).await;
            check_bad_host(&resolver).await;
            resolver.close();
        });
    }
}

mod override_resolver_test {
    use super::*;

    /// `OverrideResolverTest.setUp`.
    fn resolver() -> OverrideResolver {
        OverrideResolver::new(BlockingResolver::new())
            .map_host_port(("google.com", 80), ("1.2.3.4", 80))
            .map_host_port_family(("google.com", 80, Family::V4), ("1.2.3.4", 80))
            .map_host_port_family(
                ("google.com", 80, Family::V6),
                ("2a02:6b8:7c:40c:c51e:495f:e23a:3", 80),
            )
    }

    #[test]
    fn test_localhost() {
        gen_test(|| async { check_localhost(&resolver()).await });
    }

    #[test]
    fn test_resolve_multiaddr() {
        gen_test(|| async {
            let r = resolver();
            let result = r.resolve("google.com", 80, Family::V4).await.unwrap();
            assert!(result.contains(&(Family::V4, "1.2.3.4:80".parse().unwrap())));
            let result = r.resolve("google.com", 80, Family::V6).await.unwrap();
            let v6 = "[2a02:6b8:7c:40c:c51e:495f:e23a:3]:80".parse().unwrap();
            assert!(result.contains(&(Family::V6, v6)));
        });
    }

    #[test]
    fn host_mapping_keeps_the_port() {
        gen_test(|| async {
            let r = OverrideResolver::new(BlockingResolver::new()).map_host("example", "::1");
            let result = r
                .resolve("example", 8080, Family::Unspecified)
                .await
                .unwrap();
            assert_eq!(result, [(Family::V6, "[::1]:8080".parse().unwrap())]);
        });
    }

    #[test]
    fn close_closes_the_wrapped_resolver() {
        gen_test(|| async {
            let inner = Rc::new(ThreadedResolver::new(1));
            let r = OverrideResolver::new(inner.clone());
            r.close();
            let err = inner
                .resolve("localhost", 80, Family::Unspecified)
                .await
                .unwrap_err();
            assert!(!is_resolve_error(&err), "{err}");
        });
    }
}

// TestPortAllocation

#[test]
fn test_same_port_allocation() {
    let sockets = bind_sockets(0, Some("localhost")).unwrap();
    let port = sockets[0].local_addr().unwrap().port();
    assert!(
        sockets
            .iter()
            .all(|s| s.local_addr().unwrap().port() == port)
    );
}

#[test]
fn test_same_port_allocation_all_interfaces() {
    // With no address, IPv4 and (where there is IPv6) IPv6 share the port picked for the first.
    let sockets = bind_sockets(0, None).unwrap();
    let port = sockets[0].local_addr().unwrap().port();
    assert!(
        sockets
            .iter()
            .all(|s| s.local_addr().unwrap().port() == port)
    );
    if common::have_ipv6() {
        assert_eq!(sockets.len(), 2);
    }
}

#[test]
fn test_reuse_port() {
    // `bind_unused_port(reuse_port=True)`, then bind the same port again.
    let first = BindOptions::new()
        .address("127.0.0.1")
        .reuse_port(true)
        .bind(0)
        .unwrap();
    let port = first[0].local_addr().unwrap().port();
    let sockets = BindOptions::new()
        .address("127.0.0.1")
        .reuse_port(true)
        .bind(port)
        .unwrap();
    assert!(
        sockets
            .iter()
            .all(|s| s.local_addr().unwrap().port() == port)
    );
    // Without reuse_port on both, the port is taken.
    let err = bind_sockets(port, Some("127.0.0.1")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
}

// bind_unix_socket

fn socket_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tornado-netutil-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn unix_socket_mode_and_stale_file() {
    let path = socket_path("mode.sock");
    let path_str = path.to_str().unwrap();
    let first = bind_unix_socket(path_str, 0o600, 128).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    drop(first);
    // The socket file left behind is replaced, with the new mode.
    let second = bind_unix_socket(path_str, 0o640, 128).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    UnixStream::connect(&path).unwrap();
    drop(second);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_socket_will_not_replace_a_regular_file() {
    let path = socket_path("regular");
    std::fs::write(&path, b"keep me").unwrap();
    let err = bind_unix_socket(path.to_str().unwrap(), 0o600, 128).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_socket_abstract_namespace() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("tornado-netutil-test-{}", std::process::id());
    let listener = bind_unix_socket(&format!("\0{name}"), 0o600, 128).unwrap();
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    UnixStream::connect_addr(&addr).unwrap();
    let (_conn, _) = listener.accept().unwrap();
}

// add_accept_handler

#[test]
fn accept_handler_takes_at_most_a_backlog_per_turn() {
    // 300 connections wait in the backlog when the handler starts. It accepts 128 of them
    // per turn of the loop, so a ticker that runs once per turn sees them arrive in batches
    // of at most 128 (Tornado: "so that a flood cannot starve the loop").
    const N: usize = 300;
    gen_test(|| async {
        let listener = BindOptions::new()
            .address("127.0.0.1")
            .backlog(1024)
            .bind(0)
            .unwrap()
            .remove(0);
        let addr = listener.local_addr().unwrap();
        let clients: Vec<TcpStream> = (0..N).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let tick = Rc::new(Cell::new(0u32));
        let t = tick.clone();
        let ticking = Rc::new(Cell::new(true));
        let go = ticking.clone();
        fn ticker(t: Rc<Cell<u32>>, go: Rc<Cell<bool>>) {
            if go.get() {
                t.set(t.get() + 1);
                IoLoop::current().add_callback(move || ticker(t, go));
            }
        }
        ticker(t, go);
        let batches: Rc<RefCell<Vec<(u32, usize)>>> = Rc::default();
        let b = batches.clone();
        let accepted = Rc::new(Cell::new(0usize));
        let a = accepted.clone();
        let handle = add_accept_handler(listener, move |conn| {
            assert!(matches!(conn, Connection::Tcp(..)));
            a.set(a.get() + 1);
            let mut b = b.borrow_mut();
            match b.last_mut() {
                Some((at, n)) if *at == tick.get() => *n += 1,
                _ => b.push((tick.get(), 1)),
            }
        })
        .unwrap();
        while accepted.get() < N {
            moment().await;
        }
        ticking.set(false);
        handle.remove();
        let sizes: Vec<usize> = batches.borrow().iter().map(|(_, n)| *n).collect();
        assert_eq!(sizes.iter().sum::<usize>(), N);
        assert!(sizes.iter().all(|n| *n <= 128), "batches: {sizes:?}");
        assert!(sizes.len() >= 3, "batches: {sizes:?}");
        drop(clients);
    });
}

#[test]
fn accept_handler_remove_closes_the_socket() {
    gen_test(|| async {
        let listener = bind_sockets(0, Some("127.0.0.1")).unwrap().remove(0);
        let addr = listener.local_addr().unwrap();
        let handle = add_accept_handler(listener, |_| {}).unwrap();
        assert_eq!(handle.local_addr(), Some(addr));
        handle.remove();
        moment().await;
        let err = TcpStream::connect(addr).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    });
}
