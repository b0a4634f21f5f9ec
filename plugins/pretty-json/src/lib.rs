//! `datasette-pretty-json`: cells of table, row and query pages whose text is a JSON object or
//! array are shown pretty-printed, as Datasette's plugin of the same name shows them: the JSON
//! as Python's `json.dumps(json.loads(value), indent=4)` writes it, HTML-escaped, in
//! `<pre style="white-space: pre-wrap">`. Every other cell (numbers, plain text, JSON scalars
//! such as `"1"` or `"true"`, text that is not JSON) keeps the server's rendering.
//!
//! ```json
//! {"plugins": {"datasette-pretty-json": {}}}
//! ```
//!
//! The JSON is written exactly as Python writes it: keys in their order (a repeated key keeps
//! its first place and its last value), every character outside printable ASCII as a `\uXXXX`
//! escape (`ensure_ascii`), floats as Python's `repr` writes them (`1e-07`, `100000.0`),
//! `NaN` and `Infinity` accepted and written back.
//!
//! Nesting deeper than [`MAX_DEPTH`], integers longer than [`MAX_INT_DIGITS`] digits (Python
//! refuses those too), and cells whose HTML would pass [`MAX_CELL_HTML_BYTES`] are left as the
//! server shows them, as are a page's cells once its rendered HTML reaches
//! [`MAX_PAGE_HTML_BYTES`]: indentation grows with depth, so a small cell could otherwise make a
//! huge page.

use std::collections::HashMap;

use datasette_plugin_api::html::escape;
use datasette_plugin_api::{export_plugin, Host, Plugin, RenderCells, RenderedCell};
use serde_json::Value;

/// Spaces per level, as the original's `json.dumps(..., indent=4)`.
pub const INDENT: usize = 4;

/// The deepest nesting of objects and arrays rendered.
pub const MAX_DEPTH: usize = 256;

/// The most digits of an integer: Python's `int` refuses longer ones
/// (`sys.get_int_max_str_digits()`), so the original leaves such a cell alone.
pub const MAX_INT_DIGITS: usize = 4300;

/// The most HTML one cell, and all of a page's cells, are rendered to.
pub const MAX_CELL_HTML_BYTES: usize = 1 << 20;
pub const MAX_PAGE_HTML_BYTES: usize = 8 << 20;

/// A parsed JSON value, as Python's `json.loads` holds it: integers as their digits (Python's
/// are unbounded), strings as UTF-16 code units (Python keeps lone surrogates), objects in key
/// order.
enum Json {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(Vec<u16>),
    Array(Vec<Json>),
    Object(Vec<(Vec<u16>, Json)>),
}

/// A recursive-descent parser accepting exactly what Python's `json.loads` accepts.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.src[self.pos..].starts_with(literal);
        if found {
            self.pos += literal.len();
        }
        found
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.object(depth + 1)
            }
            b'[' => {
                self.pos += 1;
                self.array(depth + 1)
            }
            b'"' => {
                self.pos += 1;
                self.string().map(Json::Str)
            }
            _ if self.eat("null") => Some(Json::Null),
            _ if self.eat("true") => Some(Json::Bool(true)),
            _ if self.eat("false") => Some(Json::Bool(false)),
            _ if self.eat("NaN") => Some(Json::Float(f64::NAN)),
            _ if self.eat("Infinity") => Some(Json::Float(f64::INFINITY)),
            _ if self.eat("-Infinity") => Some(Json::Float(f64::NEG_INFINITY)),
            _ => self.number(),
        }
    }

    /// After `{`.
    fn object(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut members: Vec<(Vec<u16>, Json)> = Vec::new();
        let mut places: HashMap<Vec<u16>, usize> = HashMap::new();
        self.skip_whitespace();
        if self.eat("}") {
            return Some(Json::Object(members));
        }
        loop {
            if !self.eat("\"") {
                return None;
            }
            let key = self.string()?;
            self.skip_whitespace();
            if !self.eat(":") {
                return None;
            }
            self.skip_whitespace();
            let value = self.value(depth)?;
            // As a Python dict: a repeated key keeps its first place and takes the last value.
            match places.get(&key) {
                Some(&at) => members[at].1 = value,
                None => {
                    places.insert(key.clone(), members.len());
                    members.push((key, value));
                }
            }
            self.skip_whitespace();
            if self.eat("}") {
                return Some(Json::Object(members));
            }
            if !self.eat(",") {
                return None;
            }
            self.skip_whitespace();
        }
    }

    /// After `[`.
    fn array(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat("]") {
            return Some(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            if self.eat("]") {
                return Some(Json::Array(items));
            }
            if !self.eat(",") {
                return None;
            }
            self.skip_whitespace();
        }
    }

    /// After the opening `"`: the string's UTF-16 code units, up to and past its closing `"`.
    fn string(&mut self) -> Option<Vec<u16>> {
        let mut units = Vec::new();
        loop {
            let b = self.peek()?;
            match b {
                b'"' => {
                    self.pos += 1;
                    return Some(units);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    let unit = match escaped {
                        b'"' => b'"'.into(),
                        b'\\' => b'\\'.into(),
                        b'/' => b'/'.into(),
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n'.into(),
                        b'r' => b'\r'.into(),
                        b't' => b'\t'.into(),
                        b'u' => {
                            let hex = self.src.get(self.pos..self.pos + 4)?;
                            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return None;
                            }
                            self.pos += 4;
                            u16::from_str_radix(hex, 16).ok()?
                        }
                        _ => return None,
                    };
                    units.push(unit);
                }
                // Python's strict mode: no raw control characters.
                0x00..=0x1f => return None,
                0x20..=0x7f => {
                    units.push(b.into());
                    self.pos += 1;
                }
                _ => {
                    let c = self.src[self.pos..].chars().next()?;
                    let mut buf = [0u16; 2];
                    units.extend_from_slice(c.encode_utf16(&mut buf));
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`: an integer without a fraction or an
    /// exponent, else a float.
    fn number(&mut self) -> Option<Json> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let int_digits = self.pos - start - usize::from(self.src.as_bytes()[start] == b'-');
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        let text = &self.src[start..self.pos];
        if float {
            // Correctly rounded, as Python's float(); past the range: ±inf, or ±0.0.
            text.parse().ok().map(Json::Float)
        } else if int_digits > MAX_INT_DIGITS {
            None
        } else if text == "-0" {
            Some(Json::Int("0".into()))
        } else {
            Some(Json::Int(text.into()))
        }
    }
}

/// `text` parsed, if it is one JSON object or array (with whitespace around it at most).
fn parse(text: &str) -> Option<Json> {
    let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
    let container = (trimmed.starts_with('{') && trimmed.ends_with('}'))
        || (trimmed.starts_with('[') && trimmed.ends_with(']'));
    if !container {
        return None;
    }
    let mut parser = Parser {
        src: trimmed,
        pos: 0,
    };
    let json = parser.value(0)?;
    (parser.pos == trimmed.len()).then_some(json)
}

/// Text written up to a size, past which writing fails.
struct Writer {
    out: String,
    limit: usize,
}

impl Writer {
    fn push(&mut self, s: &str) -> Option<()> {
        if self.out.len() + s.len() > self.limit {
            return None;
        }
        self.out.push_str(s);
        Some(())
    }

    fn newline(&mut self, level: usize) -> Option<()> {
        self.push("\n")?;
        self.push(&" ".repeat(INDENT * level))
    }

    fn value(&mut self, json: &Json, level: usize) -> Option<()> {
        match json {
            Json::Null => self.push("null"),
            Json::Bool(true) => self.push("true"),
            Json::Bool(false) => self.push("false"),
            Json::Int(digits) => self.push(digits),
            Json::Float(f) => self.push(&python_float(*f)),
            Json::Str(units) => self.string(units),
            Json::Array(items) if items.is_empty() => self.push("[]"),
            Json::Array(items) => {
                self.push("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(",")?;
                    }
                    self.newline(level + 1)?;
                    self.value(item, level + 1)?;
                }
                self.newline(level)?;
                self.push("]")
            }
            Json::Object(members) if members.is_empty() => self.push("{}"),
            Json::Object(members) => {
                self.push("{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        self.push(",")?;
                    }
                    self.newline(level + 1)?;
                    self.string(key)?;
                    self.push(": ")?;
                    self.value(value, level + 1)?;
                }
                self.newline(level)?;
                self.push("}")
            }
        }
    }

    /// A string as Python's `ensure_ascii` writes it: printable ASCII as it is, the rest as
    /// short escapes or `\uXXXX` (lowercase; characters past U+FFFF as surrogate pairs).
    fn string(&mut self, units: &[u16]) -> Option<()> {
        let mut s = String::with_capacity(units.len() + 2);
        s.push('"');
        for &unit in units {
            match unit {
                0x22 => s.push_str("\\\""),
                0x5c => s.push_str("\\\\"),
                0x08 => s.push_str("\\b"),
                0x0c => s.push_str("\\f"),
                0x0a => s.push_str("\\n"),
                0x0d => s.push_str("\\r"),
                0x09 => s.push_str("\\t"),
                0x20..=0x7e => s.push(char::from(unit as u8)),
                _ => s.push_str(&format!("\\u{unit:04x}")),
            }
        }
        s.push('"');
        self.push(&s)
    }
}

/// A float as Python's `json.dumps` writes it: `repr`, with `NaN`, `Infinity`, `-Infinity`.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exponent) = shortest_digits(f.abs());
    // Where the decimal point falls: the value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    if point <= -4 || point > 16 {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs())
    } else if point <= 0 {
        format!(
            "{sign}0.{}{digits}",
            "0".repeat(point.unsigned_abs() as usize)
        )
    } else if point as usize >= digits.len() {
        let zeros = "0".repeat(point as usize - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{sign}{whole}.{fraction}")
    }
}

/// A positive float's digits and exponent as Python's `repr` finds them (the value is
/// D.IGITS × 10^exponent): the fewest digits that read back as `f`, and of those the nearest
/// to it, a tie going to the even digit.
fn shortest_digits(f: f64) -> (String, i32) {
    let (digits, exponent) = scientific(&format!("{f:e}"));
    // Rust finds the same fewest digits, but breaks a tie upwards. Only a value with 16 or 17
    // such digits can lie halfway between two that both read back.
    if digits.len() >= 16 {
        if let Some(even) = tie_to_even(f, &digits, exponent) {
            return (even, exponent);
        }
    }
    (digits, exponent)
}

/// `d.ddde±x` as its digits and exponent.
fn scientific(text: &str) -> (String, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    (mantissa.replace('.', ""), exponent.parse().unwrap_or(0))
}

/// When `f` lies exactly halfway between `digits` and another number of as many digits that
/// also reads back as `f`, the one whose last digit is even, if it is not `digits`.
fn tie_to_even(f: f64, digits: &str, exponent: i32) -> Option<String> {
    let n = digits.len();
    // Exactly halfway: the next digit 5 and nothing after it. 41 digits rule out all but a
    // freak (a run of zeros or nines), which the exact expansion (at most 767 digits) settles.
    let halfway = |text: String| {
        let (exact, e) = scientific(&text);
        let after = exact.as_bytes().get(n..)?;
        let tie = e == exponent && after[0] == b'5' && after[1..].iter().all(|&d| d == b'0');
        tie.then_some(exact)
    };
    halfway(format!("{f:.40e}"))?;
    let exact = halfway(format!("{f:.800e}"))?;
    let mut even = exact.as_bytes()[..n].to_vec();
    match even[n - 1] {
        // Rounding up would end in 0: fewer digits, which Rust would have found.
        b'9' => return None,
        odd if (odd - b'0') % 2 == 1 => even[n - 1] += 1,
        _ => {}
    }
    let even = String::from_utf8(even).ok()?;
    let reads_back = format!("{}.{}e{exponent}", &even[..1], &even[1..]).parse() == Ok(f);
    (even != digits && reads_back).then_some(even)
}

/// `text` as `json.dumps(json.loads(text), indent=4)` writes it, if it is a JSON object or
/// array whose pretty form stays within `limit` bytes.
pub fn pretty(text: &str, limit: usize) -> Option<String> {
    let json = parse(text)?;
    let mut writer = Writer {
        out: String::new(),
        limit,
    };
    writer.value(&json, 0)?;
    Some(writer.out)
}

const PRE_OPEN: &str = "<pre style=\"white-space: pre-wrap\">";
const PRE_CLOSE: &str = "</pre>";

/// A cell's HTML, if its text is a JSON object or array: the indented JSON, escaped, in
/// `<pre style="white-space: pre-wrap">`. `None` leaves the cell to the server.
pub fn render(text: &str) -> Option<String> {
    let room = MAX_CELL_HTML_BYTES - PRE_OPEN.len() - PRE_CLOSE.len();
    let html = escape(&pretty(text, room)?);
    (html.len() <= room).then(|| format!("{PRE_OPEN}{html}{PRE_CLOSE}"))
}

pub struct PrettyJson;

impl Plugin for PrettyJson {
    /// The original has no configuration; a block (`{}`) only enables it.
    fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
        Ok(PrettyJson)
    }

    fn render_cell(&self, cells: &RenderCells, _host: &Host) -> Vec<RenderedCell> {
        let mut out = Vec::new();
        let mut room = MAX_PAGE_HTML_BYTES;
        for (row, values) in cells.rows.iter().enumerate() {
            for (column, value) in values.iter().enumerate() {
                // Text only: numbers, NULLs and BLOBs are never JSON to the original either.
                let Value::String(text) = value else {
                    continue;
                };
                let Some(html) = render(text) else {
                    continue;
                };
                if html.len() > room {
                    continue;
                }
                room -= html.len();
                out.push(RenderedCell { row, column, html });
            }
        }
        out
    }
}

export_plugin!(PrettyJson: render_cell);

#[cfg(test)]
mod tests {
    use super::*;
    use datasette_plugin_api::sdk::inline_host;
    use serde_json::json;

    /// The JSON text only, without a size limit.
    fn dumps(text: &str) -> Option<String> {
        pretty(text, usize::MAX)
    }

    #[test]
    fn the_originals_test_cases() {
        assert_eq!(render("blah"), None);
        assert_eq!(render("1.34"), None);
        assert_eq!(
            render(r#"{"foo": {"bar": 1}}"#).as_deref(),
            Some(
                "<pre style=\"white-space: pre-wrap\">{\n    &#34;foo&#34;: {\n        &#34;bar&#34;: 1\n    }\n}</pre>"
            )
        );
        assert_eq!(
            render(r#"[{"foo": {"bar": 1}}]"#).as_deref(),
            Some(
                "<pre style=\"white-space: pre-wrap\">[\n    {\n        &#34;foo&#34;: {\n            &#34;bar&#34;: 1\n        }\n    }\n]</pre>"
            )
        );
    }

    #[test]
    fn only_objects_and_arrays_are_rendered() {
        for text in [
            "",
            "1",
            "-2.5",
            "true",
            "null",
            "\"a string\"",
            "NaN",
            "plain text",
            "{oops}",
            "[1,]",
            "[1] x",
            "{\"a\": 1} {}",
            "{\"a\" 1}",
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "['single']",
            "[\"tab\there\"]",
            "[\"\\x\"]",
            "[\"\\u12\"]",
            "{1: 2}",
            "[",
            "\u{a0}[1]",
            "\u{feff}[1]",
            "[1]\u{b}",
        ] {
            assert_eq!(render(text), None, "{text:?}");
        }
        assert_eq!(
            dumps(" \n[1, 2]\r\t").as_deref(),
            Some("[\n    1,\n    2\n]")
        );
        assert_eq!(dumps("[]").as_deref(), Some("[]"));
        assert_eq!(dumps("{ }").as_deref(), Some("{}"));
    }

    #[test]
    fn nested_values_are_indented_as_python_indents_them() {
        assert_eq!(
            dumps(r#"{"a":[],"b":{},"c":[null,true,false,{"d":"e"}]}"#).as_deref(),
            Some(
                "{\n    \"a\": [],\n    \"b\": {},\n    \"c\": [\n        null,\n        true,\n        false,\n        {\n            \"d\": \"e\"\n        }\n    ]\n}"
            )
        );
    }

    #[test]
    fn repeated_keys_keep_their_first_place_and_last_value() {
        assert_eq!(
            dumps(r#"{"a": 1, "b": 2, "a": 3}"#).as_deref(),
            Some("{\n    \"a\": 3,\n    \"b\": 2\n}")
        );
        // An escaped surrogate pair is the same key as the character itself.
        assert_eq!(
            dumps(r#"{"\ud83d\ude00": 1, "😀": 2}"#).as_deref(),
            Some("{\n    \"\\ud83d\\ude00\": 2\n}")
        );
    }

    #[test]
    fn strings_are_written_as_ascii_like_python() {
        assert_eq!(
            dumps(r#"["café", "😀", "\u0000\u001f\u007f", "a\/b", "q\"b\\n\n\t\r\b\f", "\ud800"]"#)
                .as_deref(),
            Some(
                "[\n    \"caf\\u00e9\",\n    \"\\ud83d\\ude00\",\n    \"\\u0000\\u001f\\u007f\",\n    \"a/b\",\n    \"q\\\"b\\\\n\\n\\t\\r\\b\\f\",\n    \"\\ud800\"\n]"
            )
        );
        assert_eq!(
            dumps(r#"["\u00E9"]"#).as_deref(),
            Some("[\n    \"\\u00e9\"\n]")
        );
    }

    #[test]
    fn numbers_are_written_as_python_writes_them() {
        let cases = [
            ("1", "1"),
            ("-0", "0"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("1.0", "1.0"),
            ("1.50", "1.5"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("1e5", "100000.0"),
            ("1E-7", "1e-07"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("1e15", "1000000000000000.0"),
            ("1e16", "1e+16"),
            ("1.5e300", "1.5e+300"),
            ("123.456", "123.456"),
            ("5e-324", "5e-324"),
            ("1e-400", "0.0"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("2e16", "2e+16"),
            ("20000000000000008.0", "2.000000000000001e+16"),
            // Halfway between ...12 and ...13: Python keeps the even digit, Rust goes up.
            ("-184634462777130.125", "-184634462777130.12"),
            ("0.30000000000000004", "0.30000000000000004"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                dumps(&format!("[{input}]")),
                Some(format!("[\n    {expected}\n]")),
                "{input}"
            );
        }
        let long = "9".repeat(MAX_INT_DIGITS);
        assert!(dumps(&format!("[{long}]")).is_some());
        assert!(dumps(&format!("[-{long}]")).is_some());
        assert_eq!(dumps(&format!("[{long}9]")), None);
    }

    #[test]
    fn html_in_json_is_escaped() {
        let html = render(r#"{"x": "<script>alert('&')</script>"}"#).unwrap();
        assert_eq!(
            html,
            "<pre style=\"white-space: pre-wrap\">{\n    &#34;x&#34;: &#34;&lt;script&gt;alert(&#39;&amp;&#39;)&lt;/script&gt;&#34;\n}</pre>"
        );
    }

    #[test]
    fn deep_or_huge_json_is_left_alone() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(render(&nested(MAX_DEPTH)).is_some());
        assert_eq!(render(&nested(MAX_DEPTH + 1)), None);
        assert_eq!(render(&nested(1_000_000)), None);
        // A few hundred bytes, deeply indented thousands of times over.
        let wide = format!(
            "{}{}{}",
            "[".repeat(200),
            ["[]"; 20_000].join(","),
            "]".repeat(200)
        );
        assert!(wide.len() < 64 << 10);
        assert_eq!(render(&wide), None);
        assert!(dumps(&wide).unwrap().len() > MAX_CELL_HTML_BYTES);
    }

    #[test]
    fn render_cell_answers_for_json_text_cells_only() {
        let host = inline_host();
        let plugin = PrettyJson::startup(json!({}), &host).unwrap();
        let cells = RenderCells {
            columns: vec!["id".into(), "data".into(), "note".into()],
            rows: vec![
                vec![json!(1), json!("[1, 2]"), json!("plain")],
                vec![json!(2), json!("true"), json!("{\"a\": {}}")],
                vec![
                    json!(3),
                    Value::Null,
                    json!({"$base64": true, "encoded": "e30="}),
                ],
            ],
            ..Default::default()
        };
        assert_eq!(
            plugin.render_cell(&cells, &host),
            vec![
                RenderedCell {
                    row: 0,
                    column: 1,
                    html: "<pre style=\"white-space: pre-wrap\">[\n    1,\n    2\n]</pre>".into()
                },
                RenderedCell {
                    row: 1,
                    column: 2,
                    html: "<pre style=\"white-space: pre-wrap\">{\n    &#34;a&#34;: {}\n}</pre>"
                        .into()
                },
            ]
        );
    }

    #[test]
    fn a_pages_rendering_stops_at_its_budget() {
        let host = inline_host();
        // About 900 KiB of HTML per cell: nine fit in the page's budget.
        let cell = format!("[{}]", ["\"\u{e9}\""; 40_000].join(","));
        let html = render(&cell).expect("within a cell's limit");
        let fits = MAX_PAGE_HTML_BYTES / html.len();
        let cells = RenderCells {
            columns: vec!["data".into()],
            rows: vec![vec![json!(cell)]; fits + 2],
            ..Default::default()
        };
        assert_eq!(PrettyJson.render_cell(&cells, &host).len(), fits);
    }
}
