//! The `Date` header value, formatted once per second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

thread_local! {
    /// (second since the epoch, its IMF-fixdate).
    static CACHE: RefCell<(u64, HeaderValue)> = RefCell::new((u64::MAX, HeaderValue::from_static("")));
}

/// The current time as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), for the `Date`
/// header. Formatting happens once per second on each thread; other calls clone the cached
/// value.
pub fn http_date() -> HeaderValue {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs {
            let text = httpdate::fmt_http_date(now);
            c.1 = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""));
            c.0 = secs;
        }
        c.1.clone()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_an_imf_fixdate() {
        let v = super::http_date();
        let s = v.to_str().unwrap();
        assert!(s.ends_with(" GMT") && s.len() == 29, "{s}");
        assert!(httpdate::parse_http_date(s).is_ok());
    }
}
