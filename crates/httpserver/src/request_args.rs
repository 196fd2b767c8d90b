//! The arguments, files and cookies of a request: the query's parsed when first asked for,
//! the body's when the body is complete (so that a malformed one is answered with a 400 before
//! the application runs, as in Tornado).

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::httputil::{Arguments, Files, parse_cookie, parse_qs_bytes};

/// Parsed parts of a request.
#[derive(Debug, Default, Clone)]
pub(crate) struct RequestArgs {
    query: OnceCell<Arguments>,
    pub(crate) body: Arguments,
    pub(crate) files: Files,
    all: OnceCell<Arguments>,
    cookies: OnceCell<HashMap<String, String>>,
}

/// [`RequestArgs`] made on first use: most requests never ask for arguments, and the
/// request stays small (it is moved a few times on its way to a handler).
#[derive(Debug, Default, Clone)]
pub(crate) struct LazyArgs(OnceCell<Box<RequestArgs>>);

impl LazyArgs {
    pub(crate) fn get(&self) -> &RequestArgs {
        self.0.get_or_init(Box::default)
    }

    pub(crate) fn get_mut(&mut self) -> &mut RequestArgs {
        self.0.get_or_init(Box::default);
        self.0.get_mut().expect("initialized above")
    }
}

impl RequestArgs {
    pub(crate) fn query(&self, query: &str) -> &Arguments {
        // The number of fields was checked when the request arrived (at most 1000), so
        // parsing cannot fail on it.
        self.query
            .get_or_init(|| parse_qs_bytes(query.as_bytes(), true, None).unwrap_or_default())
    }

    pub(crate) fn all(&self, query: &str) -> &Arguments {
        self.all.get_or_init(|| {
            let mut all = self.query(query).clone();
            for (k, v) in &self.body {
                all.entry(k.clone()).or_default().extend(v.iter().cloned());
            }
            all
        })
    }

    pub(crate) fn cookies(&self, header: Option<&str>) -> &HashMap<String, String> {
        self.cookies.get_or_init(|| {
            header
                .map(|h| parse_cookie(h).into_iter().collect())
                .unwrap_or_default()
        })
    }
}
