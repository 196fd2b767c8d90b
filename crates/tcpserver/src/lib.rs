//! TCP servers and clients. Port of `tornado.tcpserver`, `tornado.tcpclient` and
//! `tornado.netutil`.
//!
//! This is layer 4 of the workspace:
//!
//! * [`TcpServer`] accepts connections and hands each one to a [`StreamHandler`] as an
//!   [`IoStream`](tornado_iostream::IoStream), plain or TLS, on one loop or (with
//!   [`TcpServer::start`]) on one loop per thread;
//! * [`bind_sockets`], [`bind_unix_socket`], [`add_accept_handler`], [`is_valid_ip`] are
//!   `tornado.netutil`'s.
//!
//! # Examples
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Duration;
//! use tornado_ioloop::IoLoop;
//! use tornado_iostream::IoStream;
//! use tornado_tcpserver::{StreamHandler, TcpServer};
//!
//! struct Upper;
//!
//! impl StreamHandler for Upper {
//!     async fn handle_stream(&self, stream: IoStream, _: Option<SocketAddr>) {
//!         if let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
//!             let _ = stream.write(line.to_ascii_uppercase()).await;
//!         }
//!     }
//! }
//!
//! let io_loop = IoLoop::new();
//! let reply = io_loop.run_sync(|| async {
//!     let server = TcpServer::new(Upper);
//!     let addr = server.listen(0, Some("127.0.0.1")).unwrap()[0];
//!     let client = IoStream::connect(addr).await.unwrap();
//!     client.write(&b"hello\n"[..]);
//!     let reply = client.read_until(b"\n", None).await.unwrap();
//!     server.stop();
//!     reply
//! }, Some(Duration::from_secs(5))).unwrap();
//! assert_eq!(&reply[..], b"HELLO\n");
//! ```
//!
//! # Differences from Tornado
//!
//! * `handle_stream` is the one method of the [`StreamHandler`] trait, not a method to
//!   override in a subclass; it gets an `IoStream` (a TLS one when the server has TLS
//!   options: [`IoStream::as_ssl`](tornado_iostream::IoStream::as_ssl)).
//! * `bind` + `start(n)` run n threads (one loop and one `SO_REUSEPORT` socket each) where
//!   Tornado forks n processes; `bind` always sets `SO_REUSEPORT` for that reason.
//! * `add_accept_handler` owns the listening socket; removing the handler closes it.
#![doc(test(attr(deny(warnings))))]

mod accept;
mod netutil;
mod server;

pub use accept::{AcceptHandle, Connection, Listener, add_accept_handler};
pub use netutil::{
    BindOptions, DEFAULT_BACKLOG, Family, bind_sockets, bind_sockets_with, bind_unix_socket,
    is_valid_ip,
};
pub use server::{ServerSettings, StreamHandler, TcpServer};
