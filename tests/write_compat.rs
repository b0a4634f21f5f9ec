//! The write API against Datasette 1.0a41's answers: the requests of
//! tests/golden/write_requests.json, sent in order to a fresh database with its configuration,
//! must be answered as Datasette answered them (tests/golden/writes.json, recorded by
//! tools/record_write_golden.py), less the differences listed here with their reasons.

use serde_json::{json, Value};
use testkit::{binary, root, send, serve_binary, TEST_SECRET};

/// (request name, JSON pointer into the body or "status", why it differs on purpose).
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "not JSON",
        "/error",
        "the parser's own words after \"Invalid JSON: \" (Python's json against serde_json)",
    ),
    (
        "not JSON",
        "/errors/0",
        "the parser's own words after \"Invalid JSON: \" (Python's json against serde_json)",
    ),
    (
        "upsert, returned",
        "/rows/0/name",
        "1.0a41 sets a column the upserted row leaves out to null, against its documentation \
         (\"will be left unchanged\"); datasette-rs leaves it unchanged",
    ),
    (
        "read the table back",
        "/0/name",
        "the upsert above: the column left out keeps its value",
    ),
    (
        "execute-write",
        "/analysis",
        "the analysis block is not part of Datasette's stable API; datasette-rs does not send it",
    ),
];

fn differs(name: &str, pointer: &str) -> bool {
    DIFFERENCES
        .iter()
        .any(|(n, p, _)| *n == name && (pointer == *p || pointer.starts_with(&format!("{p}/"))))
}

/// Every leaf of `ours` and `theirs` that differs, by JSON pointer.
fn diff(ours: &Value, theirs: &Value, at: String, out: &mut Vec<(String, Value, Value)>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                let missing = !a.contains_key(k) || !b.contains_key(k);
                if missing {
                    out.push((format!("{at}/{k}"), x.clone(), y.clone()));
                } else {
                    diff(x, y, format!("{at}/{k}"), out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(x, y, format!("{at}/{i}"), out);
            }
        }
        (a, b) if a != b => out.push((at, a.clone(), b.clone())),
        _ => {}
    }
}

/// URLs name the server's own port: compared without it.
fn without_port(v: &mut Value) {
    match v {
        Value::String(s) if s.starts_with("http://127.0.0.1:") => {
            let rest =
                s["http://127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
            *s = format!("http://127.0.0.1:PORT{rest}");
        }
        Value::Object(m) => m.values_mut().for_each(without_port),
        Value::Array(a) => a.iter_mut().for_each(without_port),
        _ => {}
    }
}

#[test]
fn the_write_api_answers_as_datasette_1_0_does() {
    let golden = root().join("tests/golden");
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("write_requests.json")).unwrap())
            .unwrap();
    let answers: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(golden.join("writes.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(spec["schema"].as_str().unwrap())
        .unwrap();
    let config = dir.path().join("datasette.json");
    std::fs::write(&config, spec["config"].to_string()).unwrap();
    let server = serve_binary(&[
        db.to_str().unwrap(),
        "-c",
        config.to_str().unwrap(),
        "--secret",
        TEST_SECRET,
    ])
    .unwrap();
    let out = std::process::Command::new(binary())
        .args(["create-token", "ana", "--secret", TEST_SECRET])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let requests = spec["requests"].as_array().unwrap();
    assert_eq!(requests.len(), answers.len(), "re-record the goldens");
    let mut problems = Vec::new();
    for (request, theirs) in requests.iter().zip(&answers) {
        let name = request["name"].as_str().unwrap();
        let method = request["method"].as_str().unwrap_or("POST");
        let body = match (&request["raw"], &request["body"]) {
            (Value::String(raw), _) => raw.clone(),
            (_, b) if b["rows"] == "MANY" => {
                let rows: Vec<Value> = (0..101).map(|i| json!({"name": format!("d{i}")})).collect();
                json!({"rows": rows}).to_string()
            }
            (_, Value::Null) => String::new(),
            (_, b) => b.to_string(),
        };
        let bearer = format!("Bearer {}", request["token"].as_str().unwrap_or(&token));
        let mut headers = vec![("Content-Type", "application/json")];
        if request["anonymous"] != true {
            headers.push(("Authorization", &bearer));
        }
        let r = send(
            method,
            &format!("{}{}", server.base, request["path"].as_str().unwrap()),
            &headers,
            &body,
        );
        if r.status != theirs["status"] && !differs(name, "status") {
            problems.push(format!(
                "{name}: status {} (Datasette {})",
                r.status, theirs["status"]
            ));
        }
        let mut ours: Value =
            serde_json::from_str(&r.body).unwrap_or(Value::String(r.body.clone()));
        let mut theirs = theirs["body"].clone();
        without_port(&mut ours);
        without_port(&mut theirs);
        let mut found = Vec::new();
        diff(&ours, &theirs, String::new(), &mut found);
        for (pointer, a, b) in found {
            if !differs(name, &pointer) {
                problems.push(format!("{name}: {pointer}: ours {a}, Datasette {b}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
