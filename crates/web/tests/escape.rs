//! Port of Tornado 6.6.1's `escape_test.py` (`EscapeTestCase`): the linkify table (every
//! case), `test_xhtml_escape`, `test_xhtml_unescape_numeric`, `test_url_escape_unicode`,
//! `test_url_unescape_unicode`, `test_url_escape_quote_plus`, `test_json_decode`,
//! `test_json_encode`, `test_squeeze`. Not ported: `test_escape_return_types` and
//! `test_recursive_unicode` (Python's str/bytes), the memory-budget tests (CPython
//! allocation checks); `test_unquote_to_bytes` and `test_parse_qs_bytes` are in
//! `crates/httpserver/tests/httputil.rs`, beside `parse_qs_bytes`.

use tornado_web::escape::{
    ExtraParams, LinkifyOptions, json_decode, json_encode, linkify, squeeze, url_escape,
    url_escape_with, url_unescape, url_unescape_bytes, url_unescape_with, xhtml_escape,
    xhtml_unescape,
};

#[test]
fn test_linkify() {
    let cases: Vec<(&str, LinkifyOptions<'_>, &str)> = vec![
        (
            "hello http://world.com/!",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "hello <a href=\"http://world.com/\">http://world.com/</a>!",
        ),
        (
            "hello http://world.com/with?param=true&stuff=yes",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "hello <a href=\"http://world.com/with?param=true&amp;stuff=yes\">http://world.com/with?param=true&amp;stuff=yes</a>",
        ),
        (
            "http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://url.com/w\">http://url.com/w</a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ),
        (
            "http://url.com/withmany.......................................",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://url.com/withmany\">http://url.com/withmany</a>.......................................",
        ),
        (
            "http://url.com/withmany((((((((((((((((((((((((((((((((((a)",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://url.com/withmany\">http://url.com/withmany</a>((((((((((((((((((((((((((((((((((a)",
        ),
        (
            "http://foo.com/blah_blah",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>",
        ),
        (
            "http://foo.com/blah_blah/",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>",
        ),
        (
            "(Something like http://foo.com/blah_blah)",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "(Something like <a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>)",
        ),
        (
            "http://foo.com/blah_blah_(wikipedia)",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah_(wikipedia)\">http://foo.com/blah_blah_(wikipedia)</a>",
        ),
        (
            "http://foo.com/blah_(blah)_(wikipedia)_blah",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_(blah)_(wikipedia)_blah\">http://foo.com/blah_(blah)_(wikipedia)_blah</a>",
        ),
        (
            "(Something like http://foo.com/blah_blah_(wikipedia))",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "(Something like <a href=\"http://foo.com/blah_blah_(wikipedia)\">http://foo.com/blah_blah_(wikipedia)</a>)",
        ),
        (
            "http://foo.com/blah_blah.",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>.",
        ),
        (
            "http://foo.com/blah_blah/.",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>.",
        ),
        (
            "<http://foo.com/blah_blah>",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "&lt;<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>&gt;",
        ),
        (
            "<http://foo.com/blah_blah/>",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "&lt;<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>&gt;",
        ),
        (
            "http://foo.com/blah_blah,",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>,",
        ),
        (
            "http://www.example.com/wpstyle/?p=364.",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://www.example.com/wpstyle/?p=364\">http://www.example.com/wpstyle/?p=364</a>.",
        ),
        (
            "rdar://1234",
            LinkifyOptions {
                permitted_protocols: &["http", "rdar"],
                ..LinkifyOptions::default()
            },
            "<a href=\"rdar://1234\">rdar://1234</a>",
        ),
        (
            "rdar:/1234",
            LinkifyOptions {
                permitted_protocols: &["rdar"],
                ..LinkifyOptions::default()
            },
            "<a href=\"rdar:/1234\">rdar:/1234</a>",
        ),
        (
            "http://userid:password@example.com:8080",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://userid:password@example.com:8080\">http://userid:password@example.com:8080</a>",
        ),
        (
            "http://userid@example.com",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://userid@example.com\">http://userid@example.com</a>",
        ),
        (
            "http://userid@example.com:8080",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://userid@example.com:8080\">http://userid@example.com:8080</a>",
        ),
        (
            "http://userid:password@example.com",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://userid:password@example.com\">http://userid:password@example.com</a>",
        ),
        (
            "message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e",
            LinkifyOptions {
                permitted_protocols: &["http", "message"],
                ..LinkifyOptions::default()
            },
            "<a href=\"message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e\">message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>",
        ),
        (
            "http://➡.ws/䨹",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "<a href=\"http://➡.ws/䨹\">http://➡.ws/䨹</a>",
        ),
        (
            "<tag>http://example.com</tag>",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "&lt;tag&gt;<a href=\"http://example.com\">http://example.com</a>&lt;/tag&gt;",
        ),
        (
            "Just a www.example.com link.",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "Just a <a href=\"http://www.example.com\">www.example.com</a> link.",
        ),
        (
            "Just a www.example.com link.",
            LinkifyOptions {
                require_protocol: true,
                ..LinkifyOptions::default()
            },
            "Just a www.example.com link.",
        ),
        (
            "A http://reallylong.com/link/that/exceedsthelenglimit.html",
            LinkifyOptions {
                shorten: true,
                require_protocol: true,
                ..LinkifyOptions::default()
            },
            "A <a href=\"http://reallylong.com/link/that/exceedsthelenglimit.html\" title=\"http://reallylong.com/link/that/exceedsthelenglimit.html\">http://reallylong.com/link...</a>",
        ),
        (
            "A http://reallylongdomainnamethatwillbetoolong.com/hi!",
            LinkifyOptions {
                shorten: true,
                ..LinkifyOptions::default()
            },
            "A <a href=\"http://reallylongdomainnamethatwillbetoolong.com/hi\" title=\"http://reallylongdomainnamethatwillbetoolong.com/hi\">http://reallylongdomainnametha...</a>!",
        ),
        (
            "A file:///passwords.txt and http://web.com link",
            LinkifyOptions {
                ..LinkifyOptions::default()
            },
            "A file:///passwords.txt and <a href=\"http://web.com\">http://web.com</a> link",
        ),
        (
            "A file:///passwords.txt and http://web.com link",
            LinkifyOptions {
                permitted_protocols: &["file"],
                ..LinkifyOptions::default()
            },
            "A <a href=\"file:///passwords.txt\">file:///passwords.txt</a> and http://web.com link",
        ),
        (
            "www.external-link.com",
            LinkifyOptions {
                extra_params: ExtraParams::Fixed("rel=\"nofollow\" class=\"external\""),
                ..LinkifyOptions::default()
            },
            "<a href=\"http://www.external-link.com\" rel=\"nofollow\" class=\"external\">www.external-link.com</a>",
        ),
        (
            "www.external-link.com and www.internal-link.com/blogs extra",
            LinkifyOptions {
                extra_params: ExtraParams::Computed(&|href: &str| {
                    if href.starts_with("http://www.internal-link.com") {
                        "class=\"internal\"".to_owned()
                    } else {
                        "rel=\"nofollow\" class=\"external\"".to_owned()
                    }
                }),
                ..LinkifyOptions::default()
            },
            "<a href=\"http://www.external-link.com\" rel=\"nofollow\" class=\"external\">www.external-link.com</a> and <a href=\"http://www.internal-link.com/blogs\" class=\"internal\">www.internal-link.com/blogs</a> extra",
        ),
        (
            "www.external-link.com",
            LinkifyOptions {
                extra_params: ExtraParams::Computed(&|_: &str| {
                    "    rel=\"nofollow\" class=\"external\"  ".to_owned()
                }),
                ..LinkifyOptions::default()
            },
            "<a href=\"http://www.external-link.com\" rel=\"nofollow\" class=\"external\">www.external-link.com</a>",
        ),
    ];
    for (text, options, html) in cases {
        assert_eq!(linkify(text, &options), html, "{text}");
    }
}

#[test]
fn test_xhtml_escape() {
    let tests = [
        ("<foo>", "&lt;foo&gt;"),
        ("<>&\"'", "&lt;&gt;&amp;&quot;&#x27;"),
        ("&amp;", "&amp;amp;"),
        ("<\u{e9}>", "&lt;\u{e9}&gt;"),
    ];
    for (unescaped, escaped) in tests {
        assert_eq!(xhtml_escape(unescaped), escaped);
        assert_eq!(xhtml_unescape(escaped), unescaped);
    }
    assert_eq!(
        xhtml_unescape("&eacute;&nosuch;&AElig;"),
        "\u{e9}&nosuch;\u{c6}"
    );
}

#[test]
fn test_xhtml_unescape_numeric() {
    let tests = [
        ("foo&#32;bar", "foo bar"),
        ("foo&#x20;bar", "foo bar"),
        ("foo&#X20;bar", "foo bar"),
        ("foo&#xabc;bar", "foo\u{abc}bar"),
        ("foo&#xyz;bar", "foo&#xyz;bar"),
        ("foo&#;bar", "foo&#;bar"),
        ("foo&#x;bar", "foo&#x;bar"),
    ];
    for (escaped, unescaped) in tests {
        assert_eq!(xhtml_unescape(escaped), unescaped);
    }
}

#[test]
fn test_url_escape_unicode() {
    assert_eq!(url_escape("\u{e9}".as_bytes()), "%C3%A9");
    assert_eq!(url_escape([0xe9u8]), "%E9");
    assert_eq!(url_escape("\u{e9}"), "%C3%A9");
}

#[test]
fn test_url_unescape_unicode() {
    assert_eq!(url_unescape("%C3%A9"), "\u{e9}");
    assert_eq!(url_unescape_bytes("%C3%A9", true), "\u{e9}".as_bytes());
}

#[test]
fn test_url_escape_quote_plus() {
    let unescaped = "+ #%";
    let plus_escaped = "%2B+%23%25";
    let escaped = "%2B%20%23%25";
    assert_eq!(url_escape(unescaped), plus_escaped);
    assert_eq!(url_escape_with(unescaped, false), escaped);
    assert_eq!(url_unescape(plus_escaped), unescaped);
    assert_eq!(url_unescape_with(escaped, false), unescaped);
    assert_eq!(url_unescape_bytes(plus_escaped, true), unescaped.as_bytes());
    assert_eq!(url_unescape_bytes(escaped, false), unescaped.as_bytes());
    // A path keeps its slashes.
    assert_eq!(url_escape_with("a b/c", false), "a%20b/c");
}

#[test]
fn test_json_decode() {
    assert_eq!(json_decode::<String>(b"\"foo\"").unwrap(), "foo");
    assert_eq!(json_decode::<String>("\"foo\"").unwrap(), "foo");
    assert_eq!(
        json_decode::<String>("\"\u{e9}\"".as_bytes()).unwrap(),
        "\u{e9}"
    );
}

#[test]
fn test_json_encode() {
    assert_eq!(
        json_decode::<String>(json_encode(&"\u{e9}").unwrap()).unwrap(),
        "\u{e9}"
    );
    assert_eq!(json_encode(&"</script>").unwrap(), "\"<\\/script>\"");
}

#[test]
fn test_squeeze() {
    assert_eq!(
        squeeze("sequences     of    whitespace   chars"),
        "sequences of whitespace chars"
    );
}
