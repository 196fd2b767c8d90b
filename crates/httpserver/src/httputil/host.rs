//! The parts of a netloc: [`split_host_and_port`], [`is_valid_host`] and
//! [`encode_username_password`].

/// Splits `host:port` (Tornado's `split_host_and_port`, the regex `^(.+):(\d+)$`).
///
/// The split is at the last `:` when digits, and only digits, follow it and something
/// precedes it; otherwise the whole of `netloc` is the host. So `[::1]:8080` is `[::1]` and
/// 8080, and a bare `::1` is `:` and 1, as in Tornado. (As in Python's `$`, one trailing
/// newline is allowed after the port and dropped.)
///
/// # Differences from Tornado
///
/// Python's port is any integer; a port that doesn't fit in a `u16` is `None` here, with
/// the host split off all the same (so a Host header's host name is what Tornado computes).
/// Python's `\d` also matches non-ASCII digits, which a Host header can't contain.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::split_host_and_port;
///
/// assert_eq!(split_host_and_port("example.com:8080"), ("example.com".to_owned(), Some(8080)));
/// assert_eq!(split_host_and_port("[::1]"), ("[::1]".to_owned(), None));
/// ```
pub fn split_host_and_port(netloc: &str) -> (String, Option<u16>) {
    let (host, port) = split_host_and_port_ref(netloc);
    (host.to_owned(), port)
}

/// [`split_host_and_port`] as slices of `netloc` (*Rust-only*, no copy).
pub fn split_host_and_port_ref(netloc: &str) -> (&str, Option<u16>) {
    let whole = (netloc, None);
    let line = netloc.strip_suffix('\n').unwrap_or(netloc);
    // Python's `.` does not match a newline.
    if line.contains('\n') {
        return whole;
    }
    let Some((host, port)) = line.rsplit_once(':') else {
        return whole;
    };
    if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return whole;
    }
    (host, port.parse().ok())
}

/// `true` if `host` is acceptable in a `Host` header (Tornado's `_ABNF.host`, checked when a
/// request is created; a failure is a 400).
///
/// Tornado simplifies RFC 3986's `uri-host [":" port]`: any sequence of unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), sub-delims (`! $ & ' ( ) * + , ; =`), `%XX` escapes
/// and `[` `]` `:` anywhere. So IP literals, IPv4 addresses, names and ports all pass, as
/// does the empty string (an empty Host is allowed when the target has no authority);
/// whitespace, `/`, `@`, `%` without two hex digits and non-ASCII characters do not. Commas
/// pass here: Tornado rejects them in a separate check, as a sign of several Host headers.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::is_valid_host;
///
/// assert!(is_valid_host("example.com:8080"));
/// assert!(is_valid_host("[::1]:80"));
/// assert!(!is_valid_host("a b"));
/// assert!(!is_valid_host("user@example.com"));
/// ```
pub fn is_valid_host(host: &str) -> bool {
    check_host(host.as_bytes()) != HostCheck::Invalid
}

/// Bytes a host may contain as they are: RFC 3986's `unreserved` and `sub-delims` (but `,`,
/// which the check looks at apart, as a sign of several joined `Host` headers), and the `[`,
/// `]` and `:` of IP literals and ports. `%` starts a percent-escape.
const HOST_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let allowed =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+;=[]:";
    let mut i = 0;
    while i < allowed.len() {
        t[allowed[i] as usize] = true;
        i += 1;
    }
    t
};

/// How many bytes at the start of `bytes` are plain host bytes: eight at a time while they
/// all are (one branch per eight), then one by one.
fn plain_prefix(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut done = 0;
    for chunk in &mut chunks {
        if !chunk
            .iter()
            .fold(true, |all, b| all & HOST_PLAIN[*b as usize])
        {
            break;
        }
        done += 8;
    }
    done + bytes[done..]
        .iter()
        .position(|b| !HOST_PLAIN[*b as usize])
        .unwrap_or(bytes.len() - done)
}

/// How a `Host` value fares against Tornado's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostCheck {
    Valid,
    /// It contains a comma (checked first, as Tornado does: "Multiple host headers").
    Comma,
    Invalid,
}

/// [`is_valid_host`] on bytes, and the comma check, in one pass. (A `Host` header's value
/// need not be UTF-8; if it is not, it is not valid.)
pub(crate) fn check_host(bytes: &[u8]) -> HostCheck {
    let mut comma = false;
    let mut rest = bytes;
    loop {
        // Runs of ordinary bytes first: that is almost every host, whole.
        let plain = plain_prefix(rest);
        rest = &rest[plain..];
        match rest {
            [] => break,
            [b',', tail @ ..] => {
                comma = true;
                rest = tail;
            }
            [b'%', h1, h2, tail @ ..] if h1.is_ascii_hexdigit() && h2.is_ascii_hexdigit() => {
                rest = tail;
            }
            _ => {
                return if comma || rest.contains(&b',') {
                    HostCheck::Comma
                } else {
                    HostCheck::Invalid
                };
            }
        }
    }
    if comma {
        HostCheck::Comma
    } else {
        HostCheck::Valid
    }
}

/// Encodes credentials for HTTP basic authentication as `username:password` (Tornado's
/// `encode_username_password`); the caller base64-encodes the UTF-8 bytes.
///
/// # Differences from Tornado
///
/// Tornado first normalises text arguments to Unicode NFC (as RFC 7617 asks); that needs
/// Unicode tables this crate does not carry, so callers with non-ASCII credentials should
/// normalise them first. Tornado returns bytes; a `String` is those bytes, as UTF-8.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::encode_username_password;
///
/// assert_eq!(encode_username_password("Aladdin", "open sesame"), "Aladdin:open sesame");
/// ```
pub fn encode_username_password(username: &str, password: &str) -> String {
    format!("{username}:{password}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks written plainly, byte by byte.
    fn reference(host: &[u8]) -> HostCheck {
        if host.contains(&b',') {
            return HostCheck::Comma;
        }
        let mut i = 0;
        while i < host.len() {
            let b = host[i];
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+;=[]:".contains(&b) {
                i += 1;
            } else if b == b'%'
                && i + 2 < host.len()
                && host[i + 1].is_ascii_hexdigit()
                && host[i + 2].is_ascii_hexdigit()
            {
                i += 3;
            } else {
                return HostCheck::Invalid;
            }
        }
        HostCheck::Valid
    }

    #[test]
    fn host_check_agrees_with_the_plain_version() {
        let alphabet = b"a9.:[]%,fG /@\x80\x00-";
        let mut seed = 7u32;
        for len in 0..40 {
            for _ in 0..300 {
                let host: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        alphabet[(seed >> 16) as usize % alphabet.len()]
                    })
                    .collect();
                assert_eq!(check_host(&host), reference(&host), "{host:?}");
            }
        }
        for host in [
            &b"example.com:8080"[..],
            b"[::1]:80",
            b"a%2Cb",
            b"a,b",
            b"%zz",
            b"%4",
        ] {
            assert_eq!(check_host(host), reference(host), "{host:?}");
        }
    }

    #[test]
    fn split_like_python() {
        // Outputs of Tornado 6.6.1's `split_host_and_port`.
        let cases: &[(&str, &str, Option<u16>)] = &[
            ("host", "host", None),
            ("host:80", "host", Some(80)),
            ("host:", "host:", None),
            (":80", ":80", None),
            ("[::1]:8080", "[::1]", Some(8080)),
            ("::1", ":", Some(1)),
            ("h:8x", "h:8x", None),
            ("h:80\n", "h", Some(80)),
            ("h\n:80", "h\n:80", None),
            ("h:99999", "h", None),
        ];
        for (netloc, host, port) in cases {
            assert_eq!(
                split_host_and_port(netloc),
                (host.to_string(), *port),
                "{netloc:?}"
            );
        }
    }

    #[test]
    fn hosts_like_python() {
        // `bool(_ABNF.host.fullmatch(h))` in Tornado 6.6.1.
        let cases = [
            ("", true),
            ("a", true),
            ("a:80", true),
            ("[::1]:80", true),
            ("a b", false),
            ("a%2", false),
            ("a%zz", false),
            ("a%41", true),
            ("\u{e9}", false),
            ("a,b", true),
            ("a/b", false),
            ("a@b", false),
            ("a:b:c", true),
            ("a\n", false),
            ("%", false),
            ("%%41", false),
            ("a\t", false),
            ("!$&'()*+;=-._~", true),
        ];
        for (host, valid) in cases {
            assert_eq!(is_valid_host(host), valid, "{host:?}");
        }
    }
}
