//! Datasette's magic parameters, for canned queries: `:_actor_KEY`, `:_header_NAME`,
//! `:_cookie_NAME`, `:_now_epoch`, `:_now_date_utc`, `:_now_datetime_utc`,
//! `:_random_chars_N`. Their values come from the request and the clock, never from the query
//! string: `?_actor_id=root` does not make anyone root (where Datasette falls back to it
//! when there is no actor).

use std::collections::HashMap;

use super::PageRequest;
use crate::db::Cell;

/// A parameter's value: the query string's, or empty. In SQL from the request, names starting
/// with `_` are never bound (as Datasette: they are canned queries' magic parameters, and the
/// page's own options would otherwise flow into the SQL), so SQLite's missing-value error.
pub fn parameter_value(
    given: &HashMap<String, Cell>,
    name: &str,
    from_request: bool,
) -> Option<Cell> {
    if from_request && name.starts_with('_') {
        return None;
    }
    Some(
        given
            .get(name)
            .cloned()
            .unwrap_or_else(|| Cell::Text(String::new())),
    )
}

/// The longest `_random_chars_N`.
const MAX_RANDOM_CHARS: usize = 1024;

/// Every magic parameter `sql` names, with its value for this request (NULL where there is
/// none: no actor, no such cookie).
pub fn parameters(sql: &str, ctx: &PageRequest) -> HashMap<String, Cell> {
    named(sql)
        .filter_map(|name| Some((name.to_string(), value(name, ctx)?)))
        .collect()
}

/// The `_prefix_rest` parameter names in `sql` (`:_x`, `@_x`, `$_x`).
fn named(sql: &str) -> impl Iterator<Item = &str> {
    let bytes = sql.as_bytes();
    (0..bytes.len()).filter_map(move |i| {
        if !matches!(bytes[i], b':' | b'@' | b'$') || bytes.get(i + 1) != Some(&b'_') {
            return None;
        }
        let end = (i + 1..bytes.len())
            .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
            .unwrap_or(bytes.len());
        Some(&sql[i + 1..end])
    })
}

/// The value of one magic parameter, `None` for a name that is not one.
fn value(name: &str, ctx: &PageRequest) -> Option<Cell> {
    let (prefix, key) = name.strip_prefix('_')?.split_once('_')?;
    let request = ctx.request.as_ref();
    Some(match prefix {
        "actor" => ctx
            .actor
            .as_ref()
            .and_then(|a| a.get(key))
            .map_or(Cell::Null, Cell::from_json),
        "header" => {
            let header = key.replace('_', "-");
            let value = request.and_then(|r| r.headers().get(header.as_str()));
            Cell::Text(
                value
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
            )
        }
        "cookie" => request
            .and_then(|r| r.cookie(key))
            .map_or(Cell::Null, |c| Cell::Text(c.value().to_string())),
        "now" => now(key)?,
        "random" => {
            let n: usize = key.strip_prefix("chars_")?.parse().ok()?;
            let chars: String = (0..n.min(MAX_RANDOM_CHARS).div_ceil(2))
                .map(|_| format!("{:02x}", rand::random::<u8>()))
                .collect();
            Cell::Text(chars[..n.min(MAX_RANDOM_CHARS)].to_string())
        }
        _ => return None,
    })
}

/// `epoch`, `date_utc` (2026-11-27) or `datetime_utc` (2026-11-27T18:05:09Z).
fn now(key: &str) -> Option<Cell> {
    let now = std::time::SystemTime::now();
    Some(match key {
        "epoch" => Cell::Int(epoch_seconds(now)),
        "date_utc" => Cell::Text(datetime_utc(now)[..10].to_string()),
        "datetime_utc" => Cell::Text(datetime_utc(now)),
        _ => return None,
    })
}

fn epoch_seconds(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `t` as 2026-11-27T18:05:09Z.
pub fn datetime_utc(t: std::time::SystemTime) -> String {
    let secs = epoch_seconds(t);
    let (y, m, d) = civil_date(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_names_are_found_in_sql() {
        let names: Vec<&str> =
            named("select :_actor_id, @_now_epoch, $_cookie_a, :plain, ':_x' from t").collect();
        assert_eq!(names, ["_actor_id", "_now_epoch", "_cookie_a", "_x"]);
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(20_419), (2025, 11, 27));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
    }
}
