//! Beyond Tornado: the keep-alive pool and HTTP proxies (Tornado's simple client has
//! neither; see `docs/DIFFERENCES.md`). Nothing here is a port.
//!
//! Pool: reuse across sequential and concurrent requests, `keep_alive(false)`, responses
//! that forbid reuse (`Connection: close`, HTTP/1.0, a body read to the close, a failed
//! read), the idle timeout, a server closing idle connections, the per-host limit, and the
//! one retry of an idempotent request on a pooled connection found dead. Proxies: a plain
//! request in absolute form with `Proxy-Authorization`, an `https` request through a
//! `CONNECT` tunnel, and a proxy refusing the tunnel.

mod support;

use std::cell::RefCell;
use std::net::TcpListener;
use std::rc::Rc;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use support::{TestServer, gen_test, get};
use tornado_gen::sleep;
use tornado_httpclient::{AsyncHttpClient, ClientSettings};
use tornado_httpserver::{HttpServer, HttpServerRequest, HttpServerSettings};
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;
use tornado_tcpserver::{Connection, TcpClient, add_accept_handler};

/// Waits (polling the loop) until `cond` holds, for at most 20 s.
async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 20 s");
}

#[test]
fn sequential_requests_share_one_connection() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        for _ in 0..20 {
            let r = c.fetch(s.url("/hello"), true).await.unwrap();
            assert_eq!(&r.body()[..], b"Hello world!");
        }
        assert_eq!(c.connections_opened(), 1);
        assert_eq!(c.idle_connections(), 1);
        // Redirects, POSTs, chunked and gzip responses keep it too.
        c.fetch(s.url("/countdown/3"), true).await.unwrap();
        c.fetch(
            get(s.url("/echo_post")).method(Method::POST).body("x"),
            true,
        )
        .await
        .unwrap();
        c.fetch(s.url("/chunk"), true).await.unwrap();
        c.fetch(s.url("/gzip/concatenated"), true).await.unwrap();
        assert_eq!(c.connections_opened(), 1);
        // The first response reports its connect time, the later ones none.
        let r = c.fetch(s.url("/hello"), true).await.unwrap();
        assert!(r.time_info().connect.is_none());
        c.close();
        assert_eq!(c.idle_connections(), 0);
    });
}

#[test]
fn concurrent_requests_reuse_up_to_max_clients() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().max_clients(4));
        for _ in 0..5 {
            let fs: Vec<_> = (0..16).map(|_| c.fetch(s.url("/hello"), true)).collect();
            for f in fs {
                f.await.unwrap();
            }
        }
        // Never more connections than requests in flight at once.
        assert!(c.connections_opened() <= 4, "{}", c.connections_opened());
        c.close();
    });
}

#[test]
fn keep_alive_off_is_tornados_behaviour() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().keep_alive(false));
        for _ in 0..3 {
            let r = c.fetch(s.url("/echo_headers"), true).await.unwrap();
            assert!(r.text().contains("connection: close"), "{}", r.text());
        }
        assert_eq!(c.connections_opened(), 3);
        assert_eq!(c.idle_connections(), 0);
        c.close();
    });
}

#[test]
fn responses_that_forbid_reuse() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        // HTTP/1.0 with a Content-Length, then a body read to the close.
        c.fetch(s.url("/content_length?value=2"), true)
            .await
            .unwrap();
        c.fetch(s.url("/no_content_length"), true).await.unwrap();
        // The request asked for a close.
        c.fetch(get(s.url("/hello")).header("Connection", "close"), true)
            .await
            .unwrap();
        assert_eq!(c.connections_opened(), 3);
        assert_eq!(c.idle_connections(), 0);
        // A response refused half-way is not reused either.
        let small = AsyncHttpClient::with_settings(ClientSettings::new().max_body_size(1024));
        small.fetch(s.url("/hello"), true).await.unwrap();
        assert!(small.fetch(s.url("/large"), true).await.is_err());
        small.fetch(s.url("/hello"), true).await.unwrap();
        assert_eq!(small.connections_opened(), 2);
        small.close();
        c.close();
    });
}

#[test]
fn idle_timeout_closes_pooled_connections() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(
            ClientSettings::new().pool_idle_timeout(Duration::from_millis(50)),
        );
        c.fetch(s.url("/hello"), true).await.unwrap();
        eventually(|| c.idle_connections() == 0).await;
        eventually(|| s.server.connection_count() == 0).await;
        c.fetch(s.url("/hello"), true).await.unwrap();
        assert_eq!(c.connections_opened(), 2);
        c.close();
    });
}

#[test]
fn server_closing_an_idle_connection_is_noticed() {
    gen_test(|| async {
        let server = HttpServer::from_fn_with(
            |req: HttpServerRequest| async move {
                let _ = req.respond(StatusCode::OK, HeaderMap::new(), b"ok");
            },
            HttpServerSettings::new().idle_connection_timeout(Duration::from_millis(50)),
        );
        let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        let url = format!("http://127.0.0.1:{port}/");
        c.fetch(url.as_str(), true).await.unwrap();
        assert_eq!(c.idle_connections(), 1);
        // The server's idle timeout closes it; the pool sees the close and drops it.
        eventually(|| c.idle_connections() == 0).await;
        c.fetch(url.as_str(), true).await.unwrap();
        assert_eq!(c.connections_opened(), 2);
        server.stop();
        c.close();
    });
}

#[test]
fn per_host_idle_limit() {
    gen_test(|| async {
        let s = TestServer::start();
        let c = AsyncHttpClient::with_settings(ClientSettings::new().pool_max_idle_per_host(2));
        let fs: Vec<_> = (0..5).map(|_| c.fetch(s.url("/trigger"), true)).collect();
        s.state.wait_triggers(5).await;
        for _ in 0..5 {
            s.state.pop_trigger();
        }
        for f in fs {
            f.await.unwrap();
        }
        assert_eq!(c.connections_opened(), 5);
        assert_eq!(c.idle_connections(), 2);
        // Another origin has a share of its own.
        c.fetch(s.url2("/hello"), true).await.unwrap();
        assert_eq!(c.idle_connections(), 3);
        c.close();
    });
}

/// A server that answers the first request of each connection, keeping it open, then
/// closes it as soon as a second request arrives: a pooled connection that dies on reuse.
fn flaky_server() -> (u16, tornado_tcpserver::AcceptHandle, Rc<RefCell<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Rc::new(RefCell::new(0));
    let a = accepted.clone();
    let handle = add_accept_handler(listener, move |conn| {
        let Connection::Tcp(conn, _) = conn else {
            return;
        };
        *a.borrow_mut() += 1;
        let stream = IoStream::from_tcp(conn).unwrap();
        IoLoop::current().spawn_callback(async move {
            if stream.read_until(b"\r\n\r\n", Some(65536)).await.is_ok() {
                let _ = stream
                    .write(&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..])
                    .await;
                let _ = stream.read_until(b"\r\n\r\n", Some(65536)).await;
            }
            stream.close(None);
        });
    })
    .unwrap();
    (port, handle, accepted)
}

#[test]
fn dead_pooled_connection_is_retried_once_for_idempotent_requests() {
    gen_test(|| async {
        let (port, handle, accepted) = flaky_server();
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        let url = format!("http://127.0.0.1:{port}/");
        c.fetch(url.as_str(), true).await.unwrap();
        // Reused, closed by the server: retried on a new connection.
        let r = c.fetch(url.as_str(), true).await.unwrap();
        assert_eq!(&r.body()[..], b"ok");
        assert_eq!(c.connections_opened(), 2);
        assert_eq!(*accepted.borrow(), 2);
        // A POST is not retried: the server may have acted on it.
        let e = c
            .fetch(get(url.as_str()).method(Method::POST).body("x"), true)
            .await
            .unwrap_err();
        assert!(e.is_stream_closed() || e.is_io(), "{e:?}");
        handle.remove();
        c.close();
    });
}

/// Copies `from` to `to` until either closes.
async fn pipe(from: IoStream, to: IoStream) {
    while let Ok(b) = from.read_bytes(64 * 1024, true).await {
        if to.write(b).await.is_err() {
            break;
        }
    }
    to.close(None);
    from.close(None);
}

/// A `CONNECT` proxy: checks the credentials, connects to the target, pipes.
fn connect_proxy(seen: Rc<RefCell<Vec<String>>>) -> (u16, tornado_tcpserver::AcceptHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = add_accept_handler(listener, move |conn| {
        let Connection::Tcp(conn, _) = conn else {
            return;
        };
        let stream = IoStream::from_tcp(conn).unwrap();
        let seen = seen.clone();
        IoLoop::current().spawn_callback(async move {
            let Ok(head) = stream.read_until(b"\r\n\r\n", Some(65536)).await else {
                return;
            };
            let head = String::from_utf8_lossy(&head).into_owned();
            seen.borrow_mut().push(head.clone());
            let target = head.split(' ').nth(1).unwrap_or("").to_owned();
            if !head.starts_with("CONNECT ")
                || !head.contains("Proxy-Authorization: Basic dXNlcjpwdw==\r\n")
            {
                let _ = stream
                    .write(
                        &b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
                            [..],
                    )
                    .await;
                stream.close(None);
                return;
            }
            let (host, port) = target.rsplit_once(':').unwrap();
            let upstream = TcpClient::new()
                .connect(host, port.parse().unwrap())
                .await
                .unwrap();
            let _ = stream
                .write(&b"HTTP/1.1 200 Connection established\r\n\r\n"[..])
                .await;
            IoLoop::current().spawn_callback(pipe(stream.clone(), upstream.clone()));
            pipe(upstream, stream).await;
        });
    })
    .unwrap();
    (port, handle)
}

type Seen = (String, Option<String>);

#[test]
fn http_request_through_a_proxy_uses_absolute_form() {
    gen_test(|| async {
        let s = TestServer::start();
        // (request target, Proxy-Authorization) of each request the proxy saw.
        let seen: Rc<RefCell<Vec<Seen>>> = Rc::default();
        let k = seen.clone();
        // The proxy: our own server, forwarding with our own client.
        let proxy = HttpServer::from_fn(move |req: HttpServerRequest| {
            let k = k.clone();
            async move {
                let auth = req
                    .headers()
                    .get("proxy-authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                k.borrow_mut().push((req.uri().to_owned(), auth));
                let upstream = AsyncHttpClient::new();
                let r = upstream.fetch(req.uri(), false).await.unwrap();
                let _ = req.respond(
                    StatusCode::from_u16(r.code()).unwrap(),
                    HeaderMap::new(),
                    r.body(),
                );
            }
        });
        let proxy_port = proxy.listen(0, Some("127.0.0.1")).unwrap()[0].port();
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        let req = get(s.url("/hello?name=proxy"))
            .proxy_host("127.0.0.1")
            .proxy_port(proxy_port)
            .proxy_username("user")
            .proxy_password("pw");
        let r = c.fetch(req, true).await.unwrap();
        assert_eq!(&r.body()[..], b"Hello proxy!");
        let seen = seen.borrow();
        assert_eq!(seen[0].0, s.url("/hello?name=proxy"));
        assert_eq!(seen[0].1.as_deref(), Some("Basic dXNlcjpwdw=="));
        proxy.stop();
        c.close();
    });
}

#[test]
fn https_request_through_a_connect_tunnel() {
    gen_test(|| async {
        let s = TestServer::start_tls();
        let seen: Rc<RefCell<Vec<String>>> = Rc::default();
        let (proxy_port, handle) = connect_proxy(seen.clone());
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        let through = |path: &str| {
            get(s.url(path))
                .validate_cert(false)
                .proxy_host("127.0.0.1")
                .proxy_port(proxy_port)
                .proxy_username("user")
                .proxy_password("pw")
        };
        let r = c.fetch(through("/hello"), true).await.unwrap();
        assert_eq!(&r.body()[..], b"Hello world!");
        // The tunnel is pooled like any connection.
        let r = c.fetch(through("/chunk"), true).await.unwrap();
        assert_eq!(&r.body()[..], b"asdfqwer");
        assert_eq!(c.connections_opened(), 1);
        assert!(
            seen.borrow()[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1\r\n", s.port))
        );
        // Without credentials the proxy refuses: an error, not a hang.
        let e = c
            .fetch(
                get(s.url("/hello"))
                    .validate_cert(false)
                    .proxy_host("127.0.0.1")
                    .proxy_port(proxy_port),
                true,
            )
            .await
            .unwrap_err();
        assert!(e.is_io(), "{e:?}");
        assert!(e.to_string().contains("407"), "{e}");
        handle.remove();
        c.close();
    });
}
