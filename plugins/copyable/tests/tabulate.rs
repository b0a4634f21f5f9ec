//! Every format, for tables of numbers, text, numbers as text, NULLs, multi-line text, BLOBs and
//! no rows, against what Datasette's datasette-copyable answers with Python's csv and tabulate
//! 0.10 (`tests/tabulate_cases.json`, written by `tools/expected.py`).

use datasette_copyable::{copyable, tabulate::FORMATS};
use serde_json::Value;

const CASES: &str = include_str!("tabulate_cases.json");

#[test]
fn every_format_matches_python_tabulate() {
    let cases: Value = serde_json::from_str(CASES).unwrap();
    let formats: Vec<&str> = cases["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(formats, FORMATS, "tabulate's list of formats");
    let mut failures = vec![];
    let mut checked = 0;
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let columns: Vec<String> = serde_json::from_value(case["columns"].clone()).unwrap();
        let rows: Vec<Vec<Value>> = serde_json::from_value(case["rows"].clone()).unwrap();
        for format in FORMATS {
            let expected = case["outputs"][format].as_str().unwrap();
            let got = copyable(&columns, &rows, format);
            checked += 1;
            if got != expected {
                failures.push(format!(
                    "{name} as {format}:\n--- tabulate\n{expected}\n--- ours\n{got}\n"
                ));
            }
        }
    }
    assert!(checked >= 8 * 37);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
