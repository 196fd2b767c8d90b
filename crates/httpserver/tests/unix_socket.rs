//! Port of `UnixSocketTest` of `tornado/test/httpserver_test.py`: `test_unix_socket` and
//! `test_unix_socket_bad_request`, for a socket file (`UnixSocketTestFile`, module `file`) and
//! for Linux's abstract namespace (`UnixSocketTestAbstract`, module `abstract_namespace`).
//! All are ported.

mod support;

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use http::StatusCode;
use http::header::HeaderMap;
use support::{gen_test, read_response};
use tornado_httpserver::{HttpServer, HttpServerRequest};
use tornado_iostream::IoStream;
use tornado_log::{ExpectLog, GENERAL};

/// `HelloWorldRequestHandler` at `/hello`; `/ip` answers the client's IP (`0.0.0.0` for a
/// Unix socket, as in Tornado).
async fn app(req: HttpServerRequest) {
    let body = match req.path() {
        "/hello" => "Hello world".to_owned(),
        "/ip" => req.remote_ip().to_string(),
        _ => String::new(),
    };
    let _ = req.respond(StatusCode::OK, HeaderMap::new(), body.as_bytes());
}

/// Where the server listens.
#[derive(Clone)]
enum Address {
    File(PathBuf),
    Abstract(String),
}

impl Address {
    async fn connect(&self) -> IoStream {
        let stream = match self {
            Address::File(path) => std::os::unix::net::UnixStream::connect(path).unwrap(),
            #[cfg(target_os = "linux")]
            Address::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr =
                    std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
                std::os::unix::net::UnixStream::connect_addr(&addr).unwrap()
            }
            #[cfg(not(target_os = "linux"))]
            Address::Abstract(_) => unreachable!("the abstract namespace is Linux's"),
        };
        IoStream::from_unix(stream).unwrap()
    }
}

/// Runs `test` against a server on `address` (setUp), then closes its connections and stops
/// it (tearDown).
fn with_server<Fut: std::future::Future<Output = ()> + 'static>(
    address: Address,
    test: impl FnOnce(Address) -> Fut + 'static,
) {
    gen_test(|| async move {
        let bind_path = match &address {
            Address::File(path) => path.to_str().unwrap().to_owned(),
            Address::Abstract(name) => format!("\0{name}"),
        };
        let server = Rc::new(HttpServer::from_fn(app));
        let listener = tornado_tcpserver::bind_unix_socket(&bind_path, 0o600, 128).unwrap();
        server.add_sockets([listener]).unwrap();
        test(address).await;
        server.close_all_connections(Duration::from_secs(5)).await;
        server.stop();
    });
}

async fn unix_socket(address: Address) {
    let stream = address.connect().await;
    stream.write(&b"GET /hello HTTP/1.0\r\n\r\n"[..]);
    let r = read_response(&stream, false).await.unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    assert_eq!(&r.body[..], b"Hello world");
    let stream = address.connect().await;
    stream.write(&b"GET /ip HTTP/1.0\r\n\r\n"[..]);
    let r = read_response(&stream, false).await.unwrap();
    assert_eq!(&r.body[..], b"0.0.0.0");
}

async fn unix_socket_bad_request(address: Address) {
    // A Unix socket has no peer address: the log says so.
    let response = {
        let _e = ExpectLog::new(GENERAL, "Malformed HTTP message from unix socket")
            .level(log::Level::Info);
        let stream = address.connect().await;
        stream.write(&b"garbage\r\n\r\n"[..]);
        stream.read_until_close().await.unwrap()
    };
    assert_eq!(&response[..], b"HTTP/1.1 400 Bad Request\r\n\r\n");
}

/// A fresh directory for a socket file (`tempfile.mkdtemp`), removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tornado-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `UnixSocketTestFile`.
mod file {
    use super::*;

    #[test]
    fn test_unix_socket() {
        let dir = TempDir::new("unix-ok");
        with_server(Address::File(dir.0.join("test.sock")), unix_socket);
    }

    #[test]
    fn test_unix_socket_bad_request() {
        let dir = TempDir::new("unix-bad");
        with_server(
            Address::File(dir.0.join("test.sock")),
            unix_socket_bad_request,
        );
    }
}

/// `UnixSocketTestAbstract` (Linux only, as in Tornado).
#[cfg(target_os = "linux")]
mod abstract_namespace {
    use super::*;

    /// A name no other test uses (Tornado: a random UUID).
    fn name(test: &str) -> String {
        format!("tornado-rs-{test}-{}", std::process::id())
    }

    #[test]
    fn test_unix_socket() {
        with_server(Address::Abstract(name("ok")), unix_socket);
    }

    #[test]
    fn test_unix_socket_bad_request() {
        with_server(Address::Abstract(name("bad")), unix_socket_bad_request);
    }
}
