//! `datasette-auth0`: sign in with Auth0 (OAuth 2 authorization code with PKCE).
//!
//! - `/-/auth0-login?next=PATH` starts a sign-in and sends the browser to Auth0;
//! - `/-/auth0-callback` checks the state, exchanges the code (HTTP Basic client
//!   authentication), reads `/userinfo` and signs the profile in as the actor;
//! - `/-/auth0-logout` signs out here and at Auth0.
//!
//! Enabled by one block in metadata.json; see the README's "Sign in with Auth0".

mod config;
mod flows;
mod pages;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use datasette_plugin_api::urlencoded::{encode, encode_pairs};
use datasette_plugin_api::{
    export_plugin, FetchRequest, FetchResponse, Host, Level, MenuLink, Plugin, Request, Response,
};
use serde_json::{Map, Value};

use config::Config;
use flows::Pending;
use pages::{failure, same_site_path, Failure};

const LOGIN: &str = "/-/auth0-login";
const CALLBACK: &str = "/-/auth0-callback";
const LOGOUT: &str = "/-/auth0-logout";

/// The profile claims kept in the actor (the session is a cookie: not the whole profile).
const PROFILE_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "nickname",
    "email",
    "email_verified",
    "picture",
    "locale",
    "updated_at",
];

pub struct Auth0 {
    config: Config,
}

impl Plugin for Auth0 {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        Ok(Auth0 {
            config: Config::parse(config)?,
        })
    }

    fn routes(&self) -> Vec<String> {
        vec![LOGIN.into(), CALLBACK.into(), LOGOUT.into()]
    }

    fn handle(&self, request: Request, host: &Host) -> Response {
        match request.path.as_str() {
            LOGIN => self.login(&request),
            CALLBACK => self.callback(&request, host),
            _ => self.logout(&request),
        }
    }

    fn menu_links(&self, actor: Option<&Value>, request: &Request, _host: &Host) -> Vec<MenuLink> {
        let link = match actor {
            None => MenuLink {
                href: format!("{LOGIN}?next={}", encode(&request.path_and_query())),
                label: "Sign in with Auth0".into(),
            },
            Some(_) => MenuLink {
                href: LOGOUT.into(),
                label: "Sign out".into(),
            },
        };
        vec![link]
    }
}

impl Auth0 {
    /// This site's address as Auth0 must see it.
    fn site(&self, request: &Request) -> String {
        self.config
            .public_url
            .clone()
            .unwrap_or_else(|| request.origin.clone())
    }

    fn redirect_uri(&self, request: &Request) -> String {
        format!("{}{CALLBACK}", self.site(request))
    }

    fn login(&self, request: &Request) -> Response {
        let next = same_site_path(request.query_param("next").as_deref());
        let verifier = flows::random_token();
        let challenge = flows::challenge(&verifier);
        let mut pending = Pending::from_session(&request.session);
        let state = pending.start(verifier, next, self.config.login_timeout_seconds);
        let c = &self.config;
        let location = format!(
            "{}/authorize?{}",
            c.base,
            encode_pairs(&[
                ("response_type", "code"),
                ("client_id", &c.client_id),
                ("redirect_uri", &self.redirect_uri(request)),
                ("scope", &c.scope),
                ("state", &state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
        );
        Response::redirect(location)
            .with_header("Cache-Control", "no-store")
            .with_session(pending.to_session())
    }

    fn callback(&self, request: &Request, host: &Host) -> Response {
        let mut pending = Pending::from_session(&request.session);
        let flow = request.query_param("state").and_then(|s| pending.take(&s));
        // Whatever happens next, this attempt is spent.
        let outcome = self.finish(request, host, flow);
        outcome
            .unwrap_or_else(|f| f.page())
            .with_session(pending.to_session())
    }

    /// The rest of the callback: `Err` is the page to show.
    fn finish(
        &self,
        request: &Request,
        host: &Host,
        flow: Option<flows::Flow>,
    ) -> Result<Response, Failure> {
        if let Some(error) = request.query_param("error") {
            let description = request.query_param("error_description").unwrap_or_default();
            let status = if error == "access_denied" { 403 } else { 400 };
            return Err(failure(
                status,
                "Auth0 did not sign you in",
                &format!("{error}: {description}"),
            ));
        }
        if request.query_param("state").is_none() {
            return Err(failure(
                400,
                "Sign-in failed",
                "The answer from Auth0 has no state.",
            ));
        }
        let flow = flow.ok_or_else(|| {
            failure(
                400,
                "Sign-in failed",
                "This sign-in attempt is unknown or was already used. Start again.",
            )
        })?;
        if flow.expires <= flows::now() {
            return Err(failure(
                400,
                "Sign-in expired",
                "This sign-in attempt took too long. Start again.",
            ));
        }
        let code = request
            .query_param("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| failure(400, "Sign-in failed", "The answer from Auth0 has no code."))?;
        let token = self.exchange(request, host, &code, &flow.verifier)?;
        let profile = self.userinfo(host, &token)?;
        let actor = self.admit(profile)?;
        Ok(Response::redirect(flow.next)
            .with_header("Cache-Control", "no-store")
            .with_actor(actor))
    }

    /// The code for an access token, at `/oauth/token`.
    fn exchange(
        &self,
        request: &Request,
        host: &Host,
        code: &str,
        verifier: &str,
    ) -> Result<String, Failure> {
        let c = &self.config;
        // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and encoded.
        let basic = STANDARD.encode(format!(
            "{}:{}",
            encode(&c.client_id),
            encode(&c.client_secret)
        ));
        let redirect_uri = self.redirect_uri(request);
        let fetch = FetchRequest::post_form(
            format!("{}/oauth/token", c.base),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", verifier),
            ],
        )
        .with_header("Authorization", format!("Basic {basic}"))
        .with_header("Accept", "application/json");
        let answer = self.call(host, &fetch, "the token request")?;
        let json: Option<Value> = serde_json::from_str(&answer.body).ok();
        if answer.status != 200 {
            let reason = json
                .as_ref()
                .and_then(|j| j["error_description"].as_str().or(j["error"].as_str()))
                .map(str::to_string)
                .unwrap_or_else(|| format!("status {}", answer.status));
            let status = if (400..500).contains(&answer.status) {
                403
            } else {
                502
            };
            return Err(failure(status, "Auth0 refused the sign-in", &reason));
        }
        json.as_ref()
            .and_then(|j| j["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                self.unexpected(host, "the token request", "no access_token in its answer")
            })
    }

    /// The signed-in user's profile, from `/userinfo`.
    fn userinfo(&self, host: &Host, token: &str) -> Result<Map<String, Value>, Failure> {
        let fetch = FetchRequest::get(format!("{}/userinfo", self.config.base))
            .with_header("Authorization", format!("Bearer {token}"))
            .with_header("Accept", "application/json");
        let answer = self.call(host, &fetch, "the profile request")?;
        if answer.status != 200 {
            return Err(failure(
                502,
                "Auth0 refused the profile request",
                &format!(
                    "Auth0 answered the profile request with status {}.",
                    answer.status
                ),
            ));
        }
        match serde_json::from_str::<Value>(&answer.body) {
            Ok(Value::Object(p)) if p.get("sub").and_then(Value::as_str).is_some() => Ok(p),
            _ => Err(self.unexpected(host, "the profile request", "no profile with a \"sub\"")),
        }
    }

    /// The actor for a profile, if the config lets it in.
    fn admit(&self, profile: Map<String, Value>) -> Result<Value, Failure> {
        let c = &self.config;
        let email = profile.get("email").and_then(Value::as_str).unwrap_or("");
        if c.require_verified_email && profile.get("email_verified") != Some(&Value::Bool(true)) {
            return Err(failure(
                403,
                "Email not verified",
                "Your email address is not verified with Auth0, so you cannot sign in here.",
            ));
        }
        if let Some(domains) = &c.allowed_email_domains {
            let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
            if !domain.is_some_and(|d| domains.contains(&d)) {
                return Err(failure(
                    403,
                    "Not allowed",
                    "Accounts with this email address may not sign in here.",
                ));
            }
        }
        let mut actor = Map::new();
        actor.insert("id".into(), profile["sub"].clone());
        for claim in PROFILE_CLAIMS {
            if let Some(v) = profile.get(*claim) {
                actor.insert((*claim).into(), v.clone());
            }
        }
        Ok(Value::Object(actor))
    }

    /// One request to Auth0 through the host; a failure to get any answer is a 502 page.
    fn call(
        &self,
        host: &Host,
        fetch: &FetchRequest,
        what: &str,
    ) -> Result<FetchResponse, Failure> {
        host.fetch(fetch).map_err(|e| {
            host.log(Level::Warn, &format!("{what} failed: {e}"));
            failure(
                502,
                "Auth0 could not be reached",
                &format!("Auth0 did not answer {what}: {e}"),
            )
        })
    }

    fn unexpected(&self, host: &Host, what: &str, problem: &str) -> Failure {
        host.log(Level::Warn, &format!("{what}: {problem}"));
        failure(
            502,
            "Unexpected answer from Auth0",
            &format!("Auth0 answered {what} with {problem}."),
        )
    }

    fn logout(&self, request: &Request) -> Response {
        let c = &self.config;
        let location = format!(
            "{}/v2/logout?{}",
            c.base,
            encode_pairs(&[
                ("client_id", &c.client_id),
                ("returnTo", &format!("{}/", self.site(request))),
            ])
        );
        Response::redirect(location)
            .with_header("Cache-Control", "no-store")
            .clearing_actor()
            .with_session(Map::new())
    }
}

export_plugin!(Auth0: routes, handle, menu_links);
