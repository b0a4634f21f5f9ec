//! Units of measure for columns with `units` in metadata, as Datasette reads them (with pint):
//! a filter value such as `75km` or `1.5 kHz` is converted to the column's unit, and a cell is
//! shown with the SI prefix that suits it (`5000` metres as `5 km`).
//!
//! Units are SI's and common others, with SI prefixes on SI units, multiplied or divided
//! (`km/h`, `m/s^2`, `kW*h`). A value whose unit is unknown, or of another kind than the
//! column's (`5kg` for metres), is an error that says so: it is never compared as text.

/// Exponents of metre, kilogram, second, ampere and byte.
type Dimension = [i32; 5];

/// The longest filter value read as a quantity: longer ones are not (and cost nothing).
const MAX_QUANTITY: usize = 64;

/// The largest exponent a unit may carry (`m^3`, `s^-2`).
const MAX_POWER: i32 = 12;

const LENGTH: Dimension = [1, 0, 0, 0, 0];
const MASS: Dimension = [0, 1, 0, 0, 0];
const TIME: Dimension = [0, 0, 1, 0, 0];
const CURRENT: Dimension = [0, 0, 0, 1, 0];
const DATA: Dimension = [0, 0, 0, 0, 1];
const FREQUENCY: Dimension = [0, 0, -1, 0, 0];
const FORCE: Dimension = [1, 1, -2, 0, 0];
const ENERGY: Dimension = [2, 1, -2, 0, 0];
const POWER: Dimension = [2, 1, -3, 0, 0];
const PRESSURE: Dimension = [-1, 1, -2, 0, 0];
const VOLTAGE: Dimension = [2, 1, -3, -1, 0];
const VOLUME: Dimension = [3, 0, 0, 0, 0];

/// A unit: how many of the base units one of it is, in which dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    factor: f64,
    dimension: Dimension,
}

/// (symbol, other names, factor, dimension, takes SI prefixes).
const UNITS: &[(&str, &[&str], f64, Dimension, bool)] = &[
    ("m", &["meter", "metre"], 1.0, LENGTH, true),
    ("in", &["inch", "inches"], 0.0254, LENGTH, false),
    ("ft", &["foot", "feet"], 0.3048, LENGTH, false),
    ("yd", &["yard"], 0.9144, LENGTH, false),
    ("mi", &["mile"], 1609.344, LENGTH, false),
    ("nmi", &["nautical_mile"], 1852.0, LENGTH, false),
    ("g", &["gram", "gramme"], 0.001, MASS, true),
    ("t", &["tonne", "metric_ton"], 1000.0, MASS, false),
    ("lb", &["pound"], 0.453_592_37, MASS, false),
    ("oz", &["ounce"], 0.028_349_523_125, MASS, false),
    ("s", &["second", "sec"], 1.0, TIME, true),
    ("min", &["minute"], 60.0, TIME, false),
    ("h", &["hour", "hr"], 3600.0, TIME, false),
    ("d", &["day"], 86400.0, TIME, false),
    ("week", &[], 604_800.0, TIME, false),
    ("Hz", &["hertz"], 1.0, FREQUENCY, true),
    (
        "rpm",
        &["revolutions_per_minute"],
        1.0 / 60.0,
        FREQUENCY,
        false,
    ),
    ("A", &["ampere", "amp"], 1.0, CURRENT, true),
    ("B", &["byte"], 1.0, DATA, true),
    ("bit", &[], 0.125, DATA, true),
    ("N", &["newton"], 1.0, FORCE, true),
    ("J", &["joule"], 1.0, ENERGY, true),
    ("Wh", &["watt_hour"], 3600.0, ENERGY, true),
    ("cal", &["calorie"], 4.184, ENERGY, true),
    ("W", &["watt"], 1.0, POWER, true),
    ("hp", &["horsepower"], 745.699_871_582_270_2, POWER, false),
    ("Pa", &["pascal"], 1.0, PRESSURE, true),
    ("bar", &[], 100_000.0, PRESSURE, true),
    ("psi", &[], 6_894.757_293_168_361, PRESSURE, false),
    ("V", &["volt"], 1.0, VOLTAGE, true),
    ("L", &["l", "liter", "litre"], 0.001, VOLUME, true),
];

/// SI prefixes: (symbol, name, power of ten).
const PREFIXES: &[(&str, &str, i32)] = &[
    ("Y", "yotta", 24),
    ("Z", "zetta", 21),
    ("E", "exa", 18),
    ("P", "peta", 15),
    ("T", "tera", 12),
    ("G", "giga", 9),
    ("M", "mega", 6),
    ("k", "kilo", 3),
    ("h", "hecto", 2),
    ("da", "deca", 1),
    ("d", "deci", -1),
    ("c", "centi", -2),
    ("m", "milli", -3),
    ("µ", "micro", -6),
    ("u", "micro", -6),
    ("n", "nano", -9),
    ("p", "pico", -12),
    ("f", "femto", -15),
    ("a", "atto", -18),
];

/// One unit name, with or without a prefix, singular or plural: `ms` is a millisecond, not
/// metres, so a prefix is tried before a plural.
fn named(name: &str) -> Option<Unit> {
    let exact = |n: &str| {
        UNITS
            .iter()
            .find(|(symbol, names, ..)| *symbol == n || names.contains(&n))
    };
    // Only a long name takes a plural `s`: `kilometers`, `hours`.
    let singular = |n: &str| n.strip_suffix('s').filter(|n| n.len() > 2).and_then(exact);
    let unit = |(_, _, factor, dimension, _): &(&str, &[&str], f64, Dimension, bool)| Unit {
        factor: *factor,
        dimension: *dimension,
    };
    if let Some(u) = exact(name) {
        return Some(unit(u));
    }
    for (symbol, long, power) in PREFIXES {
        for rest in [name.strip_prefix(symbol), name.strip_prefix(long)]
            .into_iter()
            .flatten()
        {
            if let Some(u) = exact(rest).or_else(|| singular(rest)).filter(|u| u.4) {
                let mut u = unit(u);
                u.factor *= 10f64.powi(*power);
                return Some(u);
            }
        }
    }
    singular(name).map(unit)
}

/// `km/h`, `m*s^-2`, `m/s**2`, `kW h`: units multiplied and divided, each with an exponent.
pub fn parse_unit(text: &str) -> Result<Unit, String> {
    let mut out = Unit {
        factor: 1.0,
        dimension: [0; 5],
    };
    let text = text.replace("**", "^").replace('·', "*");
    let mut divide = false;
    let mut any = false;
    for (i, part) in text.split('/').enumerate() {
        divide = i > 0 || divide;
        for term in part.split(['*', ' ']).filter(|t| !t.is_empty()) {
            let (name, power) = match term.split_once('^') {
                Some((n, p)) => match p.parse::<i32>() {
                    Ok(p) if p.abs() <= MAX_POWER => (n, p),
                    _ => return Err(unknown(term)),
                },
                None => (term, 1),
            };
            let unit = named(name).ok_or_else(|| unknown(name))?;
            let power = if divide { -power } else { power };
            out.factor *= unit.factor.powi(power);
            for (d, u) in out.dimension.iter_mut().zip(unit.dimension) {
                *d += u * power;
            }
            any = true;
        }
    }
    if !any {
        return Err(unknown(&text));
    }
    Ok(out)
}

fn unknown(name: &str) -> String {
    format!("'{name}' is not a unit known here")
}

/// A filter value for a column in `column_unit`: `None` for a bare number (already in the
/// column's unit), the number in the column's unit for a quantity, or why it cannot be one.
pub fn convert(value: &str, column_unit: &str) -> Result<Option<f64>, String> {
    let value = value.trim();
    if value.parse::<f64>().is_ok() {
        return Ok(None);
    }
    let not_a_quantity = || format!("'{value}' is not a number with a unit, such as 75km");
    if value.len() > MAX_QUANTITY {
        return Err(not_a_quantity());
    }
    let (number, unit) = split_quantity(value).ok_or_else(not_a_quantity)?;
    let given = parse_unit(unit)?;
    let column =
        parse_unit(column_unit).map_err(|e| format!("the column's unit in metadata: {e}"))?;
    if given.dimension != column.dimension {
        return Err(format!("'{value}' cannot be converted to {column_unit}"));
    }
    let converted = number * given.factor / column.factor;
    if !converted.is_finite() {
        return Err(format!("'{value}' is out of range"));
    }
    Ok(Some(converted))
}

/// `75km` → (75, "km"): the longest leading number, then the rest.
fn split_quantity(value: &str) -> Option<(f64, &str)> {
    (1..value.len())
        .rev()
        .filter(|&i| value.is_char_boundary(i))
        .find_map(|i| {
            let number = value[..i].trim().parse::<f64>().ok()?;
            let unit = value[i..].trim();
            (number.is_finite() && !unit.is_empty()).then_some((number, unit))
        })
}

/// A cell of a column in `column_unit` as Datasette shows it: with the SI prefix that puts it
/// between 1 and 1000 (`5000` metres: `5 km`, with a no-break space), rounded to six places.
/// `None` for units that take no prefix or are not one unit (`mi`, `km/h`): the value is shown
/// as it is.
pub fn display(value: f64, column_unit: &str) -> Option<String> {
    let unit = parse_unit(column_unit).ok()?;
    let (base, _, base_factor, ..) = prefixable_base(column_unit.trim())?;
    let in_base = value * unit.factor / base_factor;
    // The largest power of a thousand at or below the value (pint's compact form picks no
    // hecto, deca, deci or centi), from atto up.
    let power = match in_base {
        v if v == 0.0 || !v.is_finite() => 0,
        v => PREFIXES
            .iter()
            .map(|(.., p)| *p)
            .chain([0])
            .filter(|p| p % 3 == 0 && v.abs() >= 10f64.powi(*p))
            .max()
            .unwrap_or(-18),
    };
    let prefix = PREFIXES
        .iter()
        .find(|(symbol, _, p)| *p == power && *symbol != "u")
        .map_or("", |(symbol, ..)| *symbol);
    let shown = in_base / 10f64.powi(power);
    let rounded = (shown * 1e6).round() / 1e6;
    Some(format!("{}\u{a0}{prefix}{base}", number(rounded)))
}

/// The unit `unit` is, or is a prefix of, when it takes prefixes: `km` → `m`, `kWh` → `Wh`.
fn prefixable_base(
    unit: &str,
) -> Option<&'static (&'static str, &'static [&'static str], f64, Dimension, bool)> {
    let prefixable = |s: &str| UNITS.iter().find(|u| u.0 == s && u.4);
    prefixable(unit).or_else(|| {
        PREFIXES
            .iter()
            .find_map(|(p, ..)| unit.strip_prefix(p).and_then(prefixable))
    })
}

/// A number as Python prints a float that holds a whole number (`5`) or not (`2.5`).
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_convert_to_the_columns_unit() {
        assert_eq!(convert("75km", "m"), Ok(Some(75000.0)));
        assert_eq!(convert("1kHz", "Hz"), Ok(Some(1000.0)));
        assert_eq!(convert(" 1.5 kilometers ", "m"), Ok(Some(1500.0)));
        assert_eq!(convert("3 mi", "km"), Ok(Some(4.828032)));
        assert_eq!(convert("36 km/h", "m/s"), Ok(Some(10.0)));
        assert_eq!(
            convert("2 MiB", "B").unwrap_err(),
            "'MiB' is not a unit known here"
        );
        assert_eq!(convert("1e3m", "km"), Ok(Some(1.0)));
        assert_eq!(convert("500 ms", "s"), Ok(Some(0.5)));
        assert_eq!(convert("2 min", "s"), Ok(Some(120.0)));
        assert_eq!(convert("1 kWh", "J"), Ok(Some(3_600_000.0)));
        assert_eq!(convert("1 m^2", "cm**2"), Ok(Some(10000.0)));
    }

    #[test]
    fn bare_numbers_stay_and_bad_values_say_why() {
        assert_eq!(convert("75", "m"), Ok(None));
        assert_eq!(convert("-2.5e3", "m"), Ok(None));
        assert_eq!(
            convert("5kg", "m").unwrap_err(),
            "'5kg' cannot be converted to m"
        );
        assert_eq!(
            convert("5 bananas", "m").unwrap_err(),
            "'bananas' is not a unit known here"
        );
        assert!(convert("km", "m")
            .unwrap_err()
            .contains("not a number with a unit"));
        assert!(convert("5 km", "furlong").unwrap_err().contains("metadata"));
        // Long values and huge exponents are refused, not worked through.
        let long = format!("{}x", "9".repeat(32_000));
        assert!(convert(&long, "m")
            .unwrap_err()
            .contains("not a number with a unit"));
        assert!(convert("1 m/m^-128", "m").is_err());
        assert!(convert("1 m^12*m^12", "m")
            .unwrap_err()
            .contains("cannot be converted"));
        assert_eq!(
            convert("1e300 Ym^2", "m^2").unwrap_err(),
            "'1e300 Ym^2' is out of range"
        );
    }

    #[test]
    fn cells_are_shown_with_the_prefix_that_suits_them() {
        let shown = |v: f64, unit: &str| display(v, unit).map(|s| s.replace('\u{a0}', " "));
        assert_eq!(shown(5000.0, "m").as_deref(), Some("5 km"));
        assert_eq!(shown(1.0, "m").as_deref(), Some("1 m"));
        assert_eq!(shown(100000.0, "m").as_deref(), Some("100 km"));
        assert_eq!(shown(2500.0, "Hz").as_deref(), Some("2.5 kHz"));
        assert_eq!(shown(0.004, "s").as_deref(), Some("4 ms"));
        assert_eq!(shown(1500.0, "g").as_deref(), Some("1.5 kg"));
        assert_eq!(shown(0.0, "m").as_deref(), Some("0 m"));
        assert_eq!(shown(2.0, "km").as_deref(), Some("2 km"));
        assert_eq!(shown(0.5, "kWh").as_deref(), Some("500 Wh"));
        assert_eq!(shown(12.0, "Pa").as_deref(), Some("12 Pa"));
        assert_eq!(display(3.0, "mi"), None);
        assert_eq!(display(3.0, "km/h"), None);
    }
}
