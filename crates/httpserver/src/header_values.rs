//! Header values every response carries, made cheaply: the `Date` (formatted once per
//! second per thread) and the `Content-Length` (small ones without formatting or
//! allocating).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

/// The date of one second, formatted: as a header value and as a whole header line.
struct CachedDate {
    /// Seconds since the epoch (`u64::MAX` before the first use).
    second: u64,
    /// On the loop's clock: when `second` ends. Until then a loop iteration can use the
    /// cached value without reading the system clock.
    valid_until: Option<std::time::Instant>,
    value: HeaderValue,
    /// `Date: <value>\r\n`.
    line: Vec<u8>,
}

thread_local! {
    static CACHE: RefCell<CachedDate> = const {
        RefCell::new(CachedDate {
            second: u64::MAX,
            valid_until: None,
            value: HeaderValue::from_static(""),
            line: Vec::new(),
        })
    };
}

/// The current time as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), for the `Date`
/// header. Formatting happens once per second on each thread; other calls clone the cached
/// value.
pub fn http_date() -> HeaderValue {
    with_date(|d| d.value.clone())
}

/// Appends the `Date` header line for now (the connection's, when the application set no
/// `Date`).
pub(crate) fn put_date_line(buf: &mut bytes::BytesMut) {
    with_date(|d| buf.extend_from_slice(&d.line));
}

fn with_date<R>(f: impl FnOnce(&CachedDate) -> R) -> R {
    let iteration = tornado_ioloop::iteration_time();
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        // Within the loop, the clock is read once per second at most: the iteration's
        // start time tells whether the cached second is over.
        let fresh = matches!((iteration, c.valid_until), (Some(t), Some(until)) if t < until);
        if !fresh {
            let now = SystemTime::now();
            let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            let second = since_epoch.as_secs();
            if c.second != second {
                let text = httpdate::fmt_http_date(now);
                c.value =
                    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
                c.line.clear();
                c.line.extend_from_slice(b"Date: ");
                c.line.extend_from_slice(text.as_bytes());
                c.line.extend_from_slice(b"\r\n");
                c.second = second;
            }
            let rest_of_second = std::time::Duration::from_secs(1)
                - std::time::Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
            c.valid_until = iteration.map(|_| std::time::Instant::now() + rest_of_second);
        }
        f(&c)
    })
}

/// `Content-Length` values below this come from [`DIGITS`].
const SMALL_LENGTHS: u64 = 10_000;
/// Where the numbers of each digit count start in [`DIGITS`], and the first such number.
const STARTS: [(usize, u64); 4] = [(0, 0), (10, 10), (190, 100), (2890, 1000)];

/// `0123456789101112...9999`: every decimal below [`SMALL_LENGTHS`], written one after
/// another at compile time, so a small length is a slice of it.
static DIGITS: [u8; 38_890] = {
    let mut out = [0u8; 38_890];
    let mut at = 0;
    let mut n = 0u64;
    while n < SMALL_LENGTHS {
        let width = if n < 10 {
            1
        } else if n < 100 {
            2
        } else if n < 1000 {
            3
        } else {
            4
        };
        let mut i = width;
        let mut rest = n;
        while i > 0 {
            i -= 1;
            out[at + i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        at += width;
        n += 1;
    }
    out
};

static DIGITS_STR: &str = match std::str::from_utf8(&DIGITS) {
    Ok(s) => s,
    Err(_) => panic!("digits are ASCII"),
};

/// A `Content-Length` value. Below 10,000 it is a slice of a static table: no formatting,
/// no allocation, no reference count.
pub fn content_length(n: u64) -> HeaderValue {
    if n >= SMALL_LENGTHS {
        return HeaderValue::from(n);
    }
    let width = match n {
        0..10 => 1,
        10..100 => 2,
        100..1000 => 3,
        _ => 4,
    };
    let (base, first) = STARTS[width - 1];
    let start = base + (n - first) as usize * width;
    HeaderValue::from_static(&DIGITS_STR[start..start + width])
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_lengths() {
        for n in (0..10_020).chain([u64::MAX]) {
            assert_eq!(super::content_length(n).to_str().unwrap(), n.to_string());
        }
    }

    #[test]
    fn formats_an_imf_fixdate() {
        let v = super::http_date();
        let s = v.to_str().unwrap();
        assert!(s.ends_with(" GMT") && s.len() == 29, "{s}");
        assert!(httpdate::parse_http_date(s).is_ok());
    }
}
