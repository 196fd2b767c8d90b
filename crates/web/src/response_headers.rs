//! [`ResponseHeaders`]: a response's headers as a short list, since a handler sets a few and
//! looks them up by name rarely; a list needs no hashing, and its allocation is reused by
//! later requests of the thread with the handler state that holds it.

use http::header::{HeaderName, HeaderValue};

/// A response's headers, in the order set.
#[derive(Debug, Default)]
pub(crate) struct ResponseHeaders {
    list: Vec<(HeaderName, HeaderValue)>,
}

/// Lists kept for reuse on this thread, and the most kept.
impl ResponseHeaders {
    /// Entries the list can hold without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.list.capacity()
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &HeaderName) -> Option<&HeaderValue> {
        self.list.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether `name` is set.
    pub(crate) fn contains(&self, name: &HeaderName) -> bool {
        self.list.iter().any(|(n, _)| n == name)
    }

    /// Sets `name` to `value` alone (where its first value was, or at the end).
    pub(crate) fn insert(&mut self, name: HeaderName, value: HeaderValue) {
        match self.list.iter().position(|(n, _)| *n == name) {
            Some(i) => {
                self.list[i].1 = value;
                let mut j = i + 1;
                while j < self.list.len() {
                    if self.list[j].0 == name {
                        self.list.remove(j);
                    } else {
                        j += 1;
                    }
                }
            }
            None => self.list.push((name, value)),
        }
    }

    /// Adds a value of `name`.
    pub(crate) fn append(&mut self, name: HeaderName, value: HeaderValue) {
        self.list.push((name, value));
    }

    /// Removes every value of `name`.
    pub(crate) fn remove(&mut self, name: &HeaderName) {
        self.list.retain(|(n, _)| n != name);
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// The values of `name`, in order.
    pub(crate) fn get_all<'a>(
        &'a self,
        name: &'a HeaderName,
    ) -> impl Iterator<Item = &'a HeaderValue> {
        self.list
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Every header, in order.
    pub(crate) fn as_slice(&self) -> &[(HeaderName, HeaderValue)] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use http::header::{CONTENT_TYPE, SET_COOKIE};

    use super::*;

    #[test]
    fn map_semantics_on_a_list() {
        let mut h = ResponseHeaders::default();
        let v = |s: &'static str| HeaderValue::from_static(s);
        h.append(SET_COOKIE, v("a"));
        h.insert(CONTENT_TYPE, v("text/plain"));
        h.append(SET_COOKIE, v("b"));
        assert_eq!(
            h.get_all(&SET_COOKIE).collect::<Vec<_>>(),
            [&v("a"), &v("b")]
        );
        h.insert(SET_COOKIE, v("c"));
        assert_eq!(
            h.as_slice(),
            &[(SET_COOKIE, v("c")), (CONTENT_TYPE, v("text/plain"))]
        );
        h.remove(&SET_COOKIE);
        assert!(!h.contains(&SET_COOKIE));
        assert_eq!(h.get(&CONTENT_TYPE), Some(&v("text/plain")));
    }
}
