//! SQL functions added to every connection (and to the schema copies requests' SQL is checked
//! against): the server's own (`escape_fts`) and those plugins declare.

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::Value;

/// The most bytes of text and BLOBs one call of a plugin's function may be given: arguments
/// cross the plugin boundary as JSON, several times their size, within no time limit.
pub const MAX_ARGUMENT_BYTES: usize = 64 << 10;

/// The longest error message a plugin's function may give a query.
const MAX_MESSAGE_BYTES: usize = 1024;

/// What a function does with its arguments: JSON in, JSON out, or why it failed.
pub type Call = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// An SQL function from outside the server.
#[derive(Clone)]
pub struct ExtraFunction {
    pub name: String,
    /// How many arguments; -1 for any number.
    pub args: i32,
    pub deterministic: bool,
    pub call: Call,
}

/// Registers the server's functions and `extra` on `conn`.
pub fn register(conn: &Connection, extra: &[ExtraFunction]) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "escape_fts",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(escape_fts(&ctx.get::<String>(0)?)),
    )?;
    for f in extra {
        let mut flags = FunctionFlags::SQLITE_UTF8;
        if f.deterministic {
            flags |= FunctionFlags::SQLITE_DETERMINISTIC;
        }
        let (call, name) = (f.call.clone(), f.name.clone());
        conn.create_scalar_function(f.name.as_str(), f.args, flags, move |ctx| {
            let fail = |e: String| rusqlite::Error::UserFunctionError(format!("{name}(): {e}").into());
            let size: usize = (0..ctx.len())
                .map(|i| match ctx.get_raw(i) {
                    ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
                    _ => 8,
                })
                .sum();
            if size > MAX_ARGUMENT_BYTES {
                return Err(fail(format!(
                    "its arguments hold {size} bytes, more than the {} KiB a plugin's function takes",
                    MAX_ARGUMENT_BYTES >> 10
                )));
            }
            let args: Vec<Value> = (0..ctx.len()).map(|i| argument(ctx, i)).collect();
            call(&args)
                .map(|v| super::Cell::from_json(&v))
                .map_err(|e| fail(cut(e)))
        })?;
    }
    Ok(())
}

/// A message cut to [`MAX_MESSAGE_BYTES`] (at a character boundary).
fn cut(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

/// An argument as JSON: NULL `null`, numbers, text, a BLOB as an array of bytes.
fn argument(ctx: &Context<'_>, i: usize) -> Value {
    match ctx.get_raw(i) {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => n.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b.iter().map(|&x| Value::from(x)).collect(),
    }
}

/// Datasette's `escape_fts`: every word becomes a quoted phrase, so FTS syntax in a search
/// box is taken literally.
pub fn escape_fts(query: &str) -> String {
    let mut q = query.to_string();
    if q.matches('"').count() % 2 == 1 {
        q.push('"');
    }
    let mut bits: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    for c in q.chars() {
        if c == '"' {
            current.push(c);
            if in_quote {
                bits.push(std::mem::take(&mut current));
            }
            in_quote = !in_quote;
        } else if c.is_whitespace() && !in_quote {
            if !current.is_empty() {
                bits.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        bits.push(current);
    }
    bits.into_iter()
        .filter(|b| !b.is_empty() && b != "\"\"")
        .map(|b| {
            if b.starts_with('"') {
                b
            } else {
                format!("\"{b}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_fts_quotes_words() {
        assert_eq!(escape_fts("hafen"), "\"hafen\"");
        assert_eq!(escape_fts("a b"), "\"a\" \"b\"");
        assert_eq!(escape_fts("\"a b\" c"), "\"a b\" \"c\"");
        assert_eq!(escape_fts("a OR b*"), "\"a\" \"OR\" \"b*\"");
        assert_eq!(escape_fts("unbalanced \"x"), "\"unbalanced\" \"x\"");
    }
}
