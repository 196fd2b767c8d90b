//! Properties of the HTTP server on arbitrary input (the property tests; Tornado's
//! `property_test.py` checks its header and start-line parsers the same way):
//!
//! * any byte string sent as a request gets a response or a close, never a panic or a hang,
//!   and the server goes on serving;
//! * a request split at every byte boundary is read exactly as when it arrives whole.
//!
//! Inputs come from a small seeded generator (no dependency), so that a failure names the
//! case that produced it and reruns the same.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use support::gen_test;
use tornado_httpserver::{HttpServer, HttpServerRequest};
use tornado_ioloop::IoLoop;

/// xorshift64*: enough randomness for inputs, reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The application: echoes what it read, in a canonical form.
async fn echo(req: HttpServerRequest) {
    let mut names: Vec<String> = req
        .headers()
        .iter()
        .map(|(n, v)| format!("{n}={}", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    names.sort();
    let body = format!(
        "{} {} {:?}\n{}\n{}",
        req.method(),
        req.uri(),
        req.version(),
        names.join("\n"),
        String::from_utf8_lossy(req.body())
    );
    let _ = req.respond(StatusCode::OK, HeaderMap::new(), body.as_bytes());
}

/// Sends `pieces` (pausing between them so that the server reads them separately), shuts
/// the sending side, and reads until the server closes.
fn exchange(addr: SocketAddr, pieces: &[&[u8]]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        if s.write_all(p).is_err() {
            break;
        }
    }
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => out,
        // A reset after an early answer still leaves the answer read so far.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!("no response and no close: {e}"),
    }
}

/// Runs `client` on a worker thread while the server runs on the loop.
async fn on_thread<T: Send + 'static>(client: impl FnOnce() -> T + Send + 'static) -> T {
    IoLoop::current()
        .run_in_executor(None, client)
        .take()
        .await
        .expect("client thread")
}

const VALID: &[u8] =
    b"POST /a/b?c=d&e=%20 HTTP/1.1\r\nHost: example.com\r\nX-Thing: 1, 2\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED: &[u8] = b"PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";

/// A random input: noise, or a valid request with a few bytes changed, dropped or added.
fn input(rng: &mut Rng) -> Vec<u8> {
    const ALPHABET: &[u8] = b"GET POST HTTP/1.1\r\n:Host: Content-Length: Transfer-Encoding: chunked 0123456789abcdef ;,\t\x00\x7f\xff";
    if rng.below(3) == 0 {
        let len = rng.below(200);
        return (0..len)
            .map(|_| {
                if rng.below(2) == 0 {
                    ALPHABET[rng.below(ALPHABET.len())]
                } else {
                    rng.next() as u8
                }
            })
            .collect();
    }
    let mut v = if rng.below(2) == 0 { VALID } else { CHUNKED }.to_vec();
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(v.len() + 1);
        match rng.below(3) {
            0 if i < v.len() => v[i] = rng.next() as u8,
            1 if i < v.len() => {
                v.remove(i);
            }
            _ => v.insert(i, ALPHABET[rng.below(ALPHABET.len())]),
        }
    }
    v
}

#[test]
fn any_input_gets_a_response_or_a_close() {
    gen_test(|| async {
        let server = HttpServer::from_fn(echo);
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        let _quiet = tornado_log::ExpectLog::new("general", "").required(false);
        let results = on_thread(move || {
            let mut rng = Rng(0x5EED_1234_ABCD_0001);
            (0..150)
                .map(|case| {
                    let data = input(&mut rng);
                    (case, data.clone(), exchange(addr, &[&data]))
                })
                .collect::<Vec<_>>()
        })
        .await;
        for (case, data, response) in results {
            assert!(
                response.is_empty() || response.starts_with(b"HTTP/1.1 "),
                "case {case}: {:?} got {:?}",
                String::from_utf8_lossy(&data),
                String::from_utf8_lossy(&response)
            );
        }
        // Still serving.
        let ok = on_thread(move || exchange(addr, &[VALID])).await;
        assert!(ok.starts_with(b"HTTP/1.1 200 "));
    });
}

#[test]
fn a_request_split_anywhere_reads_the_same() {
    gen_test(|| async {
        let server = HttpServer::from_fn(echo);
        let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
        for request in [VALID, CHUNKED] {
            let whole = on_thread(move || exchange(addr, &[request])).await;
            assert!(
                whole.starts_with(b"HTTP/1.1 200 "),
                "{:?}",
                String::from_utf8_lossy(&whole)
            );
            let whole_body = body_of(&whole);
            let splits = on_thread(move || {
                (1..request.len())
                    .map(|i| (i, exchange(addr, &[&request[..i], &request[i..]])))
                    .collect::<Vec<_>>()
            })
            .await;
            for (i, response) in splits {
                assert_eq!(
                    body_of(&response),
                    whole_body,
                    "split at byte {i} of {:?}",
                    String::from_utf8_lossy(request)
                );
            }
        }
    });
}

/// The body of a response (what the application echoed).
fn body_of(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}
