//! Ports of Tornado 6.6.1's `httputil_test.py` (the parts about the pure helpers; the
//! `HTTPHeaders` tests are replaced by the `http` crate's `HeaderMap`), with the cases of
//! `escape_test.py` and `security_corpus_test.py` that concern the same functions.
//!
//! Each Tornado test class is a module, and each test keeps its Tornado name.
//! `MultipartFormDataTest` is in `multipart.rs`.

mod support;

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use tornado_httpserver::httputil::{
    Arguments, Files, HttpInputError, ParseBodyConfig, ParseUrlEncodedConfig, count_query_fields,
    format_timestamp, parse_body_arguments, parse_cookie, parse_qs_bytes, qs_to_qsl, url_concat,
};

use support::assert_linear_scaling;

/// `parse_cookie` as Tornado's dict: later duplicates win.
fn cookie_map(header: &str) -> std::collections::BTreeMap<String, String> {
    parse_cookie(header).into_iter().collect()
}

fn map(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

mod test_url_concat {
    use super::*;

    #[test]
    fn test_url_concat_no_query_params() {
        let url = url_concat("https://localhost/path", &[("y", "y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?y=y&z=z");
    }

    #[test]
    fn test_url_concat_encode_args() {
        let url = url_concat("https://localhost/path", &[("y", "/y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?y=%2Fy&z=z");
    }

    #[test]
    fn test_url_concat_trailing_q() {
        let url = url_concat("https://localhost/path?", &[("y", "y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?y=y&z=z");
    }

    #[test]
    fn test_url_concat_q_with_no_trailing_amp() {
        let url = url_concat("https://localhost/path?x", &[("y", "y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?x=&y=y&z=z");
    }

    #[test]
    fn test_url_concat_trailing_amp() {
        let url = url_concat("https://localhost/path?x&", &[("y", "y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?x=&y=y&z=z");
    }

    #[test]
    fn test_url_concat_mult_params() {
        let url = url_concat("https://localhost/path?a=1&b=2", &[("y", "y"), ("z", "z")]);
        assert_eq!(url, "https://localhost/path?a=1&b=2&y=y&z=z");
    }

    #[test]
    fn test_url_concat_no_params() {
        let url = url_concat("https://localhost/path?r=1&t=2", &[]);
        assert_eq!(url, "https://localhost/path?r=1&t=2");
    }

    #[test]
    fn test_url_concat_with_frag() {
        let url = url_concat("https://localhost/path#tab", &[("y", "y")]);
        assert_eq!(url, "https://localhost/path?y=y#tab");
    }

    #[test]
    fn test_url_concat_multi_same_params() {
        let url = url_concat("https://localhost/path", &[("y", "y1"), ("y", "y2")]);
        assert_eq!(url, "https://localhost/path?y=y1&y=y2");
    }

    #[test]
    fn test_url_concat_multi_same_query_params() {
        let url = url_concat("https://localhost/path?r=1&r=2", &[("y", "y")]);
        assert_eq!(url, "https://localhost/path?r=1&r=2&y=y");
    }

    #[test]
    fn test_url_concat_dict_params() {
        // A dict is a slice of pairs here.
        let url = url_concat("https://localhost/path", &[("y", "y")]);
        assert_eq!(url, "https://localhost/path?y=y");
    }
}

mod qs_parse_test {
    use super::*;

    #[test]
    fn test_parsing() {
        let qs = parse_qs_bytes(b"a=1&b=2&a=3", false, None).unwrap();
        let qsl: Vec<(&str, &[u8])> = qs_to_qsl(&qs).collect();
        assert!(qsl.contains(&("a", b"1")));
        assert!(qsl.contains(&("a", b"3")));
        assert!(qsl.contains(&("b", b"2")));
        assert_eq!(qsl.len(), 3);
    }
}

mod url_encoded_data_test {
    use super::*;

    fn parse(data: &[u8]) -> (Result<(), HttpInputError>, Arguments, Files) {
        let (mut args, mut files) = (Arguments::new(), Files::new());
        let result = parse_body_arguments(
            "application/x-www-form-urlencoded",
            &Bytes::copy_from_slice(data),
            &mut args,
            &mut files,
            None,
            &ParseBodyConfig::default(),
        );
        (result, args, files)
    }

    #[test]
    fn test_urlencoded_data() {
        let (result, args, files) = parse(b"a=1&b=2&a=3");
        result.unwrap();
        assert_eq!(args["a"], [b"1".to_vec(), b"3".to_vec()]);
        assert_eq!(args["b"], [b"2".to_vec()]);
        assert!(files.is_empty());
    }

    #[test]
    fn test_max_arguments() {
        let (result, args, _) = parse(&b"a=1&".repeat(1001));
        assert!(result.is_err());
        assert!(args.is_empty());
        // The limit is configurable.
        let config = ParseBodyConfig::default()
            .urlencoded(ParseUrlEncodedConfig::default().max_arguments(2000));
        let (mut args, mut files) = (Arguments::new(), Files::new());
        parse_body_arguments(
            "application/x-www-form-urlencoded",
            &Bytes::from(b"a=1&".repeat(1001)),
            &mut args,
            &mut files,
            None,
            &config,
        )
        .unwrap();
        assert_eq!(args["a"].len(), 1001);
    }
}

mod format_timestamp_test {
    use super::*;
    use std::time::UNIX_EPOCH;

    // Make sure that the fractional and integral forms give the same date.
    const TIMESTAMP_MICROS: u64 = 1_359_312_200_503_611;
    const EXPECTED: &str = "Sun, 27 Jan 2013 18:43:20 GMT";

    #[test]
    fn test_unix_time_float() {
        let ts = UNIX_EPOCH + Duration::from_micros(TIMESTAMP_MICROS);
        assert_eq!(format_timestamp(ts), EXPECTED);
    }

    #[test]
    fn test_unix_time_int() {
        let ts = UNIX_EPOCH + Duration::from_secs(TIMESTAMP_MICROS / 1_000_000);
        assert_eq!(format_timestamp(ts), EXPECTED);
    }
}

/// `HTTPServerRequestTest`'s query-limit cases, at the level of the functions the request
/// uses: `parse_qs_bytes` with blank values kept and at most 1000 fields.
mod http_server_request_test {
    use super::*;

    fn query(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("a={i}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    }

    #[test]
    fn test_query_arguments_within_limit() {
        let n = ParseUrlEncodedConfig::default().max_arguments;
        let q = query(n);
        assert_eq!(count_query_fields(&q), n);
        let arguments = parse_qs_bytes(&q, true, Some(n)).unwrap();
        assert_eq!(arguments["a"].len(), n);
    }

    #[test]
    fn test_max_query_arguments() {
        let max = ParseUrlEncodedConfig::default().max_arguments;
        let q = query(max + 1);
        assert!(count_query_fields(&q) > max);
        assert!(parse_qs_bytes(&q, true, Some(max)).is_err());
    }
}

mod parse_cookie_test {
    use super::*;

    #[test]
    fn test_python_cookies() {
        // Cases from CPython's Lib/test/test_http_cookies.py, by way of Django.
        assert_eq!(
            cookie_map("chips=ahoy; vienna=finger"),
            map(&[("chips", "ahoy"), ("vienna", "finger")])
        );
        // Unlike Python's own cookie parsing, every semicolon separates, even in quotes.
        assert_eq!(
            cookie_map("keebler=\"E=mc2; L=\\\"Loves\\\"; fudge=\\012;\""),
            map(&[
                ("keebler", "\"E=mc2"),
                ("L", "\\\"Loves\\\""),
                ("fudge", "\\012"),
                ("", "\""),
            ])
        );
        // Illegal cookies that have an '=' char in an unquoted value.
        assert_eq!(cookie_map("keebler=E=mc2"), map(&[("keebler", "E=mc2")]));
        // Cookies with ':' character in their name.
        assert_eq!(
            cookie_map("key:term=value:term"),
            map(&[("key:term", "value:term")])
        );
        // Cookies with '[' and ']'.
        assert_eq!(
            cookie_map("a=b; c=[; d=r; f=h"),
            map(&[("a", "b"), ("c", "["), ("d", "r"), ("f", "h")])
        );
    }

    #[test]
    fn test_cookie_edgecases() {
        // Cookies that RFC 6265 allows.
        assert_eq!(
            cookie_map("a=b; Domain=example.com"),
            map(&[("a", "b"), ("Domain", "example.com")])
        );
        // parse_cookie() has historically kept only the last cookie with the same name.
        assert_eq!(cookie_map("a=b; h=i; a=c"), map(&[("a", "c"), ("h", "i")]));
    }

    #[test]
    fn test_invalid_cookies() {
        // Cookie strings that go against RFC 6265 but browsers send if set through
        // document.cookie. Chunks without `=` are unnamed values
        // (https://bugzilla.mozilla.org/show_bug.cgi?id=169091).
        assert!(cookie_map("abc=def; unnamed; django_language=en").contains_key("django_language"));
        // Even a double quote may be an unnamed value.
        assert_eq!(
            cookie_map("a=b; \"; c=d"),
            map(&[("a", "b"), ("", "\""), ("c", "d")])
        );
        // Spaces in names and values, and an equals sign in values.
        assert_eq!(
            cookie_map("a b c=d e = f; gh=i"),
            map(&[("a b c", "d e = f"), ("gh", "i")])
        );
        // More characters the spec forbids.
        assert_eq!(
            cookie_map("a   b,c<>@:/[]?{}=d  \"  =e,f g"),
            map(&[("a   b,c<>@:/[]?{}", "d  \"  =e,f g")])
        );
        // Unicode characters. The spec only allows ASCII.
        assert_eq!(
            cookie_map("saint=Andr\u{e9} Bessette"),
            map(&[("saint", "Andr\u{e9} Bessette")])
        );
        // Browsers don't send extra whitespace or semicolons, but parse_cookie() parses
        // whitespace the way document.cookie does.
        assert_eq!(
            cookie_map("  =  b  ;  ;  =  ;   c  =  ;  "),
            map(&[("", "b"), ("c", "")])
        );
    }

    #[test]
    fn test_unquote() {
        // From CPython's Lib/test/test_http_cookies.py.
        let cases = [
            (r#"a="b=\"""#, "b=\""),
            (r#"a="b=\\""#, "b=\\"),
            (r#"a="b=\=""#, "b=="),
            (r#"a="b=\n""#, "b=n"),
            (r#"a="b=\042""#, "b=\""),
            (r#"a="b=\134""#, "b=\\"),
            (r#"a="b=\377""#, "b=\u{ff}"),
            (r#"a="b=\400""#, "b=400"),
            (r#"a="b=\42""#, "b=42"),
            (r#"a="b=\\042""#, "b=\\042"),
            (r#"a="b=\\134""#, "b=\\134"),
            (r#"a="b=\\\"""#, "b=\\\""),
            (r#"a="b=\\\042""#, "b=\\\""),
            (r#"a="b=\134\"""#, "b=\\\""),
            (r#"a="b=\134\042""#, "b=\\\""),
        ];
        for (encoded, decoded) in cases {
            assert_eq!(cookie_map(encoded)["a"], decoded, "{encoded}");
        }
    }

    #[test]
    fn test_unquote_large() {
        let n = 100_000;
        for encoded in [r"\\", r"\134"] {
            let data = format!("a=\"b={}\"", encoded.repeat(n));
            let value = &cookie_map(&data)["a"];
            assert_eq!(&value[..3], "b=\\");
            assert_eq!(&value[value.len() - 3..], "\\\\\\");
            assert_eq!(value.len(), n + 2);
        }
    }

    #[test]
    fn test_unquote_linear_performance() {
        // CVE-2024-7592: before Tornado 6.4.2 unquoting escapes in a cookie was quadratic.
        for encoded in [r"\\", r"\134"] {
            assert_linear_scaling(
                |n| {
                    black_box(parse_cookie(&format!("a=\"b={}\"", encoded.repeat(n))));
                },
                1_000,
                10_000,
                40.0,
                "Cookie unquoting is not linear",
            );
        }
    }
}

mod escape_test {
    use super::*;

    #[test]
    fn test_parse_qs_bytes() {
        let args = parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", true, None).unwrap();
        assert_eq!(args.len(), 4);
        assert_eq!(args["a"], [b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(args["b"], [b"A +".to_vec()]);
        assert_eq!(args["c"], [Vec::<u8>::new()]);
        assert_eq!(args["d"], [Vec::<u8>::new()]);
        // Names are latin-1.
        let args = parse_qs_bytes(b"%E9=%E9", false, None).unwrap();
        assert_eq!(args["\u{e9}"], [b"\xe9".to_vec()]);
        assert!(parse_qs_bytes(b"c&d=", false, None).unwrap().is_empty());
        assert!(parse_qs_bytes(b"a=1&b=2", false, Some(1)).is_err());
    }

    #[test]
    fn test_unquote_memory_budget() {
        // Tornado 6.6.1 made percent-decoding linear in time and memory; its test bounds the
        // memory, this one the time, on the two worst cases (escapes, and lone `%` signs).
        for unit in [&b"%41"[..], &b"%"[..]] {
            assert_linear_scaling(
                |n| {
                    let mut qs = b"a=".to_vec();
                    qs.extend(unit.repeat(n));
                    black_box(parse_qs_bytes(&qs, false, None).unwrap());
                },
                10_000,
                100_000,
                20.0,
                "percent-decoding is not linear",
            );
        }
    }
}

/// The cases of `security_corpus_test.py` that these functions decide. The corpus sends
/// them as raw requests and expects a 400; here the function must return an error (which
/// the server turns into the 400).
mod security_corpus_test {
    use super::*;

    fn post(content_type: &str, body: Vec<u8>) -> Result<(), HttpInputError> {
        let (mut args, mut files) = (Arguments::new(), Files::new());
        parse_body_arguments(
            content_type,
            &Bytes::from(body),
            &mut args,
            &mut files,
            None,
            &ParseBodyConfig::default(),
        )
    }

    fn multipart(parts: &[&[u8]]) -> Result<(), HttpInputError> {
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(b"--1234\r\n");
            body.extend_from_slice(part);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--1234--\r\n");
        post("multipart/form-data; boundary=1234", body)
    }

    const PART: &[u8] = b"Content-Disposition: form-data; name=\"a\"\r\n\r\nb";

    #[test]
    fn test_cases() {
        // 6.5.0 (CVE-2025-47287): the first malformed part rejects the body.
        let bad: &[u8] = b"Content-Disposition: invalid; name=\"a\"\r\n\r\nb";
        assert!(multipart(&[bad; 50]).is_err(), "malformed multipart parts");
        assert!(
            multipart(&[&b"b"[..]; 50]).is_err(),
            "multipart part without headers"
        );
        // 6.5.5: at most 100 parts; no bare CR in part headers.
        assert!(multipart(&[PART; 50]).is_ok());
        assert!(multipart(&[PART; 150]).is_err(), "too many multipart parts");
        let bare_cr: &[u8] =
            b"Content-Disposition: form-data; name=\"f\"; filename=\"a\rb.txt\"\r\n\r\nb";
        assert!(
            multipart(&[bare_cr]).is_err(),
            "multipart header with bare CR"
        );
        // 6.5.8 and 6.5.9: at most 1000 urlencoded arguments, in bodies and query strings.
        let args = |n: usize| vec!["a=b"; n].join("&").into_bytes();
        let form = "application/x-www-form-urlencoded";
        assert!(post(form, args(1000)).is_ok());
        assert!(
            post(form, args(1001)).is_err(),
            "too many urlencoded arguments"
        );
        assert!(
            count_query_fields(&args(1001)) > 1000,
            "too many query arguments"
        );
        assert!(parse_qs_bytes(&args(1001), true, Some(1000)).is_err());
        // 4.4.2: `]` does not separate cookies, so one cookie's value can't set another.
        let cookies = cookie_map("a=b]_xsrf=injected");
        assert_eq!(cookies, map(&[("a", "b]_xsrf=injected")]));
    }

    #[test]
    fn test_scaling() {
        // 6.4.2 (CVE-2024-7592): backslashes in a cookie value.
        assert_linear_scaling(
            |n| {
                black_box(parse_cookie(&format!("a=\"b={}\"", r"\\".repeat(n))));
            },
            1_000,
            10_000,
            20.0,
            "cookie backslashes do not scale linearly",
        );
        // 6.5.3 (CVE-2025-67726): semicolons in a quoted Content-Disposition parameter.
        assert_linear_scaling(
            |n| {
                let mut part = b"Content-Disposition: form-data; x=\"".to_vec();
                part.extend(std::iter::repeat_n(b';', n));
                part.extend_from_slice(b"\"; name=\"a\"\r\n\r\nb");
                multipart(&[&part]).unwrap();
            },
            1_000,
            10_000,
            20.0,
            "content-disposition semicolons do not scale linearly",
        );
    }
}

/// Deterministic versions of `property_test.py`'s round trips for these functions.
mod property_test {
    use super::*;

    #[test]
    fn test_parse_cookie_round_trip() {
        // Names and values that browsers send unquoted.
        let names = ["a", "_xsrf", "x-y.z", "!#$%&'*+^`|~", "A9"];
        let values = ["", "b", "[]", "{x}", "a=b", "/path?q", "\"", "<>@:"];
        let mut pairs = Vec::new();
        for (i, name) in names.iter().enumerate() {
            for value in values.iter().skip(i).step_by(3) {
                pairs.push((name.to_string(), value.to_string()));
            }
        }
        let header = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        // Later values win, as in browsers.
        let expected: std::collections::BTreeMap<_, _> = pairs.into_iter().collect();
        assert_eq!(cookie_map(&header), expected);
    }

    #[test]
    fn test_multipart_round_trip() {
        // (name, body, filename) with names free of `"`, `\` and `;`.
        let parts: &[(&str, &[u8], Option<&str>)] = &[
            ("a", b"1", None),
            ("caf\u{e9}", b"\r\n--12", Some("r\u{e9}sum\u{e9}.pdf")),
            ("a", b"", None),
            ("sp ace", b"\x00\xff", Some("x y.txt")),
        ];
        let boundary = "b0und'()+_,-./:=?";
        let mut body = Vec::new();
        for (name, data, filename) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
            if let Some(filename) = filename {
                disposition.push_str(&format!("; filename=\"{filename}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let (mut arguments, mut files) = (Arguments::new(), Files::new());
        parse_body_arguments(
            &format!("multipart/form-data; boundary={boundary}"),
            &Bytes::from(body),
            &mut arguments,
            &mut files,
            None,
            &ParseBodyConfig::default(),
        )
        .unwrap();
        assert_eq!(arguments["a"], [b"1".to_vec(), Vec::new()]);
        let cafe = &files["caf\u{e9}"][0];
        assert_eq!(
            (cafe.filename.as_str(), &cafe.body[..]),
            ("r\u{e9}sum\u{e9}.pdf", &b"\r\n--12"[..])
        );
        assert_eq!(cafe.content_type, "application/unknown");
        assert_eq!(files["sp ace"][0].body, b"\x00\xff"[..]);
    }
}
