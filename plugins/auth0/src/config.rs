//! The plugin's block of metadata.json: the keys of Python's datasette-auth0, and a few more.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    domain: String,
    client_id: String,
    client_secret: String,
    #[serde(default = "default_scope")]
    scope: String,
    /// The site's public URL (`https://data.example.com`), when it is behind a proxy.
    #[serde(default)]
    public_url: Option<String>,
    /// Only addresses of these domains may sign in.
    #[serde(default)]
    allowed_email_domains: Option<Vec<String>>,
    /// Refuse profiles whose email Auth0 has not verified.
    #[serde(default)]
    require_verified_email: Option<bool>,
    /// How long a started sign-in stays valid.
    #[serde(default = "default_login_timeout")]
    login_timeout_seconds: u64,
}

fn default_scope() -> String {
    "openid profile email".into()
}

fn default_login_timeout() -> u64 {
    600
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `https://DOMAIN`, or `http://127.0.0.1:PORT` for a local test server.
    pub base: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    pub public_url: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
    pub require_verified_email: bool,
    pub login_timeout_seconds: u64,
}

const EXAMPLE: &str = r#"{"domain": "example.eu.auth0.com", "client_id": "…", "client_secret": {"$env": "AUTH0_CLIENT_SECRET"}}"#;

impl Config {
    pub fn parse(value: serde_json::Value) -> Result<Config, String> {
        let raw: Raw =
            serde_json::from_value(value).map_err(|e| format!("{e}; expected e.g. {EXAMPLE}"))?;
        for (key, v) in [
            ("domain", &raw.domain),
            ("client_id", &raw.client_id),
            ("client_secret", &raw.client_secret),
        ] {
            if v.trim().is_empty() {
                return Err(format!("\"{key}\" is empty; expected e.g. {EXAMPLE}"));
            }
        }
        if raw.login_timeout_seconds == 0 {
            return Err("\"login_timeout_seconds\" must be at least 1".into());
        }
        let public_url = match raw.public_url {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            Some(u) => {
                return Err(format!(
                    "\"public_url\" must start with https:// (or http://), not '{u}'"
                ))
            }
            None => None,
        };
        let allowed_email_domains = raw
            .allowed_email_domains
            .map(|ds| ds.iter().map(|d| d.trim().to_ascii_lowercase()).collect());
        Ok(Config {
            base: base_url(&raw.domain)?,
            client_id: raw.client_id,
            client_secret: raw.client_secret,
            scope: raw.scope,
            public_url,
            // Checking domains of unverified addresses would check nothing.
            require_verified_email: raw
                .require_verified_email
                .unwrap_or(allowed_email_domains.is_some()),
            allowed_email_domains,
            login_timeout_seconds: raw.login_timeout_seconds,
        })
    }
}

/// `example.auth0.com` → `https://example.auth0.com`; `http://` only for loopback hosts, so
/// the client secret never crosses a network in clear text.
fn base_url(domain: &str) -> Result<String, String> {
    let domain = domain.trim().trim_end_matches('/');
    let (scheme, host) = match domain.split_once("://") {
        Some((s, h)) => (s, h),
        None => ("https", domain),
    };
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "\"domain\" must be a host name like example.eu.auth0.com, not '{domain}'"
        ));
    }
    match scheme {
        "https" => Ok(format!("https://{host}")),
        "http" if is_loopback(host) => Ok(format!("http://{host}")),
        "http" => Err(format!(
            "\"domain\" may use http:// only for loopback hosts (127.0.0.1, localhost), not '{host}'"
        )),
        other => Err(format!("\"domain\" has an unknown scheme '{other}://'")),
    }
}

/// `host:port` (or a bare host) is this machine.
fn is_loopback(host_port: &str) -> bool {
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    datasette_plugin_api::security::is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Config, String> {
        Config::parse(v)
    }

    #[test]
    fn domains() {
        let c = |d: &str| parse(json!({"domain": d, "client_id": "i", "client_secret": "s"}));
        assert_eq!(c("x.auth0.com").unwrap().base, "https://x.auth0.com");
        assert_eq!(
            c("https://x.auth0.com/").unwrap().base,
            "https://x.auth0.com"
        );
        assert_eq!(
            c("http://127.0.0.1:8080").unwrap().base,
            "http://127.0.0.1:8080"
        );
        assert_eq!(c("http://[::1]:80").unwrap().base, "http://[::1]:80");
        assert!(c("http://x.auth0.com").unwrap_err().contains("loopback"));
        assert!(c("http://127.0.0.1.evil.example").is_err());
        assert!(c("x.auth0.com/path").is_err());
        assert!(c("user@x.auth0.com").is_err());
        assert!(c("").is_err());
    }

    #[test]
    fn required_keys_and_typos() {
        assert!(parse(json!({"domain": "d", "client_id": "i"}))
            .unwrap_err()
            .contains("client_secret"));
        assert!(parse(
            json!({"domain": "d", "client_id": "i", "client_secret": "s", "scopes": "x"})
        )
        .unwrap_err()
        .contains("scopes"));
        let c = parse(json!({"domain": "d", "client_id": "i", "client_secret": "s"})).unwrap();
        assert_eq!(c.scope, "openid profile email");
        assert!(!c.require_verified_email);
        let c = parse(
            json!({"domain": "d", "client_id": "i", "client_secret": "s",
            "allowed_email_domains": ["Example.com"]}),
        )
        .unwrap();
        assert!(c.require_verified_email);
        assert_eq!(c.allowed_email_domains.unwrap(), ["example.com"]);
    }
}
