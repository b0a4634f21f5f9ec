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
    /// The site's scheme and host (`https://data.example.com`), when it is behind a proxy.
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
    /// Keep only these claims of the profile in the actor (besides `id`).
    #[serde(default)]
    claims: Option<Vec<String>>,
    /// Auth0 API access: the access token is a JWT for this audience, verified, and its
    /// `permissions` go into the actor.
    #[serde(default)]
    audience: Option<String>,
    /// Skip Auth0's chooser: sign in with this connection (`google-oauth2`).
    #[serde(default)]
    connection: Option<String>,
    /// Auth0 Organizations: sign in to this organization, whose id the profile must carry.
    #[serde(default)]
    organization: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    screen_hint: Option<String>,
    /// Ask Auth0 to sign the user in again if they did more than this many seconds ago.
    #[serde(default)]
    max_age: Option<u64>,
    /// Send anonymous visitors of a page they may not see straight to sign in.
    #[serde(default)]
    redirect_anonymous: bool,
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
    pub claims: Option<Vec<String>>,
    pub audience: Option<String>,
    pub organization: Option<String>,
    pub redirect_anonymous: bool,
    /// What `/authorize` is given beyond the protocol's own parameters, in a fixed order.
    pub authorize_extras: Vec<(&'static str, String)>,
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
        let authorize_extras = authorize_extras(&raw)?;
        if raw.login_timeout_seconds == 0 {
            return Err("\"login_timeout_seconds\" must be at least 1".into());
        }
        let public_url = match raw.public_url {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                let origin = u.trim_end_matches('/');
                // The path the site lives under is the host's base_url, added to every link.
                let host_only = origin.split_once("://").is_some_and(|(_, host)| {
                    !host.is_empty()
                        && !host.chars().any(|c| {
                            matches!(c, '/' | '?' | '#' | '@' | '\\')
                                || c.is_whitespace()
                                || c.is_control()
                        })
                });
                if !host_only {
                    return Err(format!(
                        "\"public_url\" is the site's scheme and host only (https://example.org), \
                         not '{u}': a path prefix is the base_url setting"
                    ));
                }
                Some(origin.to_string())
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
        if let Some(claims) = &raw.claims {
            if claims.iter().any(|c| c.trim().is_empty()) {
                return Err("\"claims\" lists an empty claim name".into());
            }
        }
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
            claims: raw.claims,
            audience: raw.audience,
            organization: raw.organization,
            redirect_anonymous: raw.redirect_anonymous,
            authorize_extras,
        })
    }
}

/// The optional `/authorize` parameters, each checked: a typo is a start-up error, not a
/// sign-in page that Auth0 refuses.
fn authorize_extras(raw: &Raw) -> Result<Vec<(&'static str, String)>, String> {
    let one_of = |key: &str, value: &Option<String>, allowed: &[&str]| match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(format!(
            "\"{key}\" must be one of {}, not '{v}'",
            allowed.join(", ")
        )),
        _ => Ok(()),
    };
    one_of(
        "prompt",
        &raw.prompt,
        &["none", "login", "consent", "select_account"],
    )?;
    one_of("screen_hint", &raw.screen_hint, &["signup", "login"])?;
    let mut extras = Vec::new();
    for (key, value) in [
        ("audience", &raw.audience),
        ("connection", &raw.connection),
        ("organization", &raw.organization),
        ("prompt", &raw.prompt),
        ("screen_hint", &raw.screen_hint),
    ] {
        match value {
            Some(v) if v.trim().is_empty() => return Err(format!("\"{key}\" is empty")),
            Some(v) => extras.push((key, v.clone())),
            None => {}
        }
    }
    if let Some(age) = raw.max_age {
        extras.push(("max_age", age.to_string()));
    }
    Ok(extras)
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
    fn public_url_is_an_origin() {
        let c = |u: &str| {
            parse(json!({"domain": "d", "client_id": "i", "client_secret": "s", "public_url": u}))
        };
        let ok = c("https://example.org/").unwrap();
        assert_eq!(ok.public_url.as_deref(), Some("https://example.org"));
        assert!(c("https://example.org/data")
            .unwrap_err()
            .contains("base_url"));
        assert!(c("example.org").unwrap_err().contains("https://"));
        for bad in [
            "https://a@evil.example",
            "https://",
            "https://x\\y",
            "https://x y",
        ] {
            assert!(c(bad).is_err(), "{bad}");
        }
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

    #[test]
    fn authorize_options_are_checked() {
        let with = |extra: serde_json::Value| {
            let mut v = json!({"domain": "d", "client_id": "i", "client_secret": "s"});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            parse(v)
        };
        let c = with(
            json!({"audience": "https://api", "connection": "google-oauth2",
            "organization": "org_1", "prompt": "login", "screen_hint": "signup", "max_age": 60}),
        )
        .unwrap();
        let keys: Vec<&str> = c.authorize_extras.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "audience",
                "connection",
                "organization",
                "prompt",
                "screen_hint",
                "max_age"
            ]
        );
        assert!(with(json!({"prompt": "always"}))
            .unwrap_err()
            .contains("prompt"));
        assert!(with(json!({"screen_hint": "x"}))
            .unwrap_err()
            .contains("screen_hint"));
        assert!(with(json!({"audience": " "}))
            .unwrap_err()
            .contains("audience"));
        assert!(with(json!({"max_age": -1})).is_err());
        assert!(with(json!({"claims": ["name", ""]}))
            .unwrap_err()
            .contains("claims"));
    }
}
