//! Reading an uploaded CSV file into a table: the column types detected from its first rows as
//! sqlite-utils' `--detect-types` detects them, each value converted to its column's type, rows
//! handed over in batches. Where the rows go is a [`Target`], so the whole import is tested
//! without a server.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use serde_json::{Map, Number, Value};

/// The rows read to detect the columns' types.
pub const SAMPLE_ROWS: usize = 1_000;
/// The rows inserted in one transaction.
pub const BATCH_ROWS: usize = 2_000;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A column's type, as sqlite-utils names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Real,
    Text,
}

impl ColumnType {
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Text => "TEXT",
        }
    }
}

/// What one column's values could all be, as sqlite-utils' `ValueTracker`: each non-empty
/// value rules out the types it is not.
#[derive(Debug, Clone, Copy)]
pub struct TypeTracker {
    integer: bool,
    real: bool,
    /// Whether any non-empty value was seen.
    seen: bool,
}

impl Default for TypeTracker {
    fn default() -> Self {
        TypeTracker {
            integer: true,
            real: true,
            seen: false,
        }
    }
}

impl TypeTracker {
    pub fn evaluate(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        self.seen = true;
        if self.integer && !is_integer(value) {
            self.integer = false;
        }
        if self.real && parse_real(value).is_none() {
            self.real = false;
        }
    }

    /// INTEGER if every value was an integer, REAL if every one was a number, else TEXT; a
    /// column with no value at all is TEXT (sqlite-utils says INTEGER, which would be wrong
    /// for the text further down a column empty in the first rows).
    pub fn guessed(&self) -> ColumnType {
        match (self.seen, self.integer, self.real) {
            (false, _, _) => ColumnType::Text,
            (true, true, _) => ColumnType::Integer,
            (true, false, true) => ColumnType::Real,
            _ => ColumnType::Text,
        }
    }
}

/// An integer as Python's `int()` reads one: digits with an optional sign, spaces around.
pub fn is_integer(value: &str) -> bool {
    let v = value.trim();
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A number as Python's `float()` reads one (`1.5`, `-2`, `1e10`, `.5`, `inf`, `nan`), spaces
/// around.
pub fn parse_real(value: &str) -> Option<f64> {
    value.trim().parse::<f64>().ok()
}

/// A CSV value as its column stores it: empty is NULL; in an INTEGER or REAL column a value
/// that reads as a number is that number; anything else stays text, as SQLite's column
/// affinity would keep it (a later row's `n/a` in a column of integers, an infinity).
pub fn convert(value: &str, kind: ColumnType) -> Value {
    if value.is_empty() {
        return Value::Null;
    }
    let number = match kind {
        ColumnType::Text => None,
        ColumnType::Integer => value
            .trim()
            .parse::<i64>()
            .ok()
            .map(Number::from)
            .or_else(|| parse_real(value).and_then(Number::from_f64)),
        ColumnType::Real => parse_real(value).and_then(Number::from_f64),
    };
    number.map_or_else(|| Value::String(value.to_string()), Value::Number)
}

/// How the file's bytes are text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// ISO-8859-1: each byte is the character of that code point. What the original falls
    /// back to, and never fails.
    Latin1,
}

/// Tells, a chunk at a time, whether bytes are UTF-8 (a character may span chunks).
#[derive(Debug, Default)]
pub struct Utf8Check {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Check {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = [self.carry.as_slice(), chunk].concat();
            &joined
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => self.carry.clear(),
            // Cut short at the end: the rest of the character is in the next chunk.
            Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4 => {
                self.carry = bytes[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.invalid = true,
        }
    }

    pub fn encoding(&self) -> Encoding {
        if self.invalid || !self.carry.is_empty() {
            Encoding::Latin1
        } else {
            Encoding::Utf8
        }
    }
}

fn decode(bytes: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Where an import's rows go.
pub trait Target {
    /// Makes the table, its columns in the file's order.
    fn create(&mut self, columns: &[(String, ColumnType)]) -> Result<(), String>;
    /// Inserts rows, each with every column.
    fn insert(&mut self, rows: Vec<Map<String, Value>>) -> Result<(), String>;
    /// After each batch: the rows inserted so far, and how far into the file they reach.
    fn progress(&mut self, rows: u64, bytes: u64) -> Result<(), String>;
}

/// The file's columns: each header's name and the column each field goes to (a name given
/// twice is one column, the later value winning, as `dict(zip(headers, row))` does).
struct Columns {
    names: Vec<String>,
    of_field: Vec<usize>,
}

impl Columns {
    fn from_header(header: Vec<String>) -> Columns {
        let mut names: Vec<String> = Vec::new();
        let of_field = header
            .into_iter()
            .map(|name| match names.iter().position(|n| *n == name) {
                Some(i) => i,
                None => {
                    names.push(name);
                    names.len() - 1
                }
            })
            .collect();
        Columns { names, of_field }
    }

    /// A record's values by column: fields missing at the end are empty (NULL); fields past
    /// the header's are refused unless they are all empty (a trailing comma).
    fn values(&self, record: &csv::ByteRecord, encoding: Encoding) -> Result<Vec<String>, String> {
        let mut values = vec![String::new(); self.names.len()];
        for (i, field) in record.iter().enumerate() {
            match self.of_field.get(i) {
                Some(&column) => values[column] = decode(field, encoding),
                None if field.is_empty() => {}
                None => {
                    let line = record.position().map_or(0, |p| p.line());
                    return Err(format!(
                        "line {line} has {} values, but the header names {} columns",
                        record.len(),
                        self.of_field.len()
                    ));
                }
            }
        }
        Ok(values)
    }
}

/// Reads the CSV `file` (from its start) into `target`: types from the first [`SAMPLE_ROWS`] rows, then
/// every row in batches of [`BATCH_ROWS`]. The rows imported, or why it stopped (rows already
/// inserted stay).
pub fn import(mut file: File, encoding: Encoding, target: &mut impl Target) -> Result<u64, String> {
    let unread = |e: std::io::Error| format!("the upload could not be read: {e}");
    file.rewind().map_err(unread)?;
    let mut start = [0u8; 3];
    let read = file.read(&mut start).map_err(unread)?;
    // A UTF-8 byte order mark is not part of the first column's name.
    let skip = if read == 3 && start == BOM { 3 } else { 0 };
    file.seek(SeekFrom::Start(skip)).map_err(unread)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(256 << 10, file));
    let bad = |e: csv::Error| format!("the file is not valid CSV: {e}");

    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record).map_err(bad)? {
        return Err("the file is empty: it has no header row".into());
    }
    let columns = Columns::from_header(record.iter().map(|f| decode(f, encoding)).collect());

    let mut sample = Vec::new();
    let mut trackers = vec![TypeTracker::default(); columns.names.len()];
    while sample.len() < SAMPLE_ROWS && reader.read_byte_record(&mut record).map_err(bad)? {
        let values = columns.values(&record, encoding)?;
        for (tracker, value) in trackers.iter_mut().zip(&values) {
            tracker.evaluate(value);
        }
        sample.push(values);
    }
    let types: Vec<ColumnType> = trackers.iter().map(TypeTracker::guessed).collect();
    let typed: Vec<(String, ColumnType)> = columns
        .names
        .iter()
        .cloned()
        .zip(types.iter().copied())
        .collect();
    target.create(&typed)?;

    let row = |values: Vec<String>| -> Map<String, Value> {
        typed
            .iter()
            .zip(values)
            .map(|((name, kind), value)| (name.clone(), convert(&value, *kind)))
            .collect()
    };
    let mut done = 0u64;
    let mut batch: Vec<Map<String, Value>> = sample.into_iter().map(row).collect();
    loop {
        let more = reader.read_byte_record(&mut record).map_err(bad)?;
        if more {
            batch.push(row(columns.values(&record, encoding)?));
        }
        if batch.len() >= BATCH_ROWS || (!more && !batch.is_empty()) {
            done += batch.len() as u64;
            target.insert(std::mem::take(&mut batch))?;
            target.progress(done, skip + reader.position().byte())?;
        }
        if !more {
            return Ok(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn types(values: &[&str]) -> ColumnType {
        let mut t = TypeTracker::default();
        values.iter().for_each(|v| t.evaluate(v));
        t.guessed()
    }

    #[test]
    fn types_are_detected_as_sqlite_utils_detects_them() {
        assert_eq!(types(&["1", "-2", "+3", " 4 ", ""]), ColumnType::Integer);
        assert_eq!(
            types(&["1", "2.5", "1e3", "", ".5", "-inf"]),
            ColumnType::Real
        );
        assert_eq!(types(&["1", "2.5", "two"]), ColumnType::Text);
        assert_eq!(types(&["007", "12345678901234567890"]), ColumnType::Integer);
        assert_eq!(types(&["1 2"]), ColumnType::Text);
        assert_eq!(types(&["-"]), ColumnType::Text);
        assert_eq!(types(&[" "]), ColumnType::Text, "spaces are not empty");
        // No value at all: text (sqlite-utils would say integer).
        assert_eq!(types(&["", ""]), ColumnType::Text);
        assert_eq!(types(&[]), ColumnType::Text);
    }

    #[test]
    fn values_are_converted_to_their_columns_types() {
        use ColumnType::*;
        assert_eq!(convert("", Integer), Value::Null);
        assert_eq!(convert("", Text), Value::Null);
        assert_eq!(convert("42", Integer), json!(42));
        assert_eq!(convert(" -7 ", Integer), json!(-7));
        assert_eq!(convert("007", Integer), json!(7));
        // Too large for 64 bits: a REAL, as SQLite's INTEGER affinity would store it.
        assert_eq!(
            convert("12345678901234567890", Integer),
            json!(1.2345678901234567e19)
        );
        assert_eq!(convert("2.5", Integer), json!(2.5));
        assert_eq!(convert("n/a", Integer), json!("n/a"));
        assert_eq!(convert("2.5", Real), json!(2.5));
        let three = convert("3", Real);
        assert!(three.as_f64() == Some(3.0) && !three.is_i64(), "{three}");
        assert_eq!(convert("inf", Real), json!("inf"), "JSON has no infinity");
        assert_eq!(convert("42", Text), json!("42"));
        assert_eq!(convert(" x ", Text), json!(" x "));
    }

    #[test]
    fn utf8_is_told_from_latin1_across_chunks() {
        let text = "naïve café ☕".as_bytes();
        for cut in 0..text.len() {
            let mut check = Utf8Check::default();
            check.feed(&text[..cut]);
            check.feed(&text[cut..]);
            assert_eq!(check.encoding(), Encoding::Utf8, "cut at {cut}");
        }
        let mut check = Utf8Check::default();
        check.feed(b"cost(\xa3),2.55\n");
        check.feed(b"plain");
        assert_eq!(check.encoding(), Encoding::Latin1);
        let mut check = Utf8Check::default();
        check.feed(b"ends inside a character \xe2\x98");
        assert_eq!(check.encoding(), Encoding::Latin1);
        assert_eq!(decode(b"\xa3", Encoding::Latin1), "£");
    }

    #[derive(Default)]
    struct Collect {
        columns: Vec<(String, ColumnType)>,
        rows: Vec<Map<String, Value>>,
        batches: Vec<usize>,
        progress: Vec<(u64, u64)>,
    }

    impl Target for Collect {
        fn create(&mut self, columns: &[(String, ColumnType)]) -> Result<(), String> {
            self.columns = columns.to_vec();
            Ok(())
        }
        fn insert(&mut self, rows: Vec<Map<String, Value>>) -> Result<(), String> {
            self.batches.push(rows.len());
            self.rows.extend(rows);
            Ok(())
        }
        fn progress(&mut self, rows: u64, bytes: u64) -> Result<(), String> {
            self.progress.push((rows, bytes));
            Ok(())
        }
    }

    fn run(content: &[u8]) -> (Result<u64, String>, Collect) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        let mut check = Utf8Check::default();
        check.feed(content);
        let mut target = Collect::default();
        let result = import(file, check.encoding(), &mut target);
        (result, target)
    }

    fn names(c: &Collect) -> Vec<(&str, ColumnType)> {
        c.columns.iter().map(|(n, t)| (n.as_str(), *t)).collect()
    }

    #[test]
    fn a_file_is_imported_with_its_types_bom_and_ragged_rows() {
        let (result, c) = run(b"\xEF\xBB\xBFname,age,weight,note\r\nCleo,5,3.5,\r\n\r\nPancakes,4\r\n\"Mr, X\",,4,\"a \"\"b\"\"\",\r\n");
        assert_eq!(result, Ok(3));
        use ColumnType::*;
        assert_eq!(
            names(&c),
            [
                ("name", Text),
                ("age", Integer),
                ("weight", Real),
                ("note", Text)
            ]
        );
        assert_eq!(
            c.rows,
            [
                json!({"name": "Cleo", "age": 5, "weight": 3.5, "note": null}),
                json!({"name": "Pancakes", "age": 4, "weight": null, "note": null}),
                json!({"name": "Mr, X", "age": null, "weight": 4.0, "note": "a \"b\""}),
            ]
            .map(|v| v.as_object().unwrap().clone())
        );
        assert_eq!(c.progress.last().unwrap().0, 3);
    }

    #[test]
    fn latin1_duplicate_headers_and_batches() {
        let (result, c) = run(b"cost(\xa3),a,a\n2.55,1,2\n");
        assert_eq!(result, Ok(1));
        assert_eq!(c.columns[0].0, "cost(£)");
        assert_eq!(
            c.rows[0],
            *json!({"cost(£)": 2.55, "a": 2}).as_object().unwrap()
        );

        let mut big = b"n,word\n".to_vec();
        for i in 0..4_500 {
            big.extend_from_slice(format!("{i},w{i}\n").as_bytes());
        }
        let (result, c) = run(&big);
        assert_eq!(result, Ok(4_500));
        assert_eq!(c.batches, [2_000, 2_000, 500]);
        assert_eq!(c.progress.last(), Some(&(4_500, big.len() as u64)));
        assert_eq!(c.rows[4_499]["n"], json!(4_499));
    }

    #[test]
    fn types_come_from_the_first_rows_and_later_misfits_stay_text() {
        let mut csv = b"n\n".to_vec();
        for i in 0..SAMPLE_ROWS {
            csv.extend_from_slice(format!("{i}\n").as_bytes());
        }
        csv.extend_from_slice(b"many\n");
        let (result, c) = run(&csv);
        assert_eq!(result, Ok(SAMPLE_ROWS as u64 + 1));
        assert_eq!(c.columns[0].1, ColumnType::Integer);
        assert_eq!(c.rows.last().unwrap()["n"], json!("many"));
    }

    #[test]
    fn malformed_files_are_refused() {
        let (result, c) = run(b"a,b\n1,2\n3,4,5\n");
        let error = result.unwrap_err();
        assert!(error.contains("line 3 has 3 values"), "{error}");
        assert!(
            c.rows.is_empty(),
            "the sample failed before anything was inserted"
        );
        // A trailing comma is not a value.
        assert_eq!(run(b"a,b\n1,2,\n").0, Ok(1));
        assert!(run(b"").0.unwrap_err().contains("no header row"));
        // Only a header: an empty table.
        let (result, c) = run(b"a,b\n");
        assert_eq!(result, Ok(0));
        assert_eq!(c.columns.len(), 2);
    }
}
