//! The HTML pages: every page renders, links lead where they should, values are escaped.

use testkit::{Server, TestApp};

fn server() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(|| TestApp::new().start())
}

fn html(path: &str) -> String {
    let r = server().get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.content_type, "text/html; charset=utf-8", "{path}");
    r.body
}

#[test]
fn every_kind_of_page_renders() {
    let index = html("/");
    assert!(index.contains("Datasette research fixture"));
    assert!(index.contains("href=\"/fixture\""));
    assert!(index.contains("632 rows in 3 tables"), "{index}");
    // Hidden tables (full-text indexes) are counted apart, as Datasette counts them.
    assert!(
        index.contains(" rows in 5 hidden tables, 1 view</p>"),
        "{index}"
    );
    let db = html("/fixture");
    assert!(db.contains("href=\"/fixture/cities\""));
    assert!(db.contains("Top cities in a country"));
    assert!(db.contains("name=\"sql\""));
    let table = html("/fixture/cities");
    assert!(table.contains("Rowid table with unicode names"));
    assert!(table.contains("320 rows"));
    assert!(table.contains("Next page"));
    assert!(
        table.contains("name=\"_search\""),
        "searchable table has a search box"
    );
    assert!(table.contains("href=\"/fixture/cities/1\""), "row links");
    let row = html("/fixture/measurements/3,2024-01-05T12~3A00~3A00");
    assert!(row.contains("sensor drift"));
    let station = html("/fixture/stations/3");
    assert!(station.contains("Links from other tables"));
    assert!(station.contains("25 rows"), "{station}");
    let query = html("/fixture?sql=select+name+from+stations+where+id+%3D+:id&id=2");
    assert!(query.contains("Reykjavík"));
    assert!(
        query.contains("name=\"id\" value=\"2\""),
        "a form input per parameter"
    );
    let canned = html("/fixture/cities_in_country?country=Polska");
    assert!(canned.contains("Nieder Dorf 191"));
    for special in [
        "/-/actor",
        "/-/metadata",
        "/-/settings",
        "/-/databases",
        "/-/versions",
        "/-/plugins",
    ] {
        html(special);
    }
}

#[test]
fn column_descriptions_from_metadata() {
    let server = TestApp::new()
        .metadata(serde_json::json!({"databases": {"fixture": {"tables": {"stations": {"columns": {"elevation_m": "Metres above <sea> level"}}}}}}))
        .start();
    let page = server.get("/fixture/stations").body;
    assert!(
        page.contains("title=\"Metres above &lt;sea&gt; level\""),
        "{page}"
    );
}

/// A canned query's own metadata: its HTML description on its page, its links' fragment and
/// description on the database page, and its own source link in the footer.
#[test]
fn canned_query_metadata_shows_where_datasette_shows_it() {
    let server = TestApp::new()
        .metadata(
            serde_json::json!({"source": "everything", "databases": {"fixture": {"queries": {
                "high": {
                    "sql": "select name from stations where elevation_m > :m",
                    "title": "High stations",
                    "description": "Stations above a height",
                    "description_html": "Stations <b>above</b> a height",
                    "fragment": "results",
                    "source": "the survey",
                    "source_url": "https://example.com/survey"
                }
            }}}}),
        )
        .start();
    let page = server.get("/fixture/high?m=500").body;
    assert!(
        page.contains("<div class=\"metadata-description\">Stations <b>above</b> a height</div>"),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://example.com/survey\">"),
        "{page}"
    );
    let db_page = server.get("/fixture").body;
    assert!(
        db_page.contains(
            "<a href=\"/fixture/high#results\" title=\"Stations above a height\">High stations</a>"
        ),
        "{db_page}"
    );
    let query = &server.json("/fixture.json")["queries"][0];
    assert_eq!(query["fragment"], "results");
    assert_eq!(query["description_html"], "Stations <b>above</b> a height");
}

/// metadata.json's `extra_css_urls` and `extra_js_urls` on every page, this site's under
/// `base_url`, with their integrity hashes and module flag.
#[test]
fn extra_stylesheets_and_scripts_from_metadata() {
    let server = TestApp::new()
        .setting("base_url", "/data/")
        .metadata(serde_json::json!({
            "extra_css_urls": ["/assets/site.css", {"url": "https://cdn.example/x.css", "sri": "sha384-abc"}],
            "extra_js_urls": [{"url": "/assets/app.js", "module": true}]
        }))
        .start();
    for page in ["/", "/fixture", "/fixture/stations", "/fixture/stations/1"] {
        let body = server.get(page).body;
        for expected in [
            "<link rel=\"stylesheet\" href=\"/data/assets/site.css\">",
            "<link rel=\"stylesheet\" href=\"https://cdn.example/x.css\" integrity=\"sha384-abc\" crossorigin=\"anonymous\">",
            "<script type=\"module\" src=\"/data/assets/app.js\"></script>",
        ] {
            assert!(body.contains(expected), "{page}: {expected}\n{body}");
        }
    }
}

#[test]
fn foreign_keys_link_with_labels() {
    let page = html("/fixture/measurements?_size=3");
    assert!(
        page.contains("href=\"/fixture/stations/1\">Zürich Fluntern</a>"),
        "{page}"
    );
}

#[test]
fn sort_headers_and_facets() {
    let page = html("/fixture/cities?_sort=population");
    assert!(
        page.contains("_sort_desc=population"),
        "clicking the sorted column flips it"
    );
    // Datasette's arrows: ▼ on the ascending column (its link sorts descending).
    assert!(page.contains("population\u{a0}\u{25bc}</a>"), "{page}");
    assert!(page.contains("country=Polska"), "facet links");
    // metadata limits sorting: no link on tags
    assert!(!page.contains("_sort=tags"));
    // Facets worth adding are offered, each a link that adds it.
    let page = html("/fixture/cities");
    let at = page
        .find("<p class=\"suggested-facets\">Suggested facets: ")
        .expect("suggestions");
    let line = &page[at..at + page[at..].find("</p>").unwrap()];
    assert!(
        line.contains("?_facet_array=tags#facet-tags\">tags</a> (array)"),
        "{line}"
    );
    assert!(!html("/fixture/cities?_facet_array=tags").contains("#facet-tags\">tags</a> (array)"));
    // Facets with the most values come first, as on Datasette's page.
    let page = html("/fixture/cities?_facet=country&_facet=name&_facet_size=5");
    let (name, country) = (
        page.find("id=\"facet-name\"").expect("name facet"),
        page.find("id=\"facet-country\"").expect("country facet"),
    );
    assert!(name < country, "{page}");
}

#[test]
fn the_filter_form_redirects_to_a_filter_url() {
    let r =
        server().get("/fixture/stations?_filter_column=name&_filter_op=contains&_filter_value=o");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("/fixture/stations?name__contains=o")
    );
    let page = html("/fixture/stations?name__contains=o");
    assert!(page.contains("name contains &#34;o&#34;"), "{page}");
}

#[test]
fn values_and_names_are_escaped_everywhere() {
    for path in [
        "/sample/odd+names",
        "/sample/odd+names/x~2Ey",
        "/sample?sql=select+*+from+%5Bodd+names%5D",
        "/sample",
        "/",
    ] {
        let page = html(path);
        assert!(!page.contains("<script>alert(1)</script>"), "{path}");
        assert!(!page.contains("<b>html</b>"), "{path}");
    }
    let page = html("/sample/odd+names");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;b&gt;html&lt;/b&gt;"));
}

#[test]
fn blobs_and_floats() {
    let page = html("/sample/files?_size=3");
    assert!(page.contains("&lt;Binary:&nbsp;3&nbsp;bytes&gt;"), "{page}");
    let v = server().json("/sample/files/file-01~2Ebin.json");
    assert_eq!(v["rows"][0][1]["$base64"], true);
    assert_eq!(v["rows"][0][1]["encoded"], "ACVK");
    assert!((v["rows"][0][2].as_f64().unwrap() - 1.0 / 7.0).abs() < 1e-12);
}

#[test]
fn security_headers_on_every_response() {
    for path in ["/", "/fixture.json", "/nope"] {
        let r = server().get(path);
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert!(r.header("referrer-policy").is_some(), "{path}");
    }
}

#[test]
fn errors_are_html_pages_without_an_extension() {
    let r = server().get("/fixture/nope");
    assert_eq!(r.status, 404);
    assert!(r.content_type.starts_with("text/html"));
    assert!(r.body.contains("Table not found"));
}

/// Datasette's pointer from each HTML page to its JSON: a `Link` header and a `<link>`, in
/// Datasette 0.65's form (the URL without angle brackets).
#[test]
fn html_pages_point_to_their_json() {
    let base = &server().base;
    for (path, json) in [
        ("/", "/.json"),
        ("/fixture", "/fixture.json"),
        ("/fixture/cities", "/fixture/cities.json"),
        (
            "/fixture/cities?_sort=name",
            "/fixture/cities.json?_sort=name",
        ),
        ("/fixture?sql=select+1", "/fixture.json?sql=select+1"),
        ("/-/plugins", "/-/plugins.json"),
    ] {
        let r = server().get(path);
        let url = format!("{base}{json}");
        assert_eq!(
            r.header("link"),
            Some(format!("{url}; rel=\"alternate\"; type=\"application/json+datasette\"").as_str()),
            "{path}"
        );
        let element = format!(
            "<link rel=\"alternate\" type=\"application/json+datasette\" href=\"{}\">",
            url.replace('&', "&amp;")
        );
        assert!(r.body.contains(&element), "{path}: no {element}");
    }
    // The debugging tool has no JSON to point to.
    let r = server().get("/-/allow-debug");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<form"));
    assert_eq!(r.header("link"), None);
    assert!(!r.body.contains("rel=\"alternate\""));
    // A JSON page points to its next page only.
    let json = server().get("/fixture/cities.json");
    assert!(json
        .header("link")
        .is_some_and(|l| l.ends_with(">; rel=\"next\"")));
}

#[test]
fn the_stylesheet_and_icon_are_served_and_linked() {
    let page = html("/fixture");
    let css_link = page
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link");
    assert!(css_link.starts_with("/-/static/app.css?"), "{css_link}");
    assert!(page.contains("<link rel=\"icon\" href=\"/favicon.ico\">"));
    assert!(!page.contains("<style>"), "styles live in the stylesheet");

    let css = server().get(css_link);
    assert_eq!(css.status, 200);
    assert_eq!(css.content_type, "text/css");
    assert!(css.body.contains("table.rows-and-columns"));
    let icon = server().get("/favicon.ico");
    assert_eq!(icon.status, 200);
    assert_eq!(icon.content_type, "image/png");
    assert!(icon.bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    for r in [&css, &icon] {
        assert_eq!(
            r.header("cache-control"),
            Some("max-age=3600, immutable, public")
        );
    }
    assert_eq!(server().get("/-/static/app2.css").status, 404);
    assert_eq!(server().get("/-/static/..%2Fapp.css").status, 404);
}

/// Datasette's table markup, which its CSS, JavaScript plugins and scrapers rely on.
#[test]
fn table_markup_is_datasettes() {
    // One integer key: it heads the table, links to the row, sorts ascending by default.
    let stations = html("/fixture/stations?_size=2");
    assert!(stations.contains("<table class=\"rows-and-columns\">"));
    assert!(stations.contains("<script>DATASETTE_ALLOW_FACET = true;</script>"));
    assert!(stations.contains(
        "<th class=\"col-id\" scope=\"col\" data-column=\"id\" data-column-type=\"integer\" \
         data-column-not-null=\"0\" data-is-pk=\"1\"><a href=\"/fixture/stations?_size=2&amp;_sort_desc=id\" \
         rel=\"nofollow\">id\u{a0}\u{25bc}</a></th>"
    ), "{stations}");
    assert!(
        stations.contains(
            "<td class=\"col-id type-pk\"><a href=\"/fixture/stations/1\">1</a></td>\
         <td class=\"col-name type-str\">Zürich Fluntern</td>\
         <td class=\"col-elevation_m type-float\">959.1</td>"
        ),
        "{stations}"
    );
    // A compound key: a Link column first; a foreign key with its label.
    let measurements = html("/fixture/measurements?_size=1");
    assert!(measurements.contains(
        "<th class=\"col-Link\" scope=\"col\" data-column=\"Link\" data-column-type=\"\" \
         data-column-not-null=\"0\" data-is-pk=\"0\">Link</th>"
    ));
    assert!(measurements.contains(
        "<td class=\"col-Link type-pk\"><a href=\"/fixture/measurements/1,2024-01-01T12~3A00~3A00\">\
         1,2024-01-01T12:00:00</a></td>\
         <td class=\"col-station_id type-int\"><a href=\"/fixture/stations/1\">Zürich Fluntern</a>\
         &nbsp;<em>1</em></td>"
    ), "{measurements}");
    assert!(measurements.contains("<td class=\"col-note type-none\">&nbsp;</td>"));
    // _labels=off shows the plain key.
    let plain = html("/fixture/measurements?_size=1&_labels=off");
    assert!(
        plain.contains("<td class=\"col-station_id type-int\">1</td>"),
        "{plain}"
    );
    // A rowid table: a Link column, and rowid as a column of its own.
    let cities = html("/fixture/cities?_size=1");
    assert!(
        cities.contains(
            "<td class=\"col-Link type-pk\"><a href=\"/fixture/cities/1\">1</a></td>\
         <td class=\"col-rowid type-int\">1</td>"
        ),
        "{cities}"
    );
    // No rows: Datasette's sentence instead of an empty table.
    let none = html("/fixture/stations?id=-1");
    assert!(none.contains("<p class=\"zero-results\">0 records</p>"));
    assert!(!none.contains("<table"));
    // SQL results: the column classes.
    let query = html("/fixture?sql=select+1+as+%22a+b%22,+null+as+n");
    assert!(query.contains("<td class=\"col-n\">&nbsp;</td>"), "{query}");
    assert!(query.contains("<th class=\"col-a-b-"), "{query}");
}

/// Binary values download from their row (`.blob?_blob_column=`) or from a query's results
/// (with the value's SHA-256, so a stale link fails instead of giving other bytes).
#[test]
fn binary_values_download_as_datasette_serves_them() {
    let page = html("/sample/files?id=file-01.bin");
    let link = "<a class=\"blob-download\" href=\"/sample/files/file-01~2Ebin.blob?_blob_column=content\">\
                &lt;Binary:&nbsp;3&nbsp;bytes&gt;</a>";
    assert!(page.contains(link), "{page}");
    let r = server().get("/sample/files/file-01~2Ebin.blob?_blob_column=content");
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, [0x00, 0x25, 0x4a]);
    assert_eq!(r.content_type, "application/binary");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"files-file-01~2Ebin-content.blob\"")
    );
    for (path, message) in [
        (
            "/sample/files/file-01~2Ebin.blob",
            "?_blob_column= is required",
        ),
        (
            "/sample/files/file-01~2Ebin.blob?_blob_column=nope",
            "nope is not a valid column",
        ),
        (
            "/sample/files/file-01~2Ebin.blob?_blob_column=content&_blob_hash=x",
            "Link has expired",
        ),
    ] {
        let r = server().get(path);
        assert_eq!(r.status, 400, "{path}");
        assert!(r.body.contains(message), "{path}: {}", r.body);
    }
    // From a query's results: the link carries the value's hash and finds it again.
    let query = html("/sample?sql=select+content+from+files+order+by+id+limit+3");
    let href = query
        .split("class=\"blob-download\" href=\"")
        .nth(2)
        .and_then(|rest| rest.split('"').next())
        .expect("a second blob link")
        .replace("&amp;", "&");
    assert!(href.starts_with("/sample.blob?sql="), "{href}");
    assert!(href.contains("&_blob_column=content&_blob_hash="), "{href}");
    let second = server().get(&href);
    assert_eq!(second.status, 200, "{href}: {}", second.body);
    let row = server().json("/sample/files.json?_size=3&_shape=array");
    let encoded = row[2]["content"]["encoded"].as_str().unwrap();
    let expected =
        base64::engine::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)
            .unwrap();
    assert_eq!(second.bytes, expected);
    // CSV has no bytes: a value is the absolute URL that downloads it.
    let csv = server()
        .get("/sample/files.csv?id=file-01.bin&_col=content")
        .body;
    let base = &server().base;
    assert_eq!(
        csv,
        format!("id,content\r\nfile-01.bin,{base}/sample/files/file-01~2Ebin.blob?_blob_column=content\r\n")
    );
    // Pages without rows to download from say so.
    assert_eq!(server().get("/sample.blob").status, 404);
}

/// Datasette's filter form: each filter in force is a row of its own that can be changed or
/// emptied, a new one is added, the sort controls and the page's other `_` arguments come
/// along, and the submission redirects to the filter URL it stands for.
#[test]
fn the_filter_form_edits_filters_and_sort_as_datasette() {
    let location = |query: &str| {
        let r = server().get(&format!("/fixture/stations?{query}"));
        assert_eq!(r.status, 302, "{query}: {}", r.body);
        r.header("location").unwrap().to_string()
    };
    assert_eq!(
        location(
            "_filter_column_1=name&_filter_op_1=contains&_filter_value_1=o\
             &_filter_column_2=&_filter_op_2=gt&_filter_value_2=5\
             &_filter_column=id&_filter_op=gt&_filter_value=3&_search=&_sort=&_size=5"
        ),
        "/fixture/stations?_size=5&name__contains=o&id__gt=3"
    );
    // An operator may carry its value; a lone operator is dropped.
    assert_eq!(
        location("_filter_column=name&_filter_op=isnull__5&_filter_value=x"),
        "/fixture/stations?name__isnull=5"
    );
    assert_eq!(location("_filter_op=exact"), "/fixture/stations");
    // The sort checkbox turns the chosen sort into a descending one.
    assert_eq!(
        location("_sort=name&_sort_by_desc=on"),
        "/fixture/stations?_sort_desc=name"
    );

    let page = html("/fixture/stations?name__contains=o&_sort=name&_size=5&_where=id+%3E+1");
    let form = &page[page.find("<form class=\"filters\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("<select name=\"_filter_column_1\""), "{form}");
    assert!(form.contains("<option selected>name</option>"), "{form}");
    assert!(form.contains("<option value=\"contains\" selected>contains</option>"));
    assert!(form.contains("name=\"_filter_value_1\" class=\"filter-value\" value=\"o\""));
    assert!(form.contains("<option value=\"name\" selected>Sort by name</option>"));
    assert!(
        form.contains("<option value=\"isnull__1\">is null</option>"),
        "{form}"
    );
    // Hidden: the page's `_` arguments, never the filters, sort or search the form sets.
    let hidden: Vec<&str> = form
        .match_indices("<input type=\"hidden\" name=\"")
        .map(|(i, _)| form[i + 27..].split('"').next().unwrap())
        .collect();
    assert_eq!(hidden, ["_size", "_where"]);
    assert!(page.contains("<div class=\"extra-wheres\">\n<h3>1 extra where clause</h3>"));
}

/// Datasette's second chances: a trailing slash or percent-encoding that names nothing is
/// redirected to the form that does, always on this site.
#[test]
fn near_miss_paths_redirect_as_datasette() {
    for (path, to) in [
        ("/fixture/", "/fixture"),
        ("/fixture/cities/?_size=2", "/fixture/cities?_size=2"),
        ("/fixture/nope%2Fx", "/fixture/nope~2Fx"),
        ("/sample/nope%20x.json?x=1", "/sample/nope~20x~2Ejson?x=1"),
        ("/%2F%2Fevil.example/", "/~2F~2Fevil~2Eexample/"),
    ] {
        let r = server().get(path);
        assert_eq!((r.status, r.header("location")), (302, Some(to)), "{path}");
    }
    // Percent-encoding that names something is served as it is.
    assert_eq!(server().get("/sample/odd%20names").status, 200);
    assert_eq!(server().get("/fixture/nope").status, 404);
}

#[test]
fn body_classes_name_the_page_as_datasette() {
    for (path, class) in [
        ("/", "index"),
        ("/fixture", "db db-fixture"),
        ("/fixture?sql=select+1", "query db-fixture"),
        (
            "/fixture/cities_in_country?country=Polska",
            "query db-fixture query-cities_in_country",
        ),
        ("/fixture/cities", "table db-fixture table-cities"),
        ("/fixture/stations/1", "row db-fixture table-stations"),
    ] {
        assert!(
            html(path).contains(&format!("<body class=\"{class}\">")),
            "{path}"
        );
    }
}

/// The query page as Datasette marks it up: the SQL's show/hide link and the field that keeps
/// the choice, errors as message-error, export links, Datasette's sentence for no rows, and a
/// canned query's "Edit SQL" link for those who may run SQL.
#[test]
fn query_pages_as_datasette() {
    let page = html("/fixture?sql=select+1+as+one");
    assert!(page.contains("<h3>Custom SQL query returning 1 row <span class=\"show-hide-sql\">(<a href=\"/fixture?sql=select+1+as+one&amp;_hide_sql=1\">hide</a>)</span></h3>"), "{page}");
    assert!(page.contains("<textarea id=\"sql-editor\" name=\"sql\" style=\"height: 3em\""));
    assert!(html("/fixture?sql=select+1%0Afrom+cities")
        .contains("<textarea id=\"sql-editor\" name=\"sql\" style=\"height: 4em\""));
    assert!(page.contains("<p class=\"export-links\">This data as <a href=\"/fixture.json?sql=select+1+as+one\">json</a>, <a href=\"/fixture.csv?sql=select+1+as+one&amp;_size=max\">CSV</a></p>"), "{page}");
    let hidden = html("/fixture?sql=select+1&_hide_sql=1");
    assert!(!hidden.contains("<textarea"));
    assert!(hidden.contains("<input type=\"hidden\" name=\"sql\" value=\"select 1\">"));
    assert!(hidden.contains("<input type=\"hidden\" name=\"_hide_sql\" value=\"1\">"));
    assert!(hidden.contains(">show</a>)"));
    let none = html("/fixture?sql=select+1+where+0");
    assert!(none.contains("<p class=\"zero-results\">0 results</p>") && !none.contains("<table"));
    let error = server().get("/fixture?sql=select+*+from+nope");
    assert!(
        error
            .body
            .contains("<p class=\"message-error\">no such table: nope</p>"),
        "{}",
        error.body
    );
    let canned = html("/fixture/cities_in_country?country=Polska");
    assert!(canned.contains("<pre id=\"sql-query\">"), "{canned}");
    assert!(canned.contains("class=\"canned-query-edit-sql\">Edit SQL</a>"));
    assert!(
        canned.contains("href=\"/fixture?sql=select+rowid"),
        "{canned}"
    );
}

/// A row's page shows the row as the table page does (Datasette's classes, no truncation),
/// and the rows elsewhere that point to it.
#[test]
fn row_pages_as_datasette() {
    let page = html("/fixture/stations/1");
    assert!(page.contains(
        "<p class=\"export-links\">This data as <a href=\"/fixture/stations/1.json\">json</a></p>"
    ));
    assert!(
        page.contains(
            "<th class=\"col-id\" scope=\"col\" data-column=\"id\" data-column-type=\"integer\" \
         data-column-not-null=\"0\" data-is-pk=\"1\">id</th>"
        ),
        "{page}"
    );
    assert!(page.contains(
        "<tr><td class=\"col-id type-int\">1</td><td class=\"col-name type-str\">Zürich Fluntern</td>"
    ), "{page}");
    assert!(page.contains("<h2>Links from other tables</h2>"));
    assert!(page.contains("<a href=\"/fixture/measurements?station_id=1\">25 rows</a> from station_id in measurements</li>"), "{page}");
}

/// A table's page ends with its `CREATE` statement and its indexes', as SQLite keeps them.
#[test]
fn table_pages_show_their_definition() {
    let conn = rusqlite::Connection::open(&testkit::fixture().fixture_db).unwrap();
    let sql: String = conn
        .query_row(
            "select sql from sqlite_master where name = 'measurements'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let indexes: Vec<String> = conn
        .prepare("select sql from sqlite_master where type = 'index' and tbl_name = 'measurements' and sql is not null order by rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected = std::iter::once(sql)
        .chain(indexes)
        .map(|s| format!("{s};"))
        .collect::<Vec<_>>()
        .join("\n");
    let page = html("/fixture/measurements?_size=1");
    let shown = format!(
        "<pre class=\"wrapped-sql\">{}</pre>",
        datasette_rs::render::html::escape(&expected)
    );
    assert!(page.contains(&shown), "{page}");
}
