//! `{"$env": "NAME"}` and `{"$file": "PATH"}` in plugin configuration, as Datasette resolves
//! them: replaced by the variable's value or the file's contents before a plugin sees its
//! config. `/-/metadata.json` shows the file as written, never the resolved values.

use serde_json::Value;

/// The config with every `$env` and `$file` reference replaced.
pub fn resolve_secrets(value: &Value) -> Result<Value, String> {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$env") => {
            let name = map["$env"].as_str().ok_or("$env must name a variable")?;
            std::env::var(name)
                .map(Value::String)
                .map_err(|_| format!("the environment variable {name} is not set"))
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$file") => {
            let path = map["$file"].as_str().ok_or("$file must be a path")?;
            std::fs::read_to_string(path)
                .map(|s| Value::String(s.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|e| format!("cannot read {path}: {e}"))
        }
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), resolve_secrets(v)?)))
            .collect::<Result<serde_json::Map<_, _>, String>>()
            .map(Value::Object),
        Value::Array(items) => items
            .iter()
            .map(resolve_secrets)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_env_and_file_anywhere_in_the_config() {
        std::env::set_var("DATASETTE_RS_TEST_SECRET", "s3cr3t");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "from-file\n").unwrap();
        let config = json!({
            "a": {"$env": "DATASETTE_RS_TEST_SECRET"},
            "list": [{"token": {"$file": file.to_str().unwrap()}}],
            "plain": 1
        });
        assert_eq!(
            resolve_secrets(&config).unwrap(),
            json!({"a": "s3cr3t", "list": [{"token": "from-file"}], "plain": 1})
        );
        let e = resolve_secrets(&json!({"$env": "DATASETTE_RS_SURELY_UNSET"})).unwrap_err();
        assert!(e.contains("DATASETTE_RS_SURELY_UNSET"), "{e}");
        assert!(resolve_secrets(&json!({"$file": "/no/such/file"})).is_err());
    }
}
