//! Datasette 1.0's configuration file (`-c datasette.yaml` or `.json`) and YAML metadata.
//!
//! The configuration holds what metadata.json held besides descriptions (allow and permissions
//! blocks, plugins' configuration, canned queries) and the settings. Both are read into one
//! value: the configuration is laid over the metadata, key by key, so either may hold any
//! block; its `settings` apply before `--setting`, which wins.

use std::path::Path;

use serde_json::Value;

use super::MetadataError;

pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// A YAML or JSON file as a value: YAML for `.yaml` and `.yml`, JSON otherwise.
pub fn read(path: &Path) -> Result<Value, MetadataError> {
    let text = std::fs::read_to_string(path).map_err(|source| MetadataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if is_yaml(path) {
        return serde_yaml_ng::from_str::<Value>(&text).map_err(|e| {
            let at = e.location();
            MetadataError::Parse {
                path: path.to_path_buf(),
                line: at.as_ref().map_or(0, |l| l.line()),
                column: at.as_ref().map_or(0, |l| l.column()),
                message: e.to_string(),
            }
        });
    }
    serde_json::from_str(&text).map_err(|e| MetadataError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Lays `over` onto `base`: objects merge key by key, anything else is replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (k, v) in over {
                merge(base.entry(k).or_insert(Value::Null), v);
            }
        }
        (base, over) => *base = over,
    }
}

/// The `settings` of a configuration, as (name, value) pairs for `Settings::set`.
pub fn settings(config: &Value) -> Vec<(String, String)> {
    config
        .get("settings")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configuration_is_laid_over_metadata_key_by_key() {
        let mut base =
            json!({"title": "T", "databases": {"d": {"tables": {"t": {"hidden": true}}}}});
        merge(
            &mut base,
            json!({"databases": {"d": {"tables": {"t": {"allow": false}}}}, "allow": {"id": "a"}}),
        );
        assert_eq!(
            base,
            json!({"title": "T", "allow": {"id": "a"},
                   "databases": {"d": {"tables": {"t": {"hidden": true, "allow": false}}}}})
        );
    }

    #[test]
    fn settings_are_read_as_text() {
        let c = json!({"settings": {"max_insert_rows": 5, "allow_signed_tokens": false, "base_url": "/x/"}});
        assert_eq!(
            settings(&c),
            vec![
                ("max_insert_rows".to_string(), "5".to_string()),
                ("allow_signed_tokens".to_string(), "false".to_string()),
                ("base_url".to_string(), "/x/".to_string()),
            ]
        );
    }
}
