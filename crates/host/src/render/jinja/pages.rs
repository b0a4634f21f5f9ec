//! Custom pages: `pages/about.html` answers `/about`, `pages/about/map.html` answers
//! `/about/map`, and `pages/topic_{topic}/{slug}.html` answers `/topic_python/info` with
//! `topic` and `slug` bound. A path matches a page without parameters before any with them,
//! and a parameter never spans a `/`.

use std::collections::BTreeMap;

/// A template under `pages/` and the paths it answers.
#[derive(Debug, Clone)]
pub struct CustomPage {
    /// The template's name (`pages/about.html`).
    pub template: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Param(String),
}

/// The routes of the templates under `pages/`: those without parameters first.
pub(super) fn routes<'a>(names: impl Iterator<Item = &'a String>) -> Vec<CustomPage> {
    let mut pages: Vec<CustomPage> = names
        .filter_map(|name| {
            let route = name.strip_prefix("pages/")?.strip_suffix(".html")?;
            Some(CustomPage {
                template: name.clone(),
                parts: parse(route),
            })
        })
        .collect();
    pages.sort_by_key(|p| p.parts.iter().any(|x| matches!(x, Part::Param(_))));
    pages
}

/// `topic_{topic}/{slug}` as text and parameters; a `{` without a name and `}` is text.
fn parse(route: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = route;
    while !rest.is_empty() {
        let param = rest.find('{').and_then(|open| {
            let close = open + rest[open..].find('}')?;
            let name = &rest[open + 1..close];
            let word = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            word.then_some((open, close, name))
        });
        match param {
            Some((open, close, name)) => {
                if open > 0 {
                    parts.push(Part::Text(rest[..open].to_string()));
                }
                parts.push(Part::Param(name.to_string()));
                rest = &rest[close + 1..];
            }
            None => {
                parts.push(Part::Text(rest.to_string()));
                rest = "";
            }
        }
    }
    parts
}

/// The first page that answers `path` (without its leading `/`), with its parameters.
pub(super) fn find<'a>(
    pages: &'a [CustomPage],
    path: &str,
) -> Option<(&'a CustomPage, BTreeMap<String, String>)> {
    let path = path.trim_start_matches('/');
    pages.iter().find_map(|page| {
        let mut bound = BTreeMap::new();
        matches(&page.parts, path, &mut bound).then_some((page, bound))
    })
}

/// Whether `parts` match all of `path`; a parameter takes one or more characters other
/// than `/`, as few as let the rest match.
fn matches(parts: &[Part], path: &str, bound: &mut BTreeMap<String, String>) -> bool {
    match parts.split_first() {
        None => path.is_empty(),
        Some((Part::Text(t), rest)) => path
            .strip_prefix(t.as_str())
            .is_some_and(|after| matches(rest, after, bound)),
        Some((Part::Param(name), rest)) => {
            let end = path.find('/').unwrap_or(path.len());
            (1..=end).filter(|i| path.is_char_boundary(*i)).any(|i| {
                let ok = matches(rest, &path[i..], bound);
                if ok {
                    bound.insert(name.clone(), path[..i].to_string());
                }
                ok
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(names: &[&str]) -> Vec<CustomPage> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        routes(names.iter())
    }

    fn answer(pages: &[CustomPage], path: &str) -> Option<(String, Vec<(String, String)>)> {
        find(pages, path).map(|(p, b)| (p.template.clone(), b.into_iter().collect()))
    }

    #[test]
    fn paths_find_their_pages_and_bind_parameters() {
        let p = pages(&[
            "pages/about.html",
            "pages/nested/nest.html",
            "pages/route_{name}.html",
            "pages/topic_{topic}.html",
            "pages/topic_{topic}/{slug}.html",
            "base.html",
        ]);
        assert_eq!(
            answer(&p, "/about"),
            Some(("pages/about.html".into(), vec![]))
        );
        assert_eq!(
            answer(&p, "/nested/nest").map(|a| a.0),
            Some("pages/nested/nest.html".into())
        );
        assert_eq!(answer(&p, "/nested/nest2"), None);
        assert_eq!(
            answer(&p, "/route_Sally"),
            Some((
                "pages/route_{name}.html".into(),
                vec![("name".into(), "Sally".into())]
            ))
        );
        assert_eq!(
            answer(&p, "/topic_python/info"),
            Some((
                "pages/topic_{topic}/{slug}.html".into(),
                vec![
                    ("slug".into(), "info".into()),
                    ("topic".into(), "python".into())
                ]
            ))
        );
        // A parameter is never empty and never spans a slash.
        assert_eq!(answer(&p, "/route_"), None);
        assert_eq!(answer(&p, "/route_a/b"), None);
        assert_eq!(answer(&p, "/base"), None);
    }

    #[test]
    fn a_page_without_parameters_wins() {
        let p = pages(&["pages/{any}.html", "pages/about.html"]);
        assert_eq!(answer(&p, "/about").unwrap().0, "pages/about.html");
        assert_eq!(answer(&p, "/other").unwrap().0, "pages/{any}.html");
    }
}
