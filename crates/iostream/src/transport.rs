//! What a stream reads and writes through: a plain descriptor, or TLS over one.

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};

use crate::buffer::{MAX_IOVECS, ReadBuffer, WriteBuffer};
use crate::socket::Socket;
#[cfg(feature = "tls")]
use crate::tls::TlsTransport;

/// What one read from the transport gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// `n` bytes of data were appended; `drained` if the OS returned less than asked, which
    /// on a stream socket means its receive buffer is now empty.
    Data { n: usize, drained: bool },
    /// Bytes arrived but none were data (TLS records of the handshake).
    NoData,
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed its side.
    Eof,
}

/// What one flush achieved.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FlushProgress {
    /// Bytes of the write buffer consumed.
    pub(crate) written: usize,
    /// The descriptor stopped taking bytes before everything was written.
    pub(crate) blocked: bool,
}

/// A stream's transport.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(Socket),
    #[cfg(feature = "tls")]
    Tls(Box<TlsTransport>),
}

impl Transport {
    pub(crate) fn fd(&self) -> RawFd {
        self.socket().as_raw_fd()
    }

    pub(crate) fn socket(&self) -> &Socket {
        match self {
            Transport::Plain(s) => s,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.socket(),
        }
    }

    /// Reads once into `scratch` and appends what was received to `rbuf`.
    pub(crate) fn read(
        &self,
        scratch: &mut [u8],
        rbuf: &mut ReadBuffer,
    ) -> io::Result<ReadOutcome> {
        match self {
            Transport::Plain(s) => read_plain(s, scratch, rbuf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.read(scratch, rbuf),
        }
    }

    /// Writes as much of `wbuf` as the descriptor takes now.
    pub(crate) fn flush(&self, wbuf: &mut WriteBuffer) -> io::Result<FlushProgress> {
        match self {
            Transport::Plain(s) => flush_plain(s, wbuf),
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.flush(wbuf),
        }
    }

    /// `true` if the transport holds bytes of its own to send (TLS records).
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            #[cfg(feature = "tls")]
            Transport::Tls(t) => t.wants_write(),
        }
    }
}

/// `true` if `e` is a TLS protocol error (a failed handshake, a bad record).
pub(crate) fn is_tls_error(e: &io::Error) -> bool {
    #[cfg(feature = "tls")]
    {
        e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
    }
    #[cfg(not(feature = "tls"))]
    {
        let _ = e;
        false
    }
}

pub(crate) fn read_plain(
    s: &Socket,
    scratch: &mut [u8],
    rbuf: &mut ReadBuffer,
) -> io::Result<ReadOutcome> {
    match s.read(scratch) {
        Ok(0) => Ok(ReadOutcome::Eof),
        Ok(n) => {
            rbuf.extend(&scratch[..n]);
            Ok(ReadOutcome::Data {
                n,
                drained: n < scratch.len(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadOutcome::WouldBlock),
        Err(e) => Err(e),
    }
}

pub(crate) fn flush_plain(s: &Socket, wbuf: &mut WriteBuffer) -> io::Result<FlushProgress> {
    let mut progress = FlushProgress::default();
    while !wbuf.is_empty() {
        let result = if let Some(only) = wbuf.single_slice() {
            // The common case (one response, one echo): no array of 64 slices to fill.
            s.write_vectored(&[IoSlice::new(only)])
                .map(|w| (w, only.len()))
        } else {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let n = wbuf.io_slices(&mut slices);
            let total: usize = slices[..n].iter().map(|s| s.len()).sum();
            s.write_vectored(&slices[..n]).map(|w| (w, total))
        };
        match result {
            Ok((0, _)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok((w, total)) => {
                wbuf.advance(w);
                progress.written += w;
                if w < total {
                    // The socket buffer is full: another write now would only block.
                    progress.blocked = true;
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                progress.blocked = true;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(progress)
}
