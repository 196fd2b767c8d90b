//! `HttpClientConnection` (the client side of `tornado.http1connection`) over a socket pair:
//! informational responses reach `informational_received`, gzip bodies are decoded with
//! `decompress`, and `take_error` says why a read failed. Not a port: Tornado tests these
//! through its HTTP client (`crates/httpclient/tests` does too).

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use tornado_httpserver::http1::{HttpClientConnection, HttpConnectionParameters, ResponseOutcome};
use tornado_httpserver::httputil::{
    HttpInputError, RequestStartLine, RequestTarget, ResponseStartLine,
};
use tornado_httpserver::{HttpMessageDelegate, StartLine};
use tornado_ioloop::IoLoop;
use tornado_iostream::IoStream;

#[derive(Default)]
struct Recorder {
    informational: Vec<u16>,
    code: Option<StatusCode>,
    headers: HeaderMap,
    body: Vec<u8>,
    closed: bool,
}

impl HttpMessageDelegate for Recorder {
    async fn informational_received(
        &mut self,
        line: &ResponseStartLine,
        _headers: &HeaderMap,
    ) -> Result<(), HttpInputError> {
        self.informational.push(line.code.as_u16());
        Ok(())
    }

    async fn headers_received(
        &mut self,
        line: StartLine,
        headers: HeaderMap,
    ) -> Result<(), HttpInputError> {
        if let StartLine::Response(r) = line {
            self.code = Some(r.code);
        }
        self.headers = headers;
        Ok(())
    }

    async fn data_received(&mut self, chunk: Bytes) -> Result<(), HttpInputError> {
        self.body.extend_from_slice(&chunk);
        Ok(())
    }

    async fn finish(&mut self) {}

    fn on_connection_close(&mut self) {
        self.closed = true;
    }
}

/// Sends a GET on a fresh pair, has the peer answer `reply`, and reads the response.
fn exchange(
    params: HttpConnectionParameters,
    reply: Vec<u8>,
) -> (ResponseOutcome, Recorder, Option<std::io::Error>) {
    IoLoop::new()
        .run_sync(
            move || async move {
                let (client, server) = IoStream::pair().unwrap();
                let conn = HttpClientConnection::new(client, params);
                let line = RequestStartLine {
                    method: Method::GET,
                    path: RequestTarget::new("/"),
                    version: Version::HTTP_11,
                };
                conn.write_headers(&line, HeaderMap::new(), None).unwrap();
                drop(conn.finish().unwrap());
                server.read_until(b"\r\n\r\n", Some(4096)).await.unwrap();
                drop(server.write(reply));
                let mut rec = Recorder::default();
                let outcome = conn.read_response(&mut rec).await;
                (outcome, rec, conn.take_error())
            },
            Some(Duration::from_secs(20)),
        )
        .unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn informational_responses_reach_the_delegate() {
    let reply = [
        &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]
    .concat();
    let (outcome, rec, _) = exchange(HttpConnectionParameters::new(), reply);
    assert_eq!(outcome, ResponseOutcome::Reusable);
    assert_eq!(rec.informational, [100, 103]);
    assert_eq!(rec.code, Some(StatusCode::OK));
    assert_eq!(rec.body, b"ok");
}

#[test]
fn gzip_responses_are_decoded_with_decompress() {
    let body = b"hello gzip ".repeat(1000);
    let z = gzip(&body);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    reply.extend_from_slice(&z);
    let (outcome, rec, _) = exchange(
        HttpConnectionParameters::new().decompress(true),
        reply.clone(),
    );
    assert_eq!(outcome, ResponseOutcome::Reusable);
    assert_eq!(rec.body, body);
    assert!(rec.headers.get("content-encoding").is_none());
    assert_eq!(rec.headers["x-consumed-content-encoding"], "gzip");
    // Without `decompress` the body is left alone.
    let (_, rec, _) = exchange(HttpConnectionParameters::new(), reply);
    assert_eq!(rec.body, z);
    assert_eq!(rec.headers["content-encoding"], "gzip");
}

#[test]
fn bad_gzip_and_decoded_size_fail_as_malformed() {
    let mut z = gzip(b"hello");
    z.extend_from_slice(b"garbage");
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    reply.extend_from_slice(&z);
    let (outcome, rec, error) = exchange(HttpConnectionParameters::new().decompress(true), reply);
    assert_eq!(outcome, ResponseOutcome::Failed);
    assert!(rec.closed);
    let error = error.unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(tornado_httpserver::httputil::is_http_input_error(&error));
    // A small body that expands past max_body_size.
    let z = gzip(&[0u8; 100_000]);
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        z.len()
    )
    .into_bytes();
    reply.extend_from_slice(&z);
    let params = HttpConnectionParameters::new()
        .decompress(true)
        .max_body_size(10_000);
    let (outcome, _, error) = exchange(params, reply);
    assert_eq!(outcome, ResponseOutcome::Failed);
    assert!(
        error
            .unwrap()
            .to_string()
            .contains("decompressed body too large")
    );
}
