//! [`parse_header`]: a `Content-Disposition`-like value and its parameters, with RFC 2231 /
//! RFC 5987 extended values (`filename*=UTF-8''%C3%A1b.txt`) and continuations.
//!
//! # Implementation
//!
//! Tornado's `_parse_header` runs a quote-aware split (`_parseparam`) and then the standard
//! library's `email.utils.decode_params` and `collapse_rfc2231_value`. Multipart filenames
//! depend on every quirk of that pipeline (a value is unquoted, re-quoted and unquoted again;
//! surrounding quotes are stripped twice; an extended value keeps its backslash escapes), so
//! each step is reproduced here, in one pass each. CVE-2025-67726 was a quadratic split on
//! `;` inside quotes: here the split is a single scan that tracks quote parity.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::error::HttpInputError;
use super::pystr::{percent_escape, py_strip};

/// Parses a `Content-Type`-like header value into its main value and its parameters
/// (Tornado's private `_parse_header`, used for multipart `Content-Disposition`).
///
/// Parameters are separated by `;` outside double quotes (a `"` preceded by `\` does not
/// count); names are lowercased; parameters without `=` are dropped; quoted values are
/// unquoted; `name*=charset'lang'%XX..` and `name*0=`, `name*1*=` continuations are decoded
/// (RFC 2231) and win over a plain `name=`. Of a name given twice, the later value is kept.
/// Time is linear in the length of `line`.
///
/// The error is Python's `TypeError` from sorting continuations: a name given both as
/// `name*=` and `name*0=`.
///
/// # Differences from Tornado
///
/// Extended values in UTF-8, US-ASCII and ISO-8859-1 (under any of Python's names for them)
/// are decoded; Python would also decode its other codecs (`cp1252`, `shift_jis`, ...), which
/// are treated here as unknown charsets (the value is kept undecoded, as Python does for a
/// charset it does not know).
///
/// # Examples
///
/// ```
/// use tornado_httpserver::httputil::parse_header;
///
/// let (kind, params) =
///     parse_header(r#"form-data; foo="b\\a\"r"; file*=utf-8''T%C3%A4st"#).unwrap();
/// assert_eq!(kind, "form-data");
/// assert_eq!(params["file"], "T\u{e4}st");
/// assert_eq!(params["foo"], r#"b\a"r"#);
/// ```
pub fn parse_header(line: &str) -> Result<(String, HashMap<String, String>), HttpInputError> {
    let mut segments = split_params(line).into_iter();
    let key = segments.next().unwrap_or_default().to_owned();

    let mut pdict = HashMap::new();
    // RFC 2231 parameters by base name, in order of first appearance (Python's dict order).
    let mut continued: Vec<(String, Vec<Continuation>)> = Vec::new();
    for segment in segments {
        let Some((name, value)) = segment.split_once('=') else {
            continue;
        };
        let name = py_strip(name).to_lowercase();
        let value = email_unquote(py_strip(value));
        match rfc2231_continuation(&name) {
            Some((base, number)) => {
                let piece = Continuation {
                    number: number.map(str::to_owned),
                    value,
                    encoded: name.ends_with('*'),
                };
                match continued.iter_mut().find(|(b, _)| b == base) {
                    Some((_, pieces)) => pieces.push(piece),
                    None => continued.push((base.to_owned(), vec![piece])),
                }
            }
            // Python quotes the value here and unquotes it when collapsing, which gives the
            // value back unchanged.
            None => {
                pdict.insert(name, strip_quotes(&value).to_owned());
            }
        }
    }
    // Continued parameters come after all plain ones in Python, so they win.
    for (base, pieces) in continued {
        let value = collapse_continuations(pieces)?;
        pdict.insert(base, strip_quotes(&value).to_owned());
    }
    Ok((key, pdict))
}

/// `_parseparam`: splits at each `;` outside quotes, where "outside" means an even number of
/// `"` not preceded by a backslash since the segment began, and strips each segment.
fn split_params(line: &str) -> Vec<&str> {
    let bytes = line.as_bytes();
    let mut segments = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == start || bytes[i - 1] != b'\\' => in_quotes = !in_quotes,
            b';' if !in_quotes => {
                segments.push(py_strip(&line[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    segments.push(py_strip(&line[start..]));
    segments
}

/// One `name*N*=value` piece of an RFC 2231 parameter.
#[derive(Debug)]
struct Continuation {
    /// The decimal digits of `N`, or `None` for `name*=`.
    number: Option<String>,
    /// The value, unquoted.
    value: String,
    /// The name ended with `*`: the value is percent-encoded.
    encoded: bool,
}

/// Python's regex `^(\w+)\*([0-9]+\*?)?$` (compiled with `re.ASCII`) on a parameter name:
/// the base name and the digits.
fn rfc2231_continuation(name: &str) -> Option<(&str, Option<&str>)> {
    let (base, rest) = name.split_once('*')?;
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    if rest.is_empty() {
        return Some((base, None));
    }
    let digits = rest.strip_suffix('*').unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, Some(digits)))
}

/// Compares continuation numbers as Python compares the integers they parse to.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `decode_params` and `collapse_rfc2231_value` for one parameter's pieces.
fn collapse_continuations(mut pieces: Vec<Continuation>) -> Result<String, HttpInputError> {
    // Python sorts (number, value, encoded) tuples, and comparing `None` with an int raises.
    let numbered = pieces.iter().filter(|p| p.number.is_some()).count();
    if numbered != 0 && numbered != pieces.len() {
        return Err(HttpInputError::new(
            "Invalid RFC 2231 parameter: both numbered and unnumbered",
        ));
    }
    pieces.sort_by(|a, b| {
        let by_number = match (&a.number, &b.number) {
            (Some(x), Some(y)) => compare_numbers(x, y),
            _ => Ordering::Equal,
        };
        by_number
            .then_with(|| a.value.cmp(&b.value))
            .then_with(|| a.encoded.cmp(&b.encoded))
    });
    let extended = pieces.iter().any(|p| p.encoded);
    let mut joined = String::new();
    for piece in &pieces {
        if piece.encoded {
            percent_decode_latin1_into(&mut joined, &piece.value);
        } else {
            joined.push_str(&piece.value);
        }
    }
    if !extended {
        return Ok(joined);
    }
    // `decode_rfc2231` splits the *quoted* value on its first two `'`; with fewer than two
    // there is no charset and Python falls back to US-ASCII.
    let quoted = email_quote(&joined);
    let mut fields = quoted.splitn(3, '\'');
    let (charset, text) = match (fields.next(), fields.next(), fields.next()) {
        (Some(charset), Some(_language), Some(text)) => (charset, text),
        _ => ("us-ascii", quoted.as_str()),
    };
    // The text is re-quoted, then decoded as bytes with its quotes and escapes still on.
    let text = format!("\"{text}\"");
    Ok(match lookup_charset(charset) {
        Some(charset) => charset.decode(&raw_unicode_escape(&text)),
        None => email_unquote(&text),
    })
}

/// `urllib.parse.unquote(s, encoding="latin-1")`: `%XX` becomes the code point `XX`.
fn percent_decode_latin1_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if let Some(byte) = percent_escape(&bytes[i..]) {
            out.push(char::from(byte));
            i += 3;
        } else {
            let c = s[i..].chars().next().unwrap_or('\0');
            out.push(c);
            i += c.len_utf8();
        }
    }
}

/// `email.utils.quote`.
fn email_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `email.utils.unquote`: strips `"..."` (undoing `\\` and `\"`, in that order, as Python's
/// two `replace` calls do) or `<...>`.
fn email_unquote(s: &str) -> String {
    if s.len() > 1 {
        if let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return inner.replace("\\\\", "\\").replace("\\\"", "\"");
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            return inner.to_owned();
        }
    }
    s.to_owned()
}

/// `_parse_header`'s last step: one more pair of surrounding quotes comes off.
fn strip_quotes(s: &str) -> &str {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Python's `s.encode("raw-unicode-escape")`: code points below 256 as single bytes, others
/// as the text `\uXXXX` or `\UXXXXXXXX`.
fn raw_unicode_escape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c) {
            v @ 0..=0xff => out.push(v as u8),
            v @ 0x100..=0xffff => out.extend_from_slice(format!("\\u{v:04x}").as_bytes()),
            v => out.extend_from_slice(format!("\\U{v:08x}").as_bytes()),
        }
    }
    out
}

/// The charsets whose RFC 2231 values are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

impl Charset {
    /// `str(bytes, charset, "replace")`.
    fn decode(self, bytes: &[u8]) -> String {
        match self {
            Charset::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            Charset::Ascii => bytes
                .iter()
                .map(|&b| if b < 0x80 { char::from(b) } else { '\u{fffd}' })
                .collect(),
            Charset::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        }
    }
}

/// Python's codec lookup for the three supported charsets: lowercase, runs of punctuation
/// collapsed to `_` (`encodings.normalize_encoding`), then the codec's names and aliases.
fn lookup_charset(name: &str) -> Option<Charset> {
    let mut norm = String::with_capacity(name.len());
    let mut punct = false;
    for c in name.chars() {
        if c.is_alphanumeric() || c == '.' {
            if punct && !norm.is_empty() {
                norm.push('_');
            }
            if c.is_ascii() {
                norm.push(c.to_ascii_lowercase());
            }
            punct = false;
        } else {
            punct = true;
        }
    }
    let known = |n: &str| match n {
        "utf_8" | "utf8" | "u8" | "utf" | "cp65001" | "utf8_ucs2" | "utf8_ucs4" => {
            Some(Charset::Utf8)
        }
        "ascii" | "646" | "ansi_x3.4_1968" | "ansi_x3.4_1986" | "ansi_x3_4_1968" | "cp367"
        | "csascii" | "ibm367" | "iso646_us" | "iso_646.irv_1991" | "iso_ir_6" | "us"
        | "us_ascii" => Some(Charset::Ascii),
        "latin_1" | "8859" | "cp819" | "csisolatin1" | "ibm819" | "iso8859" | "iso8859_1"
        | "iso_8859_1" | "iso_8859_1_1987" | "iso_ir_100" | "l1" | "latin" | "latin1" => {
            Some(Charset::Latin1)
        }
        _ => None,
    };
    known(&norm).or_else(|| known(&norm.replace('.', "_")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(line: &str) -> Vec<(String, String)> {
        let (_, p) = parse_header(line).unwrap();
        let mut p: Vec<_> = p.into_iter().collect();
        p.sort();
        p
    }

    fn one(line: &str, name: &str) -> String {
        parse_header(line).unwrap().1[name].clone()
    }

    #[test]
    fn like_python() {
        // Outputs of Tornado 6.6.1's `_parse_header` on CPython 3.11.
        let f = |line: &str| one(line, "filename");
        assert_eq!(one("form-data; name=a", "name"), "a");
        assert_eq!(one(r#"form-data; name="\"q\"""#, "name"), "q");
        assert_eq!(f("form-data; filename*=UTF-8''a%5Cb"), r"a\\b");
        assert_eq!(f("form-data; filename*=UTF-8''a%22b"), r#"a\"b"#);
        assert_eq!(f("form-data; filename*=''foo"), "foo");
        assert_eq!(f("form-data; filename*=%E4%F6"), "\u{fffd}\u{fffd}");
        assert_eq!(f("form-data; filename*=UTF-8''T\u{e4}st"), "T\u{fffd}st");
        assert_eq!(f("form-data; filename*=UTF-8''\u{20ac}"), r"\u20ac");
        assert_eq!(f("form-data; filename*=latin-1''%E4"), "\u{e4}");
        assert_eq!(f("form-data; filename*0=a; filename*1=b"), "ab");
        assert!(parse_header("form-data; filename*=a; filename*0=b").is_err());
        assert_eq!(f("form-data; filename*=b; filename*=a"), "ab");
        assert_eq!(
            f("form-data; filename*0*=UTF-8''%C3; filename*1*=%A1"),
            "\u{e1}"
        );
        assert_eq!(one("form-data; name=<x>", "name"), "x");
        assert_eq!(one("form-data; NAME=x", "name"), "x");
        assert_eq!(f("form-data; filename*=x'y'z'w"), "z'w");
        assert_eq!(
            params(r#"form-data; a="x;y"; b=2"#),
            [("a".into(), "x;y".into()), ("b".into(), "2".into())]
        );
        assert_eq!(one(r#"form-data; a="x\";y"; b=2"#, "a"), "x\";y");
        assert_eq!(
            params("form-data;;; name=x;"),
            [("name".into(), "x".into())]
        );
        assert_eq!(one("form-data; name = x ", "name"), "x");
        assert!(params("form-data; name").is_empty());
        assert_eq!(one(r#"form-data; name=""#, "name"), "\"");
        assert_eq!(one(r#"form-data; name="""#, "name"), "");
        assert_eq!(one(r#"form-data; name=""""#, "name"), "\"");
        assert_eq!(f("form-data; filename*=unknowncs''abc"), "abc");
        assert_eq!(f("form-data; filename*=UTF-8''%ZZ%"), "%ZZ%");
        assert_eq!(f("form-data; filename*=utf8''%C3%A1"), "\u{e1}");
        assert_eq!(f("form-data; filename*=UTF-8'en'%C3%A1"), "\u{e1}");
        assert_eq!(f("form-data; filename*=UTF-8''a\"b"), r#"a\"b"#);
        assert_eq!(f(r#"form-data; filename*="UTF-8''a b""#), "a b");
        assert_eq!(
            one("form-data; name*=UTF-8''n%C3%A1me", "name"),
            "n\u{e1}me"
        );
        assert_eq!(f("form-data; filename*01=a; filename*1=b"), "ab");
        // `\w` is ASCII-only there: a non-ASCII name is a plain parameter.
        assert_eq!(one("form-data; \u{e9}name*=%C3", "\u{e9}name*"), "%C3");
        assert_eq!(
            f(r#"form-data; filename*0="a\\"; filename*1=b"#),
            r#""a\\"; filename*1=b"#
        );
    }

    #[test]
    fn tornado_doctest() {
        let (ct, d) = parse_header(r#"form-data; foo="b\\a\"r"; file*=utf-8''T%C3%A4st"#).unwrap();
        assert_eq!(ct, "form-data");
        assert_eq!(d["file"], "T\u{e4}st");
        assert_eq!(d["foo"], r#"b\a"r"#);
    }

    #[test]
    fn charsets() {
        for name in [
            "UTF-8", "utf 8", "Utf_8", "U8", "utf--8", " utf-8", "cp65001",
        ] {
            assert_eq!(lookup_charset(name), Some(Charset::Utf8), "{name}");
        }
        for name in ["ISO-8859-1", "l1", "latin1", "8859", "cp819"] {
            assert_eq!(lookup_charset(name), Some(Charset::Latin1), "{name}");
        }
        for name in ["us-ascii", "US_ASCII", "646", "ansi_x3.4_1968", "iso-ir-6"] {
            assert_eq!(lookup_charset(name), Some(Charset::Ascii), "{name}");
        }
        for name in ["utf..8", "", "utf-8-sig", "cp1252"] {
            assert_eq!(lookup_charset(name), None, "{name}");
        }
    }

    #[test]
    fn split_respects_quotes() {
        assert_eq!(split_params(r#"a; b="c;d"; e"#), ["a", r#"b="c;d""#, "e"]);
        assert_eq!(
            split_params(r#"a; b="c\";d"; e"#),
            ["a", r#"b="c\";d""#, "e"]
        );
        assert_eq!(split_params("a;"), ["a", ""]);
        assert_eq!(split_params(r#"a; b="; c"#), ["a", r#"b="; c"#]);
    }
}
