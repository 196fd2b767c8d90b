//! Query strings and `application/x-www-form-urlencoded` bodies: [`Arguments`],
//! [`parse_qs_bytes`], [`count_query_fields`], [`qs_to_qsl`].

use std::collections::HashMap;

use super::error::HttpInputError;
use super::pystr::{latin1, percent_escape};

/// Request arguments: each name with its values in the order they came (Tornado's
/// `dict[str, list[bytes]]`).
///
/// Values are raw bytes; decoding them is the web layer's business (Tornado's
/// `RequestHandler.decode_argument`). Names from a query string or a urlencoded body are
/// decoded as **latin-1**, as Tornado does ("too painful to keep them as byte strings"): the
/// name `%C3%A9` is `"Ã©"`, not `"é"`. Names from `multipart/form-data` are UTF-8.
pub type Arguments = HashMap<String, Vec<Vec<u8>>>;

/// The number of fields Python counts in `qs` against `max_num_fields`: one more than the
/// number of `&`, or zero for an empty string. Empty fields (`a=1&&b=2`) count although they
/// are skipped, so this is an upper bound on the number of arguments, cheap enough to reject
/// an oversized query before parsing it.
pub fn count_query_fields(qs: &[u8]) -> usize {
    if qs.is_empty() {
        0
    } else {
        1 + memchr::memchr_iter(b'&', qs).count()
    }
}

/// Parses a query string or urlencoded body (Tornado's `escape.parse_qs_bytes`, itself
/// Python's `urllib.parse.parse_qs` with byte values).
///
/// Fields are separated by `&` only (not `;`); empty fields are skipped; a field without `=`
/// is a name with an empty value. Empty values are kept only if `keep_blank_values`. In names
/// and values `+` is a space and `%XX` is the byte `XX`; any other `%` stays as it is.
/// Decoding takes one pass, so time is linear in the input (Tornado 6.6.1 made its unquoting
/// linear too). Names are decoded as latin-1 (see [`Arguments`]).
///
/// If `max_num_fields` is given and [`count_query_fields`] exceeds it, nothing is parsed and
/// the error is "Max number of fields exceeded" (Python raises `ValueError`; Tornado turns it
/// into an `HTTPInputError`, as here).
///
/// # Differences from Tornado
///
/// Python's `strict_parsing` flag is not offered (Tornado never sets it).
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::parse_qs_bytes;
///
/// let args = parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", true, None).unwrap();
/// assert_eq!(args["a"], [b"1".to_vec(), b"2".to_vec()]);
/// assert_eq!(args["b"], [b"A +".to_vec()]);
/// assert_eq!(args["c"], [Vec::<u8>::new()]);
/// assert!(parse_qs_bytes(b"a=1&b=2", false, Some(1)).is_err());
/// ```
pub fn parse_qs_bytes(
    qs: &[u8],
    keep_blank_values: bool,
    max_num_fields: Option<usize>,
) -> Result<Arguments, HttpInputError> {
    let mut result = Arguments::new();
    if qs.is_empty() {
        return Ok(result);
    }
    if max_num_fields.is_some_and(|max| count_query_fields(qs) > max) {
        return Err(HttpInputError::new("Max number of fields exceeded"));
    }
    for field in qs.split(|&b| b == b'&') {
        if field.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b'=', field) {
            Some(i) => (&field[..i], &field[i + 1..]),
            None => (field, &field[field.len()..]),
        };
        if !value.is_empty() || keep_blank_values {
            let name = latin1(&unquote_plus(name));
            result.entry(name).or_default().push(unquote_plus(value));
        }
    }
    Ok(result)
}

/// Converts parsed arguments back to name-value pairs (Tornado's `qs_to_qsl`). The names come
/// in the map's (arbitrary) order; each name's values in their order.
pub fn qs_to_qsl(qs: &Arguments) -> impl Iterator<Item = (&str, &[u8])> + '_ {
    qs.iter()
        .flat_map(|(name, values)| values.iter().map(move |v| (name.as_str(), v.as_slice())))
}

/// `+` to space and `%XX` to its byte, in one pass: Python's
/// `unquote_to_bytes(s.replace(b"+", b" "))`. (A `+` can never be part of an escape, so
/// doing both at once gives the same bytes.)
pub(crate) fn unquote_plus(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match percent_escape(&data[i..]) {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_plus_like_python() {
        // `urllib.parse.unquote_to_bytes` of each input (after `+` → space), from CPython.
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"a=b", b"a=b"),
            (b"%41%3d%3D%25", b"A==%"),
            (b"%%41", b"%A"),
            (b"%%%", b"%%%"),
            (b"%zz%4", b"%zz%4"),
            (b"%", b"%"),
            (b"a%", b"a%"),
            (b"%\r\nb", b"%\r\nb"),
            (b"=%41=", b"=A="),
            (b"a+b%2B", b"a b+"),
            (b"%e9%E9", b"\xe9\xe9"),
        ];
        for (input, expected) in cases {
            assert_eq!(unquote_plus(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn counts_fields() {
        assert_eq!(count_query_fields(b""), 0);
        assert_eq!(count_query_fields(b"a"), 1);
        assert_eq!(count_query_fields(b"&"), 2);
        assert_eq!(count_query_fields(b"a=1&&b"), 3);
    }

    #[test]
    fn python_cases() {
        // (input, keep_blank_values=False, keep_blank_values=True) as CPython + Tornado give.
        let p = |qs: &[u8], keep| {
            let mut v: Vec<(String, Vec<Vec<u8>>)> = parse_qs_bytes(qs, keep, None)
                .unwrap()
                .into_iter()
                .collect();
            v.sort();
            v
        };
        assert!(p(b"&", true).is_empty());
        assert!(p(b"a", false).is_empty());
        assert_eq!(p(b"a", true), [("a".into(), vec![vec![]])]);
        assert_eq!(p(b"=", true), [("".into(), vec![vec![]])]);
        assert_eq!(p(b"=1", false), [("".into(), vec![b"1".to_vec()])]);
        assert_eq!(
            p(b"a=1;b=2", false),
            [("a".into(), vec![b"1;b=2".to_vec()])]
        );
        assert_eq!(p(b"a==b", false), [("a".into(), vec![b"=b".to_vec()])]);
        assert_eq!(
            p(b"%C3%A9=%C3%A9", false),
            [("\u{c3}\u{a9}".into(), vec![b"\xc3\xa9".to_vec()])]
        );
        // The limit is checked before anything else, and an empty string has no fields.
        assert!(parse_qs_bytes(b"", false, Some(0)).unwrap().is_empty());
        assert!(parse_qs_bytes(b"a", false, Some(0)).is_err());
        assert!(parse_qs_bytes(b"a&b", false, Some(2)).is_ok());
        assert!(parse_qs_bytes(b"a&b&", false, Some(2)).is_err());
    }
}
