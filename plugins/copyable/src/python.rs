//! The few pieces of Python that Datasette's plugin leans on: what `int()` and `float()`
//! accept, `str()`/`repr()` of a float and of bytes, `format(x, "g")`, and `str.strip()` and
//! `str.splitlines()`.

/// A cell as Python would hold it, from SQLite.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    None,
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
}

impl Cell {
    /// Python's `str(cell)`.
    pub fn to_str(&self) -> String {
        match self {
            Cell::None => "None".into(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => repr_float(*f),
            Cell::Str(s) => s.clone(),
            Cell::Bytes(b) => repr_bytes(b),
        }
    }
}

/// Python's `str.isspace()` for one character.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.rstrip()`.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's `str.splitlines()`: on `\n`, `\r`, `\r\n`, `\v`, `\f`, `\x1c`–`\x1e`, `\x85`,
/// U+2028 and U+2029, with no empty piece after a final break.
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut lines = vec![];
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let breaks = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if breaks {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// `re.split("[\r\n]", s)`.
pub fn split_cr_lf(s: &str) -> impl Iterator<Item = &str> {
    s.split(['\r', '\n'])
}

/// Digits with single underscores between them, as Python's `int()` and `float()` take them:
/// the digits without underscores, or `None`.
fn digits(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.chars().all(|c| c.is_ascii_digit() || c == '_');
    ok.then(|| s.replace('_', ""))
}

/// Whether Python's `int(s)` accepts `s` (base 10, ASCII digits).
pub fn int_ok(s: &str) -> bool {
    let s = strip(s);
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    digits(s).is_some()
}

/// Python's `float(s)`, or `None` where it raises (ASCII digits).
pub fn parse_float(s: &str) -> Option<f64> {
    let s = strip(s);
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    let value = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ => {
            let (mantissa, exponent) = match lower.split_once('e') {
                Some((m, e)) => {
                    let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                    digits(e_digits)?;
                    (m, Some(e))
                }
                None => (lower.as_str(), None),
            };
            let (whole, fraction) = match mantissa.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (mantissa, None),
            };
            let whole = if whole.is_empty() {
                String::new()
            } else {
                digits(whole)?
            };
            let fraction = match fraction {
                Some("") | None => String::new(),
                Some(f) => digits(f)?,
            };
            if whole.is_empty() && fraction.is_empty() {
                return None;
            }
            let exponent = exponent.map(|e| e.replace('_', "")).unwrap_or_default();
            format!(
                "{whole}.{fraction}e{}",
                if exponent.is_empty() { "0" } else { &exponent }
            )
            .parse::<f64>()
            .ok()?
        }
    };
    Some(if negative { -value } else { value })
}

/// `repr(x)` of a Python float: the shortest digits that read back as `x`, in exponent form
/// below 1e-4 and from 1e16.
pub fn repr_float(x: f64) -> String {
    if let Some(special) = non_finite(x) {
        return special;
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let (negative, digits, exponent) = decompose(&format!("{x:e}"));
    let sign = if negative { "-" } else { "" };
    if !(-4..16).contains(&exponent) {
        return format!("{sign}{}", exponent_form(&digits, exponent));
    }
    let fixed = fixed_form(&digits, exponent);
    if fixed.contains('.') {
        format!("{sign}{fixed}")
    } else {
        format!("{sign}{fixed}.0")
    }
}

/// `format(x, "g")`: six significant digits, in exponent form below 1e-4 and from 1e6,
/// without trailing zeros.
pub fn format_g(x: f64) -> String {
    if let Some(special) = non_finite(x) {
        return special;
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let (negative, digits, exponent) = decompose(&format!("{x:.5e}"));
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let sign = if negative { "-" } else { "" };
    if (-4..6).contains(&exponent) {
        format!("{sign}{}", fixed_form(digits, exponent))
    } else {
        format!("{sign}{}", exponent_form(digits, exponent))
    }
}

fn non_finite(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("nan".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        None
    }
}

/// Rust's `{:e}` (`-1.2345e6`) as (negative, significant digits, exponent).
fn decompose(e_form: &str) -> (bool, String, i32) {
    let (negative, rest) = match e_form.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, e_form),
    };
    let (mantissa, exponent) = rest.split_once('e').unwrap_or((rest, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (negative, digits, exponent.parse().unwrap_or(0))
}

/// `d.ddde+XX`, the exponent with a sign and at least two digits.
fn exponent_form(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let mantissa = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}.{rest}")
    };
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// The digits `d.ddd × 10^exponent` written out, without a trailing `.`.
fn fixed_form(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat((-exponent - 1) as usize);
        return format!("0.{zeros}{digits}");
    }
    let point = exponent as usize + 1;
    if digits.len() <= point {
        format!("{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{}.{}", &digits[..point], &digits[point..])
    }
}

/// `repr(b)` of Python bytes: `b'…'` (or `b"…"` when it holds `'` and no `"`).
pub fn repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &byte in b {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if byte as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push(quote);
    out
}

/// The text of bytes that are all ASCII (as `str(b, "ascii")`), else `None`.
pub fn ascii(b: &[u8]) -> Option<String> {
    b.is_ascii()
        .then(|| String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_python_writes_them() {
        // Each pair from Python 3.11: repr(x), format(x, "g").
        let cases: &[(f64, &str, &str)] = &[
            (51.2, "51.2", "51.2"),
            (5.0, "5.0", "5"),
            (-0.0, "-0.0", "-0"),
            (0.1, "0.1", "0.1"),
            (1234567.0, "1234567.0", "1.23457e+06"),
            (1234565.0, "1234565.0", "1.23456e+06"),
            (123456.0, "123456.0", "123456"),
            (100000.0, "100000.0", "100000"),
            (1e-5, "1e-05", "1e-05"),
            (0.0001, "0.0001", "0.0001"),
            (1e16, "1e+16", "1e+16"),
            (1e15, "1000000000000000.0", "1e+15"),
            (1.5e300, "1.5e+300", "1.5e+300"),
            (-2.25, "-2.25", "-2.25"),
            (123456789.123, "123456789.123", "1.23457e+08"),
            (0.000123456789, "0.000123456789", "0.000123457"),
            (2.5e-7, "2.5e-07", "2.5e-07"),
            (999999.5, "999999.5", "1e+06"),
            (f64::INFINITY, "inf", "inf"),
        ];
        for (x, repr, g) in cases {
            assert_eq!(repr_float(*x), *repr, "repr({x})");
            assert_eq!(format_g(*x), *g, "format({x}, 'g')");
        }
    }

    #[test]
    fn int_and_float_accept_what_python_accepts() {
        for s in ["12", " 12 ", "+3", "-0", "1_000", "007", "\t5\n"] {
            assert!(int_ok(s), "{s:?}");
        }
        for s in [
            "", "1.0", "1e3", "_1", "1_", "1__0", "0x10", "1,000", "- 1", "+",
        ] {
            assert!(!int_ok(s), "{s:?}");
        }
        let floats: &[(&str, f64)] = &[
            ("1.5", 1.5),
            (" -2 ", -2.0),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1_0.2_5", 10.25),
            ("1E-2", 0.01),
            ("+inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ];
        for (s, x) in floats {
            assert_eq!(parse_float(s), Some(*x), "{s:?}");
        }
        assert!(parse_float("nan").unwrap().is_nan());
        for s in [
            "", ".", "e3", "1e", "1_.5", "1._5", "1e_3", "1,5", "abc", "1.2.3",
        ] {
            assert_eq!(parse_float(s), None, "{s:?}");
        }
    }

    #[test]
    fn bytes_and_lines_as_python_writes_them() {
        assert_eq!(repr_bytes(b"hello"), "b'hello'");
        assert_eq!(repr_bytes(b"\x00\xffab'"), "b\"\\x00\\xffab'\"");
        assert_eq!(repr_bytes(b"a'\"\\\n"), "b'a\\'\"\\\\\\n'");
        assert_eq!(splitlines("a\r\nb\nc\rd\x0be\n"), ["a", "b", "c", "d", "e"]);
        assert_eq!(splitlines(""), Vec::<&str>::new());
        assert_eq!(splitlines("\n"), [""]);
        assert_eq!(strip("\u{3000} x \x1f"), "x");
    }
}
