//! A table page's request, parsed and checked: every parameter the page takes, or a 400 that
//! says which one is wrong. No database and no permissions here (the page asks those), so each
//! rule is tested below.

use crate::config::{Settings, TableMeta};
use crate::db::facets::FacetKind;
use crate::db::filters::{self, Filter};
use crate::db::next_token::{self, Keyset};
use crate::db::table_query::{Search, Selection, Sort, Through};
use crate::db::TableInfo;
use crate::error::AppError;
use crate::render::json::Shape;
use crate::views::PageRequest;

/// A facet asked for by metadata or by the URL.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetRequest {
    pub kind: FacetKind,
    pub column: String,
    /// Asked for in the URL, so it can be switched off there.
    pub hideable: bool,
}

#[derive(Debug)]
pub struct TableRequest {
    pub shape: Shape,
    pub size: usize,
    pub sort: Option<Sort>,
    /// `_sort` or `_sort_desc` was given (not only the table's default order).
    pub explicit_sort: bool,
    /// The columns shown, key columns first.
    pub columns: Vec<String>,
    pub filters: Vec<Filter>,
    /// `_search`'s text.
    pub search: Option<String>,
    /// `_search_COLUMN`: (column of the full-text index, text).
    pub column_searches: Vec<(String, String)>,
    /// `_through={"table": …, "column": …, "value": …}`, as given.
    pub throughs: Vec<ThroughArg>,
    /// `_searchmode=raw` (or the table's `searchmode` in metadata): the text is FTS syntax.
    pub search_raw: bool,
    /// `_where` clauses, as written.
    pub wheres: Vec<String>,
    /// Where a table's page starts (`_next`); views page by `offset`.
    pub keyset: Option<Keyset>,
    pub offset: u64,
    pub facets: Vec<FacetRequest>,
    pub facet_size: usize,
    /// This is the first page (Datasette suggests facets there only).
    pub first_page: bool,
}

/// One `_through` argument: rows linked to `value` of `column` in the link table `table`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ThroughArg {
    pub table: String,
    pub column: String,
    #[serde(deserialize_with = "text_or_number")]
    pub value: String,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        n @ serde_json::Value::Number(_) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("value must be text or a number")),
    }
}

fn throughs(ctx: &PageRequest) -> Result<Vec<ThroughArg>, AppError> {
    ctx.args_named("_through")
        .into_iter()
        .map(|arg| {
            serde_json::from_str(arg).map_err(|e| {
                bad_request(format!(
                    "_through must be JSON such as {{\"table\": \"links\", \"column\": \"tag_id\", \"value\": \"1\"}}: {e}"
                ))
            })
        })
        .collect()
}

fn bad_request(msg: impl Into<String>) -> AppError {
    AppError::BadRequest(msg.into())
}

/// Reads a `_next` token. A page sorted by its own single key (`_sort=rowid`) may be given the
/// key alone, as a hand-written `_next=1` does: the key is then the sort value too.
fn keyset(tok: &str, t: &TableInfo, sort: Option<&Sort>) -> Result<Keyset, AppError> {
    let keys = t.key_columns();
    let by_own_key = matches!(sort, Some(s) if keys.len() == 1 && s.column == keys[0]);
    if by_own_key && !tok.contains(',') {
        let ks = next_token::decode(tok, 1, false).map_err(AppError::BadRequest)?;
        return Ok(Keyset {
            sort_value: Some(ks.keys.first().cloned()),
            keys: ks.keys,
        });
    }
    next_token::decode(tok, keys.len(), sort.is_some()).map_err(AppError::BadRequest)
}

impl TableRequest {
    /// The rows this request selects, with its search and links resolved against the schema.
    pub fn selection(&self, search: Option<Search>, throughs: Vec<Through>) -> Selection {
        Selection {
            columns: self.columns.clone(),
            filters: self.filters.clone(),
            search,
            throughs,
            wheres: self.wheres.clone(),
            sort: self.sort.clone(),
        }
    }
}

impl TableRequest {
    pub fn parse(
        ctx: &PageRequest,
        settings: &Settings,
        t: &TableInfo,
        meta: Option<&TableMeta>,
    ) -> Result<TableRequest, AppError> {
        let sort = sort_order(ctx, t, meta)?;
        let next = ctx.arg("_next").filter(|s| !s.is_empty());
        let (keyset, offset) = match next {
            None => (None, 0),
            Some(tok) if t.is_view => (
                None,
                next_token::decode_offset(tok).map_err(AppError::BadRequest)?,
            ),
            Some(tok) => (Some(keyset(tok, t, sort.as_ref())?), 0),
        };
        Ok(TableRequest {
            shape: Shape::parse(ctx.arg("_shape"))?,
            size: page_size(ctx, settings, meta)?,
            explicit_sort: ["_sort", "_sort_desc"]
                .iter()
                .any(|k| ctx.arg(k).is_some_and(|s| !s.is_empty())),
            sort,
            columns: selected_columns(ctx, t)?,
            filters: filters::parse(&ctx.args, t)
                .and_then(|f| match meta {
                    Some(m) => filters::with_units(f, &m.units),
                    None => Ok(f),
                })
                .map_err(AppError::BadRequest)?,
            search_raw: ctx
                .arg("_searchmode")
                .or(meta.and_then(|m| m.searchmode.as_deref()))
                == Some("raw"),
            search: ctx
                .arg("_search")
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string),
            column_searches: column_searches(ctx),
            throughs: throughs(ctx)?,
            wheres: ctx
                .args_named("_where")
                .into_iter()
                .filter(|w| !w.trim().is_empty())
                .map(str::to_string)
                .collect(),
            keyset,
            offset,
            facets: facet_requests(ctx, settings, t, meta)?,
            facet_size: facet_size(ctx, settings, meta)?,
            first_page: next.is_none(),
        })
    }

    /// No filter, search or `_where`: the whole table.
    pub fn unfiltered(&self) -> bool {
        self.filters.is_empty()
            && self.search.is_none()
            && self.column_searches.is_empty()
            && self.throughs.is_empty()
            && self.wheres.is_empty()
    }
}

/// Datasette's `_search_COLUMN=text`: searches of one column of the full-text index each,
/// when there is no `_search` (which searches all of it and wins).
fn column_searches(ctx: &PageRequest) -> Vec<(String, String)> {
    if ctx.arg("_search").is_some() {
        return vec![];
    }
    ctx.args
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("_search_")?.to_string(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}

/// Datasette's filter form submits fields that stand for a filter URL: `_filter_column`,
/// `_filter_op` and `_filter_value` add a filter; the same with `_N` are the filters in force,
/// each editable (an empty column drops it); an operator may carry its value (`isnull__1`);
/// `_sort_by_desc` turns the chosen `_sort` into `_sort_desc`. The answer is the filter URL,
/// without the form's fields, empty `_search`/`_sort` and the page token, when the form was
/// submitted.
pub fn filter_form_redirect(ctx: &PageRequest) -> Option<String> {
    let form_field = |k: &str| {
        k.starts_with("_filter_column")
            || k.starts_with("_filter_op")
            || k.starts_with("_filter_value")
            || k == "_sort_by_desc"
    };
    if !ctx.args.iter().any(|(k, _)| form_field(k)) {
        return None;
    }
    let blank_control =
        |k: &str, v: &str| v.is_empty() && matches!(k, "_search" | "_sort" | "_sort_desc");
    let mut pairs: Vec<(String, String)> = ctx
        .args
        .iter()
        .filter(|(k, v)| !form_field(k) && !blank_control(k, v) && k != "_next")
        .cloned()
        .collect();
    let mut add = |column: &str, op: &str, value: &str| {
        if column.is_empty() {
            return;
        }
        let (op, value) = match op.split_once("__") {
            Some((op, value)) => (op, value.to_string()),
            None => (if op.is_empty() { "exact" } else { op }, value.to_string()),
        };
        let no_arg = crate::db::filters::OPS
            .iter()
            .any(|o| o.key == op && o.no_arg);
        let value = if no_arg && value.is_empty() {
            "1".into()
        } else {
            value
        };
        pairs.push((format!("{column}__{op}"), value));
    };
    let arg = |k: String| ctx.arg(&k).unwrap_or("");
    for (key, column) in &ctx.args {
        if let Some(n) = key.strip_prefix("_filter_column_") {
            add(
                column,
                arg(format!("_filter_op_{n}")),
                arg(format!("_filter_value_{n}")),
            );
        }
    }
    if let Some(column) = ctx.arg("_filter_column") {
        add(
            column,
            arg("_filter_op".into()),
            arg("_filter_value".into()),
        );
    }
    if ctx.arg("_sort_by_desc").is_some() {
        if let Some(i) = pairs.iter().position(|(k, _)| k == "_sort") {
            let (_, column) = pairs.remove(i);
            pairs.retain(|(k, _)| k != "_sort_desc");
            pairs.push(("_sort_desc".into(), column));
        }
    }
    Some(ctx.link(&crate::urls::path_with_query(&ctx.path, &pairs)))
}

/// The path of the page after this one, whose token is `next`: this page's parameters, the
/// token, and for tables the sort spelled out (the table's default included), so the next page
/// sorts as this one did. The one place a pagination URL is made (JSON's `next_url`, the HTML
/// "Next page" link).
pub fn next_path(ctx: &PageRequest, t: &TableInfo, sort: Option<&Sort>, next: &str) -> String {
    let mut replace: Vec<(&str, Option<String>)> = vec![("_next", Some(next.to_string()))];
    if !t.is_view {
        match sort {
            Some(s) if !s.desc => replace.push(("_sort", Some(s.column.clone()))),
            Some(s) => replace.push(("_sort_desc", Some(s.column.clone()))),
            None => replace.push(("_sort_desc", None)),
        }
    }
    ctx.path_with_replaced(&replace)
}

fn page_size(
    ctx: &PageRequest,
    settings: &Settings,
    meta: Option<&TableMeta>,
) -> Result<usize, AppError> {
    let max = settings.max_returned_rows as usize;
    match ctx.arg("_size") {
        None | Some("") => Ok(meta
            .and_then(|m| m.size)
            .unwrap_or(settings.default_page_size)
            .min(settings.max_returned_rows) as usize),
        Some("max") => Ok(max),
        Some(s) => {
            let n: usize = s
                .parse()
                .map_err(|_| bad_request("_size must be a positive integer"))?;
            if n > max {
                return Err(bad_request(format!("_size must be <= {max}")));
            }
            Ok(n)
        }
    }
}

fn facet_size(
    ctx: &PageRequest,
    settings: &Settings,
    meta: Option<&TableMeta>,
) -> Result<usize, AppError> {
    let max = settings.max_returned_rows as usize;
    // The table's own `facet_size` in metadata (a number or "max"), else the setting.
    let default = match meta.and_then(|m| m.facet_size.as_ref()) {
        Some(serde_json::Value::String(s)) if s == "max" => max,
        Some(serde_json::Value::Number(n)) => n.as_u64().map_or(max, |n| (n as usize).min(max)),
        _ => settings.default_facet_size as usize,
    };
    match ctx.arg("_facet_size") {
        None | Some("") => Ok(default),
        Some("max") => Ok(max),
        Some(s) => Ok(s
            .parse::<usize>()
            .map_err(|_| bad_request("_facet_size must be a positive integer or max"))?
            .min(max)),
    }
}

fn sort_order(
    ctx: &PageRequest,
    t: &TableInfo,
    meta: Option<&TableMeta>,
) -> Result<Option<Sort>, AppError> {
    let sort = |column: &str, desc: bool| Sort {
        column: column.to_string(),
        desc,
    };
    let chosen = match (
        ctx.arg("_sort").filter(|s| !s.is_empty()),
        ctx.arg("_sort_desc").filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => {
            return Err(bad_request(
                "Cannot use _sort and _sort_desc at the same time",
            ))
        }
        (Some(c), None) => sort(c, false),
        (None, Some(c)) => sort(c, true),
        (None, None) => {
            // The table's default order, where metadata gives one that still exists.
            let default = meta.and_then(|m| {
                (m.sort.as_deref().map(|c| sort(c, false)))
                    .or_else(|| m.sort_desc.as_deref().map(|c| sort(c, true)))
            });
            return Ok(default.filter(|s| t.has_column(&s.column)));
        }
    };
    if !t.has_column(&chosen.column) {
        return Err(bad_request(format!(
            "Cannot sort table by {}",
            chosen.column
        )));
    }
    if let Some(allowed) = meta.and_then(|m| m.sortable_columns.as_ref()) {
        if !allowed.contains(&chosen.column) {
            return Err(bad_request(format!(
                "Cannot sort table by {}",
                chosen.column
            )));
        }
    }
    Ok(Some(chosen))
}

fn selected_columns(ctx: &PageRequest, t: &TableInfo) -> Result<Vec<String>, AppError> {
    let keys = if t.is_view { vec![] } else { t.key_columns() };
    let all: Vec<String> = if t.uses_rowid() {
        std::iter::once("rowid".to_string())
            .chain(t.columns.iter().cloned())
            .collect()
    } else {
        t.columns.clone()
    };
    // Datasette's rules: `_col` names any column (keys come first anyway, each column once),
    // `_nocol` any column but a key; a bad name is a 400 listing every bad one.
    let invalid = |param: &str, bad: Vec<&str>| match bad.as_slice() {
        [] => Ok(()),
        _ => Err(bad_request(format!(
            "{param}={} - invalid columns",
            bad.join(", ")
        ))),
    };
    let known = |c: &&str| all.iter().any(|a| a == c);
    let cols = ctx.args_named("_col");
    invalid("_col", cols.iter().copied().filter(|c| !known(c)).collect())?;
    let nocols = ctx.args_named("_nocol");
    let bad_nocols = nocols
        .iter()
        .copied()
        .filter(|c| !known(c) || keys.iter().any(|k| k == c))
        .collect();
    invalid("_nocol", bad_nocols)?;
    let mut out = match cols.is_empty() {
        true => all.clone(),
        false => keys,
    };
    for c in cols {
        if !out.iter().any(|o| o == c) {
            out.push(c.to_string());
        }
    }
    out.retain(|c| !nocols.contains(&c.as_str()));
    Ok(out)
}

/// The facets of metadata (those on columns that exist), then those of the URL; each once.
fn facet_requests(
    ctx: &PageRequest,
    settings: &Settings,
    t: &TableInfo,
    meta: Option<&TableMeta>,
) -> Result<Vec<FacetRequest>, AppError> {
    let mut out: Vec<FacetRequest> = Vec::new();
    let mut push = |kind: FacetKind, column: &str, hideable: bool| {
        if !out.iter().any(|f| f.kind == kind && f.column == column) {
            out.push(FacetRequest {
                kind,
                column: column.to_string(),
                hideable,
            });
        }
    };
    for spec in meta.map(|m| m.facets.as_slice()).unwrap_or_default() {
        if let Ok((kind, column)) = spec.kind_and_column() {
            if t.has_column(column) {
                push(FacetKind::from_name(kind), column, false);
            }
        }
    }
    for kind in FacetKind::ALL {
        for column in ctx.args_named(kind.param()) {
            if !settings.allow_facet {
                return Err(bad_request(
                    "Facets are switched off on this server (allow_facet)",
                ));
            }
            if !t.has_column(column) {
                return Err(bad_request(format!(
                    "Cannot facet on {column}: no such column"
                )));
            }
            push(kind, column, true);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Format;

    fn ctx(path: &str, query: &str) -> PageRequest {
        PageRequest {
            alternate_json: None,
            request: None,
            actor: None,
            format: Format::Json,
            args: crate::urls::parse_query(query),
            path: path.into(),
            base: String::new(),
            origin: "http://127.0.0.1:8001".into(),
            renderer: None,
            started: std::time::Instant::now(),
            show_context: false,
        }
    }

    fn table(is_view: bool) -> TableInfo {
        TableInfo {
            name: "t".into(),
            columns: ["id", "name", "tags", "day"].map(String::from).to_vec(),
            primary_keys: if is_view { vec![] } else { vec!["id".into()] },
            is_view,
            ..TableInfo::default()
        }
    }

    fn parse(query: &str) -> Result<TableRequest, String> {
        TableRequest::parse(
            &ctx("/db/t", query),
            &Settings::default(),
            &table(false),
            None,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let r = parse("").unwrap();
        assert_eq!((r.size, r.facet_size, r.offset), (100, 30, 0));
        assert_eq!(r.columns, ["id", "name", "tags", "day"]);
        assert!(r.sort.is_none() && r.keyset.is_none() && r.first_page && r.unfiltered());
    }

    #[test]
    fn each_bad_parameter_says_what_is_wrong() {
        for (query, message) in [
            ("_size=1001", "_size must be <= 1000"),
            ("_size=-1", "_size must be a positive integer"),
            ("_sort=nope", "Cannot sort table by nope"),
            (
                "_sort=id&_sort_desc=id",
                "Cannot use _sort and _sort_desc at the same time",
            ),
            (
                "_col=nope&_col=id&_col=bad",
                "_col=nope, bad - invalid columns",
            ),
            ("_nocol=nope", "_nocol=nope - invalid columns"),
            ("_nocol=id", "_nocol=id - invalid columns"),
            ("_facet=nope", "Cannot facet on nope: no such column"),
            (
                "_facet_size=x",
                "_facet_size must be a positive integer or max",
            ),
            ("_next=a,b", "Invalid _next token"),
            ("_shape=circle", "Invalid _shape: circle"),
        ] {
            let e = parse(query).expect_err(query);
            assert!(e.contains(message), "{query}: {e}");
        }
    }

    #[test]
    fn columns_facets_and_sizes() {
        let r = parse(
            "_col=name&_facet=name&_facet_array=tags&_facet=name&_facet_size=5000&_sort_desc=day",
        )
        .unwrap();
        assert_eq!(r.columns, ["id", "name"], "keys first, always");
        let kinds: Vec<(FacetKind, &str)> = r
            .facets
            .iter()
            .map(|f| (f.kind, f.column.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [(FacetKind::Column, "name"), (FacetKind::Array, "tags")]
        );
        assert_eq!(r.facet_size, 1000, "capped at max_returned_rows");
        assert!(r.explicit_sort && r.sort.as_ref().unwrap().desc);
        assert_eq!(parse("_nocol=tags").unwrap().columns, ["id", "name", "day"]);
        assert_eq!(
            parse("_col=tags&_col=name&_col=tags&_nocol=name")
                .unwrap()
                .columns,
            ["id", "tags"],
            "each column once, _nocol taking out a _col column"
        );
    }

    #[test]
    fn views_page_by_offset() {
        let c = ctx("/db/v", "_next=200");
        let r = TableRequest::parse(&c, &Settings::default(), &table(true), None).unwrap();
        assert_eq!(
            (r.offset, r.keyset.is_none(), r.first_page),
            (200, true, false)
        );
    }

    #[test]
    fn next_page_paths() {
        let t = table(false);
        let sort = |column: &str, desc| {
            Some(Sort {
                column: column.into(),
                desc,
            })
        };
        let c = ctx("/db/t.json", "name__contains=o&_size=2&_next=9");
        assert_eq!(
            next_path(&c, &t, None, "11"),
            "/db/t.json?name__contains=o&_size=2&_next=11"
        );
        assert_eq!(
            next_path(&c, &t, sort("day", false).as_ref(), "x,11"),
            "/db/t.json?name__contains=o&_size=2&_next=x%2C11&_sort=day"
        );
        let c = ctx("/db/t", "_sort_desc=day");
        assert_eq!(
            next_path(&c, &t, sort("day", true).as_ref(), "x,1"),
            "/db/t?_next=x%2C1&_sort_desc=day"
        );
        // Views keep their own parameters only: the offset says where the next page starts.
        let c = ctx("/db/v", "_sort=day");
        assert_eq!(
            next_path(&c, &table(true), sort("day", false).as_ref(), "100"),
            "/db/v?_sort=day&_next=100"
        );
    }

    #[test]
    fn the_filter_form_becomes_a_filter_url() {
        let c = ctx(
            "/db/t",
            "_filter_column=name&_filter_op=contains&_filter_value=o&_next=5",
        );
        assert_eq!(
            filter_form_redirect(&c).as_deref(),
            Some("/db/t?name__contains=o")
        );
        let c = ctx(
            "/db/t",
            "_filter_column=name&_filter_op=isnull&_filter_value=",
        );
        assert_eq!(
            filter_form_redirect(&c).as_deref(),
            Some("/db/t?name__isnull=1")
        );
        assert_eq!(filter_form_redirect(&ctx("/db/t", "name=x")), None);
    }
}
