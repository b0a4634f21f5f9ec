//! Escaping text for HTML pages a plugin writes itself.

/// HTML-escapes text for element content and quoted attributes, with the entities Jinja's
/// (markupsafe's) escaping and the server's pages use.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
