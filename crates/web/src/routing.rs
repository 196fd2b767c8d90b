//! Routing (`tornado.routing`): ordered rules, each a matcher and a target. The first rule
//! whose matcher accepts the request wins; a rule's target is a handler factory or a nested
//! router.
//!
//! Path patterns are Tornado's: a regular expression matched from the start of the path,
//! with `$` appended when missing; its groups are the handler's path arguments (positional,
//! or by name when the pattern names any group), URL-unescaped. Patterns without
//! metacharacters are compared as plain strings, which is what most routes are.

use std::fmt;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use regex::Regex;

use crate::handler_factory::MakeHandler;

/// The path arguments a rule's pattern captured, URL-unescaped but not yet decoded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PathArgs {
    /// The groups, in order, when the pattern names none (`path_args`); a group that did
    /// not take part in the match is `None`.
    pub positional: Vec<Option<Vec<u8>>>,
    /// The named groups (`path_kwargs`).
    pub named: Vec<(String, Option<Vec<u8>>)>,
}

/// An invalid pattern or an impossible reversal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingError(String);

impl fmt::Display for RoutingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RoutingError {}

enum PathKind {
    /// A pattern without metacharacters: the path must equal it.
    Literal(String),
    Regex {
        regex: Regex,
        named: bool,
    },
}

/// Matches the request path against a pattern (`tornado.routing.PathMatches`).
pub struct PathMatches {
    pattern: String,
    kind: PathKind,
    /// The pattern with `%s` for each group, when it is simple enough to reverse.
    reverse: Option<(Vec<ReversePiece>, usize)>,
}

#[derive(Debug, Clone)]
enum ReversePiece {
    Text(String),
    Arg,
}

impl PathMatches {
    /// Compiles `pattern` (`$` is appended unless it ends with one).
    pub fn new(pattern: &str) -> Result<Self, RoutingError> {
        let mut pattern = pattern.to_owned();
        if !pattern.ends_with('$') {
            pattern.push('$');
        }
        let body = &pattern[..pattern.len() - 1];
        let body = body.strip_prefix('^').unwrap_or(body);
        let kind = match literal(body) {
            Some(text) => PathKind::Literal(text),
            None => {
                let regex = Regex::new(&format!("^(?:{pattern})"))
                    .map_err(|e| RoutingError(format!("invalid pattern {pattern:?}: {e}")))?;
                let named = regex.capture_names().flatten().next().is_some();
                PathKind::Regex { regex, named }
            }
        };
        let reverse = find_groups(&pattern, &kind);
        Ok(PathMatches {
            pattern,
            kind,
            reverse,
        })
    }

    /// The pattern, with its `$`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The path arguments if `path` matches (`match`).
    pub fn match_path(&self, path: &str) -> Option<PathArgs> {
        match &self.kind {
            PathKind::Literal(text) => (path == text).then(PathArgs::default),
            PathKind::Regex { regex, named } => {
                let caps = regex.captures(path)?;
                let mut args = PathArgs::default();
                let unquote = |m: Option<regex::Match<'_>>| {
                    m.map(|m| percent_decode_str(m.as_str()).collect::<Vec<u8>>())
                };
                if *named {
                    for name in regex.capture_names().flatten() {
                        args.named.push((name.to_owned(), unquote(caps.name(name))));
                    }
                } else {
                    for i in 1..caps.len() {
                        args.positional.push(unquote(caps.get(i)));
                    }
                }
                Some(args)
            }
        }
    }

    /// The path this pattern matches with `args` in its groups, each URL-escaped
    /// (`reverse`). Fails for patterns too complex to reverse, or the wrong number of
    /// arguments.
    pub fn reverse(&self, args: &[&str]) -> Result<String, RoutingError> {
        let Some((pieces, groups)) = &self.reverse else {
            return Err(RoutingError(format!(
                "Cannot reverse url regex {}",
                self.pattern
            )));
        };
        if args.len() != *groups {
            return Err(RoutingError(format!(
                "{} arguments given to a pattern with {groups} groups",
                args.len()
            )));
        }
        let mut out = String::new();
        let mut args = args.iter();
        for piece in pieces {
            match piece {
                ReversePiece::Text(t) => out.push_str(t),
                ReversePiece::Arg => {
                    let a = args.next().copied().unwrap_or_default();
                    out.push_str(&crate::escape::url_escape_with(a, false));
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Debug for PathMatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PathMatches").field(&self.pattern).finish()
    }
}

/// The text `pattern` matches if it has no metacharacters (escaped punctuation allowed).
fn literal(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => out.push(e),
                _ => return None,
            },
            '.' | '^' | '$' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => {
                return None;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// Tornado's `re_unescape`: `\x` becomes `x` for punctuation; `None` for `\d` and the like.
fn re_unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e) if !e.is_alphanumeric() => out.push(e),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Tornado's `_find_groups`: the pattern as text with a hole per group, if every `(` opens
/// a group and the pieces between groups are plain text.
fn find_groups(pattern: &str, kind: &PathKind) -> Option<(Vec<ReversePiece>, usize)> {
    let groups = match kind {
        PathKind::Literal(_) => 0,
        PathKind::Regex { regex, .. } => regex.captures_len() - 1,
    };
    let p = pattern.strip_prefix('^').unwrap_or(pattern);
    let p = p.strip_suffix('$').unwrap_or(p);
    if groups != p.matches('(').count() {
        return None;
    }
    let mut pieces = Vec::new();
    for (i, fragment) in p.split('(').enumerate() {
        match fragment.find(')') {
            Some(close) if i > 0 => {
                pieces.push(ReversePiece::Arg);
                pieces.push(ReversePiece::Text(re_unescape(&fragment[close + 1..])?));
            }
            _ => pieces.push(ReversePiece::Text(re_unescape(fragment)?)),
        }
    }
    Some((pieces, groups))
}

/// Matches the request's host name (`tornado.routing.HostMatches`): a pattern with `$`
/// appended, matched from the start of the lower-cased host without its port.
pub struct HostMatches {
    regex: Regex,
}

impl HostMatches {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, RoutingError> {
        let mut pattern = pattern.to_owned();
        if !pattern.ends_with('$') {
            pattern.push('$');
        }
        let regex = Regex::new(&format!("^(?:{pattern})"))
            .map_err(|e| RoutingError(format!("invalid host pattern {pattern:?}: {e}")))?;
        Ok(HostMatches { regex })
    }

    /// Whether `host_name` matches.
    pub fn matches(&self, host_name: &str) -> bool {
        self.regex.is_match(host_name)
    }
}

impl fmt::Debug for HostMatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HostMatches")
            .field(&self.regex.as_str())
            .finish()
    }
}

static X_REAL_IP: http::HeaderName = http::HeaderName::from_static("x-real-ip");

/// What a rule leads to.
#[derive(Clone)]
pub(crate) enum Target {
    /// Makes the handler of a request.
    Handler(Arc<dyn MakeHandler>),
    /// Routes again with its own rules (`Rule(matcher, router)`).
    Router(Arc<Router>),
    /// A router of the application's own (`Rule(matcher, Router())`).
    Custom(Arc<dyn crate::FindHandler>),
}

/// How a rule decides (`tornado.routing.Matcher`).
pub(crate) enum Matcher {
    Path(PathMatches),
    Host(HostMatches),
    /// A host's routes tried for the application's `default_host` (whose match with the
    /// host's pattern was checked when the application was built): requests that came
    /// through a load balancer (`X-Real-Ip`) are not taken for it
    /// (`tornado.routing.DefaultHostMatches`).
    DefaultHost,
    Any,
}

/// One rule (`tornado.routing.Rule`, `URLSpec` for path rules).
pub(crate) struct Rule {
    pub(crate) matcher: Matcher,
    pub(crate) target: Target,
    pub(crate) name: Option<String>,
}

/// A matched rule: its target and the path arguments its pattern captured.
pub(crate) struct Found {
    pub(crate) make: Arc<dyn MakeHandler>,
    pub(crate) args: PathArgs,
    /// The application whose settings the handler runs with, when a custom router chose
    /// another than the routing one.
    pub(crate) app: Option<crate::Application>,
}

/// Ordered rules (`tornado.routing.RuleRouter`, `ReversibleRuleRouter`). Build one with
/// [`Router::builder`](crate::Router::builder) or through the application's builder.
pub struct Router {
    pub(crate) rules: Vec<Rule>,
}

impl Router {
    /// The first rule's target that accepts `request` (for `path` on `host_name`).
    pub(crate) fn find(
        &self,
        request: &tornado_httpserver::HttpServerRequest,
        host_name: &str,
        path: &str,
    ) -> Option<Found> {
        for rule in &self.rules {
            let args = match &rule.matcher {
                Matcher::Path(p) => match p.match_path(path) {
                    Some(args) => args,
                    None => continue,
                },
                Matcher::Host(h) if h.matches(host_name) => PathArgs::default(),
                Matcher::Host(_) => continue,
                Matcher::DefaultHost if request.request_headers().get(&X_REAL_IP).is_none() => {
                    PathArgs::default()
                }
                Matcher::DefaultHost => continue,
                Matcher::Any => PathArgs::default(),
            };
            match &rule.target {
                Target::Handler(make) => {
                    return Some(Found {
                        make: make.clone(),
                        args,
                        app: None,
                    });
                }
                Target::Router(router) => {
                    if let Some(found) = router.find(request, host_name, path) {
                        return Some(found);
                    }
                }
                Target::Custom(router) => {
                    if let Some(route) = router.find_handler(request) {
                        return Some(Found {
                            make: route.make,
                            args: route.args,
                            app: route.app,
                        });
                    }
                }
            }
        }
        None
    }

    /// The path of the rule named `name`, with `args` in its groups (`reverse_url`).
    pub fn reverse_url(&self, name: &str, args: &[&str]) -> Result<String, RoutingError> {
        self.reverse(name, args)
            .unwrap_or_else(|| Err(RoutingError(format!("{name} not found in named urls"))))
    }

    fn reverse(&self, name: &str, args: &[&str]) -> Option<Result<String, RoutingError>> {
        for rule in &self.rules {
            if rule.name.as_deref() == Some(name) {
                if let Matcher::Path(p) = &rule.matcher {
                    return Some(p.reverse(args));
                }
            }
            match &rule.target {
                Target::Router(r) => {
                    if let Some(found) = r.reverse(name, args) {
                        return Some(found);
                    }
                }
                Target::Custom(r) => {
                    if let Some(path) = r.reverse_url(name, args) {
                        return Some(Ok(path));
                    }
                }
                Target::Handler(_) => {}
            }
        }
        None
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("rules", &self.rules.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_compare_as_text() {
        let p = PathMatches::new("/plaintext").unwrap();
        assert!(matches!(p.kind, PathKind::Literal(_)));
        assert_eq!(p.match_path("/plaintext"), Some(PathArgs::default()));
        assert_eq!(p.match_path("/plaintext/"), None);
        assert_eq!(p.match_path("/plain"), None);
        let p = PathMatches::new(r"/a\.b").unwrap();
        assert!(p.match_path("/a.b").is_some());
        assert!(p.match_path("/axb").is_none());
    }

    #[test]
    fn groups_are_unquoted() {
        let p = PathMatches::new("/user/([^/]+)/(.*)").unwrap();
        let args = p.match_path("/user/a%20b/c%2Fd").unwrap();
        assert_eq!(
            args.positional,
            vec![Some(b"a b".to_vec()), Some(b"c/d".to_vec())]
        );
        let p = PathMatches::new("/(?P<year>[0-9]{4})/(?P<slug>.+)").unwrap();
        let args = p.match_path("/2024/x+y").unwrap();
        assert!(args.positional.is_empty());
        assert_eq!(
            args.named,
            vec![
                ("year".into(), Some(b"2024".to_vec())),
                ("slug".into(), Some(b"x+y".to_vec()))
            ]
        );
        // Matched from the start only, and to the end.
        assert!(p.match_path("/x/2024/a").is_none());
    }

    #[test]
    fn reverse_like_tornado() {
        let p = PathMatches::new("/user/([0-9]+)/files/(.*)").unwrap();
        assert_eq!(p.reverse(&["7", "a b/c"]).unwrap(), "/user/7/files/a%20b/c");
        assert!(p.reverse(&["7"]).is_err());
        let p = PathMatches::new(r"/static/(.*)\.css").unwrap();
        assert_eq!(p.reverse(&["site"]).unwrap(), "/static/site.css");
        // Escapes like \d cannot be reversed, nor nested or non-capturing groups.
        assert!(
            PathMatches::new(r"/\d+/(.*)")
                .unwrap()
                .reverse(&["x"])
                .is_err()
        );
        assert!(
            PathMatches::new(r"/(?:a|b)/(.*)")
                .unwrap()
                .reverse(&["x"])
                .is_err()
        );
        assert_eq!(PathMatches::new("/").unwrap().reverse(&[]).unwrap(), "/");
    }

    #[test]
    fn hosts() {
        let h = HostMatches::new(r"www\.example\.com").unwrap();
        assert!(h.matches("www.example.com"));
        assert!(!h.matches("www.example.com.evil"));
        assert!(!h.matches("wwwxexample.com"));
    }
}
