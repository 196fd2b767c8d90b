//! `Range` requests: [`parse_request_range`] and [`get_content_range`].

use super::pystr::{py_int, py_strip};

/// Parses a `Range` header holding a single byte range (Tornado's private
/// `_parse_request_range`, used by its static file handler).
///
/// The result is `(start, end)` as **slice indexes**, not HTTP's inclusive positions:
///
/// | header | result | meaning |
/// |---|---|---|
/// | `bytes=1-2` | `(Some(1), Some(3))` | bytes 1 and 2 |
/// | `bytes=6-` | `(Some(6), None)` | from 6 to the end |
/// | `bytes=-6` | `(Some(-6), None)` | the last 6 bytes: a negative start counts from the end |
/// | `bytes=-0` | `(None, Some(0))` | an empty suffix, which is unsatisfiable (416) |
/// | `bytes=` | `(None, None)` | the whole content |
///
/// `None` (the header is ignored) for another unit, several ranges (`bytes=1-2,6-10`) or a
/// bound that isn't an integer. Bounds are read as Python's `int()` reads them, so
/// whitespace, a sign and `_` between digits are accepted (`bytes=+1-1_0`), and an end
/// before the start is returned as it is (`bytes=3--5` is `(Some(3), Some(-4))`); checking
/// the range against the content is the caller's job, as in Tornado.
///
/// # Differences from Tornado
///
/// Python's integers are unbounded; bounds beyond `i64` saturate at `±i64::MAX`, which gives
/// the same answer in every comparison with a content length.
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::parse_request_range;
///
/// let (start, end) = parse_request_range("bytes=1-2").unwrap();
/// assert_eq!((start, end), (Some(1), Some(3)));
/// assert_eq!(&[0, 1, 2, 3, 4][1..3], [1, 2]);
/// assert_eq!(parse_request_range("bytes=-6"), Some((Some(-6), None)));
/// assert_eq!(parse_request_range("foo=42"), None);
/// assert_eq!(parse_request_range("bytes=1-2,6-10"), None);
/// ```
pub fn parse_request_range(range_header: &str) -> Option<(Option<i64>, Option<i64>)> {
    let (unit, value) = range_header.split_once('=').unwrap_or((range_header, ""));
    if py_strip(unit) != "bytes" {
        return None;
    }
    let value = py_strip(value);
    let (start, end) = value.split_once('-').unwrap_or((value, ""));
    let mut start = int_or_none(start)?;
    let mut end = int_or_none(end)?;
    if let Some(e) = end {
        match start {
            // A suffix range: the last `e` bytes. `-0` stays as it is, to be refused.
            None if e != 0 => {
                start = Some(-e);
                end = None;
            }
            None => {}
            // Inclusive last position to exclusive slice end.
            Some(_) => end = Some(e.saturating_add(1)),
        }
    }
    Some((start, end))
}

/// `None` for a blank bound, `Some(None)` for one that isn't an integer.
fn int_or_none(s: &str) -> Option<Option<i64>> {
    let s = py_strip(s);
    if s.is_empty() {
        Some(None)
    } else {
        py_int(s).map(Some)
    }
}

/// The `Content-Range` value for the slice `start..end` of content of length `total`
/// (Tornado's private `_get_content_range`): `bytes first-last/total`. A missing start is 0;
/// a missing **or zero** end is `total` (Tornado tests `end or total`).
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::get_content_range;
///
/// assert_eq!(get_content_range(None, Some(1), 4), "bytes 0-0/4");
/// assert_eq!(get_content_range(Some(1), Some(3), 4), "bytes 1-2/4");
/// assert_eq!(get_content_range(None, None, 4), "bytes 0-3/4");
/// ```
pub fn get_content_range(start: Option<u64>, end: Option<u64>, total: u64) -> String {
    let start = start.unwrap_or(0);
    let end = match end {
        Some(end) if end != 0 => end,
        _ => total,
    };
    // Signed, as in Python: empty content gives `bytes 0--1/0`.
    let last = i128::from(end) - 1;
    format!("bytes {start}-{last}/{total}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_python() {
        // Outputs of Tornado 6.6.1's `_parse_request_range`.
        type Parsed = Option<(Option<i64>, Option<i64>)>;
        let cases: &[(&str, Parsed)] = &[
            ("bytes=1-2", Some((Some(1), Some(3)))),
            ("bytes=6-", Some((Some(6), None))),
            ("bytes=-6", Some((Some(-6), None))),
            ("bytes=-0", Some((None, Some(0)))),
            ("bytes=", Some((None, None))),
            ("foo=42", None),
            ("bytes=1-2,6-10", None),
            (" bytes = 1 - 2 ", Some((Some(1), Some(3)))),
            ("bytes=+1-+2", Some((Some(1), Some(3)))),
            ("bytes=1_0-2", Some((Some(10), Some(3)))),
            ("bytes=3--5", Some((Some(3), Some(-4)))),
            ("bytes=-", Some((None, None))),
            ("bytes=0-0", Some((Some(0), Some(1)))),
            ("Bytes=1-2", None),
            ("bytes=\u{a0}5-", Some((Some(5), None))),
            ("bytes=-1-5", None),
            (
                "bytes=99999999999999999999999-",
                Some((Some(i64::MAX), None)),
            ),
            (
                "bytes=0-99999999999999999999999",
                Some((Some(0), Some(i64::MAX))),
            ),
            ("bytes=1__0-", None),
            ("bytes=_1-", None),
            ("bytes=1_-", None),
            ("bytes=--1", Some((Some(1), None))),
            ("bytes=- 1", Some((Some(-1), None))),
            ("bytes=1 0-", None),
            ("bytes", Some((None, None))),
            ("bytes=5", Some((Some(5), None))),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_request_range(header), *expected, "{header:?}");
        }
    }

    #[test]
    fn content_range_like_python() {
        assert_eq!(get_content_range(Some(0), Some(0), 4), "bytes 0-3/4");
        assert_eq!(get_content_range(None, None, 0), "bytes 0--1/0");
        assert_eq!(get_content_range(Some(5), None, 4), "bytes 5-3/4");
    }
}
