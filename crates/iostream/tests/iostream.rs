//! Port of `tornado/test/iostream_test.py`: `TestReadWriteMixin` and `TestIOStreamMixin` over
//! TCP (as `TestIOStream` runs them), `TestPipeIOStream`, plus the cases the port adds: a
//! 1 GiB transfer through `read_bytes` with bounded memory and a peer that resets mid-write.
//! The TLS variants (`TestIOStreamSSL`, `TestIOStreamStartTLS`, `WaitForHandshakeTest`) are
//! in `tls.rs`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::Duration;

use tornado_concurrent::Future as Event;
use tornado_gen::{multi, sleep};
use tornado_ioloop::IoLoop;
use tornado_iostream::{
    IoStream, Regex, StreamSettings, is_buffer_full, is_stream_closed, is_unsatisfiable_read,
    stream_closed_error,
};
use tornado_log::{ExpectLog, GENERAL};

fn gen_test<Fut: Future<Output = ()> + 'static>(f: impl FnOnce() -> Fut) {
    let io_loop = IoLoop::new();
    io_loop
        .run_sync(f, Some(Duration::from_secs(30)))
        .expect("test finished in time");
    io_loop.close().unwrap();
}

/// `make_iostream_pair`: (server side, client side) of a loopback TCP connection.
async fn make_iostream_pair(settings: StreamSettings) -> (IoStream, IoStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = IoStream::start_connect(addr, None, settings).unwrap();
    // On loopback the kernel completes the handshake at once: accept does not block.
    let (conn, _) = listener.accept().unwrap();
    let server = IoStream::from_tcp_with(conn, settings).unwrap();
    client.wait_connected().await.unwrap();
    (server, client)
}

async fn pair() -> (IoStream, IoStream) {
    make_iostream_pair(StreamSettings::default()).await
}

/// An event set by a close callback.
fn close_event(stream: &IoStream) -> Event<()> {
    let closed = Event::new();
    let c = closed.clone();
    stream.set_close_callback(move || {
        let _ = c.set_result(());
    });
    closed
}

#[test]
fn test_write_zero_bytes() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        ws.write(&b""[..]).await.unwrap();
        ws.close(None);
        rs.close(None);
    });
}

#[test]
fn test_future_delayed_close_callback() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        ws.write(&b"12"[..]);
        let mut chunks = vec![rs.read_bytes(1, false).await.unwrap()];
        ws.close(None);
        chunks.push(rs.read_bytes(1, false).await.unwrap());
        assert_eq!(chunks, [&b"1"[..], &b"2"[..]]);
    });
}

#[test]
fn test_close_buffered_data() {
    // Data in the OS's socket buffer when the peer closes is still delivered.
    gen_test(|| async {
        let (rs, ws) = make_iostream_pair(StreamSettings::new().read_chunk_size(256)).await;
        ws.write(vec![b'A'; 512]);
        assert_eq!(rs.read_bytes(256, false).await.unwrap(), vec![b'A'; 256]);
        ws.close(None);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(rs.read_bytes(256, false).await.unwrap(), vec![b'A'; 256]);
    });
}

#[test]
fn test_read_until_close_after_close() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        ws.write(&b"1234"[..]);
        assert_eq!(rs.read_bytes(1, false).await.unwrap(), &b"1"[..]);
        ws.close(None);
        assert_eq!(rs.read_until_close().await.unwrap(), &b"234"[..]);
    });
}

#[test]
fn test_large_read_until() {
    // read_until over 4 MB stays linear.
    gen_test(|| async {
        let (rs, ws) = pair().await;
        for _ in 0..4096 {
            ws.write(vec![b'A'; 1024]);
        }
        ws.write(&b"\r\n"[..]);
        let data = rs.read_until(b"\r\n", None).await.unwrap();
        assert_eq!(data.len(), 4096 * 1024 + 2);
    });
}

#[test]
fn test_read_until_with_close_after_second_packet() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let l = IoLoop::current();
        let reader = rs.clone();
        let rf = l.spawn(async move { reader.read_until(b"done", None).await });
        sleep(Duration::from_millis(100)).await;
        ws.write(vec![b'x'; 2048]).await.unwrap();
        ws.write(&b"done"[..]);
        ws.close(None);
        assert!(rf.await.unwrap().is_ok());
    });
}

#[test]
fn test_read_until_unsatisfied_after_close() {
    // A close while reading gives StreamClosedError, not UnsatisfiableReadError.
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let reader = rs.clone();
        let rf = IoLoop::current().spawn(async move { reader.read_until(b"done", None).await });
        ws.write(vec![b'x'; 2048]).await.unwrap();
        ws.write(&b"foo"[..]);
        ws.close(None);
        let err = rf.await.unwrap().unwrap_err();
        assert!(is_stream_closed(&err) && !is_unsatisfiable_read(&err));
    });
}

#[test]
fn test_close_callback_with_pending_read() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"OK\r\n"[..]);
        assert_eq!(rs.read_until(b"\r\n", None).await.unwrap(), &b"OK\r\n"[..]);
        ws.close(None);
        let reader = rs.clone();
        let _pending =
            IoLoop::current().spawn(async move { reader.read_until(b"\r\n", None).await });
        closed.await.unwrap();
    });
}

#[test]
fn test_future_close_callback() {
    // The close callback fires for a close noticed while no read is pending.
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"a"[..]);
        assert_eq!(rs.read_bytes(1, false).await.unwrap(), &b"a"[..]);
        assert!(!closed.done());
        ws.close(None);
        closed.await.unwrap();
        assert!(rs.closed());
    });
}

#[test]
fn test_write_memoryview() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let fut = rs.read_bytes(4, false);
        ws.write(bytes::Bytes::from_static(b"hello").slice(..));
        assert_eq!(fut.await.unwrap(), &b"hell"[..]);
    });
}

#[test]
fn test_read_bytes_partial() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let fut = rs.read_bytes(50, true);
        ws.write(&b"hello"[..]);
        assert_eq!(fut.await.unwrap(), &b"hello"[..]);
        let fut = rs.read_bytes(3, true);
        ws.write(&b"world"[..]);
        assert_eq!(fut.await.unwrap(), &b"wor"[..]);
        assert_eq!(rs.read_bytes(0, true).await.unwrap(), &b""[..]);
    });
}

#[test]
fn test_read_until_max_bytes() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        let fut = rs.read_until(b"def", Some(50));
        ws.write(&b"abcdef"[..]);
        assert_eq!(fut.await.unwrap(), &b"abcdef"[..]);
        let fut = rs.read_until(b"def", Some(6));
        ws.write(&b"abcdef"[..]);
        assert_eq!(fut.await.unwrap(), &b"abcdef"[..]);
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        let reader = rs.clone();
        let rf = IoLoop::current().spawn(async move { reader.read_until(b"def", Some(5)).await });
        ws.write(&b"123456"[..]);
        closed.await.unwrap();
        let err = rf.await.unwrap().unwrap_err();
        assert!(is_stream_closed(&err) && is_unsatisfiable_read(&err));
    });
}

#[test]
fn test_read_until_max_bytes_inline() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"123456"[..]).await.unwrap();
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        let err = rs.read_until(b"def", Some(5)).await.unwrap_err();
        assert!(is_stream_closed(&err));
        closed.await.unwrap();
    });
}

#[test]
fn test_read_until_max_bytes_ignores_extra() {
    // The delimiter arrives in the packet that crosses the limit: still unsatisfiable.
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"abcdef"[..]).await.unwrap();
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        assert!(rs.read_until(b"def", Some(5)).await.is_err());
        closed.await.unwrap();
    });
}

#[test]
fn test_read_until_regex_max_bytes() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        let re = Regex::new("def").unwrap();
        let fut = rs.read_until_regex(&re, Some(50));
        ws.write(&b"abcdef"[..]);
        assert_eq!(fut.await.unwrap(), &b"abcdef"[..]);
        let fut = rs.read_until_regex(&re, Some(6));
        ws.write(&b"abcdef"[..]);
        assert_eq!(fut.await.unwrap(), &b"abcdef"[..]);
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        let reader = rs.clone();
        let re2 = re.clone();
        let _rf =
            IoLoop::current().spawn(async move { reader.read_until_regex(&re2, Some(5)).await });
        ws.write(&b"123456"[..]);
        closed.await.unwrap();
    });
}

#[test]
fn test_read_until_regex_max_bytes_inline() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"123456"[..]).await.unwrap();
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        let re = Regex::new("def").unwrap();
        assert!(rs.read_until_regex(&re, Some(5)).await.is_err());
        closed.await.unwrap();
    });
}

#[test]
fn test_read_until_regex_max_bytes_ignores_extra() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let closed = close_event(&rs);
        ws.write(&b"abcdef"[..]).await.unwrap();
        let _expect = ExpectLog::new(GENERAL, "Unsatisfiable read").level(log::Level::Info);
        let re = Regex::new("def").unwrap();
        assert!(rs.read_until_regex(&re, Some(5)).await.is_err());
        closed.await.unwrap();
    });
}

#[test]
fn test_small_reads_from_large_buffer() {
    // 10 KB buffer, 100 KB to read 1 KB at a time: the buffer is not filled eagerly.
    gen_test(|| async {
        let (rs, ws) = make_iostream_pair(StreamSettings::new().max_buffer_size(10 * 1024)).await;
        ws.write(vec![b'a'; 1024 * 100]);
        for _ in 0..100 {
            assert_eq!(rs.read_bytes(1024, false).await.unwrap(), vec![b'a'; 1024]);
        }
    });
}

#[test]
fn test_small_read_untils_from_large_buffer() {
    gen_test(|| async {
        let (rs, ws) = make_iostream_pair(StreamSettings::new().max_buffer_size(10 * 1024)).await;
        let mut line = vec![b'a'; 1023];
        line.push(b'\n');
        ws.write(line.repeat(100));
        for _ in 0..100 {
            assert_eq!(rs.read_until(b"\n", Some(4096)).await.unwrap(), line);
        }
    });
}

#[test]
fn test_flow_control() {
    // The writer writes more than the reader's buffer holds; the reader reads gradually.
    const MB: usize = 1024 * 1024;
    gen_test(|| async {
        let (rs, ws) = make_iostream_pair(StreamSettings::new().max_buffer_size(5 * MB)).await;
        ws.write(vec![b'a'; 10 * MB]);
        rs.read_bytes(MB, false).await.unwrap();
        sleep(Duration::from_millis(100)).await;
        for _ in 0..9 {
            rs.read_bytes(MB, false).await.unwrap();
        }
    });
}

#[test]
fn test_read_into() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let mut buf = [0u8; 10];
        {
            let reader = rs.clone();
            let writer = ws.clone();
            let observer = rs.clone();
            let write_later = async move {
                writer.write(&b"hello"[..]);
                sleep(Duration::from_millis(50)).await;
                assert!(observer.reading());
                writer.write(&b"world!!"[..]);
                Ok::<_, std::io::Error>(0)
            };
            let read = Box::pin(async { reader.read_into(&mut buf, false).await });
            let results = multi(vec![
                read as std::pin::Pin<Box<dyn Future<Output = std::io::Result<usize>>>>,
                Box::pin(write_later),
            ])
            .await
            .unwrap();
            assert_eq!(results[0], 10);
        }
        assert!(!rs.reading());
        assert_eq!(&buf, b"helloworld");
        // What is buffered feeds the next read_into first.
        ws.write(&b"1234567890"[..]);
        assert_eq!(rs.read_into(&mut buf, false).await.unwrap(), 10);
        assert_eq!(&buf, b"!!12345678");
        let mut small = [0u8; 4];
        ws.write(&b"abcdefghi"[..]);
        assert_eq!(rs.read_into(&mut small, false).await.unwrap(), 4);
        assert_eq!(&small, b"90ab");
        assert_eq!(rs.read_bytes(7, false).await.unwrap(), &b"cdefghi"[..]);
    });
}

#[test]
fn test_read_into_partial() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        let mut buf = [0u8; 10];
        ws.write(&b"hello"[..]);
        assert_eq!(rs.read_into(&mut buf, true).await.unwrap(), 5);
        assert_eq!(&buf, b"hello\0\0\0\0\0");
        ws.write(&b"world!1234567890"[..]).await.unwrap();
        sleep(Duration::from_millis(10)).await;
        assert_eq!(rs.read_into(&mut buf, true).await.unwrap(), 10);
        assert_eq!(&buf, b"world!1234");
        assert_eq!(rs.read_into(&mut buf, true).await.unwrap(), 6);
        assert_eq!(&buf, b"5678901234");
    });
}

#[test]
fn test_read_into_resizable_after_close() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        ws.write(&b"ab"[..]);
        rs.read_bytes(1, false).await.unwrap();
        ws.write(&b"cd"[..]);
        sleep(Duration::from_millis(10)).await;
        ws.close(None);
        let mut buf = vec![0u8; 10];
        let err = rs.read_into(&mut buf, false).await.unwrap_err();
        assert!(is_stream_closed(&err));
        assert_eq!(&buf[..3], b"bcd");
        buf.clear();
    });
}

#[test]
fn test_read_into_zero_bytes() {
    gen_test(|| async {
        let (rs, _ws) = pair().await;
        assert_eq!(rs.read_into(&mut [], false).await.unwrap(), 0);
    });
}

#[test]
fn test_write_bytearray_resizable_after_close_while_writing() {
    gen_test(|| async {
        let (_rs, ws) = pair().await;
        // More than the OS buffers hold while nobody reads: still pending at the close.
        let fut = ws.write(vec![b'x'; 10 * 1024 * 1024]);
        assert!(ws.writing());
        ws.close(None);
        assert!(is_stream_closed(&fut.await.unwrap_err()));
    });
}

#[test]
fn test_write_bytearray_resizable_after_error() {
    gen_test(|| async {
        let (rs, ws) = pair().await;
        rs.close(None);
        let err = ws.write(vec![b'x'; 10 * 1024 * 1024]).await.unwrap_err();
        assert!(is_stream_closed(&err));
        assert!(ws.closed());
    });
}

#[test]
fn test_many_mixed_reads() {
    // Alternating read_bytes and read_into over 1 MB of pseudo-random sizes and data.
    gen_test(|| async {
        let (rs, ws) = pair().await;
        const N: usize = 1_000_000;
        let produced = Rc::new(RefCell::new(Vec::with_capacity(N)));
        let p = produced.clone();
        let producer = IoLoop::current().spawn(async move {
            let mut seed = 42u64;
            let mut remaining = N;
            while remaining > 0 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let size = 1 + (seed >> 33) as usize % 1000.min(remaining);
                let data: Vec<u8> = (0..size).map(|i| (seed >> (i % 32)) as u8).collect();
                p.borrow_mut().extend_from_slice(&data);
                ws.write(data).await.unwrap();
                remaining -= size;
            }
        });
        let mut consumed = Vec::with_capacity(N);
        let mut seed = 7u64;
        while consumed.len() < N {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let size = 1 + (seed >> 33) as usize % 1000.min(N - consumed.len());
            if seed & 1 == 0 {
                consumed.extend_from_slice(&rs.read_bytes(size, false).await.unwrap());
            } else {
                let mut buf = vec![0u8; size];
                assert_eq!(rs.read_into(&mut buf, false).await.unwrap(), size);
                consumed.extend_from_slice(&buf);
            }
        }
        producer.await.unwrap();
        assert!(consumed == *produced.borrow());
    });
}

// TestIOStreamMixin

/// A port on which nothing listens (`refusing_port`).
fn refusing_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn test_connection_refused() {
    gen_test(|| async {
        let addr = refusing_port();
        let stream = IoStream::start_connect(addr, None, StreamSettings::default()).unwrap();
        let called = Rc::new(Cell::new(false));
        let c = called.clone();
        stream.set_close_callback(move || c.set(true));
        let err = stream.wait_connected().await.unwrap_err();
        assert!(is_stream_closed(&err));
        let real = stream.error().expect("the OS error is kept");
        assert_eq!(real.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            stream_closed_error(&err)
                .unwrap()
                .real_error()
                .unwrap()
                .kind(),
            std::io::ErrorKind::ConnectionRefused
        );
        sleep(Duration::ZERO).await;
        assert!(called.get(), "the close callback ran");
    });
}

#[test]
fn test_read_until_close_after_error_close() {
    // A close with an error while read_until_close is pending reports the error, not the
    // truncated data.
    gen_test(|| async {
        let (server, client) = pair().await;
        let reader = client.clone();
        let fut = IoLoop::current().spawn(async move { reader.read_until_close().await });
        server.write(&b"hello"[..]);
        sleep(Duration::from_millis(10)).await;
        client.close(Some(std::io::Error::other("boom")));
        let err = fut.await.unwrap().unwrap_err();
        let closed = stream_closed_error(&err).unwrap();
        assert_eq!(closed.real_error().unwrap().to_string(), "boom");
    });
}

#[test]
fn test_read_until_close_with_buffer_overflow() {
    gen_test(|| async {
        let (server, client) =
            make_iostream_pair(StreamSettings::new().max_buffer_size(1024)).await;
        let _expect = ExpectLog::new(GENERAL, "Reached maximum read buffer size");
        let reader = client.clone();
        let fut = IoLoop::current().spawn(async move { reader.read_until_close().await });
        server.write(vec![b'a'; 4096]);
        let err = fut.await.unwrap().unwrap_err();
        assert!(is_stream_closed(&err) && is_buffer_full(&err));
    });
}

#[test]
fn test_future_write() {
    // Concurrent writers clogging the socket: no write future is ever orphaned.
    gen_test(|| async {
        const M: usize = 5000;
        const N: usize = 1000;
        const PRODUCERS: usize = 10;
        let total = M * N * PRODUCERS;
        let (server, client) =
            make_iostream_pair(StreamSettings::new().max_buffer_size(total)).await;
        let l = IoLoop::current();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let s = server.clone();
                l.spawn(async move {
                    let data = bytes::Bytes::from(vec![b'x'; M]);
                    for _ in 0..N {
                        s.write(data.clone()).await.unwrap();
                    }
                })
            })
            .collect();
        let mut nread = 0;
        while nread < total {
            nread += client.read_bytes(M, false).await.unwrap().len();
        }
        multi(producers).await.unwrap();
    });
}

#[test]
fn test_write_bytearray_resizable_after_close() {
    // Closed while still connecting: the connect and the queued write both fail.
    gen_test(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = IoStream::start_connect(
            listener.local_addr().unwrap(),
            None,
            StreamSettings::default(),
        )
        .unwrap();
        let write = stream.write(vec![b'x'; 10_000]);
        stream.close(None);
        assert!(is_stream_closed(
            &stream.wait_connected().await.unwrap_err()
        ));
        assert!(is_stream_closed(&write.await.unwrap_err()));
    });
}

#[test]
fn test_write_while_connecting() {
    // TestIOStreamWebMixin.test_write_while_connecting: writes queue until connected.
    gen_test(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = IoStream::start_connect(
            listener.local_addr().unwrap(),
            None,
            StreamSettings::default(),
        )
        .unwrap();
        let write = stream.write(&b"GET / HTTP/1.0\r\n\r\n"[..]);
        let (conn, _) = listener.accept().unwrap();
        let server = IoStream::from_tcp(conn).unwrap();
        write.await.unwrap();
        assert_eq!(
            server.read_until(b"\r\n\r\n", None).await.unwrap(),
            &b"GET / HTTP/1.0\r\n\r\n"[..]
        );
        server.write(&b"HTTP/1.1 200 OK\r\n\r\nbody"[..]);
        server.close(None);
        assert!(stream.read_until_close().await.unwrap().ends_with(b"body"));
    });
}

#[test]
fn test_connection_closed() {
    // TestIOStreamWebMixin.test_connection_closed: the peer's close ends read_until_close.
    gen_test(|| async {
        let (server, client) = pair().await;
        server.write(&b"HTTP/1.0 200 OK\r\n\r\nHello"[..]);
        server.close(None);
        let data = client.read_until_close().await.unwrap();
        assert!(data.ends_with(b"Hello"));
        assert!(client.closed());
    });
}

#[test]
fn already_reading_is_an_error() {
    gen_test(|| async {
        let (rs, _ws) = pair().await;
        let reader = rs.clone();
        let _pending = IoLoop::current().spawn(async move { reader.read_bytes(1, false).await });
        sleep(Duration::ZERO).await;
        let err = rs.read_bytes(1, false).await.unwrap_err();
        assert_eq!(err.to_string(), "Already reading");
    });
}

// TestPipeIOStream

#[test]
fn test_pipe_iostream() {
    gen_test(|| async {
        let (rs, ws) = IoStream::pipe().unwrap();
        ws.write(&b"hel"[..]);
        ws.write(&b"lo world"[..]);
        assert_eq!(rs.read_until(b" ", None).await.unwrap(), &b"hello "[..]);
        assert_eq!(rs.read_bytes(3, false).await.unwrap(), &b"wor"[..]);
        ws.close(None);
        assert_eq!(rs.read_bytes(1, false).await.unwrap(), &b"l"[..]);
        assert_eq!(rs.read_bytes(1, false).await.unwrap(), &b"d"[..]);
        assert!(is_stream_closed(
            &rs.read_bytes(1, false).await.unwrap_err()
        ));
    });
}

#[test]
fn test_pipe_iostream_big_write() {
    gen_test(|| async {
        let (rs, ws) = IoStream::pipe().unwrap();
        const NUM_BYTES: usize = 1_048_576;
        ws.write(vec![b'1'; NUM_BYTES]);
        assert_eq!(
            rs.read_bytes(NUM_BYTES, false).await.unwrap(),
            vec![b'1'; NUM_BYTES]
        );
    });
}

// Cases the port adds.

#[test]
fn transfer_1_gib_with_bounded_memory() {
    // 1 GiB through read_bytes in 64 KiB pieces: the reader's buffer never holds more than
    // its limit, because the writer is throttled by TCP flow control.
    gen_test(|| async {
        const TOTAL: usize = 1 << 30;
        const PIECE: usize = 64 * 1024;
        let limit = 4 * 1024 * 1024;
        let (rs, ws) = make_iostream_pair(StreamSettings::new().max_buffer_size(limit)).await;
        let writer = IoLoop::current().spawn(async move {
            let piece = bytes::Bytes::from(vec![0x5a; PIECE]);
            for _ in 0..TOTAL / PIECE {
                ws.write(piece.clone()).await.unwrap();
            }
            ws
        });
        let mut received = 0;
        let mut max_buffered = 0;
        while received < TOTAL {
            let chunk = rs.read_bytes(PIECE, true).await.unwrap();
            received += chunk.len();
            max_buffered = max_buffered.max(rs.buffered_len());
        }
        assert_eq!(received, TOTAL);
        assert!(max_buffered <= limit, "buffered {max_buffered}");
        drop(writer.await.unwrap());
    });
}

#[test]
fn peer_reset_mid_write() {
    // The peer resets while a large write is in flight: the write fails with
    // StreamClosedError, quietly (a reset is not logged as an error).
    gen_test(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = IoStream::start_connect(addr, None, StreamSettings::default()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        client.wait_connected().await.unwrap();
        let write = client.write(vec![b'x'; 32 * 1024 * 1024]);
        sleep(Duration::from_millis(20)).await;
        // SO_LINGER 0 makes close send RST.
        socket2::SockRef::from(&conn)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(conn);
        let err = write.await.unwrap_err();
        assert!(is_stream_closed(&err));
        assert!(client.closed());
    });
}
