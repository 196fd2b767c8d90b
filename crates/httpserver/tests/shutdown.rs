//! Graceful shutdown (`HTTPServer.close_all_connections` after `stop`), on one loop and on
//! every loop of `start(n)`, with the deadline after which busy connections are closed.

mod support;

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use support::{connect, gen_test, read_response};
use tornado_httpserver::{HttpServer, HttpServerRequest};
use tornado_ioloop::IoLoop;

#[test]
fn graceful_shutdown() {
    // stop + close_all_connections: idle connections close at once, a busy one finishes.
    gen_test(|| async {
        let server = Rc::new(HttpServer::from_fn(|req: HttpServerRequest| async move {
            if req.path() == "/slow" {
                tornado_gen::sleep(Duration::from_millis(100)).await;
            }
            let _ = req.respond(StatusCode::OK, HeaderMap::new(), b"done");
        }));
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let idle = connect(addr).await;
        let busy = connect(addr).await;
        busy.write(&b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
        tornado_gen::sleep(Duration::from_millis(20)).await;
        assert_eq!(server.connection_count(), 2);
        server.stop();
        let s = server.clone();
        let closing = IoLoop::current()
            .spawn(async move { s.close_all_connections(Duration::from_secs(5)).await });
        assert!(idle.read_until_close().await.unwrap().is_empty());
        let r = read_response(&busy, false).await.unwrap();
        assert_eq!(&r.body[..], b"done");
        assert_eq!(
            r.header("connection"),
            Some("close"),
            "the last response says it closes"
        );
        closing.await.unwrap();
        assert_eq!(server.connection_count(), 0);
        assert!(tokio_free_connect_refused(addr).await);
    });
}

async fn tokio_free_connect_refused(addr: SocketAddr) -> bool {
    tornado_iostream::IoStream::connect(addr).await.is_err()
}

#[test]
fn graceful_shutdown_deadline() {
    // A request still running at the deadline is cut off.
    gen_test(|| async {
        let server = Rc::new(HttpServer::from_fn(|req: HttpServerRequest| async move {
            tornado_gen::sleep(Duration::from_secs(30)).await;
            let _ = req.respond(StatusCode::OK, HeaderMap::new(), b"late");
        }));
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let busy = connect(addr).await;
        busy.write(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
        tornado_gen::sleep(Duration::from_millis(20)).await;
        server.stop();
        server
            .close_all_connections(Duration::from_millis(50))
            .await;
        assert!(busy.read_until_close().await.unwrap().is_empty());
    });
}

#[test]
fn graceful_shutdown_of_every_thread() {
    // bind + start(3): shutdown closes the idle connections of all three loops and lets
    // the busy ones finish their answer, whichever loop accepted them.
    gen_test(|| async {
        let server = Rc::new(HttpServer::from_fn(|req: HttpServerRequest| async move {
            if req.path() == "/slow" {
                tornado_gen::sleep(Duration::from_millis(100)).await;
            }
            let _ = req.respond(StatusCode::OK, HeaderMap::new(), b"done");
        }));
        let port = server
            .bind(
                0,
                tornado_tcpserver::BindOptions::new().address("127.0.0.1"),
            )
            .unwrap()[0]
            .port();
        server.start(3).unwrap();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut idle = Vec::new();
        let mut busy = Vec::new();
        for _ in 0..6 {
            // A first answer on each, so that every connection has been accepted by some
            // loop before the shutdown starts.
            let c = connect(addr).await;
            c.write(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
            assert_eq!(&read_response(&c, false).await.unwrap().body[..], b"done");
            idle.push(c);
            let c = connect(addr).await;
            c.write(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
            read_response(&c, false).await.unwrap();
            c.write(&b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"[..]);
            busy.push(c);
        }
        tornado_gen::sleep(Duration::from_millis(20)).await;
        let s = server.clone();
        let closing =
            IoLoop::current().spawn(async move { s.shutdown(Duration::from_secs(5)).await });
        for c in &idle {
            assert!(c.read_until_close().await.unwrap().is_empty());
        }
        for c in &busy {
            let r = read_response(c, false).await.unwrap();
            assert_eq!(&r.body[..], b"done");
            assert!(c.read_until_close().await.unwrap().is_empty());
        }
        closing.await.unwrap();
        assert!(tokio_free_connect_refused(addr).await);
        server.join_threads();
    });
}
