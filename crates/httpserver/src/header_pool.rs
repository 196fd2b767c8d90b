//! Reusing header maps: a `HeaderMap` costs two allocations, and a server makes two per
//! request (the request's and the response's). Maps the connection is done with (a
//! response's, once written) and maps the application gives back go to a small pool on each
//! thread, and the next heads are read into them.

use std::cell::RefCell;

use http::HeaderMap;

/// Maps kept per thread; more are dropped.
const POOL_SIZE: usize = 32;
/// Maps that grew past this many entries are dropped rather than kept.
const MAX_KEPT_CAPACITY: usize = 64;

thread_local! {
    static POOL: RefCell<Vec<HeaderMap>> = const { RefCell::new(Vec::new()) };
}

/// An empty header map, reusing the allocation of one this thread recycled when there is
/// one (see [`recycle_header_map`]). Use it for the headers of a response, which
/// [`HttpConnection::write_headers`](crate::HttpConnection::write_headers) recycles once
/// they are written.
pub fn header_map() -> HeaderMap {
    POOL.with_borrow_mut(Vec::pop).unwrap_or_default()
}

/// Gives a header map the application is done with (a request's, say) back to this thread's
/// pool, where [`header_map`] and the server's next requests find it. Optional: a map that is
/// dropped instead is simply freed.
pub fn recycle_header_map(mut map: HeaderMap) {
    if map.capacity() == 0 || map.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    map.clear();
    POOL.with_borrow_mut(|pool| {
        if pool.len() < POOL_SIZE {
            pool.push(map);
        }
    });
}

/// A map with room for `n` headers, from the pool when it has one.
pub(crate) fn header_map_for(n: usize) -> HeaderMap {
    let mut map = header_map();
    // Past `http`'s limit (32,768) the appends fail, and the head is rejected there.
    let _ = map.try_reserve(n);
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::HOST;

    #[test]
    fn maps_come_back_empty_and_keep_their_room() {
        let mut m = HeaderMap::with_capacity(8);
        m.insert(HOST, HeaderValue::from_static("a"));
        let cap = m.capacity();
        recycle_header_map(m);
        let again = header_map();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), cap);
        // An unused map (no allocation) is not worth keeping; an empty pool makes new ones.
        recycle_header_map(HeaderMap::new());
        assert_eq!(header_map().capacity(), 0);
    }

    #[test]
    fn large_maps_are_not_kept() {
        let mut m = HeaderMap::with_capacity(1000);
        m.insert(HOST, HeaderValue::from_static("a"));
        recycle_header_map(m);
        assert_eq!(header_map().capacity(), 0);
    }
}
