//! `datasette-haversine`: the SQL function `haversine(lat1, lon1, lat2, lon2[, unit])`, the
//! great-circle distance between two points given in degrees, as Datasette's plugin of the
//! same name has it. The unit is `km` unless given: `km`, `m`, `mi`, `nmi`, `ft` or `in`.

use datasette_plugin_api::{datasette_plugin, FunctionCall, Host, Plugin, SqlFunction};
use serde_json::Value;

/// The mean Earth radius, in kilometres, as the `haversine` Python package uses it.
const EARTH_RADIUS_KM: f64 = 6371.0088;

pub struct Haversine;

/// Kilometres in one of `unit`.
fn km_per(unit: &str) -> Option<f64> {
    Some(match unit {
        "km" => 1.0,
        "m" => 0.001,
        "mi" => 1.609344,
        "nmi" => 1.852,
        "ft" => 0.0003048,
        "in" => 0.0000254,
        _ => return None,
    })
}

/// The distance in kilometres between two points in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

#[datasette_plugin]
impl Plugin for Haversine {
    fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
        Ok(Haversine)
    }

    fn prepare_connection(&self) -> Vec<SqlFunction> {
        [4, 5]
            .map(|args| SqlFunction {
                name: "haversine".into(),
                args,
                deterministic: true,
            })
            .into()
    }

    fn call_function(&self, call: &FunctionCall, _host: &Host) -> Result<Value, String> {
        let args = &call.args;
        if args[..4].iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let mut degrees = [0.0; 4];
        for (i, v) in args[..4].iter().enumerate() {
            degrees[i] = match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("argument {} must be a number, not {v}", i + 1))?;
        }
        let unit = args.get(4).and_then(Value::as_str).unwrap_or("km");
        let per = km_per(unit)
            .ok_or_else(|| format!("unknown unit {unit:?}: use km, m, mi, nmi, ft or in"))?;
        let [lat1, lon1, lat2, lon2] = degrees;
        Ok(Value::from(haversine_km(lat1, lon1, lat2, lon2) / per))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasette_plugin_api::sdk::inline_host;
    use serde_json::json;

    fn call(args: Value) -> Result<Value, String> {
        let call = FunctionCall {
            name: "haversine".into(),
            args: args.as_array().unwrap().clone(),
        };
        Haversine.call_function(&call, &inline_host())
    }

    #[test]
    fn distances_in_each_unit() {
        let berlin_paris = call(json!([52.5200, 13.4050, 48.8566, 2.3522])).unwrap();
        assert!(
            (berlin_paris.as_f64().unwrap() - 877.46).abs() < 0.1,
            "{berlin_paris}"
        );
        let mi = call(json!([52.52, 13.405, 48.8566, 2.3522, "mi"])).unwrap();
        assert!((mi.as_f64().unwrap() - 545.2).abs() < 0.1, "{mi}");
        assert_eq!(call(json!([1, 2, 1, 2])).unwrap(), json!(0.0));
        assert_eq!(call(json!([null, 2, 1, 2])).unwrap(), Value::Null);
        assert!(call(json!([1, 2, 3, 4, "parsec"]))
            .unwrap_err()
            .contains("unknown unit"));
        assert!(call(json!([1, "x", 3, 4]))
            .unwrap_err()
            .contains("argument 2"));
    }
}
