//! Pages drawn through a site's own templates (`--template-dir`): a built-in page the site
//! overrides or extends, and the site's custom pages (`pages/…`). Without a template
//! directory, and for a page the site neither overrides nor wraps in its own `base.html`,
//! the built-in askama page is all there is.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use minijinja::value::merge_maps;
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

/// A built-in page as HTML. Through the site's templates: the first of its names the site
/// has, else the built-in page inside the site's `base.html`; its grid through the site's
/// `_table` partial. Without any of those, askama's page as it is. `context` gives the
/// variables Datasette documents for the page.
pub fn draw<T: PageBlocks>(
    state: &AppState,
    ctx: &PageRequest,
    view: View<'_>,
    names: &Names,
    page: &mut T,
    context: impl FnOnce(&T) -> Value,
) -> Result<String, AppError> {
    let Some(site) = &state.settings.templates else {
        return crate::views::templates::render_template(page);
    };
    let chosen = site.pick(&names.page);
    let grid = site.pick(&names.grid);
    let wrapped = chosen.is_some() || site.has("base.html");
    if !wrapped && grid.is_none() {
        return crate::views::templates::render_template(page);
    }
    // Earlier maps win: the page's own variables over the site's and the plugins'.
    let values = merge_maps([
        context! { select_templates => marked(&names.page, chosen) },
        context(page),
        site_context(state, ctx, page.chrome(), view),
    ]);
    if let Some(grid) = grid {
        page.set_grid(render(site, grid, values.clone())?);
    }
    if !wrapped {
        return crate::views::templates::render_template(page);
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
    let name = chosen.or(names.page.last().map(String::as_str));
    let html = render(site, name.unwrap_or_default(), values)?;
    let list = marked(&names.page, chosen).join(", ");
    Ok(format!("{html}\n<!-- Templates considered: {list} -->\n"))
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

/// What every template of the site sees: Datasette's names for the chrome, the actor, the
/// request and the links.
/// Plugins' `extra_template_vars` come last: they add variables, and change none of these.
fn site_context(state: &AppState, ctx: &PageRequest, chrome: &Chrome, view: View<'_>) -> Value {
    let assets = |list: &[crate::config::AssetUrl]| -> Vec<Value> {
        list.iter()
            .map(|a| context! { url => a.url, sri => a.sri, module => a.module })
            .collect()
    };
    let links = chrome.menu_links.clone();
    let messages: Vec<Value> = chrome
        .messages
        .iter()
        .map(|m| context! { text => m.text, kind => m.kind })
        .collect();
    context! {
        urls => Value::from_object(Urls { base: ctx.base.clone() }),
        base_url => chrome.home,
        site_title => chrome.site_title,
        app_css_hash => chrome.css_version(),
        actor => Value::from_serialize(&ctx.actor),
        actor_id => chrome.actor_id,
        request => request_value(ctx),
        extra_css_urls => assets(&chrome.css_urls),
        extra_js_urls => assets(&chrome.js_urls),
        body_scripts => chrome.body_scripts.iter()
            .map(|s| context! { script => s, module => false })
            .collect::<Vec<_>>(),
        menu_links => Value::from_function(move || Value::from_serialize(&links)),
        show_messages => Value::from_function(move || messages.clone()),
        show_logout => chrome.show_logout,
        actions => Value::from_serialize(&chrome.actions),
        body_class => chrome.body_class,
        alternate_url_json => chrome.alternate_json,
        datasette_version => env!("CARGO_PKG_VERSION"),
        // As `/-/metadata` shows it to this actor: nothing they may not see, no plugins'
        // secrets.
        metadata => Value::from_serialize(super::special::visible_metadata(state, ctx)),
        ..Value::from_serialize(
            state
                .plugins
                .extra_template_vars(&state.page_context(&ctx.actor, &ctx.here(), view)),
        )
    }
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
    let values = merge_maps([
        context! { _reply => Value::from_dyn_object(slot.clone()), view_name => "page" },
        Value::from_serialize(&params),
        site_context(state, ctx, &chrome, view),
    ]);
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

/// Datasette's `display_columns` and `display_rows`: the page's headings, and its rows as
/// drawn, each cell with its raw value (`raw(row, column)`).
pub fn display(
    headers: &[crate::views::templates::Header],
    rows: &[Vec<crate::views::cells::CellView>],
    raw: impl Fn(usize, &str) -> serde_json::Value,
) -> (Value, Value) {
    use crate::render::jinja::{DisplayCell, DisplayRow};
    let columns: Vec<Value> = headers
        .iter()
        .map(|h| {
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
        })
        .collect();
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(r, cells)| {
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
        })
        .collect();
    (Value::from(columns), Value::from(rows))
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
