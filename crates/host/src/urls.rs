//! URL encodings that Datasette clients depend on: tilde encoding of names and primary keys in
//! paths, and Python-style query-string encoding for the URLs we hand back.

/// Bytes as lowercase hex digits (digests in ETags, hashes and file names).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Datasette's tilde encoding (`A-Za-z0-9_-` kept, space `+`, every other byte `~XX`): the
/// SDK's, so plugins build the same links.
pub use datasette_plugin_api::urlencoded::tilde_encode;

/// Reverses [`tilde_encode`]. A `~` not followed by two hex digits stays as it is, as in
/// Datasette. `None` when the decoded bytes are not UTF-8.
pub fn tilde_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'~' {
            let hi = bytes.get(i + 1).copied().and_then(hex_val);
            let lo = bytes.get(i + 2).copied().and_then(hex_val);
            if let (Some(h), Some(l)) = (hi, lo) {
                out.push((h << 4) | l);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Percent-decodes one path segment (`+` stays `+`). `None` for invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|d| d.into_owned())
}

/// What Python's `quote_plus` leaves as it is.
const PYTHON_SAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// Python's `urllib.parse.quote_plus`: what `urlencode` does to each key and value, so the
/// URLs we build match Datasette's byte for byte.
pub fn quote_plus(s: &str) -> String {
    // A literal "%20" in `s` is encoded as "%2520", so only spaces become "+".
    percent_encoding::utf8_percent_encode(s, PYTHON_SAFE)
        .to_string()
        .replace("%20", "+")
}

/// The ordered `key=value` pairs of a query string, decoded as a form would be (invalid UTF-8
/// becomes U+FFFD, as browsers do). Plugins decode theirs with the same function.
pub use datasette_plugin_api::urlencoded::parse as parse_query;

/// Whether a query string flag's value turns it on: anything but empty, `0`, `off` or `false`.
pub fn flag_on(value: &str) -> bool {
    !matches!(value, "" | "0" | "off" | "false")
}

/// Encodes pairs as Python's `urlencode` does.
pub fn urlencode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&quote_plus(k));
        out.push('=');
        out.push_str(&quote_plus(v));
    }
    out
}

/// `path?query`, or just `path` when there are no pairs.
pub fn path_with_query(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", urlencode(pairs))
    }
}

/// Whether a plugin's `href` may go into a page: a path or relative URL on this site, or an
/// `http(s)://` URL. Never a scheme that runs something (`javascript:`, `data:`), nor `//host`,
/// which a browser reads as another site.
pub fn is_safe_link(href: &str) -> bool {
    // A backslash reads as a slash to browsers: `\\host` is `//host`.
    if href.is_empty()
        || href
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return true;
    }
    let before_path = href.split(['/', '?', '#']).next().unwrap_or("");
    !href.starts_with("//") && !href.starts_with("/\\") && !before_path.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tilde_matches_datasette() {
        assert_eq!(
            tilde_encode("2024-01-02T12:00:00"),
            "2024-01-02T12~3A00~3A00"
        );
        assert_eq!(tilde_encode("/foo/bar"), "~2Ffoo~2Fbar");
        assert_eq!(tilde_encode("a b.c"), "a+b~2Ec");
        assert_eq!(tilde_encode("ü"), "~C3~BC");
        assert_eq!(tilde_decode("~2Ffoo~2Fbar").unwrap(), "/foo/bar");
        assert_eq!(tilde_decode("a+b").unwrap(), "a b");
        assert_eq!(tilde_decode("~zz~").unwrap(), "~zz~");
        assert_eq!(tilde_decode("%2F").unwrap(), "%2F");
        assert!(tilde_decode("~FF").is_none());
    }

    #[test]
    fn quote_plus_matches_python() {
        assert_eq!(quote_plus("4981425,305"), "4981425%2C305");
        assert_eq!(quote_plus("1,2024-01-02T12~3A00"), "1%2C2024-01-02T12~3A00");
        assert_eq!(quote_plus("España"), "Espa%C3%B1a");
        assert_eq!(quote_plus("a b"), "a+b");
    }

    #[test]
    fn parse_query_decodes_forms() {
        let q = parse_query("sql=select+1%2C2&x=&y&_next=a~3A");
        assert_eq!(q[0], ("sql".into(), "select 1,2".into()));
        assert_eq!(q[1], ("x".into(), "".into()));
        assert_eq!(q[2], ("y".into(), "".into()));
        assert_eq!(q[3], ("_next".into(), "a~3A".into()));
        assert_eq!(parse_query("a=%FF")[0].1, "\u{FFFD}");
    }

    proptest! {
        #[test]
        fn tilde_round_trips(s in any::<String>()) {
            let enc = tilde_encode(&s);
            prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-+~".contains(&b)));
            prop_assert_eq!(tilde_decode(&enc).unwrap(), s);
        }

        #[test]
        fn tilde_decode_never_panics(s in any::<String>()) {
            let _ = tilde_decode(&s);
        }

        #[test]
        fn query_round_trips(k in "[^\u{0}]*", v in any::<String>()) {
            let pairs = vec![(k, v)];
            prop_assert_eq!(parse_query(&urlencode(&pairs)), pairs);
        }
    }

    #[test]
    fn safe_links() {
        for ok in [
            "/-/login",
            "/db/t?x=1",
            "?next=/x",
            "page#top",
            "https://a.example/x",
            "HTTP://a.example",
        ] {
            assert!(is_safe_link(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:x",
            "data:text/html,x",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            " /x",
            "java\tscript:x",
            "",
            "vbscript:x",
        ] {
            assert!(!is_safe_link(bad), "{bad}");
        }
    }
}
