//! Form bodies: [`ParseUrlEncodedConfig`], [`ParseBodyConfig`] and [`parse_body_arguments`].

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

use super::error::HttpInputError;
use super::multipart::{Files, ParseMultipartConfig, parse_multipart_form_data};
use super::pystr::py_strip;
use super::urlencoded::{Arguments, parse_qs_bytes};

/// Limits on `application/x-www-form-urlencoded` bodies (Tornado's `ParseUrlEncodedConfig`,
/// 6.5.8). Tornado applies the same limit to query strings (6.5.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseUrlEncodedConfig {
    /// The most arguments a body may have (`max_arguments`). Default is 1000.
    pub max_arguments: usize,
}

impl Default for ParseUrlEncodedConfig {
    fn default() -> Self {
        ParseUrlEncodedConfig {
            max_arguments: 1000,
        }
    }
}

impl ParseUrlEncodedConfig {
    /// A configuration with Tornado's defaults.
    pub fn new() -> Self {
        ParseUrlEncodedConfig::default()
    }

    /// The most arguments a body may have, counted as Python counts them (one more than the
    /// number of `&`) before anything is parsed (`max_arguments`). Default is 1000.
    pub fn max_arguments(mut self, max_arguments: usize) -> Self {
        self.max_arguments = max_arguments;
        self
    }
}

/// Limits on form bodies (Tornado's `ParseBodyConfig`, 6.5.5).
///
/// # Differences from Tornado
///
/// Tornado reads a process-wide default that `set_parse_body_config` replaces; here the
/// configuration is always passed in, and [`Default`] gives Tornado's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseBodyConfig {
    /// Limits on `multipart/form-data` (`multipart`). Default is
    /// [`ParseMultipartConfig::default`].
    pub multipart: ParseMultipartConfig,
    /// Limits on `application/x-www-form-urlencoded` (`urlencoded`). Default is
    /// [`ParseUrlEncodedConfig::default`].
    pub urlencoded: ParseUrlEncodedConfig,
}

impl ParseBodyConfig {
    /// A configuration with Tornado's defaults.
    pub fn new() -> Self {
        ParseBodyConfig::default()
    }

    /// Limits on `multipart/form-data` bodies (`multipart`). Default is
    /// [`ParseMultipartConfig::default`].
    pub fn multipart(mut self, config: ParseMultipartConfig) -> Self {
        self.multipart = config;
        self
    }

    /// Limits on `application/x-www-form-urlencoded` bodies (`urlencoded`). Default is
    /// [`ParseUrlEncodedConfig::default`].
    pub fn urlencoded(mut self, config: ParseUrlEncodedConfig) -> Self {
        self.urlencoded = config;
        self
    }
}

/// Parses a form body into `arguments` and `files` (Tornado's `parse_body_arguments`).
///
/// Only two content types are read, by case-sensitive prefix as in Tornado; any other body
/// is left alone:
///
/// - `application/x-www-form-urlencoded`: [`parse_qs_bytes`] with blank values kept and at
///   most [`max_arguments`](ParseUrlEncodedConfig::max_arguments) fields.
/// - `multipart/form-data`: the type must be exactly that before any `;`, and a
///   `boundary=` parameter (unspaced, non-empty) is required; then
///   [`parse_multipart_form_data`].
///
/// Either kind with a `Content-Encoding` header (any value) is an error: the body is still
/// compressed (Tornado's server, when told to decompress request bodies, removes the header
/// once it has). Malformed bodies are errors (Tornado 6.5+ raises `HTTPInputError`, answered
/// with a 400); on an error `arguments` and `files` are left as they were.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use tornado_httpserver::httputil::{Arguments, Files, ParseBodyConfig, parse_body_arguments};
///
/// let (mut arguments, mut files) = (Arguments::new(), Files::new());
/// parse_body_arguments(
///     "application/x-www-form-urlencoded",
///     &Bytes::from_static(b"a=1&b=2&a=3"),
///     &mut arguments,
///     &mut files,
///     None,
///     &ParseBodyConfig::default(),
/// )
/// .unwrap();
/// assert_eq!(arguments["a"], [b"1".to_vec(), b"3".to_vec()]);
/// ```
pub fn parse_body_arguments(
    content_type: &str,
    body: &Bytes,
    arguments: &mut Arguments,
    files: &mut Files,
    headers: Option<&HeaderMap>,
    config: &ParseBodyConfig,
) -> Result<(), HttpInputError> {
    if content_type.starts_with("application/x-www-form-urlencoded") {
        check_content_encoding(headers)?;
        // Values stay bytes: charset decoding is the web layer's (`decode_argument`).
        let parsed = parse_qs_bytes(body, true, Some(config.urlencoded.max_arguments))
            .map_err(|e| HttpInputError::new(format!("Invalid x-www-form-urlencoded body: {e}")))?;
        for (name, values) in parsed {
            arguments.entry(name).or_default().extend(values);
        }
    } else if content_type.starts_with("multipart/form-data") {
        check_content_encoding(headers)?;
        let invalid = |e: &dyn std::fmt::Display| {
            HttpInputError::new(format!("Invalid multipart/form-data: {e}"))
        };
        let mut fields = content_type.split(';');
        // The prefix test alone would accept "multipart/form-dataxyz".
        if fields.next().map(py_strip) != Some("multipart/form-data") {
            return Err(invalid(&"Invalid content type"));
        }
        for field in fields {
            let (key, value) = py_strip(field).split_once('=').unwrap_or(("", ""));
            if key == "boundary" && !value.is_empty() {
                return parse_multipart_form_data(
                    value.as_bytes(),
                    body,
                    arguments,
                    files,
                    &config.multipart,
                )
                .map_err(|e| invalid(&e));
            }
        }
        return Err(invalid(&"multipart boundary not found"));
    }
    Ok(())
}

/// Tornado: "Unsupported Content-Encoding" if the header is present at all.
fn check_content_encoding(headers: Option<&HeaderMap>) -> Result<(), HttpInputError> {
    let Some(headers) = headers else {
        return Ok(());
    };
    if !headers.contains_key(CONTENT_ENCODING) {
        return Ok(());
    }
    let values: Vec<_> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Err(HttpInputError::new(format!(
        "Unsupported Content-Encoding: {}",
        values.join(",")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(content_type: &str, body: &[u8], headers: Option<&HeaderMap>) -> Result<Arguments, ()> {
        let (mut a, mut f) = (Arguments::new(), Files::new());
        let body = Bytes::copy_from_slice(body);
        parse_body_arguments(
            content_type,
            &body,
            &mut a,
            &mut f,
            headers,
            &Default::default(),
        )
        .map_err(|_| ())?;
        Ok(a)
    }

    #[test]
    fn like_python() {
        // Outcomes of Tornado 6.6.1 for the same calls.
        let form = "application/x-www-form-urlencoded";
        let a = run(&format!("{form}; charset=utf8"), b"a=1&b", None).unwrap();
        assert_eq!(
            (a["a"].clone(), a["b"].clone()),
            (vec![b"1".to_vec()], vec![vec![]])
        );
        assert_eq!(run(&format!("{form}XXX"), b"a=1", None).unwrap().len(), 1);
        assert!(
            run("Application/x-www-form-urlencoded", b"a=1", None)
                .unwrap()
                .is_empty()
        );
        assert!(run("text/plain", b"a=1", None).unwrap().is_empty());

        let mut gzip = HeaderMap::new();
        gzip.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        let mut empty = HeaderMap::new();
        empty.insert(CONTENT_ENCODING, "".parse().unwrap());
        assert!(run(form, b"a=1", Some(&gzip)).is_err());
        assert!(run(form, b"a=1", Some(&empty)).is_err());
        assert!(run("text/plain", b"a=1", Some(&gzip)).is_ok());
        assert!(
            run(
                "multipart/form-data; boundary=1234",
                b"--1234--",
                Some(&gzip)
            )
            .is_err()
        );

        for bad in [
            "multipart/form-dataxyz; boundary=1234",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary = 1234",
            "multipart/form-data; Boundary=1234",
        ] {
            assert!(run(bad, b"--1234--", None).is_err(), "{bad}");
        }
        for good in [
            "multipart/form-data; charset=x; boundary=1234; boundary=5678",
            "multipart/form-data ;boundary=1234",
        ] {
            assert!(run(good, b"--1234--", None).is_ok(), "{good}");
        }
        let body = b"--12 34\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--12 34--";
        let a = run("multipart/form-data;boundary=\"12 34\"", body, None).unwrap();
        assert_eq!(a["a"], [b"v".to_vec()]);
        assert!(
            run(
                "multipart/form-data; boundary=\u{e9}",
                "--\u{e9}--".as_bytes(),
                None
            )
            .is_ok()
        );
    }
}
