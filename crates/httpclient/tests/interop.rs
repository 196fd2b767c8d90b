//! Interoperability with real peers (not a port): this client against the real Python
//! Tornado 6.6.1 server, and curl against this workspace's `HttpServer` (the server the
//! client tests use, so a bug shared by both sides cannot hide).
//!
//! They need external tools: `TORNADO_PYTHON` must name a Python with `tornado==6.6.1`
//! installed (`.ci/run` makes one in `target/tornado-venv`), and `curl` must be on `PATH`.
//! Without them each test prints a `skipped: ...` line and passes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use tornado_httpclient::{AsyncHttpClient, ClientSettings, HttpRequest};
use tornado_httpserver::{HttpServer, HttpServerRequest};
use tornado_ioloop::IoLoop;

const TORNADO_APP: &str = r#"
import asyncio, sys
import tornado, tornado.web, tornado.httpserver, tornado.netutil
assert tornado.version == "6.6.1", tornado.version

class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello %s!" % self.get_argument("name", "world"))

class Big(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("".join("line %d\n" % i for i in range(20000)))

class Chunk(tornado.web.RequestHandler):
    async def get(self):
        self.write("asdf")
        await self.flush()
        self.write("qwer")

class Echo(tornado.web.RequestHandler):
    def post(self):
        self.write(self.request.body)
    put = post

class Redirect(tornado.web.RequestHandler):
    def get(self):
        self.redirect("/hello?name=redirected", status=int(self.get_argument("status", "302")))

class Peer(tornado.web.RequestHandler):
    def get(self):
        self.write(str(self.request.connection.stream.socket.getpeername()[1]))

async def main():
    app = tornado.web.Application([
        ("/hello", Hello), ("/big", Big), ("/chunk", Chunk), ("/echo", Echo),
        ("/redirect", Redirect), ("/peer", Peer),
    ], compress_response=True)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"#;

/// The real Tornado server, killed when dropped.
struct PythonServer {
    child: Child,
    port: u16,
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_server() -> Option<PythonServer> {
    let Some(python) = std::env::var_os("TORNADO_PYTHON").filter(|p| !p.is_empty()) else {
        println!("skipped: TORNADO_PYTHON is not set (a python with tornado==6.6.1)");
        return None;
    };
    let mut child = Command::new(&python)
        .args(["-c", TORNADO_APP])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run TORNADO_PYTHON={python:?}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("the Tornado server did not print its port: {line:?}")
    });
    Some(PythonServer { child, port })
}

fn run<Fut: std::future::Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop.run_sync(f, Some(Duration::from_secs(60))).unwrap();
    let _ = io_loop.close();
}

#[test]
fn client_against_tornado_server() {
    let Some(server) = python_server() else {
        return;
    };
    let base = format!("http://127.0.0.1:{}", server.port);
    run(move || async move {
        let c = AsyncHttpClient::with_settings(ClientSettings::new());
        let r = c
            .fetch(format!("{base}/hello?name=rust"), true)
            .await
            .unwrap();
        assert_eq!(&r.body()[..], b"Hello rust!");
        // Tornado gzips a large text body; the client decodes it and renames the header.
        let r = c.fetch(format!("{base}/big"), true).await.unwrap();
        assert_eq!(r.headers()["x-consumed-content-encoding"], "gzip");
        let want: String = (0..20000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(r.text(), want);
        // Flushed pieces arrive chunked.
        let r = c.fetch(format!("{base}/chunk"), true).await.unwrap();
        assert_eq!(&r.body()[..], b"asdfqwer");
        // Redirects, 303 and 307.
        for status in [302, 303, 307] {
            let r = c
                .fetch(format!("{base}/redirect?status={status}"), true)
                .await
                .unwrap();
            assert_eq!(&r.body()[..], b"Hello redirected!");
        }
        // A chunked upload from a body producer, and one after 100 Continue.
        let req = HttpRequest::new(format!("{base}/echo"))
            .method(Method::POST)
            .body_producer(|w| async move {
                w.write(b"streamed ").await?;
                w.write(b"body").await?;
                Ok(())
            });
        assert_eq!(
            &c.fetch(req, true).await.unwrap().body()[..],
            b"streamed body"
        );
        let req = HttpRequest::new(format!("{base}/echo"))
            .method(Method::PUT)
            .body(Bytes::from_static(b"after continue"))
            .expect_100_continue(true);
        assert_eq!(
            &c.fetch(req, true).await.unwrap().body()[..],
            b"after continue"
        );
        let e = c.fetch(format!("{base}/missing"), true).await.unwrap_err();
        assert_eq!(e.code(), 404);
        // Keep-alive: the server sees one client port for sequential requests.
        let a = c.fetch(format!("{base}/peer"), true).await.unwrap();
        let b = c.fetch(format!("{base}/peer"), true).await.unwrap();
        assert_eq!(a.body(), b.body());
        c.close();
    });
    drop(server);
}

fn curl() -> Option<()> {
    match Command::new("curl").arg("--version").output() {
        Ok(o) if o.status.success() => Some(()),
        _ => {
            println!("skipped: curl is not on PATH");
            None
        }
    }
}

/// Our server on a thread of its own (curl blocks): echoes method, path and body.
fn our_server() -> (
    u16,
    tornado_ioloop::IoLoopHandle,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let io_loop = IoLoop::new();
        let handle = io_loop.handle();
        let _ = io_loop.run_sync(
            move || async move {
                let server = HttpServer::from_fn(|req: HttpServerRequest| async move {
                    let mut body = format!("{} {}\n", req.method(), req.uri()).into_bytes();
                    body.extend_from_slice(req.body());
                    let _ = req.respond(StatusCode::OK, HeaderMap::new(), &body);
                });
                let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
                tx.send((port, handle)).unwrap();
                std::future::pending::<()>().await;
            },
            None,
        );
        let _ = io_loop.close();
    });
    let (port, handle) = rx.recv().unwrap();
    (port, handle, thread)
}

fn run_curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_against_our_server() {
    if curl().is_none() {
        return;
    }
    let (port, handle, thread) = our_server();
    let base = format!("http://127.0.0.1:{port}");
    let out = run_curl(&["-i", &format!("{base}/a?b=c")]);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nGET /a?b=c\n"), "{out}");
    // A form POST, a chunked upload, and Expect: 100-continue (curl sends it for bodies
    // over 1 MiB, here forced with the header).
    assert_eq!(
        run_curl(&["-d", "x=1", &format!("{base}/p")]),
        "POST /p\nx=1"
    );
    assert_eq!(
        run_curl(&[
            "-H",
            "Transfer-Encoding: chunked",
            "-d",
            "chunky",
            &format!("{base}/c")
        ]),
        "POST /c\nchunky"
    );
    assert_eq!(
        run_curl(&[
            "-H",
            "Expect: 100-continue",
            "-d",
            "cont",
            &format!("{base}/e")
        ]),
        "POST /e\ncont"
    );
    // Two URLs on one connection: curl reuses it (one connect).
    let out = run_curl(&[
        "-w",
        "%{num_connects}\n",
        &format!("{base}/1"),
        &format!("{base}/2"),
    ]);
    assert_eq!(out, "GET /1\n1\nGET /2\n0\n", "{out}");
    // HEAD gets headers only.
    let out = run_curl(&["-I", &format!("{base}/h")]);
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\n") && out.contains("Content-Length: 8\r\n"),
        "{out}"
    );
    handle.stop();
    thread.join().unwrap();
}
