//! `multipart/form-data`: [`HttpFile`], [`Files`], [`ParseMultipartConfig`] and
//! [`parse_multipart_form_data`].

use std::collections::HashMap;
use std::ops::Range;

use bytes::Bytes;
use memchr::memmem;

use super::error::HttpInputError;
use super::header_params::parse_header;
use super::is_tchar;
use super::urlencoded::Arguments;

/// A file uploaded through a form (Tornado's `HTTPFile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFile {
    /// The file name the client sent (`filename=` or `filename*=`).
    pub filename: String,
    /// The content: a zero-copy slice of the request body.
    pub body: Bytes,
    /// The part's `Content-Type`, or `application/unknown` if it had none.
    pub content_type: String,
}

/// Uploaded files by form field name (Tornado's `dict[str, list[HTTPFile]]`).
pub type Files = HashMap<String, Vec<HttpFile>>;

/// Limits on `multipart/form-data` bodies (Tornado's `ParseMultipartConfig`, 6.5.5): they
/// bound what one request can make the parser do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMultipartConfig {
    /// Whether multipart bodies are parsed at all (`enabled`). Default is `true`.
    pub enabled: bool,
    /// The most parts a body may have (`max_parts`). Default is 100.
    pub max_parts: usize,
    /// The most bytes of headers a part may have (`max_part_header_size`). Default is
    /// 10 KiB.
    pub max_part_header_size: usize,
}

impl Default for ParseMultipartConfig {
    fn default() -> Self {
        ParseMultipartConfig {
            enabled: true,
            max_parts: 100,
            max_part_header_size: 10 * 1024,
        }
    }
}

impl ParseMultipartConfig {
    /// A configuration with Tornado's defaults.
    pub fn new() -> Self {
        ParseMultipartConfig::default()
    }

    /// Whether multipart bodies are parsed at all; when `false` every one is an error.
    /// Applications that take no uploads may turn it off, since multipart parsing has a
    /// history of denial-of-service bugs (`enabled`). Default is `true`.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// The most parts a body may have (`max_parts`). As in Tornado, the text before the
    /// first boundary counts as one, so a body that starts with its boundary may carry
    /// `max_parts - 1` parts. Default is 100.
    pub fn max_parts(mut self, max_parts: usize) -> Self {
        self.max_parts = max_parts;
        self
    }

    /// The most bytes of headers one part may have (`max_part_header_size`). Default is
    /// 10 KiB.
    pub fn max_part_header_size(mut self, bytes: usize) -> Self {
        self.max_part_header_size = bytes;
        self
    }
}

/// Parses a `multipart/form-data` body into `arguments` and `files` (Tornado's
/// `parse_multipart_form_data`, 6.6.1 rules).
///
/// - `boundary` may be quoted (`"1234"`); the final boundary `--boundary--` is required, and
///   anything after its last occurrence is ignored.
/// - Parts are separated by `--boundary` CRLF; the text before the first one must be empty,
///   and at most [`max_parts`](ParseMultipartConfig::max_parts) pieces are allowed.
/// - Each part has headers (at most
///   [`max_part_header_size`](ParseMultipartConfig::max_part_header_size) bytes, UTF-8, CRLF
///   or LF line endings, no folding, no control characters but tab: a bare CR is an error),
///   a `Content-Disposition: form-data` with a non-empty `name`, and ends with CRLF.
/// - A part with a non-empty `filename` (or RFC 2231 `filename*`) becomes an [`HttpFile`]
///   whose body is a zero-copy slice of `data`; any other part becomes an argument.
///
/// The first malformed part rejects the whole body. Time is linear in the size of `data`.
///
/// # Differences from Tornado
///
/// On an error `arguments` and `files` are left as they were; Tornado may already have added
/// the parts that preceded the bad one (the request fails with a 400 either way).
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use tornado_httpserver::httputil::{
///     Arguments, Files, ParseMultipartConfig, parse_multipart_form_data,
/// };
///
/// let body = Bytes::from_static(
///     b"--1234\r\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\r\n\r\n\
///       Foo\r\n--1234--\r\n",
/// );
/// let (mut arguments, mut files) = (Arguments::new(), Files::new());
/// let config = ParseMultipartConfig::default();
/// parse_multipart_form_data(b"1234", &body, &mut arguments, &mut files, &config).unwrap();
/// assert_eq!(files["files"][0].filename, "ab.txt");
/// assert_eq!(files["files"][0].body, "Foo");
/// ```
pub fn parse_multipart_form_data(
    boundary: &[u8],
    data: &Bytes,
    arguments: &mut Arguments,
    files: &mut Files,
    config: &ParseMultipartConfig,
) -> Result<(), HttpInputError> {
    if !config.enabled {
        return Err(HttpInputError::new(
            "multipart/form-data parsing is disabled",
        ));
    }
    // The standard allows a quoted boundary; backslash escapes in it are not handled, as in
    // Tornado (no client is known to send them).
    let boundary = match boundary {
        [b'"', inner @ .., b'"'] => inner,
        [b'"'] => &[],
        other => other,
    };
    let final_boundary = [b"--", boundary, b"--"].concat();
    let final_index = memmem::rfind(data, &final_boundary).ok_or_else(|| {
        HttpInputError::new("Invalid multipart/form-data: no final boundary found")
    })?;
    let pieces = split_parts(&data[..final_index], boundary, config.max_parts)?;

    // Parse everything before touching the caller's maps, so an error leaves them as they were.
    let mut parsed = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if !piece.is_empty() {
            parsed.push(parse_part(data, piece, config)?);
        }
    }
    for (name, part) in parsed {
        match part {
            Part::File(file) => files.entry(name).or_default().push(file),
            Part::Argument(value) => arguments.entry(name).or_default().push(value),
        }
    }
    Ok(())
}

/// Python's `body.split(b"--" + boundary + b"\r\n")`, as ranges of `body`, failing as soon as
/// there are more than `max_parts` pieces (the first, before any delimiter, included).
fn split_parts(
    body: &[u8],
    boundary: &[u8],
    max_parts: usize,
) -> Result<Vec<Range<usize>>, HttpInputError> {
    let too_many = || HttpInputError::new("multipart/form-data has too many parts");
    let delimiter = [b"--", boundary, b"\r\n"].concat();
    let mut pieces = Vec::new();
    let mut start = 0;
    for at in memmem::find_iter(body, &delimiter) {
        pieces.push(start..at);
        if pieces.len() > max_parts {
            return Err(too_many());
        }
        start = at + delimiter.len();
    }
    pieces.push(start..body.len());
    if pieces.len() > max_parts {
        return Err(too_many());
    }
    Ok(pieces)
}

/// What one part turned into.
#[derive(Debug)]
enum Part {
    File(HttpFile),
    Argument(Vec<u8>),
}

/// Parses the part at `range` of `data` into its field name and value.
fn parse_part(
    data: &Bytes,
    range: Range<usize>,
    config: &ParseMultipartConfig,
) -> Result<(String, Part), HttpInputError> {
    let part = &data[range.clone()];
    let eoh = memmem::find(part, b"\r\n\r\n")
        .ok_or_else(|| HttpInputError::new("multipart/form-data missing headers"))?;
    if eoh > config.max_part_header_size {
        return Err(HttpInputError::new(
            "multipart/form-data part header too large",
        ));
    }
    let headers = PartHeaders::parse(&part[..eoh])?;
    let (disposition, params) = parse_header(headers.disposition.as_deref().unwrap_or(""))?;
    if disposition != "form-data" || !part.ends_with(b"\r\n") {
        return Err(HttpInputError::new("Invalid multipart/form-data"));
    }
    // The value sits between the blank line and the CRLF before the next delimiter; with no
    // value at all the two overlap, and Python's slice is empty.
    let value_start = range.start + eoh + 4;
    let value = value_start..(range.end - 2).max(value_start);
    let name = match params.get("name") {
        Some(name) if !name.is_empty() => name.clone(),
        _ => return Err(HttpInputError::new("multipart/form-data missing name")),
    };
    match params.get("filename") {
        Some(filename) if !filename.is_empty() => {
            let file = HttpFile {
                filename: filename.clone(),
                body: data.slice(value),
                content_type: headers
                    .content_type
                    .unwrap_or_else(|| "application/unknown".to_owned()),
            };
            Ok((name, Part::File(file)))
        }
        _ => Ok((name, Part::Argument(data[value].to_vec()))),
    }
}

/// The headers of one part that the parser reads; the others are validated and dropped.
#[derive(Debug, Default)]
struct PartHeaders {
    /// `Content-Disposition`, repeated values joined with `,` (as `HTTPHeaders` joins them).
    disposition: Option<String>,
    /// `Content-Type`, joined likewise.
    content_type: Option<String>,
}

impl PartHeaders {
    /// Tornado's `HTTPHeaders.parse(text.decode("utf-8"), _chars_are_bytes=False)`: lines end
    /// at LF (a CR before it is dropped), names are tokens, values are trimmed of spaces and
    /// tabs and may hold any character but ASCII controls other than tab, so a CR that does
    /// not end a line is an error.
    fn parse(raw: &[u8]) -> Result<PartHeaders, HttpInputError> {
        let text = std::str::from_utf8(raw).map_err(|_| {
            HttpInputError::new("multipart/form-data part headers are not valid UTF-8")
        })?;
        let mut headers = PartHeaders::default();
        for line in text.split_inclusive('\n') {
            let line = match line.strip_suffix('\n') {
                Some(line) => line.strip_suffix('\r').unwrap_or(line),
                None => line,
            };
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                return Err(HttpInputError::new(
                    "header line cannot start with whitespace, folding not supported",
                ));
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| HttpInputError::new("no colon in header line"))?;
            if name.is_empty() || !name.bytes().all(is_tchar) {
                return Err(HttpInputError::new(format!("Invalid header name {name:?}")));
            }
            let value = value.trim_matches([' ', '\t']);
            if value
                .bytes()
                .any(|b| matches!(b, 0x00..=0x08 | 0x0a..=0x1f | 0x7f))
            {
                return Err(HttpInputError::new(format!(
                    "Invalid header value {value:?}"
                )));
            }
            let slot = if name.eq_ignore_ascii_case("Content-Disposition") {
                &mut headers.disposition
            } else if name.eq_ignore_ascii_case("Content-Type") {
                &mut headers.content_type
            } else {
                continue;
            };
            match slot {
                Some(joined) => {
                    joined.push(',');
                    joined.push_str(value);
                }
                None => *slot = Some(value.to_owned()),
            }
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &[u8], config: &ParseMultipartConfig) -> Result<(Arguments, Files), String> {
        let (mut a, mut f) = (Arguments::new(), Files::new());
        parse_multipart_form_data(
            b"1234",
            &Bytes::copy_from_slice(data),
            &mut a,
            &mut f,
            config,
        )
        .map_err(|e| e.message().to_owned())?;
        Ok((a, f))
    }

    fn ok(data: &[u8]) -> (Arguments, Files) {
        parse(data, &ParseMultipartConfig::default()).unwrap()
    }

    fn err(data: &[u8]) -> String {
        parse(data, &ParseMultipartConfig::default()).unwrap_err()
    }

    #[test]
    fn like_python() {
        // Outcomes of Tornado 6.6.1 on the same bodies.
        let cd = "--1234\r\nContent-Disposition: form-data; name=a";
        let (a, _) = ok(format!("{cd}\nContent-Type: x\n\r\n\r\nv\r\n--1234--").as_bytes());
        assert_eq!(a["a"], [b"v".to_vec()]);
        let (a, _) = ok(format!(
            "{cd}\r\nContent-Disposition: form-data; name=b\r\n\r\nv\r\n--1234--"
        )
        .as_bytes());
        assert_eq!(a["b"], [b"v".to_vec()]);
        let (_, f) = ok(format!(
            "{cd}; filename=f\r\nContent-Type: x\r\ncontent-type: y\r\n\r\nv\r\n--1234--"
        )
        .as_bytes());
        assert_eq!(f["a"][0].content_type, "x,y");
        let (a, f) = ok(format!("{cd}; filename=\"\"\r\n\r\nv\r\n--1234--").as_bytes());
        assert_eq!((a["a"].len(), f.len()), (1, 0));
        let mut body = format!("{cd}\r\nX: \t\r\nY:\u{85}y\r\n\r\nv").into_bytes();
        body.extend_from_slice(b"\xff\r\n--1234--");
        let (a, _) = ok(&body);
        assert_eq!(a["a"], [b"v\xff".to_vec()]);
        let (a, _) = ok(
            b"--1234\r\nContent-Disposition:\xc2\xa0form-data; name=a\xc2\xa0\r\n\r\nv\r\n--1234--",
        );
        assert_eq!(a["a"], [b"v".to_vec()]);
        let (a, _) = ok(format!("{cd}\r\n\r\n\r\n--1234--").as_bytes());
        assert_eq!(a["a"], [Vec::<u8>::new()]);
        let (a, _) = ok(format!("{cd}\r\n\r\n--1234--").as_bytes());
        assert_eq!(a["a"], [Vec::<u8>::new()]);
        let (a, _) = ok(format!("{cd}\r\n\r\nv\r\n--1234\r\n--1234--").as_bytes());
        assert_eq!(a["a"], [b"v".to_vec()]);
        let (a, _) = ok(format!("{cd}\r\n\r\nb\r\n--1234--\r\n--1234--\r\n").as_bytes());
        assert_eq!(a["a"], [b"b\r\n--1234--".to_vec()]);
        assert!(ok(b"--1234--").0.is_empty());

        assert!(err(format!("pre\r\n{cd}\r\n\r\nv\r\n--1234--").as_bytes()).contains("headers"));
        assert!(err(format!("\r\n{cd}\r\n\r\nv\r\n--1234--").as_bytes()).contains("headers"));
        err(b"--1234\r\n\r\n\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--1234--");
        err(b"--1234\r\nContent-Disposition : form-data; name=a\r\n\r\nv\r\n--1234--");
        err(format!("{cd}\r\n X: y\r\n\r\nv\r\n--1234--").as_bytes());
        err(b"--1234\r\nContent-Disposition: form-data; name=\xff\r\n\r\nv\r\n--1234--");
        err(format!("{cd}\r\nX: \x7f\r\n\r\nv\r\n--1234--").as_bytes());
        err(b"--1234\r\nContent-Disposition: Form-Data; name=a\r\n\r\nv\r\n--1234--");
        err(format!("{cd}\r\n\r\nv\r\n--1234\r\nbad\r\n--1234--").as_bytes());
        err(format!("{cd}; filename*=a; filename*0=b\r\n\r\nv\r\n--1234--").as_bytes());
    }

    #[test]
    fn error_leaves_maps_untouched() {
        let (mut a, mut f) = (Arguments::new(), Files::new());
        let body = Bytes::from_static(
            b"--1234\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--1234\r\nbad\r\n--1234--",
        );
        let config = ParseMultipartConfig::default();
        assert!(parse_multipart_form_data(b"1234", &body, &mut a, &mut f, &config).is_err());
        assert!(a.is_empty() && f.is_empty());
    }

    #[test]
    fn limits() {
        let part = "--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n";
        let body = |n: usize| format!("{}--1234--\r\n", part.repeat(n));
        // The empty piece before the first delimiter counts, as in Tornado.
        assert!(ok(body(99).as_bytes()).0["a"].len() == 99);
        assert!(err(body(100).as_bytes()).contains("too many parts"));
        let one = ParseMultipartConfig::default().max_parts(1);
        assert!(parse(b"--1234--", &one).is_ok());
        assert!(parse(b"--1234--", &ParseMultipartConfig::default().max_parts(0)).is_err());
        // The header is 38 bytes long.
        let cd = b"--1234\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--1234--";
        let size = |n| ParseMultipartConfig::default().max_part_header_size(n);
        assert!(parse(cd, &size(38)).is_ok());
        assert!(parse(cd, &size(37)).is_err());
    }

    #[test]
    fn quoted_boundaries() {
        let config = ParseMultipartConfig::default();
        let body =
            Bytes::from_static(b"--\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n----");
        let (mut a, mut f) = (Arguments::new(), Files::new());
        parse_multipart_form_data(b"\"", &body, &mut a, &mut f, &config).unwrap();
        assert_eq!(a["a"], [b"v".to_vec()]);
    }
}
