//! The few escapes the handler core needs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What Python's `quote_plus` leaves alone (letters, digits, `_.-~`); spaces become `%20`
/// here rather than `+`, which decodes the same in a query.
pub(crate) const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// `&`, `<`, `>`, `"` and `'` as entities (`xhtml_escape`).
pub(crate) fn xhtml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}
