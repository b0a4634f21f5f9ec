//! Pages drawn through a site's own templates (`--template-dir`): a built-in page the site
//! overrides or extends, and the site's custom pages (`pages/…`). Without a template
//! directory, and for a page the site neither overrides nor wraps in its own `base.html`,
//! the built-in askama page is all there is.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use actix_web::HttpResponse;
use minijinja::{context, Value};

use crate::app::{AppState, View};
use crate::error::AppError;
use crate::render::html::Chrome;
use crate::render::jinja::{Reply, ReplySlot, Urls, UserTemplates};
use crate::views::PageRequest;

/// What a site's template places of a built-in page: askama's rendering of each block.
pub struct Blocks {
    pub title: String,
    pub content: String,
    pub footer: String,
}

/// A built-in page's askama template, whose blocks a site's templates can place.
pub trait PageBlocks: askama::Template {
    fn blocks(&self) -> askama::Result<Blocks>;
    fn chrome(&self) -> &Chrome;
    /// The site's `_table` partial, rendered, in place of the built-in grid of rows.
    fn set_grid(&mut self, html: String);
}

/// Makes a page's askama template (with `blocks = ["title", "content", "footer"]`) one a
/// site's templates can extend; with `grid`, its `grid` field takes the site's partial.
macro_rules! page_blocks {
    ($t:ident $(, $grid:ident)?) => {
        impl $crate::views::site_templates::PageBlocks for $t<'_> {
            fn blocks(&self) -> askama::Result<$crate::views::site_templates::Blocks> {
                use askama::Template;
                Ok($crate::views::site_templates::Blocks {
                    title: self.as_title().render()?,
                    content: self.as_content().render()?,
                    footer: self.as_footer().render()?,
                })
            }
            fn chrome(&self) -> &$crate::render::html::Chrome {
                self.chrome
            }
            fn set_grid(&mut self, html: String) {
                let _ = &html;
                $(self.$grid = Some(html);)?
            }
        }
    };
}
pub(crate) use page_blocks;

/// A built-in page's template names, most specific first (Datasette's lookup order), and
/// those of its grid of rows (`_table…`) when it has one.
pub struct Names {
    pub page: Vec<String>,
    pub grid: Vec<String>,
}

impl Names {
    /// The names of a page of a table's rows, `table` or `row`, and of its grid:
    /// `table-DB-TABLE.html`, `table.html`; `_table-table-DB-TABLE.html`,
    /// `_table-DB-TABLE.html`, `_table.html`.
    pub fn of_rows(page: &str, db: &str, table: &str) -> Names {
        use crate::render::jinja::named;
        Names {
            page: vec![named(page, &[db, table]), format!("{page}.html")],
            grid: vec![
                named("_table", &[page, db, table]),
                named("_table", &[db, table]),
                "_table.html".into(),
            ],
        }
    }
}

/// A built-in page as HTML. Through the site's templates: the first of its names the site
/// has, else the built-in page inside the site's `base.html`; its grid through the site's
/// `_table` partial. Without any of those, askama's page as it is. `context` gives the
/// variables Datasette documents for the page. Either way the page ends with Datasette's
/// comment naming the templates considered, the one used starred.
pub fn draw<T: PageBlocks>(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    names: &Names,
    page: &mut T,
    context: impl FnOnce(&T, Vars) -> Value,
) -> Result<String, AppError> {
    let site = state.settings.templates.as_deref();
    // The site's own template, else the built-in page: the last name's.
    let chosen = site.and_then(|s| s.pick(&names.page));
    let used = chosen.or(names.page.last().map(String::as_str));
    let considered = marked(&names.page, used);
    let html = match site {
        Some(site) => through_site(state, ctx, view, site, names, page, context)?,
        None => None,
    };
    let html = match html {
        Some(html) => html,
        None => crate::views::templates::render_template(page)?,
    };
    Ok(format!(
        "{html}\n<!-- Templates considered: {} -->\n",
        considered.join(", ")
    ))
}

/// The page through the site's templates, or `None` when they change nothing of it but its
/// grid (which is then set in `page`).
fn through_site<T: PageBlocks>(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    site: &UserTemplates,
    names: &Names,
    page: &mut T,
    context: impl FnOnce(&T, Vars) -> Value,
) -> Result<Option<String>, AppError> {
    let chosen = site.pick(&names.page);
    let grid = site.pick(&names.grid);
    let wrapped = chosen.is_some() || site.has("base.html");
    if !wrapped && grid.is_none() {
        return Ok(None);
    }
    let used = chosen.or(names.page.last().map(String::as_str));
    let vars = site_vars(Vars::new(site), state, ctx, page.chrome(), view)
        .var("select_templates", || {
            Value::from(marked(&names.page, used))
        });
    let values = context(page, vars);
    if let Some(grid) = grid {
        page.set_grid(render(site, grid, values.clone())?);
    }
    if !wrapped {
        return Ok(None);
    }
    let blocks = page
        .blocks()
        .map_err(|e| AppError::Internal(format!("cannot render the page: {e}")))?;
    let values = context! {
        _blocks => context! {
            title => Value::from_safe_string(blocks.title),
            content => Value::from_safe_string(blocks.content),
            footer => Value::from_safe_string(blocks.footer),
        },
        ..values
    };
    // Not the site's own: the built-in page's stub, which extends the site's base.html.
    render(site, used.unwrap_or_default(), values).map(Some)
}

/// The names, the one chosen starred, as Datasette lists them.
fn marked(names: &[String], chosen: Option<&str>) -> Vec<String> {
    names
        .iter()
        .map(|n| match Some(n.as_str()) == chosen {
            true => format!("*{n}"),
            false => n.clone(),
        })
        .collect()
}

/// A template rendered, or a 500 that names the file and line (and the log says so too).
fn render(site: &UserTemplates, name: &str, values: Value) -> Result<String, AppError> {
    site.render(name, values)
        .map_err(|e| failed(site, name, &e))
}

fn failed(site: &UserTemplates, name: &str, e: &minijinja::Error) -> AppError {
    let what = site.describe(e);
    tracing::error!("template {name}: {what}");
    AppError::Internal(format!("The template {name} failed: {what}"))
}

/// The variables of a page for a site's templates, each worked out only when one of the
/// site's templates names it: a site with a `base.html` alone costs a table page no copy of
/// its rows. Later variables win over earlier ones of the same name; plugins'
/// `extra_template_vars` add to them and replace none.
pub struct Vars<'a> {
    site: &'a UserTemplates,
    offered: HashSet<&'static str>,
    values: BTreeMap<String, Value>,
    extra: serde_json::Map<String, serde_json::Value>,
}

/// Names the templates may use that no page's variables give: minijinja's functions, a
/// custom page's, and the built-in pages' own.
const GIVEN: &[&str] = &[
    "_blocks",
    "_reply",
    "range",
    "dict",
    "debug",
    "namespace",
    "custom_status",
    "custom_header",
    "custom_redirect",
    "raise_404",
];

impl<'a> Vars<'a> {
    fn new(site: &'a UserTemplates) -> Vars<'a> {
        Vars {
            site,
            offered: HashSet::new(),
            values: BTreeMap::new(),
            extra: serde_json::Map::new(),
        }
    }

    /// `name`, made by `make` if the site's templates name it.
    pub fn var(mut self, name: &'static str, make: impl FnOnce() -> Value) -> Self {
        self.offered.insert(name);
        if self.site.uses(name) {
            self.values.insert(name.to_string(), make());
        }
        self
    }

    /// The variables, with the keys of the page's JSON (`data`) that no variable gives, when
    /// the site's templates name one of them.
    pub fn data(mut self, data: &impl serde::Serialize) -> Value {
        let unexplained = self.site.used.iter().any(|u| {
            !self.offered.contains(u.as_str())
                && !GIVEN.contains(&u.as_str())
                && !self.extra.contains_key(u)
        });
        if unexplained {
            if let Ok(serde_json::Value::Object(keys)) = serde_json::to_value(data) {
                for (k, v) in keys {
                    self.values
                        .entry(k)
                        .or_insert_with(|| Value::from_serialize(v));
                }
            }
        }
        self.done()
    }

    /// The variables as a context.
    pub fn done(mut self) -> Value {
        for (k, v) in std::mem::take(&mut self.extra) {
            self.values
                .entry(k)
                .or_insert_with(|| Value::from_serialize(v));
        }
        Value::from(self.values)
    }
}

/// What every template of the site may use: Datasette's names for the chrome, the actor, the
/// request and the links, and the plugins' `extra_template_vars`.
fn site_vars<'a>(
    vars: Vars<'a>,
    state: &AppState,
    ctx: &PageRequest,
    chrome: &Chrome,
    view: View<'_>,
) -> Vars<'a> {
    let assets = |list: &[crate::config::AssetUrl]| -> Value {
        list.iter()
            .map(|a| context! { url => a.url, sri => a.sri, module => a.module })
            .collect::<Vec<_>>()
            .into()
    };
    let mut vars = vars
        .var("urls", || {
            Value::from_object(Urls {
                base: ctx.base.clone(),
            })
        })
        .var("base_url", || Value::from(chrome.home.clone()))
        .var("site_title", || Value::from(chrome.site_title.clone()))
        .var("app_css_hash", || Value::from(chrome.css_version()))
        .var("actor", || Value::from_serialize(&ctx.actor))
        .var("actor_id", || Value::from_serialize(&chrome.actor_id))
        .var("request", || request_value(ctx))
        .var("extra_css_urls", || assets(&chrome.css_urls))
        .var("extra_js_urls", || assets(&chrome.js_urls))
        .var("body_scripts", || {
            let scripts = chrome.body_scripts.iter();
            let scripts = scripts.map(|s| context! { script => s, module => false });
            Value::from(scripts.collect::<Vec<_>>())
        })
        .var("menu_links", || {
            let links = Value::from_serialize(&chrome.menu_links);
            Value::from_function(move || links.clone())
        })
        .var("show_messages", || {
            let messages = chrome.messages.iter();
            let messages = messages.map(|m| context! { text => m.text, kind => m.kind });
            let messages: Vec<Value> = messages.collect();
            Value::from_function(move || messages.clone())
        })
        .var("show_logout", || Value::from(chrome.show_logout))
        .var("actions", || Value::from_serialize(&chrome.actions))
        .var("body_class", || Value::from(chrome.body_class.clone()))
        .var("alternate_url_json", || {
            Value::from_serialize(&chrome.alternate_json)
        })
        .var("datasette_version", || {
            Value::from(env!("CARGO_PKG_VERSION"))
        })
        // As `/-/metadata` shows it to this actor: nothing they may not see, no plugins'
        // secrets.
        .var("metadata", || {
            Value::from_serialize(super::special::visible_metadata(state, ctx))
        });
    let page = state.page_context(&ctx.actor, &ctx.here(), view);
    vars.extra = state.plugins.extra_template_vars(&page);
    vars
}

/// Datasette's `request`: its path, query and arguments.
fn request_value(ctx: &PageRequest) -> Value {
    let query = crate::urls::urlencode(&ctx.args);
    let full_path = match query.is_empty() {
        true => ctx.link(&ctx.path),
        false => format!("{}?{query}", ctx.link(&ctx.path)),
    };
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &ctx.args {
        args.entry(k.clone()).or_insert_with(|| v.clone());
    }
    context! {
        path => ctx.link(&ctx.path),
        full_path => full_path,
        query_string => query,
        args => args,
        url => ctx.absolute(&full_path),
        host => ctx.origin.split("://").nth(1).unwrap_or_default(),
        scheme => ctx.origin.split("://").next().unwrap_or_default(),
    }
}

/// A custom page (`pages/NAME.html`) for a path nothing else answers, rendered for an actor
/// who may view the instance; `None` when the site has no page for it.
pub async fn custom_page(
    state: &AppState,
    ctx: &PageRequest,
) -> Option<Result<HttpResponse, AppError>> {
    let site = state.settings.templates.as_ref()?;
    let path = crate::urls::percent_decode(&ctx.path)?;
    let (page, params) = site.page_for(&path)?;
    if let Err(e) = super::page::admit(state, &ctx.actor, super::page::Gate::Instance).await {
        return Some(Err(e));
    }
    let view = View {
        kind: "page",
        ..View::default()
    };
    let chrome = crate::views::templates::page_chrome(state, ctx, view);
    let slot = Arc::new(ReplySlot::default());
    let mut vars = site_vars(Vars::new(site), state, ctx, &chrome, view)
        .var("view_name", || Value::from("page"));
    for (name, value) in params {
        vars.values.insert(name, Value::from(value));
    }
    vars.values
        .insert("_reply".into(), Value::from_dyn_object(slot.clone()));
    let values = vars.done();
    let rendered = site.render(&page.template, values);
    let reply = std::mem::take(&mut *slot.0.lock().unwrap_or_else(|e| e.into_inner()));
    Some(answer(site, &page.template, rendered, reply))
}

/// A custom page's answer: what it rendered, with the status, headers or redirect it asked.
fn answer(
    site: &UserTemplates,
    name: &str,
    rendered: Result<String, minijinja::Error>,
    reply: Reply,
) -> Result<HttpResponse, AppError> {
    if let Some(message) = reply.not_found {
        return Err(AppError::NotFound(message));
    }
    let body = rendered.map_err(|e| failed(site, name, &e))?;
    if let Some((location, code)) = reply.redirect {
        let status = actix_web::http::StatusCode::from_u16(code)
            .unwrap_or(actix_web::http::StatusCode::FOUND);
        return Ok(HttpResponse::build(status)
            .insert_header(("Location", location))
            .finish());
    }
    let status = reply
        .status
        .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    let mut r = HttpResponse::build(status);
    r.content_type("text/html; charset=utf-8");
    for (name, value) in reply.headers {
        // A header the page names wrongly is left out rather than failing the page.
        if let (Ok(n), Ok(v)) = (
            actix_web::http::header::HeaderName::try_from(name.as_str()),
            actix_web::http::header::HeaderValue::try_from(value.as_str()),
        ) {
            r.insert_header((n, v));
        }
    }
    Ok(r.body(body))
}

/// Datasette's `display_columns`: the page's headings.
pub fn display_columns(headers: &[crate::views::templates::Header]) -> Value {
    let columns = headers.iter().map(|h| {
        context! {
            name => h.name,
            type => h.kind,
            notnull => u8::from(h.not_null),
            is_pk => h.is_pk,
            sortable => h.sort_href.is_some(),
            sort_url => h.sort_href,
            arrow => h.arrow,
            description => h.description,
        }
    });
    Value::from(columns.collect::<Vec<_>>())
}

/// Datasette's `display_rows`: the page's rows as drawn, each cell with its raw value
/// (`raw(row, column)`).
pub fn display_rows(
    headers: &[crate::views::templates::Header],
    rows: &[Vec<crate::views::cells::CellView>],
    raw: impl Fn(usize, &str) -> serde_json::Value,
) -> Value {
    use crate::render::jinja::{DisplayCell, DisplayRow};
    let rows = rows.iter().enumerate().map(|(r, cells)| {
        let cells = cells
            .iter()
            .zip(headers)
            .map(|(cell, h)| DisplayCell {
                column: h.name.clone(),
                html: cell.html.to_string(),
                raw: raw(r, &h.name),
                value_type: cell.kind,
            })
            .collect();
        Value::from_object(DisplayRow { cells })
    });
    Value::from(rows.collect::<Vec<_>>())
}

/// Rows as Datasette's templates index them: by column name.
pub fn row_dicts(columns: &[String], rows: &[Vec<crate::db::Cell>]) -> Value {
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.clone(), Value::from_serialize(v)))
                .collect::<BTreeMap<String, Value>>()
        })
        .collect::<Vec<_>>()
        .into()
}
