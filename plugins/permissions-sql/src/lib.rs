//! `datasette-permissions-sql`: permission checks decided by SQL queries in metadata.json, as
//! Datasette's plugin of the same name decides them.
//!
//! ```json
//! "plugins": {"datasette-permissions-sql": [
//!     {"action": "view-query", "resource": ["staff", "promote"],
//!      "sql": "select 1 from users where is_staff = 1 and id = :actor_id"}
//! ]}
//! ```
//!
//! The rules are tried in order; the first whose `action` and `resource` (both optional)
//! match the check decides it: any row allows, no row denies (or, with `"fallback": true`,
//! passes on to the next rule), and a single column holding `-1` denies. An anonymous actor
//! has no row (nor has an actor with no fields). The SQL gets `:action`, `:resource_1`,
//! `:resource_2` and `:actor_KEY` for each key of the actor (objects and lists as JSON text),
//! and runs as the plugin on `database` (else the first database): it may read tables
//! visitors cannot, such as a grants table.

use datasette_plugin_api::{export_plugin, Host, Level, PermissionCheck, Plugin, Resource};
use serde_json::{Map, Value};

struct PermissionsSql {
    rules: Vec<Rule>,
}

#[derive(Debug, PartialEq)]
struct Rule {
    action: Option<String>,
    resource: Option<Resource>,
    sql: String,
    database: Option<String>,
    fallback: bool,
}

impl Plugin for PermissionsSql {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        let rules = match config {
            Value::Array(rules) => rules
                .iter()
                .enumerate()
                .map(rule)
                .collect::<Result<_, _>>()?,
            // Enabled with no rules yet.
            Value::Null => vec![],
            Value::Object(map) if map.is_empty() => vec![],
            _ => return Err("the configuration must be a list of rules".into()),
        };
        Ok(PermissionsSql { rules })
    }

    fn permission_allowed(&self, check: &PermissionCheck, host: &Host) -> Option<bool> {
        let mut params = None;
        for rule in self.rules.iter().filter(|r| r.matches(check)) {
            // As Python's `actor or {}`: an actor with no fields is no actor.
            let actor = check
                .actor
                .as_ref()
                .filter(|a| a.as_object().is_some_and(|o| !o.is_empty()));
            let row = match actor {
                Some(actor) => {
                    let params = params.get_or_insert_with(|| parameters(check, actor));
                    let query = host.query(rule.database.as_deref(), &rule.sql, params);
                    match query {
                        Ok(result) => result.rows.into_iter().next(),
                        Err(e) => {
                            // A rule that cannot run must not open anything up.
                            host.log(Level::Error, &format!("rule failed, denying: {e}"));
                            return Some(false);
                        }
                    }
                }
                None => None,
            };
            match row {
                None if rule.fallback => continue,
                None => return Some(false),
                Some(row) => return Some(!is_explicit_deny(&row)),
            }
        }
        None
    }
}

impl Rule {
    fn matches(&self, check: &PermissionCheck) -> bool {
        self.action.as_ref().is_none_or(|a| *a == check.action)
            && self.resource.as_ref().is_none_or(|r| *r == check.resource)
    }
}

/// Rule `i` of the configuration, or what is wrong with it.
fn rule((i, value): (usize, &Value)) -> Result<Rule, String> {
    let bad = |problem: &str| format!("rule {}: {problem}", i + 1);
    let object = value.as_object().ok_or_else(|| bad("must be an object"))?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("`{key}` must be a string"))),
        }
    };
    let resource = match object.get("resource") {
        None | Some(Value::Null) => None,
        Some(Value::String(db)) => Some(Resource::Database(db.clone())),
        Some(Value::Array(parts)) => Some(match parts.as_slice() {
            [Value::String(db), Value::String(child)] => Resource::Child(db.clone(), child.clone()),
            _ => {
                return Err(bad(
                    "`resource` must be \"db\" or [\"db\", \"table or query\"]",
                ))
            }
        }),
        Some(_) => {
            return Err(bad(
                "`resource` must be \"db\" or [\"db\", \"table or query\"]",
            ))
        }
    };
    Ok(Rule {
        action: text("action")?,
        resource,
        sql: text("sql")?.ok_or_else(|| bad("`sql` is required"))?,
        database: text("database")?,
        fallback: match object.get("fallback") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| bad("`fallback` must be true or false"))?,
        },
    })
}

/// The SQL's parameters for a check: `action`, `resource_1`, `resource_2`, `actor_KEY`.
fn parameters(check: &PermissionCheck, actor: &Value) -> Value {
    let mut params = Map::new();
    params.insert("action".into(), check.action.clone().into());
    match &check.resource {
        Resource::Child(db, child) => {
            params.insert("resource_1".into(), db.clone().into());
            params.insert("resource_2".into(), child.clone().into());
        }
        Resource::Database(db) => {
            params.insert("resource_1".into(), db.clone().into());
        }
        Resource::Instance => {}
    }
    for (key, value) in actor.as_object().into_iter().flatten() {
        let value = match value {
            Value::Object(_) | Value::Array(_) => value.to_string().into(),
            other => other.clone(),
        };
        params.insert(format!("actor_{key}"), value);
    }
    Value::Object(params)
}

/// A row of one column holding -1 (as a number or text) denies.
fn is_explicit_deny(row: &[Value]) -> bool {
    match row {
        [Value::Number(n)] => n.as_i64() == Some(-1),
        [Value::String(s)] => s == "-1",
        _ => false,
    }
}

export_plugin!(PermissionsSql: permission_allowed);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(actor: Value, action: &str, resource: Resource) -> PermissionCheck {
        PermissionCheck {
            actor: Some(actor),
            action: action.into(),
            resource,
        }
    }

    #[test]
    fn rules_are_read_with_their_resource() {
        let r = rule((
            0,
            &json!({"action": "view-table", "resource": ["db", "t"], "sql": "x"}),
        ))
        .unwrap();
        assert_eq!(r.resource, Some(Resource::Child("db".into(), "t".into())));
        let r = rule((0, &json!({"resource": "db", "sql": "x", "fallback": true}))).unwrap();
        assert_eq!(r.resource, Some(Resource::Database("db".into())));
        assert!(r.fallback);
        assert_eq!(
            rule((1, &json!({"action": "view-table"}))).unwrap_err(),
            "rule 2: `sql` is required"
        );
        assert!(rule((0, &json!({"sql": "x", "resource": [1]}))).is_err());
        // As in Python, a database is named by a string; `["db"]` would never match.
        assert!(rule((0, &json!({"sql": "x", "resource": ["db"]}))).is_err());
    }

    #[test]
    fn rules_match_on_action_and_resource() {
        let r = rule((
            0,
            &json!({"action": "view-table", "resource": ["db", "t"], "sql": "x"}),
        ))
        .unwrap();
        let table = |t: &str| Resource::Child("db".into(), t.into());
        assert!(r.matches(&check(json!({}), "view-table", table("t"))));
        assert!(!r.matches(&check(json!({}), "view-table", table("other"))));
        assert!(!r.matches(&check(json!({}), "view-query", table("t"))));
    }

    #[test]
    fn the_actor_becomes_parameters() {
        let c = check(
            json!({"id": 7, "name": "ana", "roles": ["a", "b"]}),
            "view-table",
            Resource::Child("db".into(), "t".into()),
        );
        let params = parameters(&c, c.actor.as_ref().unwrap());
        assert_eq!(
            params,
            json!({"action": "view-table", "resource_1": "db", "resource_2": "t",
                   "actor_id": 7, "actor_name": "ana", "actor_roles": "[\"a\",\"b\"]"})
        );
    }

    #[test]
    fn minus_one_denies() {
        assert!(is_explicit_deny(&[json!(-1)]));
        assert!(is_explicit_deny(&[json!("-1")]));
        assert!(!is_explicit_deny(&[json!(-1), json!(2)]));
        assert!(!is_explicit_deny(&[json!(1)]));
    }
}
