//! Reading a request body into its delegate.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use tornado_iostream::IoStream;

use super::body::{BodyError, BodySink, read_chunked_body, read_fixed_body};
use super::connection::Shared;
use super::framing::Framing;
use crate::delegate::HttpMessageDelegate;
use crate::httputil::HttpInputError;

/// Delivers body pieces to the delegate, unless the response is already finished (then the
/// rest of the body is read and dropped, as Tornado's `_deliver_body` does).
struct Sink<'a, M> {
    msg: &'a mut M,
    shared: &'a Shared,
}

impl<M: HttpMessageDelegate> BodySink for Sink<'_, M> {
    async fn deliver(&mut self, data: Bytes) -> Result<(), HttpInputError> {
        if self.shared.req.borrow().write_finished {
            return Ok(());
        }
        self.msg.data_received(data).await
    }
}

/// Reads the body as `framing` says, within `max_body` bytes and the body timeout.
pub(super) async fn read_body<M: HttpMessageDelegate>(
    stream: &IoStream,
    framing: Framing,
    max_body: u64,
    chunk_size: usize,
    msg: &mut M,
    shared: &Shared,
    timeout: Option<Duration>,
) -> Result<(), BodyError> {
    if let Framing::Length(n) = framing
        && n > max_body
    {
        return Err(HttpInputError::new("Content-Length too long").into());
    }
    let mut sink = Sink { msg, shared };
    let read = async {
        match framing {
            Framing::Empty => Ok(()),
            Framing::Length(n) => read_fixed_body(stream, n, chunk_size, &mut sink).await,
            Framing::Chunked => read_chunked_body(stream, max_body, chunk_size, &mut sink).await,
        }
    };
    match timeout {
        None => read.await,
        Some(t) => match tornado_gen::with_timeout(t, read).await {
            Ok(r) => r,
            Err(_) => {
                stream.close(None);
                Err(BodyError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "body timeout",
                )))
            }
        },
    }
}
