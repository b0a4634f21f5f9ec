//! HTML: responses, escaping, the chrome around every page, and the error page. Each page's
//! own adapter from its data to its template lives with its view (`views::html`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

/// Text escaped exactly as askama escapes template values, so every page escapes alike.
pub fn escape(s: &str) -> String {
    use askama::filters::Escaper;
    let mut out = String::with_capacity(s.len());
    // Writing into a String cannot fail.
    let _ = askama::filters::Html.write_escaped_str(&mut out, s);
    out
}

/// What every page shows around its content.
pub struct Chrome {
    pub site_title: String,
    pub actor_id: Option<String>,
    /// Plugins' links for the header, e.g. "Sign in".
    pub menu_links: Vec<datasette_plugin_api::MenuLink>,
    /// Plugins' stylesheets and scripts for this page.
    pub css_urls: Vec<String>,
    pub js_urls: Vec<String>,
    /// Plugins' scripts to run at the end of the page, made safe to put in a `<script>`.
    pub body_scripts: Vec<String>,
    /// Plugins' items for this page's actions menu (a table's, a database's, a row's).
    pub actions: Vec<datasette_plugin_api::MenuLink>,
    /// The absolute URL of the page's JSON, for `<link rel="alternate">`.
    pub alternate_json: Option<String>,
    /// The site's front page: `base_url`, which other site links in templates start with.
    pub home: String,
    /// What the visitor's last form did, shown once.
    pub messages: Vec<crate::views::messages::Message>,
}

impl Chrome {
    /// For the stylesheet's link: see [`super::assets::css_version`].
    pub fn css_version(&self) -> &'static str {
        super::assets::css_version()
    }
}

/// JavaScript made safe to stand inside `<script>…</script>`: nothing in it can close the
/// element (`</script`, `<!--`).
pub fn script_text(js: &str) -> String {
    js.replace("</", "<\\/").replace("<!--", "<\\!--")
}

pub fn ok(body: String) -> HttpResponse {
    with_status(StatusCode::OK, body)
}

pub fn with_status(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// A template rendered to a page's text.
pub fn render(t: &impl Template) -> askama::Result<String> {
    t.render()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    chrome: &'a Chrome,
    status: u16,
    title: String,
    message: String,
}

/// The page for an error: `title` (else the status's own name) and `message`.
pub fn error_page(
    status: StatusCode,
    title: Option<&str>,
    message: &str,
    chrome: &Chrome,
) -> HttpResponse {
    let t = ErrorTemplate {
        chrome,
        status: status.as_u16(),
        title: title
            .map(str::to_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_string()),
        message: message.to_string(),
    };
    match t.render() {
        Ok(html) => with_status(status, html),
        Err(e) => {
            tracing::error!("cannot render error page: {e}");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(message.to_string())
        }
    }
}
