//! HTML: responses, escaping, the chrome around every page, and the error page. Each page's
//! own adapter from its data to its template lives with its view (`views::html`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use md5::{Digest, Md5};

/// Text escaped exactly as the templates escape their values, so every page escapes alike.
pub fn escape(s: &str) -> String {
    use askama::filters::Escaper;
    let mut out = String::with_capacity(s.len());
    // Writing into a String cannot fail.
    let _ = Markupsafe.write_escaped_str(&mut out, s);
    out
}

/// The templates' HTML escaper (askama.toml): the five characters that matter in text and
/// in quoted attributes, written as Python's markupsafe writes them for Datasette.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markupsafe;

impl askama::filters::Escaper for Markupsafe {
    fn write_escaped_str<W: std::fmt::Write>(&self, mut dest: W, string: &str) -> std::fmt::Result {
        let mut last = 0;
        for (i, c) in string.char_indices() {
            let entity = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&#34;",
                '\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&string[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&string[last..])
    }
}

/// A message for the visitor, shown once on the next page (a form's outcome).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub text: String,
    /// `info`, `warning` or `error`: the page styles it with `message-KIND`.
    pub kind: String,
}

/// What every page shows around its content.
pub struct Chrome {
    pub site_title: String,
    pub actor_id: Option<String>,
    /// Plugins' links for the header, e.g. "Sign in".
    pub menu_links: Vec<datasette_plugin_api::MenuLink>,
    /// metadata.json's and plugins' stylesheets and scripts for this page.
    pub css_urls: Vec<crate::config::AssetUrl>,
    pub js_urls: Vec<crate::config::AssetUrl>,
    /// Plugins' scripts to run at the end of the page, made safe to put in a `<script>`.
    pub body_scripts: Vec<String>,
    /// Plugins' items for this page's actions menu (a table's, a database's, a row's).
    pub actions: Vec<datasette_plugin_api::MenuLink>,
    /// The absolute URL of the page's JSON, for `<link rel="alternate">`.
    pub alternate_json: Option<String>,
    /// The site's front page: `base_url`, which other site links in templates start with.
    pub home: String,
    /// What the visitor's last form did, shown once.
    pub messages: Vec<Message>,
    /// Datasette's `<body>` classes: the kind of page, its database and table or query.
    pub body_class: String,
    /// A "Log out" button: the actor signed in through this server's session, and no plugin
    /// offers a sign-out of its own.
    pub show_logout: bool,
}

impl Chrome {
    /// For the stylesheet's link: see [`super::assets::css_version`].
    pub fn css_version(&self) -> &'static str {
        super::assets::css_version()
    }
}

/// Datasette's `to_css_class`: a name that is a valid class stays as it is; any other is
/// stripped to one and given the first 6 hex digits of its MD5, so two names never collide.
pub fn css_class(name: &str) -> String {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        return name.to_string();
    }
    let digest = Md5::digest(name.as_bytes());
    let suffix = crate::urls::hex(&digest[..3]);
    let stripped = name.trim_start_matches('_').trim_start_matches('-');
    let joined = stripped.split_whitespace().collect::<Vec<_>>().join("-");
    let kept: String = joined
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    match kept.is_empty() {
        true => suffix,
        false => format!("{kept}-{suffix}"),
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

/// A template rendered to a page's text, refused once it grows past the answer limit.
pub fn render<T: Template>(t: &T) -> Result<String, super::RenderError> {
    let mut out = super::budget::Capped::with_capacity(T::SIZE_HINT);
    let rendered = t.render_into(&mut out);
    let bytes = out.finish_after(rendered.map_err(|e| format!("template error: {e}")))?;
    String::from_utf8(bytes).map_err(|e| super::RenderError::Encoding(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_classes_as_datasette_makes_them() {
        assert_eq!(css_class("content"), "content");
        assert_eq!(css_class("col-1_x"), "col-1_x");
        // Not valid as they are: stripped, with an MD5 suffix.
        let spaced = css_class("name with . and spaces");
        assert!(spaced.starts_with("name-with--and-spaces-"), "{spaced}");
        assert_eq!(spaced.len(), "name-with--and-spaces-".len() + 6);
        assert!(css_class("_city_id").starts_with("city_id-"));
        assert_ne!(css_class("a b"), css_class("a-b"));
        assert_eq!(css_class("é").len(), 6, "nothing left but the suffix");
    }
}
