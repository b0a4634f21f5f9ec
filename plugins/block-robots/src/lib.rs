//! `datasette-block-robots`: serves `/robots.txt`, as Datasette's plugin of the same name. By
//! default it asks every robot and crawler to keep off the whole site:
//!
//! ```text
//! User-agent: *
//! Disallow: /
//! ```
//!
//! Its block of metadata.json may say instead (as the original's README):
//!
//! - `"allow_only_index": true`: a `Disallow` line for each database (under the site's
//!   `base_url`, `/data/fixtures`), so crawlers may index the index page only;
//! - `"disallow": ["/mydatabase/mytable"]` (or one path as a string): a `Disallow` line for
//!   each path, as written (with `allow_only_index`, these come first);
//! - `"literal": "User-agent: *\nDisallow: /"`: the whole file, as written. It may not be given
//!   with `disallow`.
//!
//! ```json
//! {"plugins": {"datasette-block-robots": {"allow_only_index": true}}}
//! ```

use datasette_plugin_api::urlencoded::tilde_encode;
use datasette_plugin_api::{export_plugin, Host, Level, Plugin, Request, Response, Route};
use serde::Deserialize;
use serde_json::Value;

/// One path or a list of them, as the original accepts for `disallow`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Paths {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    allow_only_index: bool,
    disallow: Option<Paths>,
    literal: Option<String>,
}

/// What `/robots.txt` says, read once from the plugin's block of metadata.json.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The whole file, as written.
    pub literal: Option<String>,
    /// Paths to disallow, as written.
    pub disallow: Vec<String>,
    /// Disallow each database's path too.
    pub allow_only_index: bool,
}

impl Config {
    /// The config from the plugin's block (`null`: none), refusing what the original refuses
    /// (`disallow` with `literal`) and what it does not know.
    pub fn from_block(block: Value) -> Result<Config, String> {
        let raw: RawConfig = match block {
            Value::Null => RawConfig::default(),
            block => serde_json::from_value(block).map_err(|e| {
                format!(
                    "{e}; expected e.g. {{\"allow_only_index\": true}}, \
                     {{\"disallow\": [\"/mydatabase/mytable\"]}} or \
                     {{\"literal\": \"User-agent: *\\nDisallow: /\"}}"
                )
            })?,
        };
        // As Python reads them: an empty string or list counts as not given.
        let disallow = match raw.disallow {
            None => vec![],
            Some(Paths::One(path)) if path.is_empty() => vec![],
            Some(Paths::One(path)) => vec![path],
            Some(Paths::Many(paths)) => paths,
        };
        let literal = raw.literal.filter(|l| !l.is_empty());
        if literal.is_some() && !disallow.is_empty() {
            return Err(
                "datasette-block-robots cannot be configured with both disallow: and literal:"
                    .into(),
            );
        }
        Ok(Config {
            literal,
            disallow,
            allow_only_index: raw.allow_only_index,
        })
    }
}

/// The text of `/robots.txt`. `databases` are the databases' names (asked for only with
/// `allow_only_index`), and `url` turns a site path into a link under the site's `base_url`
/// (`Request::url`).
pub fn robots_txt(config: &Config, databases: &[String], url: impl Fn(&str) -> String) -> String {
    if let Some(literal) = &config.literal {
        return literal.clone();
    }
    let mut disallow = config.disallow.clone();
    if config.allow_only_index {
        disallow.extend(
            databases
                .iter()
                .filter(|name| *name != "_internal")
                .map(|name| url(&format!("/{}", tilde_encode(name)))),
        );
    }
    if disallow.is_empty() {
        disallow.push("/".into());
    }
    let mut lines = vec!["User-agent: *".to_string()];
    lines.extend(disallow.iter().map(|path| format!("Disallow: {path}")));
    lines.join("\n")
}

/// The databases an anonymous visitor may see, by name: only those need keeping from
/// crawlers, and the others' names are not for visitors to read.
/// The databases an anonymous visitor may see: a crawler is one, and a private database's
/// name stays out of robots.txt.
fn database_names(host: &Host) -> Result<Vec<String>, String> {
    host.databases_as(None)
        .map(|dbs| dbs.into_iter().map(|db| db.name).collect())
}

pub struct BlockRobots {
    config: Config,
}

impl Plugin for BlockRobots {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        Ok(BlockRobots {
            config: Config::from_block(config)?,
        })
    }

    fn routes(&self) -> Vec<Route> {
        vec!["/robots.txt".into()]
    }

    fn handle(&self, request: Request, host: &Host) -> Response {
        let databases = if self.config.allow_only_index && self.config.literal.is_none() {
            match database_names(host) {
                Ok(names) => names,
                Err(e) => {
                    host.log(Level::Error, &format!("the databases' names: {e}"));
                    return Response::text(500, "robots.txt is not available");
                }
            }
        } else {
            vec![]
        };
        Response::text(
            200,
            robots_txt(&self.config, &databases, |path| request.url(path)),
        )
    }
}

export_plugin!(BlockRobots: routes, handle);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(block: Value) -> Config {
        Config::from_block(block).expect("valid")
    }

    /// `Request::url` for a site under `base_url`.
    fn under(base_url: &str) -> impl Fn(&str) -> String {
        let request = Request {
            base_url: base_url.into(),
            ..Default::default()
        };
        move |path| request.url(path)
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn by_default_the_whole_site_is_disallowed() {
        for block in [
            Value::Null,
            json!({}),
            json!({"disallow": []}),
            json!({"literal": ""}),
        ] {
            assert_eq!(
                robots_txt(&config(block), &[], under("/")),
                "User-agent: *\nDisallow: /"
            );
        }
    }

    #[test]
    fn disallow_takes_a_path_or_a_list_of_paths_as_written() {
        assert_eq!(
            robots_txt(&config(json!({"disallow": "/foo"})), &[], under("/")),
            "User-agent: *\nDisallow: /foo"
        );
        assert_eq!(
            robots_txt(
                &config(json!({"disallow": ["/foo", "/bar"]})),
                &[],
                under("/data/")
            ),
            "User-agent: *\nDisallow: /foo\nDisallow: /bar"
        );
    }

    #[test]
    fn literal_is_the_whole_file() {
        let literal =
            "User-agent: *\nDisallow: /\nUser-agent: Bingbot\nUser-agent: Googlebot\nDisallow:";
        let config = config(json!({"literal": literal, "allow_only_index": true}));
        assert_eq!(robots_txt(&config, &names(&["blog"]), under("/")), literal);
    }

    #[test]
    fn allow_only_index_disallows_each_database_under_base_url() {
        let only_index = config(json!({"allow_only_index": true}));
        let dbs = names(&["blog", "_internal", "my db", "café/x"]);
        assert_eq!(
            robots_txt(&only_index, &dbs, under("/")),
            "User-agent: *\nDisallow: /blog\nDisallow: /my+db\nDisallow: /caf~C3~A9~2Fx"
        );
        assert_eq!(
            robots_txt(&only_index, &dbs[..1], under("/data/")),
            "User-agent: *\nDisallow: /data/blog"
        );
        let both = config(json!({"allow_only_index": true, "disallow": ["/-/"]}));
        assert_eq!(
            robots_txt(&both, &dbs[..1], under("/data/")),
            "User-agent: *\nDisallow: /-/\nDisallow: /data/blog"
        );
        assert_eq!(
            robots_txt(&only_index, &[], under("/")),
            "User-agent: *\nDisallow: /"
        );
    }

    #[test]
    fn start_up_refuses_disallow_with_literal_and_unknown_keys() {
        let both = Config::from_block(json!({"literal": "User-agent: *", "disallow": "/"}));
        assert_eq!(
            both,
            Err(
                "datasette-block-robots cannot be configured with both disallow: and literal:"
                    .into()
            )
        );
        let typo = Config::from_block(json!({"dissallow": ["/x"]})).unwrap_err();
        assert!(typo.contains("dissallow"), "{typo}");
        assert!(Config::from_block(json!({"disallow": [1]})).is_err());
        assert!(Config::from_block(json!({"allow_only_index": "yes"})).is_err());
    }
}
