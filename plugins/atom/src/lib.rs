//! `datasette-atom`: an `.atom` output renderer, as Datasette's plugin of the same name. A
//! table, view or query whose rows have `atom_id`, `atom_title` and `atom_updated` (and
//! optionally `atom_content`, `atom_content_html`, sanitised, and `atom_link`) is an Atom feed
//! at the same URL with `.atom`.

use datasette_plugin_api::{export_plugin, Host, OutputData, OutputRenderer, Plugin, Response};
use serde_json::Value;

pub struct Atom;

const REQUIRED: [&str; 3] = ["atom_id", "atom_title", "atom_updated"];

/// Text made safe for XML content and attributes: escaped as for HTML, without the control
/// characters XML 1.0 cannot carry at all.
fn xml(s: &str) -> String {
    let allowed = |c: &char| (*c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r');
    datasette_plugin_api::html::escape(&s.chars().filter(allowed).collect::<String>())
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The feed for rows that have the columns it needs.
pub fn feed(data: &OutputData) -> Result<String, String> {
    let at = |name: &str| data.columns.iter().position(|c| c == name);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| at(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "An Atom feed needs the columns atom_id, atom_title and atom_updated; missing: {}",
            missing.join(", ")
        ));
    }
    let cell = |row: &[Value], name: &str| text(at(name).and_then(|i| row.get(i)));
    let request = &data.page.request;
    let url = format!("{}{}", request.origin, request.path_and_query());
    let title = data
        .page
        .table
        .clone()
        .or_else(|| data.page.database.clone())
        .unwrap_or_else(|| "datasette-rs".into());
    let updated = data
        .rows
        .iter()
        .map(|r| cell(r, "atom_updated"))
        .max()
        .unwrap_or_default();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{}</title>\n<id>{}</id>\n<updated>{}</updated>\n<link href=\"{}\" rel=\"self\"/>\n",
        xml(&title),
        xml(&url),
        xml(&updated),
        xml(&url)
    );
    let mut sanitised = 0;
    for row in &data.rows {
        out.push_str(&format!(
            "<entry>\n<id>{}</id>\n<title>{}</title>\n<updated>{}</updated>\n",
            xml(&cell(row, "atom_id")),
            xml(&cell(row, "atom_title")),
            xml(&cell(row, "atom_updated"))
        ));
        let html = at("atom_content_html").map(|_| cell(row, "atom_content_html"));
        let within = |h: &&str| sanitisable(h) && sanitised + h.len() <= MAX_FEED_HTML_BYTES;
        if let Some(html) = html.as_deref().filter(within) {
            sanitised += html.len();
            out.push_str(&format!(
                "<content type=\"html\">{}</content>\n",
                xml(&ammonia::clean(html))
            ));
        } else if let Some(text) = html {
            // Too long or too deeply nested to sanitise in bounded time: sent as text.
            out.push_str(&format!(
                "<content type=\"text\">{}</content>\n",
                xml(&text)
            ));
        } else if at("atom_content").is_some() {
            out.push_str(&format!(
                "<content type=\"text\">{}</content>\n",
                xml(&cell(row, "atom_content"))
            ));
        }
        let link = cell(row, "atom_link");
        if link.starts_with("https://") || link.starts_with("http://") {
            out.push_str(&format!("<link href=\"{}\"/>\n", xml(&link)));
        }
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    Ok(out)
}

/// The longest `atom_content_html` sanitised, the most tags and entities in it, and the most
/// bytes sanitised for one feed: the sanitiser's time grows faster than the length with
/// nesting and runs of `&`, so past any of them the content is sent as text.
const MAX_HTML_BYTES: usize = 64 << 10;
const MAX_HTML_TAGS: usize = 1024;
const MAX_FEED_HTML_BYTES: usize = 1 << 20;

fn sanitisable(html: &str) -> bool {
    html.len() <= MAX_HTML_BYTES && html.matches(['<', '&']).count() <= MAX_HTML_TAGS
}

impl Plugin for Atom {
    fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
        Ok(Atom)
    }

    fn register_output_renderer(&self) -> Vec<OutputRenderer> {
        vec![OutputRenderer {
            extension: "atom".into(),
            link_columns: Some(REQUIRED.map(String::from).to_vec()),
        }]
    }

    fn render_output(&self, data: &OutputData, _host: &Host) -> Response {
        match feed(data) {
            Ok(body) => Response::bytes(
                200,
                "application/atom+xml; charset=utf-8",
                body.into_bytes(),
            ),
            Err(message) => Response::text(400, &message),
        }
    }
}

export_plugin!(Atom: register_output_renderer, render_output);
