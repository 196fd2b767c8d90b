//! The descriptors a stream can sit on: TCP and Unix sockets, and pipes.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// One non-blocking descriptor.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
    PipeReader(mio::unix::pipe::Receiver),
    PipeWriter(mio::unix::pipe::Sender),
}

impl Socket {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).read(buf),
            Socket::Unix(s) => (&*s).read(buf),
            Socket::PipeReader(p) => (&*p).read(buf),
            Socket::PipeWriter(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "cannot read from the write end of a pipe",
            )),
        }
    }

    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).write(buf),
            Socket::Unix(s) => (&*s).write(buf),
            Socket::PipeWriter(p) => (&*p).write(buf),
            Socket::PipeReader(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "cannot write to the read end of a pipe",
            )),
        }
    }

    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).write_vectored(bufs),
            Socket::Unix(s) => (&*s).write_vectored(bufs),
            Socket::PipeWriter(p) => (&*p).write_vectored(bufs),
            Socket::PipeReader(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "cannot write to the read end of a pipe",
            )),
        }
    }

    /// The pending error of a socket (`SO_ERROR`), e.g. why a connect failed.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Socket::Tcp(s) => s.take_error(),
            Socket::Unix(s) => s.take_error(),
            _ => Ok(None),
        }
    }

    pub(crate) fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_nodelay(nodelay),
            // Tornado: "defined only for TCP-based IOStreams"; elsewhere it does nothing.
            _ => Ok(()),
        }
    }

    pub(crate) fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr().ok(),
            _ => None,
        }
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Socket::Tcp(s) => s.local_addr().ok(),
            _ => None,
        }
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.shutdown(Shutdown::Write),
            Socket::Unix(s) => s.shutdown(Shutdown::Write),
            _ => Ok(()),
        }
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) => s.as_raw_fd(),
            Socket::PipeReader(p) => p.as_raw_fd(),
            Socket::PipeWriter(p) => p.as_raw_fd(),
        }
    }
}
