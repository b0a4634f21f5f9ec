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

/// Datasette's tilde encoding of a database or table name in a URL path: `A-Za-z0-9_-` kept, a
/// space `+`, every other byte `~XX` (`a b.c` → `a+b~2Ec`).
pub fn tilde_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('~');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_encoding_is_datasettes() {
        assert_eq!(tilde_encode("fixtures"), "fixtures");
        assert_eq!(tilde_encode("a b.c~d"), "a+b~2Ec~7Ed");
        assert_eq!(tilde_encode("ü"), "~C3~BC");
    }

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
