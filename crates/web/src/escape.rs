//! Escaping and unescaping for HTML, URLs and JSON (`tornado.escape`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode};
use regex::Regex;
use std::sync::LazyLock;

/// What Python's `urllib.parse.quote_plus` leaves alone (letters, digits, `_.-~`).
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');
/// What `urllib.parse.quote` leaves alone: the same and `/`.
const QUOTE: &AsciiSet = &QUOTE_PLUS.remove(b'/');

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML and XML (`xhtml_escape`, Python's
/// `html.escape`).
///
/// ```
/// assert_eq!(tornado_web::escape::xhtml_escape("<a href='x'>"), "&lt;a href=&#x27;x&#x27;&gt;");
/// ```
pub fn xhtml_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
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

/// Replaces character references with their characters (`xhtml_unescape`): named HTML 4
/// ones and numeric ones (`&#32;`, `&#x20;`); anything unknown or invalid is left as it is.
pub fn xhtml_unescape(value: &str) -> String {
    static ENTITY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"&(#?)(\w+?);").expect("a valid pattern"));
    ENTITY
        .replace_all(value, |c: &regex::Captures<'_>| {
            let (hash, name) = (&c[1], &c[2]);
            let decoded = if hash == "#" {
                let code = match name.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => name.parse::<u32>().ok(),
                };
                code.and_then(char::from_u32)
            } else {
                crate::entities::NAMED
                    .binary_search_by(|(n, _)| n.cmp(&name))
                    .ok()
                    .and_then(|i| char::from_u32(crate::entities::NAMED[i].1))
            };
            match decoded {
                Some(ch) => ch.to_string(),
                None => c[0].to_owned(),
            }
        })
        .into_owned()
}

/// Percent-encodes `value` for a URL query, spaces as `+` (`url_escape(value)`,
/// `urllib.parse.quote_plus`).
pub fn url_escape(value: impl AsRef<[u8]>) -> String {
    url_escape_with(value, true)
}

/// [`url_escape`] with `plus = false`: spaces as `%20` and `/` kept, for paths
/// (`url_escape(value, plus=False)`, `urllib.parse.quote`).
pub fn url_escape_with(value: impl AsRef<[u8]>, plus: bool) -> String {
    let bytes = value.as_ref();
    if !plus {
        return percent_encoding::percent_encode(bytes, QUOTE).to_string();
    }
    let mut out = String::with_capacity(bytes.len());
    for piece in bytes.split(|&b| b == b' ').enumerate() {
        if piece.0 > 0 {
            out.push('+');
        }
        out.extend(percent_encoding::percent_encode(piece.1, QUOTE_PLUS));
    }
    out
}

/// Decodes a URL-encoded value to bytes (`url_unescape(value, encoding=None)`); with
/// `plus`, `+` is a space.
pub fn url_unescape_bytes(value: impl AsRef<[u8]>, plus: bool) -> Vec<u8> {
    let bytes = value.as_ref();
    if plus && bytes.contains(&b'+') {
        let spaced: Vec<u8> = bytes
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        return percent_decode(&spaced).collect();
    }
    percent_decode(bytes).collect()
}

/// Decodes a URL-encoded value as UTF-8 text (`url_unescape(value)`), `+` as a space;
/// bytes that are not UTF-8 become U+FFFD.
pub fn url_unescape(value: impl AsRef<[u8]>) -> String {
    String::from_utf8_lossy(&url_unescape_bytes(value, true)).into_owned()
}

/// [`url_unescape`] choosing whether `+` is a space (`url_unescape(value, plus=...)`).
pub fn url_unescape_with(value: impl AsRef<[u8]>, plus: bool) -> String {
    String::from_utf8_lossy(&url_unescape_bytes(value, plus)).into_owned()
}

/// JSON text of `value`, with `</` written `<\/` so that it can sit inside a `<script>`
/// element (`json_encode`).
pub fn json_encode(value: &impl serde::Serialize) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string(value)?.replace("</", "<\\/"))
}

/// Parses JSON text (`json_decode`).
pub fn json_decode<T: serde::de::DeserializeOwned>(
    value: impl AsRef<[u8]>,
) -> Result<T, serde_json::Error> {
    serde_json::from_slice(value.as_ref())
}

/// Replaces each run of whitespace with one space and trims the ends (`squeeze`).
pub fn squeeze(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Extra attributes of [`linkify`]'s links: fixed text, or made from each link's `href`.
pub enum ExtraParams<'a> {
    /// None.
    None,
    /// The same for every link (`extra_params="rel=\"nofollow\""`).
    Fixed(&'a str),
    /// Computed per link (`extra_params=callable`).
    Computed(&'a dyn Fn(&str) -> String),
}

/// How [`linkify`] makes links (its keyword arguments).
pub struct LinkifyOptions<'a> {
    /// Shortens long URLs in the link text (`shorten`).
    pub shorten: bool,
    /// Attributes added to each `<a>` (`extra_params`).
    pub extra_params: ExtraParams<'a>,
    /// Only URLs with a protocol are linked (`require_protocol`), not `www.` ones.
    pub require_protocol: bool,
    /// Protocols that are linked (`permitted_protocols`, `http` and `https`).
    pub permitted_protocols: &'a [&'a str],
}

impl std::fmt::Debug for ExtraParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtraParams::None => f.write_str("None"),
            ExtraParams::Fixed(p) => f.debug_tuple("Fixed").field(p).finish(),
            ExtraParams::Computed(_) => f.write_str("Computed(..)"),
        }
    }
}

impl std::fmt::Debug for LinkifyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkifyOptions")
            .field("shorten", &self.shorten)
            .field("extra_params", &self.extra_params)
            .field("require_protocol", &self.require_protocol)
            .field("permitted_protocols", &self.permitted_protocols)
            .finish()
    }
}

impl Default for LinkifyOptions<'_> {
    fn default() -> Self {
        LinkifyOptions {
            shorten: false,
            extra_params: ExtraParams::None,
            require_protocol: false,
            permitted_protocols: &["http", "https"],
        }
    }
}

/// HTML-escapes `text` and turns the URLs in it into links (`linkify`).
///
/// ```
/// use tornado_web::escape::{linkify, LinkifyOptions};
/// assert_eq!(
///     linkify("see http://example.com/!", &LinkifyOptions::default()),
///     "see <a href=\"http://example.com/\">http://example.com/</a>!"
/// );
/// ```
pub fn linkify(text: &str, options: &LinkifyOptions<'_>) -> String {
    // Tornado's pattern, matched against the escaped text (so `&amp;` and `&quot;` are the
    // only entities a URL may contain).
    static URL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r##"\b((?:([\w-]+):(/{1,3})|www[.])(?:(?:(?:[^\s&()]|&amp;|&quot;)*(?:[^!"#$%&'()*+,.:;<=>?@\[\]^`{|}~\s]))|(?:\((?:[^\s&()]|&amp;|&quot;)*\)))+)"##,
        )
        .expect("a valid pattern")
    });
    let fixed = match options.extra_params {
        ExtraParams::Fixed(p) if !p.trim().is_empty() => format!(" {}", p.trim()),
        _ => String::new(),
    };
    let escaped = xhtml_escape(text);
    URL.replace_all(&escaped, |m: &regex::Captures<'_>| {
        let url = &m[1];
        let proto = m.get(2).map(|p| p.as_str());
        if options.require_protocol && proto.is_none() {
            return url.to_owned();
        }
        if let Some(p) = proto {
            if !options.permitted_protocols.contains(&p) {
                return url.to_owned();
            }
        }
        let href = match proto {
            Some(_) => url.to_owned(),
            None => format!("http://{url}"),
        };
        let mut params = match &options.extra_params {
            ExtraParams::Computed(f) => format!(" {}", f(&href).trim()),
            _ => fixed.clone(),
        };
        let mut shown = url.to_owned();
        const MAX_LEN: usize = 30;
        if options.shorten && url.chars().count() > MAX_LEN {
            let before = url;
            let proto_len = proto.map_or(0, |p| {
                p.chars().count() + 1 + m.get(3).map_or(0, |s| s.as_str().chars().count())
            });
            let chars: Vec<char> = url.chars().collect();
            let head: String = chars[..proto_len].iter().collect();
            let rest: String = chars[proto_len..].iter().collect();
            let parts: Vec<&str> = rest.split('/').collect();
            if parts.len() > 1 {
                let first8: String = parts[1].chars().take(8).collect();
                let bit = first8
                    .split('?')
                    .next()
                    .unwrap_or("")
                    .split('.')
                    .next()
                    .unwrap_or("");
                shown = format!("{head}{}/{bit}", parts[0]);
            }
            if shown.chars().count() as f64 > MAX_LEN as f64 * 1.5 {
                shown = shown.chars().take(MAX_LEN).collect();
            }
            if shown != before {
                if let Some(amp) = shown.rfind('&') {
                    // Do not cut an entity in two.
                    if shown[..amp].chars().count() > MAX_LEN - 5 {
                        shown.truncate(amp);
                    }
                }
                shown.push_str("...");
                if shown.chars().count() >= before.chars().count() {
                    shown = before.to_owned();
                } else {
                    params.push_str(&format!(" title=\"{href}\""));
                }
            }
        }
        format!("<a href=\"{href}\"{params}>{shown}</a>")
    })
    .into_owned()
}
