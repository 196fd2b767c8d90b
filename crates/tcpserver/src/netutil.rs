//! Binding listening sockets (`tornado.netutil.bind_sockets`, `bind_unix_socket`) and
//! `is_valid_ip`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// 128: Tornado's `_DEFAULT_BACKLOG`, for `listen(2)` and for how many connections are
/// accepted per readiness event.
pub const DEFAULT_BACKLOG: i32 = 128;

/// Which address families to bind (`socket.AF_UNSPEC`, `AF_INET`, `AF_INET6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Family {
    /// Both IPv4 and IPv6, as available. The default.
    #[default]
    Unspecified,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: &SocketAddr) -> Family {
        if addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// `true` if `addr` is of this family (any address is, of [`Family::Unspecified`]).
    pub fn accepts(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Unspecified => true,
            Family::V4 => addr.is_ipv4(),
            Family::V6 => addr.is_ipv6(),
        }
    }
}

/// Options of [`bind_sockets`] (the keyword arguments of Tornado's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindOptions {
    pub(crate) address: Option<String>,
    pub(crate) family: Family,
    pub(crate) backlog: i32,
    pub(crate) reuse_port: bool,
}

impl Default for BindOptions {
    fn default() -> Self {
        BindOptions {
            address: None,
            family: Family::Unspecified,
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
        }
    }
}

impl BindOptions {
    /// Tornado's defaults: every interface, both families, backlog 128, no `SO_REUSEPORT`.
    pub fn new() -> Self {
        BindOptions::default()
    }

    /// An IP address or a host name (every address it resolves to is bound); `None` or `""`
    /// for every interface. Default is `None`.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        let a = address.into();
        self.address = if a.is_empty() { None } else { Some(a) };
        self
    }

    /// The address families to bind. Default is [`Family::Unspecified`] (both).
    pub fn family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// The `listen(2)` backlog. Default is 128.
    pub fn backlog(mut self, backlog: i32) -> Self {
        self.backlog = backlog.max(1);
        self
    }

    /// Sets `SO_REUSEPORT`, so that several sockets (threads, processes) can listen on the
    /// same port and the kernel spreads connections over them. Default is `false`.
    pub fn reuse_port(mut self, reuse_port: bool) -> Self {
        self.reuse_port = reuse_port;
        self
    }

    /// `bind_sockets(port, ...)` with these options.
    pub fn bind(&self, port: u16) -> io::Result<Vec<TcpListener>> {
        bind_sockets_with(port, self)
    }
}

/// Creates listening sockets bound to `port` on `address` (every interface if `None`), one
/// per address (typically one IPv4 and one IPv6) (`tornado.netutil.bind_sockets`).
///
/// Tornado's rules: `SO_REUSEADDR` is set; IPv6 sockets get `IPV6_V6ONLY` (so the IPv4
/// socket is the one that takes IPv4 connections); with port 0, every socket gets the port
/// the first one was given; `::1` is skipped where IPv6 is not available (containers). The
/// sockets are non-blocking.
pub fn bind_sockets(port: u16, address: Option<&str>) -> io::Result<Vec<TcpListener>> {
    let mut opts = BindOptions::new();
    if let Some(a) = address {
        opts = opts.address(a);
    }
    bind_sockets_with(port, &opts)
}

/// [`bind_sockets`] with every option.
pub fn bind_sockets_with(port: u16, opts: &BindOptions) -> io::Result<Vec<TcpListener>> {
    let mut addrs: Vec<SocketAddr> = match &opts.address {
        None => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ],
        Some(host) => (host.as_str(), port).to_socket_addrs()?.collect(),
    };
    addrs.retain(|a| opts.family.accepts(a));
    // IPv4 first (Tornado sorts by family), and each address once.
    addrs.sort_by_key(|a| a.is_ipv6());
    addrs.dedup();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no address to bind for this family",
        ));
    }
    let mut sockets = Vec::new();
    let mut bound_port = None;
    for mut addr in addrs {
        let domain = Domain::for_address(addr);
        let socket = match Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP)) {
            Ok(s) => s,
            // No IPv6 on this host: bind what can be bound.
            Err(e) if e.raw_os_error() == Some(EAFNOSUPPORT) => continue,
            Err(e) => return Err(e),
        };
        socket.set_reuse_address(true)?;
        if opts.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if addr.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        if addr.port() == 0
            && let Some(p) = bound_port
        {
            addr.set_port(p);
        }
        socket.set_nonblocking(true)?;
        if let Err(e) = socket.bind(&SockAddr::from(addr)) {
            let is_localhost_v6 = addr.ip() == IpAddr::V6(Ipv6Addr::LOCALHOST)
                && opts.address.as_deref() == Some("localhost");
            if e.kind() == io::ErrorKind::AddrNotAvailable && is_localhost_v6 {
                continue;
            }
            return Err(e);
        }
        bound_port = socket.local_addr()?.as_socket().map(|a| a.port());
        socket.listen(opts.backlog)?;
        sockets.push(socket.into());
    }
    Ok(sockets)
}

/// Linux's `EAFNOSUPPORT`.
const EAFNOSUPPORT: i32 = 97;

/// A listening Unix socket at `path` (`tornado.netutil.bind_unix_socket`).
///
/// An existing socket file at `path` is removed first; any other existing file is an error.
/// The file's permissions are set to `mode` (Tornado's default is `0o600`). A path starting
/// with a NUL byte names a socket in Linux's abstract namespace (no file).
pub fn bind_unix_socket(path: &str, mode: u32, backlog: i32) -> io::Result<UnixListener> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM.cloexec(), None)?;
    socket.set_nonblocking(true)?;
    if path.starts_with('\0') {
        // socket2 reads a leading NUL as Linux's abstract namespace.
        socket.bind(&SockAddr::unix(path)?)?;
    } else {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("File {path} exists and is not a socket"),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        socket.bind(&SockAddr::unix(path)?)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    socket.listen(backlog.max(1))?;
    Ok(socket.into())
}

/// `true` if `ip` is an IPv4 or IPv6 address (`tornado.netutil.is_valid_ip`). Host names,
/// empty strings and strings with NUL bytes are not.
pub fn is_valid_ip(ip: &str) -> bool {
    !ip.is_empty() && !ip.contains('\0') && ip.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_is_valid_ip() {
        // IsValidIPTest.test_is_valid_ip
        assert!(is_valid_ip("127.0.0.1"));
        assert!(is_valid_ip("4.4.4.4"));
        assert!(is_valid_ip("::1"));
        assert!(is_valid_ip("2620:0:1cfe:face:b00c::3"));
        assert!(!is_valid_ip("www.google.com"));
        assert!(!is_valid_ip("localhost"));
        assert!(!is_valid_ip("4.4.4.4<"));
        assert!(!is_valid_ip(" 127.0.0.1"));
        assert!(!is_valid_ip(""));
        assert!(!is_valid_ip(" "));
        assert!(!is_valid_ip("\n"));
        assert!(!is_valid_ip("\x00"));
        assert!(!is_valid_ip("a".repeat(100).as_str()));
    }
}
