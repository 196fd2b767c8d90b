//! Test helpers: an application on a fresh loop, and a raw-socket client.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderMap;
use tornado_httpserver::HttpServer;
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;
use tornado_web::Application;

/// Runs `f` on a fresh loop, failing after 20 seconds.
pub(crate) fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(20)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// Serves `app` on a fresh loop and runs `f` with its address. The access and general logs
/// are expected but not required; a test's own expectations, made later, see their records
/// first.
pub(crate) fn with_served<F, Fut>(app: Application, f: F)
where
    F: FnOnce(SocketAddr) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    gen_test(|| async move {
        let (_server, addr) = serve(&app);
        let _access = tornado_log::ExpectLog::new("access", "").required(false);
        let _general = tornado_log::ExpectLog::new("general", "").required(false);
        f(addr).await;
    });
}

/// Serves `app` on a loopback port of the current loop.
pub(crate) fn serve(app: &Application) -> (HttpServer<Application>, SocketAddr) {
    let server = app
        .listen_with(0, Some("127.0.0.1"), Default::default())
        .expect("listen");
    let addr = server.local_addrs()[0];
    (server, addr)
}

/// A response as a raw client saw it.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Reads one response (Content-Length, chunked, or until close).
pub(crate) async fn read_response(stream: &IoStream, head_only: bool) -> Response {
    let head = stream
        .read_until(b"\r\n\r\n", Some(1 << 20))
        .await
        .expect("response head");
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap().to_owned();
    let mut parts = status_line.splitn(3, ' ');
    parts.next();
    let status: u16 = parts.next().unwrap().parse().unwrap();
    let reason = parts.next().unwrap_or("").to_owned();
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(':').unwrap();
        headers.append(
            http::HeaderName::from_bytes(n.trim().as_bytes()).unwrap(),
            http::HeaderValue::from_str(v.trim()).unwrap(),
        );
    }
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    let body = if no_body {
        Vec::new()
    } else if let Some(n) = headers.get("content-length") {
        let n: usize = n.to_str().unwrap().parse().unwrap();
        stream.read_bytes(n, false).await.unwrap().to_vec()
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        let mut body = Vec::new();
        loop {
            let line = stream.read_until(b"\r\n", Some(64)).await.unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&line[..line.len() - 2]).unwrap(), 16)
                    .unwrap();
            let data = stream.read_bytes(size + 2, false).await.unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&data[..size]);
        }
        body
    } else {
        stream.read_until_close().await.unwrap().to_vec()
    };
    Response {
        status,
        reason,
        headers,
        body,
    }
}

/// Sends `request` on a new connection and reads one response.
pub(crate) async fn fetch_raw(addr: SocketAddr, request: &str) -> Response {
    let stream = IoStream::connect(addr).await.expect("connect");
    stream.write(request.as_bytes().to_vec());
    let head_only = request.starts_with("HEAD ");
    read_response(&stream, head_only).await
}

/// `GET path` with extra header lines (each ending in `\r\n`).
pub(crate) async fn get(addr: SocketAddr, path: &str, extra: &str) -> Response {
    fetch_raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n"),
    )
    .await
}

/// A request with a body.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
    body: &str,
) -> Response {
    fetch_raw(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        ),
    )
    .await
}
