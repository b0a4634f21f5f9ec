//! Checks that the host and plugins must make the same way.

/// Equality whose time depends on the lengths only, not on where the bytes differ: for
/// comparing secrets (tokens, OAuth states) with what a request brings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Whether a host name (no port; IPv6 in brackets or not) is this machine: the only place
/// `fetch` may reach over plain `http://`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request that changes something (signing out) comes from this site's own pages:
/// a browser says so with `Sec-Fetch-Site` and `Origin`; a request with neither is not from a
/// browser page of another site (curl, scripts), so it passes.
pub fn is_same_site(sec_fetch_site: Option<&str>, origin: Option<&str>, site_origin: &str) -> bool {
    if sec_fetch_site.is_some_and(|s| !matches!(s, "same-origin" | "none")) {
        return false;
    }
    origin.is_none_or(|o| o == site_origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_equal() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1",
            "127.0.0.1.evil.example",
            "",
            "[::2]",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn same_site_requests() {
        let site = "http://127.0.0.1:8001";
        assert!(is_same_site(None, None, site));
        assert!(is_same_site(Some("same-origin"), Some(site), site));
        assert!(is_same_site(Some("none"), None, site));
        assert!(!is_same_site(Some("cross-site"), None, site));
        assert!(!is_same_site(
            Some("same-site"),
            Some("http://sub.127.0.0.1:8001"),
            site
        ));
        assert!(!is_same_site(None, Some("https://evil.example"), site));
        assert!(!is_same_site(None, Some("null"), site));
    }
}
