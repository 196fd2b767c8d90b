//! Opening a connection for a request: straight to the server, or through an HTTP proxy
//! (absolute-form requests for `http`, a `CONNECT` tunnel for `https`), with TLS for
//! `https`.

use std::io;
use std::time::Instant;

use tornado_gen::with_timeout;
#[cfg(feature = "tls")]
use tornado_iostream::TlsClientOptions;
use tornado_iostream::{IoStream, stream_closed_error};
use tornado_tcpserver::{ConnectSettings, TcpClient};

use crate::error::HttpClientError;
use crate::util::basic_auth;

/// Where and how to connect.
pub(crate) struct Route<'a> {
    pub(crate) https: bool,
    /// The server's host (no brackets around an IPv6 address) and port.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// `host:port` as the URL wrote it (brackets kept), for `CONNECT`.
    pub(crate) authority: &'a str,
    pub(crate) proxy: Option<Proxy<'a>>,
    pub(crate) settings: ConnectSettings,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsClientOptions>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) max_header_size: usize,
}

/// An HTTP proxy.
pub(crate) struct Proxy<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`.
    pub(crate) credentials: Option<(&'a str, &'a str)>,
}

/// Turns a connect failure into the error a fetch reports: a timeout keeps the connector's
/// message (`Timeout while resolving ...`); a refused or reset connection is reported as the
/// OS error, as Tornado raises `real_error`.
pub(crate) fn connect_error(e: io::Error) -> HttpClientError {
    if e.kind() == io::ErrorKind::TimedOut {
        return HttpClientError::timeout(e.to_string()).with_source(e);
    }
    if let Some(closed) = stream_closed_error(&e) {
        if let Some(real) = closed.real_error() {
            return HttpClientError::io(io::Error::new(real.kind(), real.to_string()));
        }
        return HttpClientError::stream_closed("Stream closed").with_source(e);
    }
    HttpClientError::io(e)
}

pub(crate) async fn connect(
    tcp: &TcpClient,
    route: Route<'_>,
) -> Result<IoStream, HttpClientError> {
    let mut settings = route.settings.clone();
    if let Some(at) = route.deadline {
        settings = settings.timeout(at);
    }
    let Some(proxy) = &route.proxy else {
        #[cfg(feature = "tls")]
        if route.https {
            let tls = route.tls.clone().unwrap_or_default();
            settings = settings.tls(tls);
        }
        #[cfg(not(feature = "tls"))]
        if route.https {
            return Err(HttpClientError::invalid_request(
                "https needs the `tls` feature of tornado-httpclient",
            ));
        }
        return tcp
            .connect_with(route.host, route.port, &settings)
            .await
            .map_err(connect_error);
    };
    let stream = tcp
        .connect_with(proxy.host, proxy.port, &settings)
        .await
        .map_err(connect_error)?;
    if !route.https {
        return Ok(stream);
    }
    let tunnel = open_tunnel(&stream, &route, proxy);
    match route.deadline {
        Some(at) => with_timeout(at, tunnel)
            .message(format!(
                "Timeout while connecting through the proxy to {}",
                route.authority
            ))
            .await
            .map_err(|e| {
                stream.close(None);
                HttpClientError::timeout(e.to_string())
            })??,
        None => tunnel.await?,
    }
    #[cfg(feature = "tls")]
    {
        let tls = route.tls.clone().unwrap_or_default();
        let handshake = stream.clone().start_tls_client(route.host, &tls);
        let tls_stream = match route.deadline {
            Some(at) => with_timeout(at, handshake)
                .message(format!(
                    "Timeout during TLS handshake with {}",
                    route.authority
                ))
                .await
                .map_err(|e| HttpClientError::timeout(e.to_string()))?
                .map_err(HttpClientError::io)?,
            None => handshake.await.map_err(HttpClientError::io)?,
        };
        Ok(tls_stream.into_inner())
    }
    #[cfg(not(feature = "tls"))]
    Err(HttpClientError::invalid_request(
        "https needs the `tls` feature of tornado-httpclient",
    ))
}

/// Asks the proxy for a tunnel to the server (`CONNECT host:port`), and reads its answer.
async fn open_tunnel(
    stream: &IoStream,
    route: &Route<'_>,
    proxy: &Proxy<'_>,
) -> Result<(), HttpClientError> {
    let mut head = format!("CONNECT {a} HTTP/1.1\r\nHost: {a}\r\n", a = route.authority);
    if let Some((user, password)) = proxy.credentials {
        head.push_str(&format!(
            "Proxy-Authorization: {}\r\n",
            basic_auth(user, password)
        ));
    }
    head.push_str("\r\n");
    stream.write(head.into_bytes());
    let answer = stream
        .read_until(b"\r\n\r\n", Some(route.max_header_size))
        .await
        .map_err(connect_error)?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let code = match resp.parse(&answer) {
        Ok(httparse::Status::Complete(_)) => resp.code.unwrap_or(0),
        _ => 0,
    };
    if !(200..300).contains(&code) {
        stream.close(None);
        let reason = resp.reason.unwrap_or("").to_owned();
        return Err(HttpClientError::io(io::Error::other(format!(
            "the proxy refused a tunnel to {}: {code} {reason}",
            route.authority
        ))));
    }
    Ok(())
}
