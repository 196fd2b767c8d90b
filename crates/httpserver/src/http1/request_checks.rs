//! What the server decides from a request head before its delegate sees it: whether the
//! head is acceptable (Host, query size, framing) and whether the connection may be kept.

use http::{Method, Version};

use super::framing::{Framing, request_framing};
use super::head::{ConnectionToken, HeadFacts, RequestHead};
use super::params::HttpConnectionParameters;
use crate::httputil::{HostCheck, HttpInputError};

/// `_can_keep_alive`: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only when asked and
/// the body's end is known.
pub(super) fn can_keep_alive(
    params: &HttpConnectionParameters,
    method: &Method,
    version: Version,
    facts: &HeadFacts,
) -> bool {
    if params.no_keep_alive {
        return false;
    }
    if version == Version::HTTP_11 {
        return facts.connection != ConnectionToken::Close;
    }
    let framed = facts.framed || *method == Method::HEAD || *method == Method::GET;
    framed && facts.connection == ConnectionToken::KeepAlive
}

/// The Host checks Tornado makes when it builds a request: required on HTTP/1.1 (1.0 gets
/// `127.0.0.1`), one at most, and well-formed; and at most 1000 query arguments.
pub(super) fn validate_request(head: &RequestHead) -> Result<(), HttpInputError> {
    let facts = &head.facts;
    match facts.hosts {
        0 if head.version == Version::HTTP_11 => {
            return Err(HttpInputError::new("Missing Host header"));
        }
        0 => {}
        1 => {
            let host = &head.headers.head()[facts.host.clone()];
            match crate::httputil::check_host(host) {
                HostCheck::Valid => {}
                HostCheck::Comma => {
                    let host = String::from_utf8_lossy(host);
                    return Err(HttpInputError::new(format!(
                        "Multiple host headers not allowed: {host:?}"
                    )));
                }
                HostCheck::Invalid => {
                    let host = String::from_utf8_lossy(host);
                    return Err(HttpInputError::new(format!(
                        "Invalid Host header: {host:?}"
                    )));
                }
            }
        }
        _ => return Err(HttpInputError::new("Multiple host headers not allowed")),
    }
    // Tornado's limit on urlencoded arguments applies to query strings too (6.5.9).
    if let Some(q) = head.target.iter().position(|b| *b == b'?') {
        let fields = crate::httputil::count_query_fields(&head.target[q + 1..]);
        if fields > crate::httputil::ParseUrlEncodedConfig::default().max_arguments {
            return Err(HttpInputError::new(
                "Invalid query string: Max number of fields exceeded",
            ));
        }
    }
    Ok(())
}

/// How the body is delimited. The size limit is not applied here: the delegate may change it
/// (`set_max_body_size` from a streaming handler's `prepare`).
pub(super) fn body_framing(head: &RequestHead) -> Result<Framing, HttpInputError> {
    if head.facts.framed {
        request_framing(head.headers.map(), u64::MAX)
    } else {
        Ok(Framing::Empty)
    }
}
