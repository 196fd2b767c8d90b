//! Non-blocking streams over TCP and Unix sockets, pipes and TLS. Port of
//! `tornado.iostream`.
//!
//! This is layer 3 of the workspace. [`IoStream`] reads and writes a descriptor on the
//! current [`IoLoop`](tornado_ioloop::IoLoop): `read_until`, `read_until_regex`,
//! `read_bytes`, `read_into`, `read_until_close` and `write` are Tornado's, as are the
//! buffer limits ([`StreamSettings`]) and the errors ([`StreamClosedError`],
//! [`UnsatisfiableReadError`], [`StreamBufferFullError`], carried in `std::io::Error`).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tornado_ioloop::IoLoop;
//! use tornado_iostream::{IoStream, is_stream_closed};
//!
//! let io_loop = IoLoop::new();
//! io_loop.run_sync(|| async {
//!     let (client, server) = IoStream::pair().unwrap();
//!     client.write(&b"ping\n"[..]);
//!     assert_eq!(&server.read_until(b"\n", None).await.unwrap()[..], b"ping\n");
//!     client.close(None);
//!     // The peer sees the close: the read fails with StreamClosedError.
//!     let err = server.read_bytes(1, false).await.unwrap_err();
//!     assert!(is_stream_closed(&err));
//! }, Some(Duration::from_secs(5))).unwrap();
//! ```
//!
//! # Differences from Tornado
//!
//! * Reads are `async fn`s on a shared handle; "only one read at a time" is checked when the
//!   read starts (an `Already reading` error), not when it is called.
//! * Errors are `std::io::Error`s carrying Tornado's error types; test them with
//!   [`is_stream_closed`], [`is_unsatisfiable_read`], [`is_buffer_full`].
//! * [`IoStream::write_buffered`] and [`IoStream::flush`] (not in Tornado) queue without
//!   sending, so that many small writes leave in one system call.
//! * `SSLIOStream` is [`SslIoStream`] (feature `tls`, rustls with the ring provider):
//!   `ssl_options` dictionaries become rustls configurations ([`TlsServerOptions`],
//!   [`TlsClientOptions`]).
//! * `PipeIOStream(fd)` is [`IoStream::from_pipe_reader`] or
//!   [`IoStream::from_pipe_writer`], since a Rust descriptor's direction must be known.
#![doc(test(attr(deny(warnings))))]

mod buffer;
mod error;
mod iostream;
mod read;
mod settings;
mod socket;
mod stream;
#[cfg(feature = "tls")]
mod tls;
mod transport;
mod write;

pub use error::{
    StreamBufferFullError, StreamClosedError, UnsatisfiableReadError, is_buffer_full,
    is_connection_reset, is_stream_closed, is_unsatisfiable_read, stream_closed_error,
};
pub use iostream::{IoStream, PipeIoStream};
pub use regex::bytes::Regex;
pub use settings::{DEFAULT_MAX_BUFFER_SIZE, DEFAULT_READ_CHUNK_SIZE, StreamSettings};
#[cfg(feature = "tls")]
pub use tls::{SslIoStream, TlsClientOptions, TlsServerOptions};
pub use write::WriteFuture;
