//! Looking up a request's header without hashing its name: most requests carry a handful
//! of headers, and comparing names (an enum for the standard ones) over a short list costs
//! less than `HeaderMap`'s hash and probe. Larger maps are looked up by hash.

use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Maps with at most this many names are scanned.
const SCANNED_NAMES: usize = 6;

/// The first value of `name` in `map` (`map.get(name)`).
pub fn find_header<'a>(map: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    if map.keys_len() <= SCANNED_NAMES {
        map.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    } else {
        map.get(name)
    }
}

/// Every value of `name` in `map`, in order (`map.get_all(name)`).
pub fn find_headers<'a>(map: &'a HeaderMap, name: &'a HeaderName) -> FindHeaders<'a> {
    if map.keys_len() <= SCANNED_NAMES {
        FindHeaders::Scan(map.iter(), name)
    } else {
        FindHeaders::Hashed(map.get_all(name).iter())
    }
}

/// The values [`find_headers`] finds.
#[derive(Debug)]
pub enum FindHeaders<'a> {
    /// A small map, scanned.
    Scan(http::header::Iter<'a, HeaderValue>, &'a HeaderName),
    /// A larger one's values of the name.
    Hashed(http::header::ValueIter<'a, HeaderValue>),
}

impl<'a> Iterator for FindHeaders<'a> {
    type Item = &'a HeaderValue;

    fn next(&mut self) -> Option<&'a HeaderValue> {
        match self {
            FindHeaders::Scan(iter, name) => iter.find(|(n, _)| n == name).map(|(_, v)| v),
            FindHeaders::Hashed(iter) => iter.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::header::{ACCEPT, CONTENT_TYPE, COOKIE, HOST, IF_NONE_MATCH};

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (n, v) in pairs {
            m.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn scanned_and_hashed_lookups_agree_with_the_map() {
        let small = map(&[("host", "a"), ("cookie", "x=1"), ("cookie", "y=2")]);
        let mut pairs: Vec<(String, String)> = (0..20)
            .map(|i| (format!("x-h{i}"), format!("{i}")))
            .collect();
        pairs.push(("cookie".into(), "x=1".into()));
        pairs.push(("cookie".into(), "y=2".into()));
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let large = map(&refs);
        for m in [&small, &large] {
            for name in [HOST, COOKIE, CONTENT_TYPE, IF_NONE_MATCH, ACCEPT] {
                assert_eq!(find_header(m, &name), m.get(&name), "{name}");
                assert_eq!(
                    find_headers(m, &name).collect::<Vec<_>>(),
                    m.get_all(&name).iter().collect::<Vec<_>>(),
                    "{name}"
                );
            }
        }
        assert_eq!(find_headers(&small, &COOKIE).count(), 2);
    }
}
