//! `application/x-www-form-urlencoded`: query strings and form bodies.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986's unreserved characters: what is left as it is.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes everything but `A-Za-z0-9-._~`.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `a=1&b=2`, each part encoded.
pub fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs of a query string or form body, decoded (`+` and `%XX`; a broken escape is kept
/// as written, invalid UTF-8 is replaced), in order.
pub fn parse(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["a b&c=d", "/-/x?y=1", "ünï", "%", "100%", "+"] {
            assert_eq!(parse(&format!("k={}", encode(s))), [("k".into(), s.into())]);
        }
        assert_eq!(encode("a b~"), "a%20b~");
        assert_eq!(parse("x=%zz%4+y"), [("x".into(), "%zz%4 y".into())]);
        assert_eq!(
            parse("a=1&b&c=%2F"),
            [
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "/".into())
            ]
        );
    }
}
