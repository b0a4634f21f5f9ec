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
//!
//! When the server asks about many resources at once (every table of a database, for the
//! database page or the SQL a visitor runs), each rule runs once for all of them: its SQL is
//! made a correlated subquery over a JSON list of the checks, its `:action`, `:resource_1` and
//! `:resource_2` read from the list. The answers are the ones the rule gives check by check.
//!
//! The votes follow from the rules and what their SQL reads, so the plugin says so
//! (`votes_follow_queries`): the host reuses them until a database they read changes.

use std::sync::OnceLock;

use datasette_plugin_api::{export_plugin, Host, Level, PermissionCheck, Plugin, Resource};
use serde_json::{json, Map, Value};

struct PermissionsSql {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    action: Option<String>,
    resource: Option<Resource>,
    sql: String,
    database: Option<String>,
    fallback: bool,
    /// Whether the SQL gives one column (which may deny with -1): learnt at the first batch.
    one_column: OnceLock<bool>,
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
        let resources = std::slice::from_ref(&check.resource);
        self.decide(check.actor.as_ref(), &check.action, resources, host)[0]
    }

    /// The votes follow from the rules and what their SQL reads: the host reuses them until
    /// a database they read changes.
    fn votes_follow_queries(&self) -> bool {
        true
    }

    fn permission_allowed_many(
        &self,
        actor: Option<&Value>,
        action: &str,
        resources: &[Resource],
        host: &Host,
    ) -> Vec<Option<bool>> {
        self.decide(actor, action, resources, host)
    }
}

/// What a rule made of a check.
#[derive(Clone)]
enum Outcome {
    Allow,
    Deny,
    /// No row, and the rule falls back to the next.
    Next,
}

impl PermissionsSql {
    /// The votes on `action` over `resources`: each rule in turn decides the checks it matches
    /// that no earlier rule decided, with one query for them all.
    fn decide(
        &self,
        actor: Option<&Value>,
        action: &str,
        resources: &[Resource],
        host: &Host,
    ) -> Vec<Option<bool>> {
        // As Python's `actor or {}`: an actor with no fields is no actor.
        let actor = actor.filter(|a| a.as_object().is_some_and(|o| !o.is_empty()));
        let mut votes: Vec<Option<bool>> = vec![None; resources.len()];
        let mut open: Vec<bool> = vec![true; resources.len()];
        for rule in &self.rules {
            let matched: Vec<usize> = (0..resources.len())
                .filter(|&i| open[i] && rule.matches(action, &resources[i]))
                .collect();
            if matched.is_empty() {
                continue;
            }
            let outcomes = match actor {
                // An anonymous actor has no row.
                None => vec![Outcome::Next; matched.len()],
                Some(actor) => {
                    let asked: Vec<&Resource> = matched.iter().map(|&i| &resources[i]).collect();
                    let outcomes = match asked.as_slice() {
                        [one] => rule.run_one(actor, action, one, host).map(|o| vec![o]),
                        many => rule.run(actor, action, many, host),
                    };
                    match outcomes {
                        Ok(outcomes) => outcomes,
                        Err(e) => {
                            // A rule that cannot run must not open anything up.
                            host.log(Level::Error, &format!("rule failed, denying: {e}"));
                            vec![Outcome::Deny; matched.len()]
                        }
                    }
                }
            };
            for (i, outcome) in matched.into_iter().zip(outcomes) {
                match outcome {
                    Outcome::Next if rule.fallback => continue,
                    Outcome::Allow => votes[i] = Some(true),
                    Outcome::Deny | Outcome::Next => votes[i] = Some(false),
                }
                open[i] = false;
            }
        }
        votes
    }
}

impl Rule {
    fn matches(&self, action: &str, resource: &Resource) -> bool {
        self.action.as_ref().is_none_or(|a| a == action)
            && self.resource.as_ref().is_none_or(|r| r == resource)
    }

    /// The rule's outcome for one check: its SQL as written, with the check's parameters.
    fn run_one(
        &self,
        actor: &Value,
        action: &str,
        resource: &Resource,
        host: &Host,
    ) -> Result<Outcome, String> {
        let mut params = actor_parameters(actor);
        params.insert("action".into(), action.into());
        if let Resource::Database(db) | Resource::Child(db, _) = resource {
            params.insert("resource_1".into(), db.clone().into());
        }
        if let Resource::Child(_, child) = resource {
            params.insert("resource_2".into(), child.clone().into());
        }
        let result = host.query(self.database.as_deref(), &self.sql, &Value::Object(params))?;
        Ok(match result.rows.first() {
            None => Outcome::Next,
            Some(row) if is_explicit_deny(row) => Outcome::Deny,
            Some(_) => Outcome::Allow,
        })
    }

    /// The rule's outcome for each of `resources`, from one query: the rule's SQL correlated
    /// with each row of a JSON list of the checks, run once a check as one subquery.
    fn run(
        &self,
        actor: &Value,
        action: &str,
        resources: &[&Resource],
        host: &Host,
    ) -> Result<Vec<Outcome>, String> {
        let db = self.database.as_deref();
        let mut params = actor_parameters(actor);
        let one_column = match self.one_column.get() {
            Some(one) => *one,
            None => {
                // How many columns the rule gives, learnt once: a rule of one column may deny.
                let sql = format!(
                    "select * from ({}) limit 0",
                    self.sql.trim().trim_end_matches(';')
                );
                let result = host.query(db, &sql, &Value::Object(params.clone()))?;
                *self.one_column.get_or_init(|| result.columns.len() == 1)
            }
        };
        let checks: Vec<Value> = resources
            .iter()
            .map(|r| {
                let (r1, r2) = match r {
                    Resource::Instance => (None, None),
                    Resource::Database(db) => (Some(db), None),
                    Resource::Child(db, child) => (Some(db), Some(child)),
                };
                json!([action, r1, r2])
            })
            .collect();
        params.insert(CHECKS.into(), Value::from(Value::Array(checks).to_string()));
        let correlated = correlate(&self.sql);
        // Per check: null for no row, 0 for a row that denies, 1 for one that allows.
        // The rule's one column is named `v` by a union with an empty select of that name.
        let outcome = match one_column {
            true => format!(
                "(select case when (typeof(v) = 'integer' and v = -1) \
                 or (typeof(v) = 'text' and v = '-1') then 0 else 1 end \
                 from (select null as v where 0 union all select * from {correlated}))"
            ),
            false => format!("(select 1 where exists{correlated})"),
        };
        let sql =
            format!("select {outcome} from json_each(:{CHECKS}) as {ALIAS} order by {ALIAS}.key");
        let result = host.query(db, &sql, &Value::Object(params))?;
        if result.rows.len() != resources.len() {
            return Err(format!(
                "{} answers for {} checks",
                result.rows.len(),
                resources.len()
            ));
        }
        Ok(result
            .rows
            .iter()
            .map(|row| match row.first().and_then(Value::as_i64) {
                Some(0) => Outcome::Deny,
                Some(_) => Outcome::Allow,
                None => Outcome::Next,
            })
            .collect())
    }
}

/// The parameter holding the JSON list of checks, and the name of its rows in the query.
const CHECKS: &str = "datasette_permission_checks";
const ALIAS: &str = "datasette_permission_check";

/// The rule's SQL as a parenthesised subquery whose `:action`, `:resource_1` and
/// `:resource_2` (or `@…`, `$…`) read the current check instead. Strings, quoted names and
/// comments are copied as they are.
fn correlate(sql: &str) -> String {
    let sql = sql.trim().trim_end_matches(';');
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let close = match c {
            '\'' | '"' | '`' => Some(c),
            '[' => Some(']'),
            _ => None,
        };
        if let Some(close) = close {
            out.push(c);
            for (_, d) in chars.by_ref() {
                out.push(d);
                if d == close {
                    break;
                }
            }
            continue;
        }
        let rest = &sql[i..];
        if rest.starts_with("--") || rest.starts_with("/*") {
            let end = if c == '-' {
                rest.find('\n').map_or(rest.len(), |n| n + 1)
            } else {
                rest[2..].find("*/").map_or(rest.len(), |n| n + 4)
            };
            out.push_str(&rest[..end]);
            while chars.peek().is_some_and(|(j, _)| *j < i + end) {
                chars.next();
            }
            continue;
        }
        if matches!(c, ':' | '@' | '$') {
            let name: String = rest[1..]
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                .collect();
            let index = match name.as_str() {
                "action" => Some(0),
                "resource_1" => Some(1),
                "resource_2" => Some(2),
                _ => None,
            };
            if let Some(index) = index {
                out.push_str(&format!("json_extract({ALIAS}.value, '$[{index}]')"));
                for _ in 0..name.len() {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    format!("({out})")
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
        one_column: OnceLock::new(),
        fallback: match object.get("fallback") {
            None => false,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| bad("`fallback` must be true or false"))?,
        },
    })
}

/// The SQL's parameters from the actor: `actor_KEY` for each of its keys.
fn actor_parameters(actor: &Value) -> Map<String, Value> {
    let mut params = Map::new();
    for (key, value) in actor.as_object().into_iter().flatten() {
        let value = match value {
            Value::Object(_) | Value::Array(_) => value.to_string().into(),
            other => other.clone(),
        };
        params.insert(format!("actor_{key}"), value);
    }
    params
}

/// A row of one column holding -1 (as a number or text) denies.
fn is_explicit_deny(row: &[Value]) -> bool {
    match row {
        [Value::Number(n)] => n.as_i64() == Some(-1),
        [Value::String(s)] => s == "-1",
        _ => false,
    }
}

export_plugin!(
    PermissionsSql: permission_allowed,
    permission_allowed_many,
    votes_follow_queries
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        assert!(r.matches("view-table", &table("t")));
        assert!(!r.matches("view-table", &table("other")));
        assert!(!r.matches("view-query", &table("t")));
    }

    #[test]
    fn the_actor_becomes_parameters() {
        let params = actor_parameters(&json!({"id": 7, "name": "ana", "roles": ["a", "b"]}));
        assert_eq!(
            Value::Object(params),
            json!({"actor_id": 7, "actor_name": "ana", "actor_roles": "[\"a\",\"b\"]"})
        );
    }

    #[test]
    fn the_checks_parameters_read_the_current_check() {
        let at = |i: usize| format!("json_extract({ALIAS}.value, '$[{i}]')");
        assert_eq!(
            correlate("select 1 from g where t = :resource_2 and a = @action and d = $resource_1;"),
            format!(
                "(select 1 from g where t = {} and a = {} and d = {})",
                at(2),
                at(0),
                at(1)
            )
        );
        // Not in strings, quoted names or comments, nor a longer name.
        let untouched = "select ':resource_2', \"x:action\", [:action] -- :action\n/* :action */ :actions, :actor_id";
        assert_eq!(correlate(untouched), format!("({untouched})"));
    }

    #[test]
    fn minus_one_denies() {
        assert!(is_explicit_deny(&[json!(-1)]));
        assert!(is_explicit_deny(&[json!("-1")]));
        assert!(!is_explicit_deny(&[json!(-1), json!(2)]));
        assert!(!is_explicit_deny(&[json!(1)]));
    }
}
