//! The peer of `examples/echo.rs`: a TCP echo server on tokio's current-thread runtime, one
//! task per connection, written as tokio's own echo example is (read into a buffer of the
//! connection's, `write_all`, repeat), with the same choices as ours where there is one to
//! make: `TCP_NODELAY`, and each write finished before the next read.
//!
//! `tokio_echo [--port N] [--buffer BYTES]` listens on 127.0.0.1:N (default 8888). The
//! buffer (default 64 KiB, as much as our streams read at once) is the one knob that trades
//! bulk throughput for memory per connection in this design, so `echo_bench` runs it twice:
//! with 64 KiB, and with 8 KiB (what `tokio::io::copy` uses).

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn main() -> io::Result<()> {
    let mut port: u16 = 8888;
    let mut buffer: usize = 64 * 1024;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--port", Some(p)) => port = p.parse().map_err(io::Error::other)?,
            ("--buffer", Some(b)) => buffer = b.parse().map_err(io::Error::other)?,
            _ => {
                return Err(io::Error::other(
                    "usage: tokio_echo [--port N] [--buffer BYTES]",
                ));
            }
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        eprintln!("tokio echo server listening on {}", listener.local_addr()?);
        loop {
            let (mut socket, _) = match listener.accept().await {
                Ok(c) => c,
                // Out of descriptors, or a peer that gave up: keep serving the others.
                Err(_) => continue,
            };
            let _ = socket.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = vec![0u8; buffer];
                loop {
                    let n = match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if socket.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    })
}
