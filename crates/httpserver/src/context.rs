//! [`RequestContext`]: who the request comes from, as far as the server can tell
//! (Tornado's `_HTTPRequestContext`, with its `xheaders` rules).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use http::HeaderMap;
use http::header::HeaderValue;

/// The peer of a request: its address, and its IP and protocol after the `X-Real-Ip` /
/// `X-Forwarded-For` / `X-Scheme` / `X-Forwarded-Proto` headers of a trusted proxy are
/// applied (when the server has `xheaders` on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The peer's socket address (`None` for a Unix socket).
    pub address: Option<SocketAddr>,
    /// The client's IP: the peer's, or the one a trusted proxy reported. `0.0.0.0` for a
    /// Unix socket, as in Tornado.
    pub remote_ip: IpAddr,
    /// `"http"` or `"https"`.
    pub protocol: &'static str,
}

impl RequestContext {
    /// The context of a connection from `address`, over TLS or not, or with a `protocol`
    /// forced by the server settings.
    pub fn new(address: Option<SocketAddr>, tls: bool, protocol: Option<&'static str>) -> Self {
        RequestContext {
            address,
            remote_ip: address.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip()),
            protocol: protocol.unwrap_or(if tls { "https" } else { "http" }),
        }
    }

    /// This context with a proxy's headers applied (`_apply_xheaders`): the IP from
    /// `X-Real-Ip`, else the rightmost `X-Forwarded-For` entry that is not a trusted
    /// downstream proxy (it must be a valid IP), and the protocol from `X-Scheme`, else
    /// `X-Forwarded-Proto` (its last entry; only `http` or `https` count).
    pub fn with_xheaders(&self, headers: &HeaderMap, trusted_downstream: &HashSet<IpAddr>) -> Self {
        let mut ctx = self.clone();
        let mut candidate: Option<IpAddr> = None;
        if let Some(xff) = joined(headers, "x-forwarded-for") {
            for part in xff.rsplit(',') {
                let part = part.trim();
                match part.parse::<IpAddr>() {
                    Ok(ip) if trusted_downstream.contains(&ip) => continue,
                    Ok(ip) => {
                        candidate = Some(ip);
                        break;
                    }
                    // Not an IP: Tornado stops here too, and then rejects it below.
                    Err(_) => break,
                }
            }
        }
        if let Some(real) = joined(headers, "x-real-ip") {
            candidate = real.trim().parse().ok();
        }
        if let Some(ip) = candidate {
            ctx.remote_ip = ip;
        }
        let proto = joined(headers, "x-scheme").or_else(|| joined(headers, "x-forwarded-proto"));
        if let Some(proto) = proto {
            match proto.rsplit(',').next().map(str::trim) {
                Some("http") => ctx.protocol = "http",
                Some("https") => ctx.protocol = "https",
                _ => {}
            }
        }
        ctx
    }
}

/// All values of a header joined with `,`, as Tornado's `HTTPHeaders.get` returns them.
fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers
        .get_all(name)
        .iter()
        .filter_map(|v: &HeaderValue| v.to_str().ok());
    let first = values.next()?;
    let mut out = first.to_owned();
    for v in values {
        out.push(',');
        out.push_str(v);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new(Some("127.0.0.1:5000".parse().unwrap()), false, None)
    }

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (n, v) in pairs {
            m.append(*n, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn test_ip_headers() {
        let none = HashSet::new();
        let c = ctx().with_xheaders(&h(&[("x-real-ip", "4.4.4.4")]), &none);
        assert_eq!(c.remote_ip.to_string(), "4.4.4.4");
        let c = ctx().with_xheaders(&h(&[("x-forwarded-for", "4.4.4.4")]), &none);
        assert_eq!(c.remote_ip.to_string(), "4.4.4.4");
        let c = ctx().with_xheaders(&h(&[("x-forwarded-for", "127.0.0.1, 4.4.4.4")]), &none);
        assert_eq!(c.remote_ip.to_string(), "4.4.4.4");
        let c = ctx().with_xheaders(&h(&[("x-real-ip", "2620:0:1cfe:face:b00c::3")]), &none);
        assert_eq!(c.remote_ip.to_string(), "2620:0:1cfe:face:b00c::3");
        for bad in ["4.4.4.4<script>", "www.google.com"] {
            let c = ctx().with_xheaders(&h(&[("x-real-ip", bad)]), &none);
            assert_eq!(c.remote_ip.to_string(), "127.0.0.1", "{bad}");
            let c = ctx().with_xheaders(&h(&[("x-forwarded-for", bad)]), &none);
            assert_eq!(c.remote_ip.to_string(), "127.0.0.1", "{bad}");
        }
    }

    #[test]
    fn test_trusted_downstream() {
        let trusted: HashSet<IpAddr> = ["5.5.5.5".parse().unwrap()].into();
        let c = ctx().with_xheaders(
            &h(&[("x-forwarded-for", "127.0.0.1, 4.4.4.4, 5.5.5.5")]),
            &trusted,
        );
        assert_eq!(c.remote_ip.to_string(), "4.4.4.4");
    }

    #[test]
    fn test_scheme_headers() {
        let none = HashSet::new();
        assert_eq!(
            ctx()
                .with_xheaders(&h(&[("x-scheme", "https")]), &none)
                .protocol,
            "https"
        );
        assert_eq!(
            ctx()
                .with_xheaders(&h(&[("x-forwarded-proto", "https")]), &none)
                .protocol,
            "https"
        );
        assert_eq!(
            ctx()
                .with_xheaders(&h(&[("x-forwarded-proto", "https , http")]), &none)
                .protocol,
            "http"
        );
        assert_eq!(
            ctx()
                .with_xheaders(&h(&[("x-forwarded-proto", "unknown")]), &none)
                .protocol,
            "http"
        );
    }
}
