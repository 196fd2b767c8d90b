//! Reading a message body, framed by `Content-Length`, by chunked transfer coding, or by
//! the close of the connection (`_read_fixed_body`, `_read_chunked_body`,
//! `_read_body_until_close`).

use std::future::Future;
use std::io;

use bytes::{Bytes, BytesMut};
use tornado_gen::moment;
use tornado_iostream::{IoStream, is_stream_closed};

use super::framing::parse_hex_int;
use crate::httputil::HttpInputError;

/// Every 256 KiB of body, the reader yields to the loop, so that one fast peer cannot keep
/// the others waiting (Tornado 6.6's `_YIELD_THRESHOLD`).
const YIELD_THRESHOLD: usize = 256 * 1024;
/// Each chunk of a chunked body counts as this much work toward the threshold, so that a
/// flood of tiny chunks yields too (`_CHUNK_YIELD_COST`).
const CHUNK_YIELD_COST: usize = 1024;
/// The longest chunk-size line accepted (Tornado reads it with `max_bytes=64`).
const MAX_CHUNK_LINE: usize = 64;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The bytes on the wire break the framing: answer 400.
    Input(HttpInputError),
    /// The stream closed or failed.
    Io(io::Error),
}

impl From<HttpInputError> for BodyError {
    fn from(e: HttpInputError) -> Self {
        BodyError::Input(e)
    }
}

impl From<io::Error> for BodyError {
    fn from(e: io::Error) -> Self {
        BodyError::Io(e)
    }
}

/// Where body pieces go (a message delegate, through the connection).
pub(crate) trait BodySink {
    fn deliver(&mut self, data: Bytes) -> impl Future<Output = Result<(), HttpInputError>>;
}

struct Yielder {
    work: usize,
}

impl Yielder {
    async fn add(&mut self, amount: usize) {
        self.work += amount;
        if self.work >= YIELD_THRESHOLD {
            self.work = 0;
            moment().await;
        }
    }
}

/// Reads exactly `length` bytes, delivered in pieces of at most `chunk_size`.
pub(crate) async fn read_fixed_body(
    stream: &IoStream,
    mut length: u64,
    chunk_size: usize,
    sink: &mut impl BodySink,
) -> Result<(), BodyError> {
    let mut yielder = Yielder { work: 0 };
    while length > 0 {
        let want = (chunk_size as u64).min(length) as usize;
        let body = stream.read_bytes(want, true).await?;
        length -= body.len() as u64;
        let n = body.len();
        sink.deliver(body).await?;
        yielder.add(n).await;
    }
    Ok(())
}

/// Reads a chunked body. Sizes must be strict hex followed by CRLF (no extensions, no bare
/// LF), every chunk must end with CRLF, the last chunk with an empty trailer section; the
/// running total may not pass `max_body_size`. Small chunks are coalesced so that
/// `data_received` sees pieces of up to `chunk_size` bytes rather than one call per tiny
/// chunk (6.6).
pub(crate) async fn read_chunked_body(
    stream: &IoStream,
    max_body_size: u64,
    chunk_size: usize,
    sink: &mut impl BodySink,
) -> Result<(), BodyError> {
    let mut total: u64 = 0;
    let mut pending = BytesMut::new();
    let mut yielder = Yielder { work: 0 };
    loop {
        yielder.add(CHUNK_YIELD_COST).await;
        let line = read_or_flush(stream, &mut pending, sink, Read::Line).await?;
        let size_digits = &line[..line.len() - 2];
        let Some(size) = parse_hex_int(size_digits) else {
            return Err(HttpInputError::new("invalid chunk size").into());
        };
        if size == 0 {
            let crlf = read_or_flush(stream, &mut pending, sink, Read::Exact(2)).await?;
            if &crlf[..] != b"\r\n" {
                return Err(HttpInputError::new("improperly terminated chunked request").into());
            }
            if !pending.is_empty() {
                sink.deliver(pending.split().freeze()).await?;
            }
            return Ok(());
        }
        total = total.saturating_add(size);
        if total > max_body_size {
            return Err(HttpInputError::new("chunked body too large").into());
        }
        let mut remaining = size;
        while remaining > 0 {
            let want = (chunk_size as u64).min(remaining) as usize;
            let data = read_or_flush(stream, &mut pending, sink, Read::Partial(want)).await?;
            remaining -= data.len() as u64;
            let n = data.len();
            if pending.is_empty() && n == chunk_size {
                sink.deliver(data).await?;
            } else {
                pending.extend_from_slice(&data);
                if pending.len() >= chunk_size {
                    let piece = pending.split_to(chunk_size).freeze();
                    sink.deliver(piece).await?;
                }
            }
            yielder.add(n).await;
        }
        let crlf = read_or_flush(stream, &mut pending, sink, Read::Exact(2)).await?;
        if &crlf[..] != b"\r\n" {
            return Err(HttpInputError::new("improperly terminated chunk").into());
        }
    }
}

#[derive(Clone, Copy)]
enum Read {
    Line,
    Exact(usize),
    Partial(usize),
}

/// Reads from the buffer if it can; when it would have to wait for the network, first hands
/// what is pending to the sink (Tornado's `flush_and_read`), so data is never held back
/// while the peer pauses.
async fn read_or_flush(
    stream: &IoStream,
    pending: &mut BytesMut,
    sink: &mut impl BodySink,
    what: Read,
) -> Result<Bytes, BodyError> {
    let available = stream.buffered_len();
    let satisfiable = match what {
        Read::Line => stream.peek_buffered(|b| memchr::memmem::find(b, b"\r\n").is_some()),
        Read::Exact(n) => available >= n,
        Read::Partial(_) => available > 0,
    };
    if !satisfiable && !pending.is_empty() {
        sink.deliver(pending.split().freeze()).await?;
    }
    let data = match what {
        Read::Line => stream.read_until(b"\r\n", Some(MAX_CHUNK_LINE)).await,
        Read::Exact(n) => stream.read_bytes(n, false).await,
        Read::Partial(n) => stream.read_bytes(n, true).await,
    };
    data.map_err(|e| {
        if tornado_iostream::is_unsatisfiable_read(&e) {
            BodyError::Input(HttpInputError::new("invalid chunk size"))
        } else {
            BodyError::Io(e)
        }
    })
}

/// Reads until the peer closes (responses without framing); past `max_body_size` is an
/// error.
pub(crate) async fn read_body_until_close(
    stream: &IoStream,
    max_body_size: u64,
    chunk_size: usize,
    sink: &mut impl BodySink,
) -> Result<(), BodyError> {
    let mut total: u64 = 0;
    let mut yielder = Yielder { work: 0 };
    loop {
        let body = match stream.read_bytes(chunk_size, true).await {
            Ok(b) => b,
            Err(e) if is_stream_closed(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        total += body.len() as u64;
        if total > max_body_size {
            return Err(HttpInputError::new("Body too long").into());
        }
        let n = body.len();
        sink.deliver(body).await?;
        yielder.add(n).await;
    }
}
