//! Plugins' routes: paths with `{name}` segments and a final `{name*}`, the methods each
//! answers, and the checks that keep them off the host's pages and off each other's.

use std::collections::BTreeMap;

use datasette_plugin_api::Route;

/// Pages under `/-/` that the host serves itself: a plugin route may not start with one.
const HOST_PAGES: &[&str] = &[
    "actor",
    "allow-debug",
    "auth-token",
    "config",
    "create-token",
    "databases",
    "health",
    "logout",
    "metadata",
    "metrics",
    "permissions",
    "plugins",
    "settings",
    "static",
    "threads",
    "versions",
];

/// Host paths outside `/-/`.
const HOST_PATHS: &[&str] = &["/", "/favicon.ico"];

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    /// `{name}`: one segment.
    Capture(String),
    /// `{name*}`: the rest of the path, one segment or more.
    Rest(String),
}

/// A route, parsed.
#[derive(Debug, Clone)]
pub struct RoutePattern {
    pub route: Route,
    segments: Vec<Segment>,
}

/// How a request's path and method meet the routes.
pub enum Matched<T> {
    Found(T, BTreeMap<String, String>),
    /// The path is a route's, the method is not: the methods it answers.
    WrongMethod(Vec<String>),
    None,
}

impl RoutePattern {
    /// Parses and checks a plugin's route; `Err` says what is wrong with it.
    pub fn parse(route: Route) -> Result<RoutePattern, String> {
        let path = route.path.as_str();
        let rest = path.strip_prefix('/').ok_or("does not start with /")?;
        if path.contains(['?', '#']) || path.chars().any(char::is_control) {
            return Err("must be a path (no ?, # or control characters)".into());
        }
        let segments = if rest.is_empty() {
            vec![]
        } else {
            rest.split('/')
                .map(segment)
                .collect::<Result<Vec<_>, _>>()?
        };
        if segments.contains(&Segment::Literal(String::new())) {
            return Err("has an empty segment (//)".into());
        }
        if let Some(i) = segments.iter().position(|s| matches!(s, Segment::Rest(_))) {
            if i + 1 != segments.len() {
                return Err("has {name*} before its last segment".into());
            }
        }
        let mut names: Vec<&str> = segments.iter().filter_map(Segment::name).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err("names one capture twice".into());
        }
        for m in &route.methods {
            if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(format!(
                    "names the method {m:?}: expected GET, POST and the like"
                ));
            }
        }
        let pattern = RoutePattern { route, segments };
        pattern.check_not_the_hosts()?;
        Ok(pattern)
    }

    /// A route must start with a fixed segment (two under `/-/`), so that it cannot take
    /// every database's pages, and must not be one of the host's.
    fn check_not_the_hosts(&self) -> Result<(), String> {
        let fixed: Vec<&str> = self
            .segments
            .iter()
            .map_while(|s| match s {
                Segment::Literal(l) => Some(l.as_str()),
                _ => None,
            })
            .collect();
        let captures = fixed.len() < self.segments.len();
        match fixed.as_slice() {
            [] | ["-"] if captures => Err(
                "must start with a fixed segment, two under /-/ (like /-/my-plugin/{name})".into(),
            ),
            ["-", page, ..] if HOST_PAGES.contains(&page.trim_end_matches(".json")) => {
                Err("is served by datasette-rs itself".into())
            }
            _ if !captures && HOST_PATHS.contains(&self.route.path.as_str()) => {
                Err("is served by datasette-rs itself".into())
            }
            _ => Ok(()),
        }
    }

    /// The route's first segment, when it is fixed.
    pub fn first_segment(&self) -> Option<&str> {
        match self.segments.first()? {
            Segment::Literal(l) => Some(l),
            _ => None,
        }
    }

    /// The path as actix routes it: `{name}` one segment, `{name*}` the rest.
    pub fn actix_path(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            match s {
                Segment::Literal(l) => out.push_str(l),
                Segment::Capture(n) => out.push_str(&format!("{{{n}}}")),
                Segment::Rest(n) => out.push_str(&format!("{{{n}:.+}}")),
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// The captures if `path` (percent-encoded, as requested) is this route's.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let parts: Vec<&str> = match path.strip_prefix('/')? {
            "" => vec![],
            rest => rest.split('/').collect(),
        };
        let mut captures = BTreeMap::new();
        for (i, s) in self.segments.iter().enumerate() {
            match s {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Capture(n) => {
                    captures.insert(n.clone(), decode(parts.get(i)?)?);
                }
                Segment::Rest(n) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                    let decoded: Option<Vec<String>> = rest.iter().map(|p| decode(p)).collect();
                    captures.insert(n.clone(), decoded?.join("/"));
                    return Some(captures);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(captures)
    }

    /// Whether the route answers `method`; HEAD wherever GET is answered.
    pub fn allows(&self, method: &str) -> bool {
        let method = if method == "HEAD" { "GET" } else { method };
        self.route.methods.is_empty() || self.route.methods.iter().any(|m| m == method)
    }

    /// Whether some request could be answered by both routes.
    pub fn overlaps(&self, other: &RoutePattern) -> bool {
        let methods = self.route.methods.is_empty()
            || other.route.methods.is_empty()
            || self.route.methods.iter().any(|m| other.allows(m));
        methods && paths_overlap(&self.segments, &other.segments)
    }
}

fn paths_overlap(a: &[Segment], b: &[Segment]) -> bool {
    match (a.first(), b.first()) {
        (None, None) => true,
        (Some(Segment::Rest(_)), Some(_)) | (Some(_), Some(Segment::Rest(_))) => true,
        (Some(Segment::Literal(x)), Some(Segment::Literal(y))) if x != y => false,
        (Some(_), Some(_)) => paths_overlap(&a[1..], &b[1..]),
        _ => false,
    }
}

impl Segment {
    fn name(&self) -> Option<&str> {
        match self {
            Segment::Capture(n) | Segment::Rest(n) => Some(n),
            Segment::Literal(_) => None,
        }
    }
}

fn segment(s: &str) -> Result<Segment, String> {
    let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        if s.contains(['{', '}']) {
            return Err(format!(
                "has a segment {s:?}: a capture is a whole segment, {{name}}"
            ));
        }
        return Ok(Segment::Literal(s.to_string()));
    };
    let (name, rest) = match inner.strip_suffix('*') {
        Some(name) => (name, true),
        None => (inner, false),
    };
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(format!(
            "has a capture {s:?}: a name of letters, digits and _"
        ));
    }
    Ok(match rest {
        true => Segment::Rest(name.to_string()),
        false => Segment::Capture(name.to_string()),
    })
}

/// One segment, percent-decoded, if it is one a plugin can take as a name: UTF-8, not empty,
/// `.` or `..`, and holding no `/` or control character once decoded (`a%2Fb` is not one
/// segment, and `%2e%2e` is not a name).
fn decode(s: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    let plain = !matches!(&*decoded, "" | "." | "..")
        && !decoded.contains('/')
        && !decoded.chars().any(char::is_control);
    plain.then(|| decoded.into_owned())
}

/// The route of `routes` that answers `method` on `path`, with its captures.
pub fn find<'a, T>(
    routes: &'a [(RoutePattern, T)],
    method: &str,
    path: &str,
) -> Matched<(&'a Route, &'a T)> {
    let mut methods = Vec::new();
    for (pattern, value) in routes {
        if let Some(captures) = pattern.matches(path) {
            if pattern.allows(method) {
                return Matched::Found((&pattern.route, value), captures);
            }
            methods.extend(pattern.route.methods.iter().cloned());
        }
    }
    match methods.is_empty() {
        true => Matched::None,
        false => Matched::WrongMethod(methods),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, methods: &[&str]) -> Result<RoutePattern, String> {
        RoutePattern::parse(Route::new(path, methods))
    }

    #[test]
    fn captures_one_segment_or_the_rest_decoded() {
        let p = parse("/-/files/{dir}/{path*}", &[]).unwrap();
        let c = p.matches("/-/files/a%20b/x/y.txt").unwrap();
        assert_eq!(c["dir"], "a b");
        assert_eq!(c["path"], "x/y.txt");
        // What decodes to more than one segment, a step up, or not text, matches nothing.
        for path in [
            "/-/files/a%2Fb/x",
            "/-/files/a/x/y%2F..%2Fz",
            "/-/files/%2e%2e/x",
            "/-/files/a/../x",
            "/-/files/a/x%00",
            "/-/files/%ff/x",
        ] {
            assert!(p.matches(path).is_none(), "{path}");
        }
        assert!(p.matches("/-/files/a").is_none());
        assert!(p.matches("/-/files/a/").is_none());
        let one = parse("/-/hello/{name}", &[]).unwrap();
        assert_eq!(one.matches("/-/hello/ada").unwrap()["name"], "ada");
        assert!(one.matches("/-/hello/ada/more").is_none());
        assert!(one.matches("/-/hello/").is_none());
        assert_eq!(one.actix_path(), "/-/hello/{name}");
        assert_eq!(p.actix_path(), "/-/files/{dir}/{path:.+}");
        assert!(parse("/robots.txt", &[])
            .unwrap()
            .matches("/robots.txt")
            .is_some());
    }

    #[test]
    fn routes_that_would_take_the_hosts_pages_or_are_malformed_are_refused() {
        for (path, problem) in [
            ("/{db}", "must start with a fixed segment"),
            ("/-/{page}", "must start with a fixed segment"),
            ("/-/static/{file}", "served by datasette-rs itself"),
            ("/-/plugins.json", "served by datasette-rs itself"),
            ("/", "served by datasette-rs itself"),
            ("no-slash", "does not start with /"),
            ("/-/x/{a}/{a}", "names one capture twice"),
            ("/-/x/{rest*}/more", "before its last segment"),
            ("/-/x/a{b}", "a capture is a whole segment"),
            ("/-/x/{9}", "a name of letters"),
            ("/-/x?y", "must be a path"),
            ("//{a}", "empty segment"),
            ("/-//x/{a}", "empty segment"),
        ] {
            let e = parse(path, &[]).unwrap_err();
            assert!(e.contains(problem), "{path}: {e}");
        }
        assert!(parse("/-/x", &["get"]).is_ok(), "methods are upper-cased");
        assert!(RoutePattern::parse(Route {
            path: "/-/x".into(),
            methods: vec!["G T".into()],
            ..Route::default()
        })
        .is_err());
    }

    #[test]
    fn overlap_needs_a_path_both_match_and_a_method_both_answer() {
        let a = parse("/-/p/{name}", &["GET"]).unwrap();
        assert!(a.overlaps(&parse("/-/p/fixed", &[]).unwrap()));
        assert!(a.overlaps(&parse("/-/p/{rest*}", &["GET", "POST"]).unwrap()));
        assert!(!a.overlaps(&parse("/-/p/{name}", &["POST"]).unwrap()));
        assert!(!a.overlaps(&parse("/-/q/{name}", &[]).unwrap()));
        assert!(!a.overlaps(&parse("/-/p/{a}/{b}", &[]).unwrap()));
    }

    #[test]
    fn a_path_of_a_route_asked_with_another_method_lists_the_methods() {
        let routes = vec![(parse("/-/p/{name}", &["POST"]).unwrap(), 1)];
        assert!(matches!(
            find(&routes, "POST", "/-/p/x"),
            Matched::Found((_, 1), _)
        ));
        match find(&routes, "GET", "/-/p/x") {
            Matched::WrongMethod(m) => assert_eq!(m, ["POST"]),
            _ => panic!("expected the wrong method"),
        }
        assert!(matches!(find(&routes, "GET", "/-/q"), Matched::None));
        let get = vec![(parse("/-/g", &["GET"]).unwrap(), 2)];
        assert!(matches!(
            find(&get, "HEAD", "/-/g"),
            Matched::Found((_, 2), _)
        ));
    }
}
