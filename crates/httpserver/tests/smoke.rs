use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use tornado_httpserver::{HttpServer, HttpServerRequest};
use tornado_ioloop::IoLoop;

#[test]
fn smoke() {
    let io_loop = IoLoop::new();
    io_loop.run_sync(|| async {
        let server = HttpServer::from_fn(|req: HttpServerRequest| async move {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_static("text/plain"));
            let body = format!("{} {}", req.method(), req.path());
            req.respond(StatusCode::OK, h, body.as_bytes()).unwrap();
        });
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let out = IoLoop::current().run_in_executor(None, move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).unwrap();
            String::from_utf8(buf).unwrap()
        }).take().await.unwrap();
        println!("{out}");
        assert!(out.contains("GET /a") && out.contains("GET /b"));
    }, Some(Duration::from_secs(10))).unwrap();
}
