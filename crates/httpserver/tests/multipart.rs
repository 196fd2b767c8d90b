//! Port of `httputil_test.py::MultipartFormDataTest` (and its linear-time checks), against
//! `httputil::parse_multipart_form_data` with Tornado's default limits.

mod support;

use std::hint::black_box;

use bytes::Bytes;
use support::{assert_linear_scaling, crlf, parse_multipart};
use tornado_httpserver::httputil::{
    Arguments, Files, ParseMultipartConfig, parse_multipart_form_data,
};

mod multipart_form_data_test {
    use super::*;

    #[test]
    fn test_file_upload() {
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n\n\
             Foo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "ab.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_unquoted_names() {
        // Quotes are optional unless special characters are present.
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=files; filename=ab.txt\n\nFoo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "ab.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_special_filenames() {
        let filenames = [
            "a;b.txt",
            "a\"b.txt",
            "a\";b.txt",
            "a;\"b.txt",
            "a\";\";.txt",
            "a\\\"b.txt",
            "a\\b.txt",
            "a b.txt",
            "a\tb.txt",
        ];
        for filename in filenames {
            let escaped = filename.replace('\\', "\\\\").replace('"', "\\\"");
            let data = crlf(&format!(
                "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"{escaped}\"\
                 \n\nFoo\n--1234--"
            ));
            let (result, _, files) = parse_multipart(b"1234", &data);
            result.unwrap_or_else(|e| panic!("{filename:?}: {e}"));
            let file = &files["files"][0];
            assert_eq!(file.filename, filename);
            assert_eq!(file.body, "Foo");
        }
    }

    #[test]
    fn test_invalid_chars() {
        for filename in ["a\rb.txt", "a\0b.txt", "a\x08b.txt"] {
            let data = crlf(&format!(
                "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\
                 \n\nFoo\n--1234--"
            ));
            let (result, _, files) = parse_multipart(b"1234", &data);
            assert!(result.is_err(), "{filename:?}");
            assert!(files.is_empty());
        }
    }

    #[test]
    fn test_non_ascii_filename_rfc5987() {
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"; \
             filename*=UTF-8''%C3%A1b.txt\n\nFoo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "\u{e1}b.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_non_ascii_filename_raw() {
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"\u{6d4b}\u{8bd5}.txt\"\
             \n\nFoo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "\u{6d4b}\u{8bd5}.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_boundary_starts_and_ends_with_quotes() {
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n\n\
             Foo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"\"1234\"", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "ab.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_missing_headers() {
        let (result, _, files) = parse_multipart(b"1234", &crlf("--1234\n\nFoo\n--1234--"));
        assert!(result.is_err());
        assert!(files.is_empty());
    }

    #[test]
    fn test_invalid_content_disposition() {
        let data = crlf(
            "--1234\nContent-Disposition: invalid; name=\"files\"; filename=\"ab.txt\"\n\n\
             Foo\n--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        assert!(result.is_err());
        assert!(files.is_empty());
    }

    #[test]
    fn test_line_does_not_end_with_correct_line_break() {
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n\n\
             Foo--1234--",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        assert!(result.is_err());
        assert!(files.is_empty());
    }

    #[test]
    fn test_content_disposition_header_without_name_parameter() {
        let data =
            crlf("--1234\nContent-Disposition: form-data; filename=\"ab.txt\"\n\nFoo\n--1234--");
        let (result, _, files) = parse_multipart(b"1234", &data);
        assert!(result.is_err());
        assert!(files.is_empty());
    }

    #[test]
    fn test_data_after_final_boundary() {
        // The spec requires that data after the final boundary be ignored; in practice some
        // libraries add a CRLF after it.
        let data = crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n\n\
             Foo\n--1234--\n",
        );
        let (result, _, files) = parse_multipart(b"1234", &data);
        result.unwrap();
        let file = &files["files"][0];
        assert_eq!(file.filename, "ab.txt");
        assert_eq!(file.body, "Foo");
    }

    #[test]
    fn test_disposition_param_linear_performance() {
        // CVE-2025-67726: semicolons inside a quoted Content-Disposition parameter. Headers
        // over 10 KiB are refused by the default configuration, so n2 stays under that.
        let f = |n: usize| {
            let mut message = b"--1234\r\nContent-Disposition: form-data; x=\"".to_vec();
            message.extend(std::iter::repeat_n(b';', n));
            message.extend_from_slice(
                b"\"; name=\"files\"; filename=\"a.txt\"\r\n\r\nFoo\r\n--1234--\r\n",
            );
            let (result, _, files) = parse_multipart(b"1234", &message);
            result.unwrap();
            black_box(files);
        };
        assert_linear_scaling(
            f,
            1_000,
            10_000,
            20.0,
            "Disposition param parsing is not linear",
        );
    }

    #[test]
    fn test_multipart_memory_budget() {
        // Tornado bounds the peak memory; here file bodies are slices of the request body,
        // so they cost no copy at all. Many empty parts are Tornado's worst case.
        let part: &[u8] =
            b"--1234\r\nContent-Disposition: form-data; name=\"a\"; filename=\"b\"\r\n\
              Content-Type: text/plain\r\n\r\nxyz\r\n";
        let max_parts = ParseMultipartConfig::default().max_parts;
        let mut body = part.repeat(max_parts - 1);
        body.extend_from_slice(b"--1234--\r\n");
        let body = Bytes::from(body);
        let (mut args, mut files) = (Arguments::new(), Files::new());
        let config = ParseMultipartConfig::default();
        parse_multipart_form_data(b"1234", &body, &mut args, &mut files, &config).unwrap();
        assert_eq!(files["a"].len(), 99);
        let whole = body.as_ptr_range();
        for file in &files["a"] {
            assert_eq!(file.body, "xyz");
            assert!(whole.contains(&file.body.as_ptr()), "file body was copied");
        }
    }

    #[test]
    fn test_multipart_config() {
        let body = Bytes::from(crlf(
            "--1234\nContent-Disposition: form-data; name=\"files\"; filename=\"ab.txt\"\n\n--1234--",
        ));
        let run = |config: &ParseMultipartConfig| {
            let (mut args, mut files) = (Arguments::new(), Files::new());
            parse_multipart_form_data(b"1234", &body, &mut args, &mut files, config).map(|()| files)
        };
        let files = run(&ParseMultipartConfig::default()).unwrap();
        assert_eq!(files["files"][0].filename, "ab.txt");

        assert!(run(&ParseMultipartConfig::default().max_parts(0)).is_err());
        assert!(run(&ParseMultipartConfig::default().max_part_header_size(10)).is_err());
        assert!(run(&ParseMultipartConfig::default().enabled(false)).is_err());
    }
}
