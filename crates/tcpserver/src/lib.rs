//! TCP servers and clients. Port of `tornado.tcpserver`, `tornado.tcpclient` and
//! `tornado.netutil`.
//!
//! This is layer 4 of the workspace:
//!
//! * [`TcpServer`] accepts connections and hands each one to a [`StreamHandler`] as an
//!   [`IoStream`](tornado_iostream::IoStream), plain or TLS, on one loop or (with
//!   [`TcpServer::start`]) on one loop per thread;
//! * [`TcpClient`] connects to a host and port: it resolves the name, tries the addresses with
//!   happy eyeballs (RFC 6555, as Tornado's `_Connector`), and can add TLS and a deadline
//!   ([`ConnectSettings`]);
//! * [`Resolver`] and its implementations ([`DefaultLoopResolver`], [`ExecutorResolver`],
//!   [`ThreadedResolver`], [`BlockingResolver`], [`OverrideResolver`]), [`bind_sockets`],
//!   [`bind_unix_socket`], [`add_accept_handler`], [`is_valid_ip`] are `tornado.netutil`'s.
//!
//! # Examples
//!
//! ```
//! use std::net::SocketAddr;
//! use std::time::Duration;
//! use tornado_ioloop::IoLoop;
//! use tornado_iostream::IoStream;
//! use tornado_tcpserver::{ConnectSettings, StreamHandler, TcpClient, TcpServer};
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
//!     let port = server.listen(0, Some("127.0.0.1")).unwrap()[0].port();
//!     let settings = ConnectSettings::new().timeout(Duration::from_secs(5));
//!     let client = TcpClient::new().connect_with("127.0.0.1", port, &settings).await.unwrap();
//!     client.write(&b"hello\n"[..]);
//!     let reply = client.read_until(b"\n", None).await.unwrap();
//!     server.stop();
//!     reply
//! }, Some(Duration::from_secs(10))).unwrap();
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
//! * `TcpClient::connect` gives an `IoStream` in both cases (Tornado: `IOStream` or
//!   `SSLIOStream`); its keyword arguments are a [`ConnectSettings`], whose
//!   `server_hostname` can differ from the host (Tornado always uses the host).
//! * With a `source_port` and no `source_ip`, the client binds the unspecified address of the
//!   destination's family; Tornado binds the loopback address, which cannot reach any other
//!   host.
//! * Resolvers are a trait, not a `Configurable`: pass one to [`TcpClient::with_resolver`]
//!   instead of `Resolver.configure(...)`. [`ThreadedResolver`] owns its pool (Tornado's
//!   instances share one per process), and `close` shuts it down. A failed lookup is a
//!   [`ResolveError`] inside an `io::Error` (Python's `socket.gaierror`).
//! * `ssl_options_to_context` and `ssl_wrap_socket` are not ported: TLS options are
//!   `tornado_iostream::TlsServerOptions` / `TlsClientOptions`, and wrapping is
//!   `IoStream::start_tls_server` / `start_tls_client`.
#![doc(test(attr(deny(warnings))))]

mod accept;
mod connector;
mod netutil;
mod resolver;
mod server;
mod tcpclient;

pub use accept::{AcceptHandle, Connection, Listener, add_accept_handler};
pub use netutil::{
    BindOptions, DEFAULT_BACKLOG, Family, bind_sockets, bind_sockets_with, bind_unix_socket,
    is_valid_ip,
};
pub use resolver::{
    Addresses, BlockingResolver, DEFAULT_RESOLVER_THREADS, DefaultExecutorResolver,
    DefaultLoopResolver, ExecutorResolver, OverrideResolver, ResolveError, ResolveFuture, Resolver,
    ThreadedResolver, is_resolve_error, resolve_blocking,
};
pub use server::{ServerSettings, StreamHandler, TcpServer};
pub use tcpclient::{ConnectSettings, TcpClient};
