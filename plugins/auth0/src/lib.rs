//! `datasette-auth0`: sign in with Auth0 (OAuth 2 authorization code with PKCE).
//!
//! - `/-/auth0-login?next=PATH` starts a sign-in and sends the browser to Auth0;
//! - `/-/auth0-callback` checks the state, exchanges the code (HTTP Basic client
//!   authentication), reads `/userinfo` and signs the profile in as the actor;
//! - `/-/auth0-logout` signs out here and at Auth0 (a POST from this site; a GET shows the
//!   button).
//!
//! Enabled by one block in metadata.json; see the README's "Sign in with Auth0".

mod actor;
mod config;
mod flows;
mod pages;
mod token;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use datasette_plugin_api::security::is_same_site;
use datasette_plugin_api::urlencoded::{encode, encode_pairs};
use datasette_plugin_api::{
    export_plugin, FetchRequest, FetchResponse, Forbidden, Host, Level, MenuLink, Plugin, Request,
    Response, Route,
};
use serde_json::{Map, Value};

use config::Config;
use flows::Pending;
use pages::{failure, same_site_path, Failure};
use token::{Keys, TokenError};

const LOGIN: &str = "/-/auth0-login";
const CALLBACK: &str = "/-/auth0-callback";
const LOGOUT: &str = "/-/auth0-logout";

/// What the actor and pending sign-ins may take in the session together: the cookie holds
/// them encrypted, base64-encoded and JSON-escaped, within a browser's 4 KiB.
const SESSION_BYTES: usize = 2600;

pub struct Auth0 {
    config: Config,
    /// The tenant's token-signing keys, when `audience` asks for verified access tokens.
    keys: Keys,
}

impl Plugin for Auth0 {
    fn startup(config: Value, _host: &Host) -> Result<Self, String> {
        Ok(Auth0 {
            config: Config::parse(config)?,
            keys: Keys::default(),
        })
    }

    fn routes(&self) -> Vec<Route> {
        // Sign-out asks where the request comes from itself (Sec-Fetch-Site, Origin), as the
        // host's own sign-out does, so the menu's sign-out button needs no token.
        let logout = Route::from(LOGOUT).without_csrf("sign-out checks the request's origin");
        vec![LOGIN.into(), CALLBACK.into(), logout]
    }

    fn handle(&self, request: Request, host: &Host) -> Response {
        match request.path.as_str() {
            LOGIN => self.login(&request),
            CALLBACK => self.callback(&request, host),
            _ if request.method == "POST" => self.logout(&request),
            _ => pages::logout_page(&request),
        }
    }

    fn menu_links(&self, actor: Option<&Value>, request: &Request, _host: &Host) -> Vec<MenuLink> {
        let link = match actor {
            None => MenuLink::get(
                format!(
                    "{}?next={}",
                    request.url(LOGIN),
                    encode(&request.path_and_query())
                ),
                "Sign in with Auth0",
            ),
            Some(_) => MenuLink::post(request.url(LOGOUT), "Sign out"),
        };
        vec![link]
    }

    fn forbidden(&self, forbidden: &Forbidden, _host: &Host) -> Option<Response> {
        let page = &forbidden.page;
        (self.config.redirect_anonymous && page.actor.is_none()).then(|| {
            let next = encode(&page.request.path_and_query());
            Response::redirect(format!("{}?next={next}", page.request.url(LOGIN)))
                .with_header("Cache-Control", "no-store")
        })
    }
}

impl Auth0 {
    /// This site's origin as Auth0 must see it (`scheme://host`).
    fn site(&self, request: &Request) -> String {
        self.config
            .public_url
            .clone()
            .unwrap_or_else(|| request.origin.clone())
    }

    /// The absolute URL of `path` on this site, under its `base_url`.
    fn absolute(&self, request: &Request, path: &str) -> String {
        format!("{}{}", self.site(request), request.url(path))
    }

    fn redirect_uri(&self, request: &Request) -> String {
        self.absolute(request, CALLBACK)
    }

    fn login(&self, request: &Request) -> Response {
        let next = same_site_path(request.query_param("next").as_deref(), &request.url("/"))
            .unwrap_or_else(|| request.url("/"));
        let verifier = flows::random_token();
        let challenge = flows::challenge(&verifier);
        let mut pending = Pending::from_session(&request.session);
        let state = pending.start(verifier, next, self.config.login_timeout_seconds);
        let c = &self.config;
        let redirect_uri = self.redirect_uri(request);
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", &c.client_id),
            ("redirect_uri", &redirect_uri),
            ("scope", &c.scope),
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        // An Auth0 Organizations invitation link lands here with its invitation and
        // organization; both go on to Auth0, which checks them.
        let invitation = request.query_param("invitation").filter(|v| is_id(v));
        let organization = request
            .query_param("organization")
            .filter(|v| is_id(v) && c.organization.as_ref().is_none_or(|o| o == v));
        for (key, value) in &c.authorize_extras {
            if !(*key == "organization" && organization.is_some()) {
                params.push((key, value));
            }
        }
        if let Some(o) = &organization {
            params.push(("organization", o));
        }
        if let Some(i) = &invitation {
            params.push(("invitation", i));
        }
        let location = format!("{}/authorize?{}", c.base, encode_pairs(&params));
        Response::redirect(location)
            .with_header("Cache-Control", "no-store")
            .with_session(pending.to_session())
    }

    fn callback(&self, request: &Request, host: &Host) -> Response {
        let mut pending = Pending::from_session(&request.session);
        let flow = request.query_param("state").and_then(|s| pending.take(&s));
        // Whatever happens next, this attempt is spent.
        let outcome = self.finish(request, host, flow);
        // Other tabs' sign-ins stay while they fit in the cookie beside the new actor.
        if let Ok(signed_in) = &outcome {
            let actor = signed_in
                .set_actor
                .as_ref()
                .map_or(0, |a| a.to_string().len());
            pending.keep_within(SESSION_BYTES.saturating_sub(actor));
        }
        outcome
            .unwrap_or_else(|f| f.page(request))
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
        let claims = match &self.config.audience {
            Some(audience) => Some(self.verify(host, audience, &token)?),
            None => None,
        };
        let profile = self.userinfo(host, &token)?;
        let actor = self.admit(profile, claims.as_ref())?;
        Ok(Response::redirect(flow.next)
            .with_header("Cache-Control", "no-store")
            .with_actor(Value::Object(actor)))
    }

    /// The claims of the access token, which must verify against the tenant's keys.
    fn verify(
        &self,
        host: &Host,
        audience: &str,
        token: &str,
    ) -> Result<Map<String, Value>, Failure> {
        self.keys
            .verify(host, &self.config.base, audience, token)
            .map_err(|e| match e {
                TokenError::Unreachable(why) => {
                    host.log(Level::Warn, &format!("token keys: {why}"));
                    failure(
                        502,
                        "Auth0 could not be reached",
                        &format!("Auth0's token keys could not be read: {why}"),
                    )
                }
                TokenError::Rejected(why) => {
                    host.log(Level::Warn, &format!("access token refused: {why}"));
                    failure(
                        403,
                        "Sign-in failed",
                        &format!("The access token from Auth0 was refused: {why}."),
                    )
                }
            })
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

    /// The actor for a profile (and the verified access token's claims), if the config lets
    /// it in.
    fn admit(
        &self,
        profile: Map<String, Value>,
        token: Option<&Map<String, Value>>,
    ) -> Result<Map<String, Value>, Failure> {
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
        if let Some(org) = &c.organization {
            let org_id = |claims: &Map<String, Value>| {
                claims
                    .get("org_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let found = org_id(&profile).or_else(|| token.and_then(org_id));
            if found.as_deref() != Some(org.as_str()) {
                return Err(failure(
                    403,
                    "Not allowed",
                    "You did not sign in to this site's Auth0 organization.",
                ));
            }
        }
        let mut actor = actor::from_profile(&profile, c.claims.as_deref());
        if let Some(permissions) = token.and_then(|t| t.get("permissions")) {
            actor.insert("permissions".into(), permissions.clone());
        }
        match actor::too_large(&actor) {
            Some(why) => Err(failure(400, "Profile too large", &why)),
            None => Ok(actor),
        }
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

    /// `POST /-/auth0-logout`: signs out here, then at Auth0. Only from this site's pages:
    /// another site must not be able to sign a visitor out.
    fn logout(&self, request: &Request) -> Response {
        let site = self.site(request);
        if !is_same_site(
            request.header("sec-fetch-site"),
            request.header("origin"),
            &site,
        ) {
            return failure(
                403,
                "Sign-out refused",
                "Signing out is only possible from this site's own pages.",
            )
            .page(request);
        }
        let c = &self.config;
        let location = format!(
            "{}/v2/logout?{}",
            c.base,
            encode_pairs(&[
                ("client_id", &c.client_id),
                ("returnTo", &self.absolute(request, "/")),
            ])
        );
        Response::redirect(location)
            .with_header("Cache-Control", "no-store")
            .clearing_actor()
            .with_session(Map::new())
    }
}

/// An Auth0 id from a URL (`org_…`, an invitation ticket): short, and nothing to escape.
fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

export_plugin!(Auth0: routes, handle, menu_links, forbidden);

#[cfg(test)]
mod tests {
    use super::*;
    use datasette_plugin_api::sdk::inline_host;
    use serde_json::json;

    fn plugin() -> Auth0 {
        Auth0 {
            config: Config::parse(json!({
                "domain": "tenant.auth0.com", "client_id": "i", "client_secret": "s",
                "login_timeout_seconds": 60
            }))
            .unwrap(),
            keys: Keys::default(),
        }
    }

    fn callback() -> Request {
        Request {
            path: CALLBACK.into(),
            query: "code=code-1&state=s".into(),
            ..Default::default()
        }
    }

    /// A sign-in started `login_timeout_seconds` ago: its time is written into the session
    /// when it starts, so a flow whose time has passed stands for one that waited too long.
    #[test]
    fn an_expired_sign_in_is_refused_before_its_code_is_exchanged() {
        let mut pending = flows::Pending::from_session(&Map::new());
        let state = pending.start("verifier".into(), "/".into(), 60);
        let mut flow = pending.take(&state).unwrap();
        assert!(flow.expires >= flows::now() + 59);
        flow.expires = flows::now();
        // The inline host refuses to fetch: had the code been exchanged, this would say so.
        let refused = plugin()
            .finish(&callback(), &inline_host(), Some(flow))
            .expect_err("refused");
        assert_eq!(refused.status, 400);
        assert!(
            refused.message.contains("took too long"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn a_live_sign_in_goes_on_to_exchange_its_code() {
        let mut pending = flows::Pending::from_session(&Map::new());
        let state = pending.start("verifier".into(), "/".into(), 60);
        let flow = pending.take(&state).unwrap();
        let answer = plugin().finish(&callback(), &inline_host(), Some(flow));
        let failed = answer.expect_err("the inline host cannot fetch");
        assert!(
            !failed.message.contains("took too long"),
            "{}",
            failed.message
        );
    }
}
