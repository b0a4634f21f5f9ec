//! Every filter operator returns exactly the rows of the same condition written by hand in SQL.

use proptest::prelude::*;
use serde_json::Value;
use testkit::{fixture, serve_sql, Server, TestApp};

/// (operator, hand-written condition with `?` for the value; `{}` marks the column).
const CASES: &[(&str, &str)] = &[
    ("exact", "{} = ?"),
    ("not", "{} != ?"),
    ("contains", "{} like '%' || ? || '%'"),
    ("endswith", "{} like '%' || ?"),
    ("startswith", "{} like ? || '%'"),
    ("like", "{} like ?"),
    ("notlike", "{} not like ?"),
    ("glob", "{} glob ?"),
    ("date", "date({}) = ?"),
];

const NUMERIC: &[(&str, &str)] = &[("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")];

fn ids(server: &Server, query: &str) -> Vec<i64> {
    let v = server.json(&format!("/fixture/cities.json?_col=name&_size=max&{query}"));
    let mut out: Vec<i64> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_i64().unwrap())
        .collect();
    out.sort();
    out
}

fn sql_ids(condition: &str, value: Option<Value>) -> Vec<i64> {
    let conn = rusqlite::Connection::open(&fixture().fixture_db).unwrap();
    let sql = format!("select rowid from cities where {condition} order by rowid");
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = match value {
        None => stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<i64>, _>>(),
        Some(Value::Number(n)) if n.is_i64() => stmt
            .query_map([n.as_i64()], |r| r.get(0))
            .unwrap()
            .collect(),
        Some(Value::Number(n)) => stmt
            .query_map([n.as_f64()], |r| r.get(0))
            .unwrap()
            .collect(),
        Some(Value::String(s)) => stmt.query_map([s], |r| r.get(0)).unwrap().collect(),
        Some(other) => panic!("{other}"),
    };
    rows.unwrap()
}

fn q(s: &str) -> String {
    datasette_rs::urls::quote_plus(s)
}

fn server() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(|| TestApp::new().start())
}

/// Values drawn from the data itself and from arbitrary text.
fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Polska".to_string()),
        Just("Ober".to_string()),
        Just("ville".to_string()),
        Just("%a%".to_string()),
        Just("*Hafen*".to_string()),
        Just("1878-01-01".to_string()),
        Just("".to_string()),
        "[A-Za-zñü ]{0,6}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn text_operators_agree_with_sql(case in 0..CASES.len(), col in prop_oneof![Just("name"), Just("country"), Just("founded")], value in text_value()) {
        let (op, cond) = CASES[case];
        let got = ids(server(), &format!("{}__{op}={}", col, q(&value)));
        let want = sql_ids(&cond.replace("{}", col), Some(Value::String(value.clone())));
        prop_assert_eq!(got, want, "{}__{}={:?}", col, op, value);
    }

    #[test]
    fn numeric_operators_agree_with_sql(op in 0..NUMERIC.len(), n in prop_oneof![0i64..5_000_000, Just(3218252)]) {
        let (key, sym) = NUMERIC[op];
        let got = ids(server(), &format!("population__{key}={n}"));
        let want = sql_ids(&format!("population {sym} ?"), Some(Value::from(n)));
        prop_assert_eq!(got, want);
    }
}

#[test]
fn operators_without_values() {
    let s = server();
    for (op, cond) in [
        ("isnull", "population is null"),
        ("notnull", "population is not null"),
        ("isblank", "(founded is null or founded = '')"),
        ("notblank", "(founded is not null and founded != '')"),
    ] {
        let col = cond
            .split_whitespace()
            .next()
            .unwrap()
            .trim_start_matches('(');
        assert_eq!(
            ids(s, &format!("{col}__{op}=1")),
            sql_ids(cond, None),
            "{op}"
        );
    }
}

#[test]
fn list_and_array_operators() {
    let s = server();
    assert_eq!(
        ids(s, "country__in=Polska,France"),
        sql_ids("country in ('Polska', 'France')", None)
    );
    assert_eq!(
        ids(s, "country__in=%5B%22Polska%22%2C%22Brasil%22%5D"),
        sql_ids("country in ('Polska', 'Brasil')", None)
    );
    assert_eq!(
        ids(s, "country__notin=Polska,France"),
        sql_ids("country not in ('Polska', 'France')", None)
    );
    assert_eq!(
        ids(s, "tags__arraycontains=port"),
        sql_ids("'port' in (select value from json_each(tags))", None)
    );
    assert_eq!(
        ids(s, "tags__arraynotcontains=port"),
        sql_ids("'port' not in (select value from json_each(tags))", None)
    );
    assert_eq!(
        ids(s, "country=Polska&population__gt=1000000"),
        sql_ids("country = 'Polska' and population > 1000000", None)
    );
    let all = ids(s, "");
    assert_eq!(all.len(), 320);
}

#[test]
fn search_uses_the_fts_index() {
    let s = server();
    let got = ids(s, "_search=hafen");
    let want = sql_ids(
        "rowid in (select rowid from cities_fts where cities_fts match '\"hafen\"')",
        None,
    );
    assert_eq!(got.len(), 36);
    assert_eq!(got, want);
    // FTS syntax in the box is taken literally: no error for unbalanced quotes or operators.
    for q in ["%22unbalanced", "a+OR", "NEAR(", "*"] {
        let r = s.get(&format!("/fixture/cities.json?_search={q}"));
        assert_eq!(r.status, 200, "{q}: {}", r.body);
    }
}

/// Datasette's `_nocount` and `_nofacet`: the page skips that work and says so.
#[test]
fn nocount_and_nofacet_skip_their_work() {
    let server = TestApp::new().start();
    let plain = server.json("/fixture/cities.json?_facet=name");
    assert!(plain["filtered_table_rows_count"].as_i64().unwrap() > 0);
    assert!(!plain["facet_results"].as_object().unwrap().is_empty());
    let uncounted = server.json("/fixture/cities.json?_nocount=1");
    assert_eq!(uncounted["filtered_table_rows_count"], Value::Null);
    assert!(!uncounted["rows"].as_array().unwrap().is_empty());
    let unfaceted = server.json("/fixture/cities.json?_facet=name&_nofacet=1");
    assert!(unfaceted["facet_results"].as_object().unwrap().is_empty());
    assert!(unfaceted["suggested_facets"].as_array().unwrap().is_empty());
}

/// `_searchmode=raw`: the search text is FTS syntax (`OR`, prefixes, column filters), as in
/// Datasette; a syntax error is a 400 with SQLite's message.
#[test]
fn raw_search_mode_takes_fts_syntax() {
    let s = server();
    let raw = ids(s, "_searchmode=raw&_search=hafen+OR+ber*");
    let want = sql_ids(
        "rowid in (select rowid from cities_fts where cities_fts match 'hafen OR ber*')",
        None,
    );
    assert!(raw.len() > 36, "{}", raw.len());
    assert_eq!(raw, want);
    // Escaped (the default), the same text finds only rows holding all three words.
    assert!(ids(s, "_search=hafen+OR+ber*").len() < raw.len());
    let bad = s.get("/fixture/cities.json?_searchmode=raw&_search=%22unbalanced");
    assert_eq!(bad.status, 400, "{}", bad.body);
}

/// A table's `facet_size` in metadata sets how many values its facets show.
#[test]
fn a_tables_facet_size_comes_from_metadata() {
    let server = TestApp::new()
        .metadata(serde_json::json!({
            "databases": {"fixture": {"tables": {"cities": {"facet_size": 3}}}}
        }))
        .start();
    let page = server.json("/fixture/cities.json?_facet=country&_size=0");
    let facet = &page["facet_results"]["country"];
    assert_eq!(facet["results"].as_array().unwrap().len(), 3, "{facet}");
    let asked = server.json("/fixture/cities.json?_facet=country&_size=0&_facet_size=5");
    assert_eq!(
        asked["facet_results"]["country"]["results"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

/// `_labels` as Datasette: a key into a table without a label column is its own label, a NULL
/// or a value with no row stays plain, and a key into a table the actor may not see is never
/// labelled (its label would be a read of that table).
#[test]
fn labels_follow_datasettes_rules_and_permissions() {
    let (_dir, server) = serve_sql(
        "labels",
        "pragma foreign_keys = off;
             create table plain (id integer primary key);
             create table named (id integer primary key, name text);
             create table vault (id integer primary key, name text);
             create table child (id integer primary key,
                 p integer references plain(id), n integer references named(id),
                 v integer references vault(id));
             insert into plain values (1); insert into named values (1, 'one');
             insert into vault values (1, 'classified');
             insert into child values (1, 1, 1, 1), (2, null, 7, null);",
        serde_json::json!({
            "databases": {"labels": {"tables": {"vault": {"allow": {"id": "root"}}}}}
        }),
        &[],
    );
    let v = server.json("/labels/child.json?_labels=on&_shape=array");
    assert_eq!(
        v,
        serde_json::json!([
            {"id": 1, "p": {"value": 1, "label": "1"}, "n": {"value": 1, "label": "one"}, "v": 1},
            {"id": 2, "p": null, "n": 7, "v": null}
        ])
    );
    // Keys in SQLite's order (the last declared first), as Datasette lists them.
    let keys: Vec<Value> = server.json("/labels/child.json")["expandable_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k[0]["column"].clone())
        .collect();
    assert_eq!(keys, ["n", "p"]);
    let csv = server.get("/labels/child.csv?_labels=on").body;
    assert_eq!(
        csv,
        "id,p,p_label,n,n_label,v\r\n1,1,1,1,one,1\r\n2,,,7,,\r\n"
    );
    assert!(!server
        .get("/labels/child.json?_label=v")
        .body
        .contains("classified"));
}

/// A column whose name starts with `_` filters and facets with an operator spelled out, as in
/// Datasette; the bare name stays an option.
#[test]
fn columns_starting_with_an_underscore_can_be_filtered_and_faceted() {
    let (_dir, server) = serve_sql(
        "u",
        "create table t (id integer primary key, _kind text);
             insert into t values (1, 'a'), (2, 'b'), (3, 'a');",
        serde_json::json!({}),
        &[],
    );
    let v = server.json("/u/t.json?_kind__exact=a&_facet=_kind&_shape=objects");
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    let toggle = v["facet_results"]["_kind"]["results"][0]["toggle_url"]
        .as_str()
        .unwrap();
    assert!(
        !toggle.contains("_kind__exact"),
        "{toggle}: the selected value's link removes it"
    );
    let v = server.json("/u/t.json?_facet=_kind");
    let toggle = v["facet_results"]["_kind"]["results"][0]["toggle_url"]
        .as_str()
        .unwrap();
    assert!(toggle.ends_with("_facet=_kind&_kind__exact=a"), "{toggle}");
    assert_eq!(
        server.json(toggle.trim_start_matches(&server.base))["rows"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// A column with a unit in metadata compares in that unit: `75km` is 75000 metres, as
/// Datasette reads it; its cells are shown with the prefix that suits them; a value of another
/// kind is a 400 that says so.
#[test]
fn filters_on_columns_with_units_convert_the_value() {
    let (_dir, server) = serve_sql(
        "u",
        "create table units (pk integer primary key, distance int, frequency int);
         insert into units values (1, 1, 100), (2, 5000, 2500), (3, 100000, 75000);",
        serde_json::json!({"databases": {"u": {"tables": {"units":
            {"units": {"distance": "m", "frequency": "Hz"}}}}}}),
        &[],
    );
    let pks = |query: &str| -> Vec<i64> {
        let v = server.json(&format!("/u/units.json?_shape=array&{query}"));
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["pk"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(pks("distance__lt=75km&frequency__gt=1kHz"), [2]);
    assert_eq!(pks("distance__gte=5000"), [2, 3]);
    assert_eq!(pks("distance=5%20km"), [2]);
    assert_eq!(pks("frequency__lte=0.1kHz"), [1]);
    let json = server.json("/u/units.json?distance__lt=75km");
    assert_eq!(json["units"]["distance"], "m");
    let bad = server.get("/u/units.json?distance__lt=5kg");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("'5kg' cannot be converted to m"));
    let html = server.get("/u/units").body;
    assert!(
        html.contains(">5\u{a0}km</td>") && html.contains(">2.5\u{a0}kHz</td>"),
        "{html}"
    );
    assert!(server.get("/u/units/2").body.contains(">5\u{a0}km</td>"));
}

/// `_through` filters a table by a link table's column (many-to-many), as Datasette does; a
/// link table the actor may not read answers as one that is not there.
#[test]
fn through_filters_by_a_link_table() {
    let (_dir, server) = serve_sql(
        "m",
        "create table places (id integer primary key, name text);
         create table tags (id integer primary key, tag text);
         create table place_tags (place_id integer references places(id),
                                  tag_id integer references tags(id));
         create table secret_tags (place_id integer references places(id), tag_id integer);
         insert into places values (1, 'pier'), (2, 'museum'), (3, 'zoo');
         insert into tags values (1, 'indoor'), (2, 'outdoor');
         insert into place_tags values (2, 1), (1, 2), (3, 2);
         insert into secret_tags values (1, 7);",
        serde_json::json!({"databases": {"m": {"tables": {"secret_tags":
            {"allow": {"id": "root"}}}}}}),
        &[],
    );
    let through = |json: &str| {
        format!(
            "/m/places.json?_shape=array&_through={}",
            datasette_rs::urls::quote_plus(json)
        )
    };
    let names = |path: &str| -> Vec<String> {
        let v = server.json(path);
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&through(
            r#"{"table":"place_tags","column":"tag_id","value":"2"}"#
        )),
        ["pier", "zoo"]
    );
    assert_eq!(
        names(&through(
            r#"{"table":"place_tags","column":"tag_id","value":1}"#
        )),
        ["museum"]
    );
    let page = server.json(&format!(
        "/m/places.json?_through={}",
        datasette_rs::urls::quote_plus(r#"{"table":"place_tags","column":"tag_id","value":"1"}"#)
    ));
    assert_eq!(
        page["human_description_en"],
        "where place_tags.tag_id = \"1\""
    );
    assert_eq!(page["filtered_table_rows_count"], 1);
    // A protected link table, one that is not there, one with no key to us: the same answer.
    let refusal = |json: &str| server.get(&through(json));
    let hidden = refusal(r#"{"table":"secret_tags","column":"tag_id","value":"7"}"#);
    let missing = refusal(r#"{"table":"nope","column":"tag_id","value":"7"}"#);
    let unlinked = refusal(r#"{"table":"tags","column":"tag","value":"x"}"#);
    assert_eq!(hidden.status, 400);
    assert_eq!(hidden.body, missing.body);
    assert_eq!(hidden.body, unlinked.body);
    assert!(hidden
        .body
        .contains("could not find corresponding foreign key"));
    let bad_column = refusal(r#"{"table":"place_tags","column":"nope","value":"1"}"#);
    assert_eq!(bad_column.status, 400);
    assert!(bad_column.body.contains("place_tags has no column nope"));
    let bad_json = server.get("/m/places.json?_through=tags");
    assert_eq!(bad_json.status, 400);
    assert!(
        bad_json.body.contains("_through must be JSON"),
        "{}",
        bad_json.body
    );
    // The CSV export streams the same rows.
    let csv = server.get(
        &through(r#"{"table":"place_tags","column":"tag_id","value":"2"}"#)
            .replace(".json?_shape=array&", ".csv?"),
    );
    assert_eq!(csv.body, "id,name\r\n1,pier\r\n3,zoo\r\n");
}
