//! Signing in with Auth0: the real binary, the real `libdatasette_auth0.so`, and a fake Auth0
//! on 127.0.0.1 that speaks real HTTP and checks everything it receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use datasette_plugin_api::urlencoded::{encode, parse};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use testkit::nginx::{free_port, Nginx, Proxying};
use testkit::stub::{Recorded, Reply, Stub};
use testkit::{get_url, request_url, serve_fixture_with_metadata, Resp, Server};

const CLIENT_ID: &str = "test-client";
/// Characters that must be form-encoded inside the Basic header (RFC 6749 §2.3.1).
const CLIENT_SECRET: &str = "s3cr:t/+&=x";

/// How the fake answers this time.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    TokenRefused,
    TokenNotJson,
    TokenIncomplete,
    TokenSlow,
    TokenServerError,
    UserinfoRefused,
    /// Access tokens (issued when `audience` is asked for) that must not verify.
    TokenExpired,
    TokenWrongAudience,
    TokenWrongKey,
}

/// What `/authorize` was asked, kept with the code it issued.
struct Grant {
    challenge: String,
    redirect_uri: String,
    audience: Option<String>,
}

#[derive(Default)]
struct FakeState {
    /// code → what /authorize was asked.
    codes: HashMap<String, Grant>,
    /// access token → profile.
    tokens: HashMap<String, Value>,
    issued: usize,
    /// What the fake found wrong in what it received.
    problems: Vec<String>,
}

struct FakeAuth0 {
    stub: Stub,
    state: Arc<Mutex<FakeState>>,
    mode: Arc<Mutex<Mode>>,
    profile: Arc<Mutex<Value>>,
}

/// The claim an Auth0 Action adds for roles, as Auth0's documentation shows it.
const ROLES: &str = "https://example.com/roles";

fn ana() -> Value {
    json!({
        "sub": "auth0|ana",
        "name": "Ana Example",
        "nickname": "ana",
        "email": "ana@example.com",
        "email_verified": true,
        "picture": "https://example.com/ana.png",
        ROLES: ["editor"],
        "permissions_in_profile_do_not_count": ["read:salaries"]
    })
}

/// The fake tenant's signing keys (made for these tests, signing nothing else): `tenant`
/// signs its tokens and is published at /.well-known/jwks.json; `other` is not.
fn signing_key(name: &str) -> jsonwebtoken::EncodingKey {
    let pem = std::fs::read(testkit::root().join(format!("tests/auth0-keys/{name}.pem")))
        .expect("test key");
    jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("an RSA key")
}

fn published_keys() -> Value {
    let keys: Value = serde_json::from_str(
        &std::fs::read_to_string(testkit::root().join("tests/auth0-keys/keys.json"))
            .expect("keys.json"),
    )
    .expect("JSON");
    let mut tenant = keys["tenant"].clone();
    tenant["kid"] = json!("tenant-key");
    json!({"keys": [tenant]})
}

/// An RS256 access token as Auth0 issues it for an API.
fn access_token(mode: Mode, issuer: &str, audience: &str, profile: &Value) -> String {
    let now = testkit::unix_now();
    let claims = json!({
        "iss": issuer,
        "sub": profile["sub"],
        "aud": [if mode == Mode::TokenWrongAudience { "https://other.example" } else { audience },
                format!("{issuer}userinfo")],
        "iat": now,
        "exp": if mode == Mode::TokenExpired { now - 600 } else { now + 3600 },
        "permissions": profile.get("token_permissions").cloned().unwrap_or(json!([])),
        "org_id": profile.get("org_id").cloned().unwrap_or(Value::Null),
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("tenant-key".into());
    let key = signing_key(if mode == Mode::TokenWrongKey {
        "other"
    } else {
        "tenant"
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

impl FakeAuth0 {
    fn start() -> FakeAuth0 {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let profile = Arc::new(Mutex::new(ana()));
        let (s, m, p) = (state.clone(), mode.clone(), profile.clone());
        let stub = Stub::start(move |req| {
            let mode = *m.lock().unwrap();
            let mut state = s.lock().unwrap();
            answer(req, mode, &mut state, &p.lock().unwrap())
        });
        FakeAuth0 {
            stub,
            state,
            mode,
            profile,
        }
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn problems(&self) -> Vec<String> {
        self.state.lock().unwrap().problems.clone()
    }

    fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.stub
            .requests()
            .into_iter()
            .filter(|r| r.target.split('?').next() == Some(path))
            .collect()
    }
}

fn query_of(target: &str) -> HashMap<String, String> {
    parse(target.split_once('?').map(|(_, q)| q).unwrap_or(""))
        .into_iter()
        .collect()
}

/// The fake's endpoints: /authorize (the user signs in at once), /oauth/token, /userinfo,
/// /v2/logout.
fn answer(req: &Recorded, mode: Mode, state: &mut FakeState, profile: &Value) -> Reply {
    let path = req.target.split('?').next().unwrap_or("");
    match path {
        "/authorize" => {
            let q = query_of(&req.target);
            for (k, v) in [
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("code_challenge_method", "S256"),
            ] {
                if q.get(k).map(String::as_str) != Some(v) {
                    state
                        .problems
                        .push(format!("/authorize: {k} is {:?}", q.get(k)));
                }
            }
            state.issued += 1;
            let code = format!("code-{}", state.issued);
            let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
            state.codes.insert(
                code.clone(),
                Grant {
                    challenge: q["code_challenge"].clone(),
                    redirect_uri: redirect_uri.clone(),
                    audience: q.get("audience").cloned(),
                },
            );
            let location = format!(
                "{redirect_uri}?code={code}&state={}",
                encode(q.get("state").map(String::as_str).unwrap_or(""))
            );
            let mut r = Reply::new(302, "text/plain", "");
            r.headers.push(("Location".into(), location));
            r
        }
        "/oauth/token" => match mode {
            Mode::TokenRefused => Reply::json(
                403,
                &json!({"error": "invalid_grant", "error_description": "Invalid <b>authorization</b> code"}),
            ),
            Mode::TokenNotJson => Reply::new(200, "text/html", "<html>maintenance</html>"),
            Mode::TokenIncomplete => Reply::json(200, &json!({"token_type": "Bearer"})),
            Mode::TokenServerError => {
                Reply::new(500, "text/html", "<h1>Internal Server Error</h1>")
            }
            Mode::TokenSlow => {
                Reply::json(200, &json!({"access_token": "late"})).delayed(Duration::from_secs(3))
            }
            _ => token(req, mode, state, profile),
        },
        "/userinfo" => {
            let bearer = req
                .header("authorization")
                .and_then(|h| h.strip_prefix("Bearer "));
            match (mode, bearer.and_then(|t| state.tokens.get(t))) {
                (Mode::UserinfoRefused, _) | (_, None) => {
                    Reply::json(401, &json!({"error": "invalid_token"}))
                }
                (_, Some(profile)) => Reply::json(200, profile),
            }
        }
        "/v2/logout" => Reply::new(200, "text/plain", "signed out of the fake Auth0"),
        "/.well-known/jwks.json" => Reply::json(200, &published_keys()),
        _ => Reply::new(404, "text/plain", "not found"),
    }
}

/// The token endpoint, checking the client's credentials, the code and the PKCE verifier.
fn token(req: &Recorded, mode: Mode, state: &mut FakeState, profile: &Value) -> Reply {
    let mut refuse = |why: String| {
        state.problems.push(format!("/oauth/token: {why}"));
        Reply::json(
            403,
            &json!({"error": "invalid_grant", "error_description": why}),
        )
    };
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(CLIENT_ID), encode(CLIENT_SECRET)))
    );
    if req.header("authorization") != Some(basic.as_str()) {
        return refuse(format!(
            "bad client authentication {:?}",
            req.header("authorization")
        ));
    }
    if req.header("content-type") != Some("application/x-www-form-urlencoded") {
        return refuse("not a form".into());
    }
    let form: HashMap<String, String> = parse(&req.body).into_iter().collect();
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("wrong grant_type".into());
    }
    let Some(grant) = form.get("code").and_then(|c| state.codes.remove(c)) else {
        return refuse("unknown or used code".into());
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return refuse("redirect_uri differs from /authorize".into());
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return refuse("code_verifier does not match the code_challenge".into());
    }
    state.issued += 1;
    let access = match &grant.audience {
        Some(audience) => {
            let issuer = format!("http://{}/", req.header("host").unwrap_or_default());
            access_token(mode, &issuer, audience, profile)
        }
        None => format!("access-{}", state.issued),
    };
    state.tokens.insert(access.clone(), profile.clone());
    Reply::json(
        200,
        &json!({"access_token": access, "token_type": "Bearer", "expires_in": 86400}),
    )
}

/// A browser: keeps the session cookie, follows nothing by itself.
struct Browser {
    /// The site as the browser reaches it: an instance's address, or a proxy's.
    base: String,
    cookie: String,
}

impl Browser {
    fn new(server: &Server) -> Self {
        Browser::at(&server.base)
    }

    fn at(base: &str) -> Self {
        Browser {
            base: base.to_string(),
            cookie: String::new(),
        }
    }

    fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut all = vec![("Cookie", self.cookie.as_str())];
        all.extend_from_slice(headers);
        let r = request_url(method, &format!("{}{path}", self.base), &all);
        if let Some(c) = r.cookie() {
            self.cookie = c;
        }
        r
    }

    fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, &[])
    }

    /// A POST with an `Origin` header (a browser sends one with every form it posts).
    fn post(&mut self, path: &str, origin: &str) -> Resp {
        self.request("POST", path, &[("Origin", origin)])
    }

    /// Starts a sign-in: the URL Auth0 is sent to.
    fn start_sign_in(&mut self, next: &str) -> String {
        let r = self.get(&format!("/-/auth0-login?next={}", encode(next)));
        assert_eq!(r.status, 302, "{}", r.body);
        r.header("location").expect("a redirect").to_string()
    }

    /// Signs in at the fake Auth0: the callback path it sends the browser back to.
    fn at_auth0(&self, authorize_url: &str) -> String {
        let r = get_url(authorize_url);
        assert_eq!(r.status, 302, "{}", r.body);
        let callback = r.header("location").unwrap();
        callback
            .strip_prefix(&self.base)
            .expect("back to this site")
            .to_string()
    }

    fn sign_in(&mut self, next: &str) -> Resp {
        let authorize = self.start_sign_in(next);
        let callback = self.at_auth0(&authorize);
        self.get(&callback)
    }

    fn actor(&mut self) -> Value {
        self.get("/-/actor.json").json()["actor"].clone()
    }
}

fn serve(fake_base: &str, extra_config: Value, settings: &[&str]) -> Server {
    try_serve(fake_base, extra_config, settings).expect("starts")
}

fn try_serve(
    fake_base: &str,
    extra_config: Value,
    settings: &[&str],
) -> Result<Server, testkit::Exit> {
    let tables = json!({"secrets": {"allow": {"email": ["ana@example.com"]}}});
    try_serve_tables(fake_base, extra_config, settings, tables)
}

/// As [`try_serve`], with these allow blocks on the fixture's tables.
fn try_serve_tables(
    fake_base: &str,
    extra_config: Value,
    settings: &[&str],
    tables: Value,
) -> Result<Server, testkit::Exit> {
    let mut config = json!({
        "domain": fake_base,
        "client_id": CLIENT_ID,
        "client_secret": {"$env": "AUTH0_CLIENT_SECRET"}
    });
    for (k, v) in extra_config.as_object().unwrap() {
        config[k] = v.clone();
    }
    let metadata = json!({
        "databases": {"fixture": {"tables": tables}},
        "plugins": {"datasette-auth0": config}
    });
    serve_fixture_with_metadata(
        &metadata,
        settings,
        &[("AUTH0_CLIENT_SECRET", CLIENT_SECRET)],
    )
}

fn setup() -> (FakeAuth0, Server) {
    let fake = FakeAuth0::start();
    let server = serve(&fake.stub.base, json!({}), &[]);
    (fake, server)
}

/// Nothing secret in what the visitor sees or in the server's log.
fn assert_no_secrets(server: &Server, page: &Resp) {
    for secret in [CLIENT_SECRET, &encode(CLIENT_SECRET), "access-"] {
        assert!(
            !page.body.contains(secret),
            "{secret} in page: {}",
            page.body
        );
        assert!(
            !server.log().contains(secret),
            "{secret} in log: {}",
            server.log()
        );
    }
}

#[test]
fn sign_in_opens_the_protected_table_and_sign_out_closes_it() {
    let (fake, server) = setup();
    let mut browser = Browser::new(&server);
    let before = browser.get("/fixture/secrets");
    assert_eq!(before.status, 403);
    assert!(
        before
            .body
            .contains("/-/auth0-login?next=%2Ffixture%2Fsecrets"),
        "the 403 page offers signing in: {}",
        before.body
    );

    let done = browser.sign_in("/fixture/secrets?_size=2");
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.header("location"), Some("/fixture/secrets?_size=2"));
    assert_eq!(fake.problems(), Vec::<String>::new());
    let actor = browser.actor();
    assert_eq!(actor["id"], "auth0|ana");
    assert_eq!(actor["email"], "ana@example.com");
    assert_eq!(actor["email_verified"], true);
    assert_eq!(actor["name"], "Ana Example");
    assert_eq!(actor["nickname"], "ana");
    assert_eq!(actor["picture"], "https://example.com/ana.png");
    assert_eq!(actor["sub"], "auth0|ana", "the whole profile, sub included");
    assert_eq!(actor[ROLES], json!(["editor"]));
    let after = browser.get("/fixture/secrets?_size=2");
    assert_eq!(after.status, 200);
    assert!(
        after.body.contains("Sign out"),
        "menu link for the signed-in"
    );
    assert!(!after.body.contains("Sign in with Auth0"));

    assert!(
        after
            .body
            .contains("<form class=\"menu-form\" method=\"post\" action=\"/-/auth0-logout\">"),
        "Sign out is one click, a POST: {}",
        after.body
    );
    let out = browser.post("/-/auth0-logout", &server.base);
    assert_eq!(out.status, 302);
    let location = out.header("location").unwrap().to_string();
    let (endpoint, _) = location.split_once('?').unwrap();
    assert_eq!(endpoint, format!("{}/v2/logout", fake.stub.base));
    let q = query_of(&location);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["returnTo"], format!("{}/", server.base));
    assert_eq!(get_url(&location).status, 200);
    assert_eq!(browser.get("/fixture/secrets.json").status, 403);
    assert_eq!(browser.actor(), Value::Null);
    assert_no_secrets(&server, &after);
}

#[test]
fn auth0_receives_what_the_protocol_requires() {
    let (fake, server) = setup();
    let mut browser = Browser::new(&server);
    let authorize = browser.start_sign_in("/");
    let (endpoint, _) = authorize.split_once('?').unwrap();
    assert_eq!(endpoint, format!("{}/authorize", fake.stub.base));
    let q = query_of(&authorize);
    let mut keys: Vec<&str> = q.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ]
    );
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(
        q["redirect_uri"],
        format!("{}/-/auth0-callback", server.base)
    );
    assert_eq!(q["scope"], "openid profile email");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 43, "at least 256 bits: {}", q["state"]);
    assert_eq!(q["code_challenge"].len(), 43);

    let callback = browser.at_auth0(&authorize);
    assert_eq!(browser.get(&callback).status, 302);
    assert_eq!(fake.problems(), Vec::<String>::new());

    let token = &fake.requests_to("/oauth/token")[0];
    assert_eq!(token.method, "POST");
    let form: HashMap<String, String> = parse(&token.body).into_iter().collect();
    let verifier = &form["code_verifier"];
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        q["code_challenge"],
        "the verifier hashes to the challenge"
    );
    assert_eq!(form["redirect_uri"], q["redirect_uri"]);
    assert_eq!(
        token.header("authorization").unwrap(),
        format!(
            "Basic {}",
            STANDARD.encode("test-client:s3cr%3At%2F%2B%26%3Dx")
        )
    );
    let userinfo = &fake.requests_to("/userinfo")[0];
    assert_eq!(userinfo.header("authorization"), Some("Bearer access-2"));
}

#[test]
fn two_tabs_can_sign_in_at_once() {
    let (_fake, server) = setup();
    let mut browser = Browser::new(&server);
    let first = browser.start_sign_in("/fixture/secrets");
    let second = browser.start_sign_in("/fixture");
    let (cb_first, cb_second) = (browser.at_auth0(&first), browser.at_auth0(&second));
    let done = browser.get(&cb_second);
    assert_eq!(done.header("location"), Some("/fixture"));
    let done = browser.get(&cb_first);
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.header("location"), Some("/fixture/secrets"));
    assert_eq!(browser.actor()["id"], "auth0|ana");
}

#[test]
fn next_goes_to_this_site_only() {
    let (_fake, server) = setup();
    for next in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "http:evil.example",
        "%2F%2Fevil.example",
        "/%0a/evil.example".replace("%0a", "\n").as_str(),
        "\\\\evil.example",
    ] {
        let mut browser = Browser::new(&server);
        let done = browser.sign_in(next);
        assert_eq!(done.status, 302);
        assert_eq!(done.header("location"), Some("/"), "next={next:?}");
    }
    // Encoded once more on the way in: the login page decodes it once, then refuses it.
    let mut browser = Browser::new(&server);
    let authorize = browser
        .get("/-/auth0-login?next=%2F%2Fevil.example")
        .header("location")
        .unwrap()
        .to_string();
    let callback = browser.at_auth0(&authorize);
    assert_eq!(browser.get(&callback).header("location"), Some("/"));
}

#[test]
fn long_next_paths_never_overflow_the_session_cookie() {
    let (_fake, server) = setup();
    let mut browser = Browser::new(&server);
    // Many tabs, each starting from a long URL: every answer is a redirect to Auth0, and the
    // cookie stays within what browsers keep.
    let long = format!("/fixture/secrets?_search={}", "x".repeat(990));
    let mut started = Vec::new();
    for _ in 0..8 {
        let r = browser.get(&format!("/-/auth0-login?next={}", encode(&long)));
        assert_eq!(r.status, 302, "{}", r.body);
        let cookie = r.header("set-cookie").expect("the session cookie");
        assert!(cookie.len() < 4000, "{} bytes", cookie.len());
        started.push(r.header("location").unwrap().to_string());
    }
    // The newest sign-in goes back to where it started.
    let callback = browser.at_auth0(started.last().unwrap());
    assert_eq!(
        browser.get(&callback).header("location"),
        Some(long.as_str())
    );
    // A next longer than is kept goes home rather than to a cut URL.
    let mut browser = Browser::new(&server);
    let overlong = format!("/fixture?x={}", "y".repeat(5000));
    assert_eq!(browser.sign_in(&overlong).header("location"), Some("/"));
}

#[test]
fn an_error_from_auth0_is_a_clear_escaped_page() {
    let (_fake, server) = setup();
    let mut browser = Browser::new(&server);
    let authorize = browser.start_sign_in("/");
    let state = &query_of(&authorize)["state"];
    let r = browser.get(&format!(
        "/-/auth0-callback?error=access_denied&error_description={}&state={}",
        encode("<script>alert(1)</script> said no"),
        encode(state)
    ));
    assert_eq!(r.status, 403);
    assert!(
        r.body
            .contains("access_denied: &lt;script&gt;alert(1)&lt;/script&gt; said no"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<script>"));
    assert_eq!(browser.actor(), Value::Null);
}

#[test]
fn a_missing_or_unknown_state_is_refused() {
    let (fake, server) = setup();
    let mut browser = Browser::new(&server);
    let r = browser.get("/-/auth0-callback?code=code-1");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("has no state"), "{}", r.body);
    browser.start_sign_in("/");
    let r = browser.get("/-/auth0-callback?code=code-1&state=forged");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown or was already used"), "{}", r.body);
    assert!(
        fake.requests_to("/oauth/token").is_empty(),
        "no code was exchanged"
    );
}

#[test]
fn a_replayed_callback_is_refused() {
    let (fake, server) = setup();
    let mut browser = Browser::new(&server);
    let authorize = browser.start_sign_in("/");
    let before = browser.cookie.clone();
    let callback = browser.at_auth0(&authorize);
    assert_eq!(browser.get(&callback).status, 302);
    // With the session as it is now: the state was used.
    let r = browser.get(&callback);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("already used"), "{}", r.body);
    // With a copy of the cookie from before the callback: Auth0's code is spent.
    let r = server.request("GET", &callback, &[("Cookie", &before)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("unknown or used code"), "{}", r.body);
    assert_eq!(fake.requests_to("/userinfo").len(), 1);
}

/// Runs one sign-in against the fake in `mode`: the callback's page.
fn sign_in_failing(mode: Mode, extra: Value, settings: &[&str]) -> (Server, Resp) {
    let fake = FakeAuth0::start();
    let server = serve(&fake.stub.base, extra, settings);
    fake.set_mode(mode);
    let mut browser = Browser::new(&server);
    let r = browser.sign_in("/fixture/secrets");
    assert_eq!(browser.actor(), Value::Null, "not signed in");
    assert_eq!(browser.get("/fixture/secrets.json").status, 403);
    assert_no_secrets(&server, &r);
    (server, r)
}

#[test]
fn a_token_refusal_shows_auth0s_reason_escaped() {
    let (_s, r) = sign_in_failing(Mode::TokenRefused, json!({}), &[]);
    assert_eq!(r.status, 403);
    assert!(
        r.body
            .contains("Invalid &lt;b&gt;authorization&lt;/b&gt; code"),
        "{}",
        r.body
    );
}

#[test]
fn auth0_down_is_a_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = serve(&base, json!({}), &[]);
    let mut browser = Browser::new(&server);
    let authorize = browser.start_sign_in("/");
    let state = &query_of(&authorize)["state"];
    let r = browser.get(&format!("/-/auth0-callback?code=c&state={}", encode(state)));
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(r.body.contains("Auth0 could not be reached"), "{}", r.body);
    assert_no_secrets(&server, &r);
}

#[test]
fn auth0_slower_than_the_timeout_is_a_502() {
    let started = std::time::Instant::now();
    let (_s, r) = sign_in_failing(
        Mode::TokenSlow,
        json!({}),
        &["--setting", "plugin_fetch_timeout_ms", "800"],
    );
    assert_eq!(r.status, 502);
    assert!(r.body.contains("within 800 ms"), "{}", r.body);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn auth0_failing_with_a_500_is_a_502() {
    let (_s, r) = sign_in_failing(Mode::TokenServerError, json!({}), &[]);
    assert_eq!(r.status, 502);
    assert!(r.body.contains("status 500"), "{}", r.body);
}

#[test]
fn a_token_answer_that_is_not_json_is_a_502() {
    let (_s, r) = sign_in_failing(Mode::TokenNotJson, json!({}), &[]);
    assert_eq!(r.status, 502);
    assert!(
        r.body.contains("Unexpected answer from Auth0"),
        "{}",
        r.body
    );
}

#[test]
fn a_token_answer_without_a_token_is_a_502() {
    let (_s, r) = sign_in_failing(Mode::TokenIncomplete, json!({}), &[]);
    assert_eq!(r.status, 502);
    assert!(r.body.contains("no access_token"), "{}", r.body);
}

#[test]
fn a_userinfo_refusal_is_a_502() {
    let (_s, r) = sign_in_failing(Mode::UserinfoRefused, json!({}), &[]);
    assert_eq!(r.status, 502);
    assert!(r.body.contains("refused the profile request"), "{}", r.body);
}

#[test]
fn users_outside_the_allowed_domains_are_refused() {
    let (_s, r) = sign_in_failing(
        Mode::Normal,
        json!({"allowed_email_domains": ["example.org"]}),
        &[],
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("may not sign in here"), "{}", r.body);
}

#[test]
fn unverified_emails_are_refused_when_domains_are_limited() {
    let fake = FakeAuth0::start();
    *fake.profile.lock().unwrap() =
        json!({"sub": "auth0|eve", "email": "eve@example.com", "email_verified": false});
    let server = serve(
        &fake.stub.base,
        json!({"allowed_email_domains": ["example.com"]}),
        &[],
    );
    let mut browser = Browser::new(&server);
    let r = browser.sign_in("/");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("not verified"), "{}", r.body);
    assert_eq!(browser.actor(), Value::Null);
}

#[test]
fn bad_config_stops_start_up_with_a_message() {
    let fake = FakeAuth0::start();
    let err = |extra: Value| match try_serve(&fake.stub.base, extra, &[]) {
        Ok(_) => panic!("started"),
        Err(e) => e.stderr,
    };
    let e = err(json!({"domain": "http://auth0.example.com"}));
    assert!(
        e.contains("datasette-auth0") && e.contains("loopback"),
        "{e}"
    );
    let e = err(json!({"client_id": ""}));
    assert!(e.contains("\"client_id\" is empty"), "{e}");
    let e = err(json!({"scopes": "openid"}));
    assert!(e.contains("unknown field `scopes`"), "{e}");
    let e = err(json!({"client_secret": {"$env": "NO_SUCH_AUTH0_SECRET"}}));
    assert!(e.contains("NO_SUCH_AUTH0_SECRET is not set"), "{e}");
}

/// Signs in against a fresh fake whose profile is `profile`, on a server with these tables'
/// allow blocks and plugin config: the server, the callback's answer and the browser's cookie.
fn sign_in_as(profile: Value, config: Value, tables: Value) -> (FakeAuth0, Server, Resp, String) {
    let fake = FakeAuth0::start();
    *fake.profile.lock().unwrap() = profile;
    let server = try_serve_tables(&fake.stub.base, config, &[], tables).expect("starts");
    let mut browser = Browser::new(&server);
    let done = browser.sign_in("/fixture/secrets");
    let cookie = browser.cookie.clone();
    (fake, server, done, cookie)
}

fn status_of(server: &Server, cookie: &str, path: &str) -> u16 {
    server.request("GET", path, &[("Cookie", cookie)]).status
}

fn actor_of(server: &Server, cookie: &str) -> Value {
    server
        .request("GET", "/-/actor.json", &[("Cookie", cookie)])
        .json()["actor"]
        .clone()
}

#[test]
fn allow_blocks_on_sub_and_custom_claims_match() {
    let tables = json!({
        "secrets": {"allow": {ROLES: "editor"}},
        "stations": {"allow": {"sub": "auth0|ana"}},
        "cities": {"allow": {ROLES: "admin"}}
    });
    let (_fake, server, done, cookie) = sign_in_as(ana(), json!({}), tables);
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(status_of(&server, &cookie, "/fixture/secrets.json"), 200);
    assert_eq!(status_of(&server, &cookie, "/fixture/stations.json"), 200);
    assert_eq!(status_of(&server, &cookie, "/fixture/cities.json"), 403);
    assert_eq!(status_of(&server, "", "/fixture/secrets.json"), 403);
}

#[test]
fn an_unverified_email_never_satisfies_an_allow_block() {
    // Eve signed up to a database connection with Ana's address and has not verified it.
    let eve = json!({"sub": "auth0|eve", "email": "ana@example.com", "email_verified": false});
    let tables = json!({"secrets": {"allow": {"email": ["ana@example.com"]}}});
    let (_fake, server, done, cookie) = sign_in_as(eve, json!({}), tables);
    assert_eq!(
        done.status, 302,
        "signed in, without the email: {}",
        done.body
    );
    let actor = actor_of(&server, &cookie);
    assert_eq!(actor["id"], "auth0|eve");
    assert!(actor.get("email").is_none(), "{actor}");
    assert_eq!(actor["email_verified"], false);
    assert_eq!(status_of(&server, &cookie, "/fixture/secrets.json"), 403);
}

#[test]
fn sign_out_is_a_post_from_this_site_only() {
    let (fake, server) = setup();
    let mut browser = Browser::new(&server);
    assert_eq!(browser.sign_in("/").status, 302);
    // A link or an image on another site cannot sign anyone out...
    let page = browser.get("/-/auth0-logout");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/-/auth0-logout\">"),
        "{}",
        page.body
    );
    assert_eq!(browser.actor()["id"], "auth0|ana");
    // ...nor can a form posted from there.
    let forged = browser.post("/-/auth0-logout", "https://evil.example");
    assert_eq!(forged.status, 403, "{}", forged.body);
    let cross = server.request(
        "POST",
        "/-/auth0-logout",
        &[
            ("Cookie", &browser.cookie),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    );
    assert_eq!(cross.status, 403, "{}", cross.body);
    assert_eq!(browser.actor()["id"], "auth0|ana", "still signed in");
    assert!(fake.requests_to("/v2/logout").is_empty());
    // This site's own button works.
    let out = browser.post("/-/auth0-logout", &server.base);
    assert_eq!(out.status, 302, "{}", out.body);
    assert!(out
        .header("location")
        .unwrap()
        .starts_with(&format!("{}/v2/logout?", fake.stub.base)));
    assert_eq!(browser.actor(), Value::Null);
}

#[test]
fn a_profile_too_large_for_the_cookie_is_a_clear_page() {
    let mut big = ana();
    big["app_metadata"] = json!({"notes": "x".repeat(3000)});
    let (_fake, server, done, cookie) = sign_in_as(big.clone(), json!({}), json!({}));
    assert_eq!(done.status, 400, "{}", done.body);
    assert!(done.body.contains("Profile too large"), "{}", done.body);
    assert!(
        done.body.contains("app_metadata ("),
        "names the largest claim: {}",
        done.body
    );
    assert!(
        done.body.contains("&#34;claims&#34;"),
        "says how to fix it: {}",
        done.body
    );
    assert_eq!(actor_of(&server, &cookie), Value::Null);
    // Narrowed with `claims`, the same profile signs in.
    let (_fake, server, done, cookie) = sign_in_as(
        big,
        json!({"claims": ["name", "email", "email_verified", ROLES]}),
        json!({}),
    );
    assert_eq!(done.status, 302, "{}", done.body);
    let actor = actor_of(&server, &cookie);
    assert_eq!(actor["name"], "Ana Example");
    assert!(
        actor.get("app_metadata").is_none() && actor.get("picture").is_none(),
        "{actor}"
    );
}

#[test]
fn verified_access_tokens_bring_auth0_permissions() {
    let mut profile = ana();
    profile["token_permissions"] = json!(["read:salaries", "read:reports"]);
    let config = json!({"audience": "https://api.example"});
    let tables = json!({"secrets": {"allow": {"permissions": "read:salaries"}}});
    let (fake, server, done, cookie) = sign_in_as(profile, config, tables);
    assert_eq!(done.status, 302, "{}", done.body);
    let actor = actor_of(&server, &cookie);
    assert_eq!(
        actor["permissions"],
        json!(["read:salaries", "read:reports"])
    );
    assert_eq!(status_of(&server, &cookie, "/fixture/secrets.json"), 200);
    assert_eq!(fake.requests_to("/.well-known/jwks.json").len(), 1);
    // A second sign-in uses the cached keys.
    let mut browser = Browser::new(&server);
    assert_eq!(browser.sign_in("/").status, 302);
    assert_eq!(fake.requests_to("/.well-known/jwks.json").len(), 1);
}

#[test]
fn access_tokens_that_do_not_verify_are_refused() {
    for (mode, reason) in [
        (Mode::TokenExpired, "it has expired"),
        (Mode::TokenWrongAudience, "another audience"),
        (Mode::TokenWrongKey, "signature does not verify"),
    ] {
        let (server, r) = sign_in_failing(mode, json!({"audience": "https://api.example"}), &[]);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains(reason), "{reason}: {}", r.body);
        assert!(server.logged("access token refused"), "{}", server.log());
    }
}

#[test]
fn each_authorize_option_is_passed_on() {
    let fake = FakeAuth0::start();
    let config = json!({"audience": "https://api.example", "connection": "google-oauth2",
        "organization": "org_abc", "prompt": "login", "screen_hint": "signup", "max_age": 300});
    let server = serve(&fake.stub.base, config, &[]);
    let mut browser = Browser::new(&server);
    let q = query_of(&browser.start_sign_in("/"));
    for (k, v) in [
        ("audience", "https://api.example"),
        ("connection", "google-oauth2"),
        ("organization", "org_abc"),
        ("prompt", "login"),
        ("screen_hint", "signup"),
        ("max_age", "300"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
    }
    // An invitation link from Auth0 Organizations goes on to /authorize; another
    // organization than the configured one does not.
    let r = browser.get("/-/auth0-login?invitation=inv_123&organization=org_abc");
    let q = query_of(r.header("location").unwrap());
    assert_eq!(
        (q["invitation"].as_str(), q["organization"].as_str()),
        ("inv_123", "org_abc")
    );
    let r = browser.get("/-/auth0-login?organization=org_other");
    assert_eq!(
        query_of(r.header("location").unwrap())["organization"],
        "org_abc"
    );
    // Without options, none is sent.
    let (_fake, plain) = setup();
    let q = query_of(&Browser::new(&plain).start_sign_in("/"));
    for k in [
        "audience",
        "connection",
        "organization",
        "prompt",
        "screen_hint",
        "max_age",
        "invitation",
    ] {
        assert!(!q.contains_key(k), "{k}");
    }
}

#[test]
fn an_organization_mismatch_is_refused() {
    let mut profile = ana();
    profile["org_id"] = json!("org_other");
    let (_fake, server, done, cookie) =
        sign_in_as(profile, json!({"organization": "org_abc"}), json!({}));
    assert_eq!(done.status, 403, "{}", done.body);
    assert!(done.body.contains("organization"), "{}", done.body);
    assert_eq!(actor_of(&server, &cookie), Value::Null);
    let mut member = ana();
    member["org_id"] = json!("org_abc");
    let (_fake, _server, done, _) =
        sign_in_as(member, json!({"organization": "org_abc"}), json!({}));
    assert_eq!(done.status, 302, "{}", done.body);
}

#[test]
fn bad_authorize_options_stop_start_up() {
    let fake = FakeAuth0::start();
    let e = match try_serve(&fake.stub.base, json!({"prompt": "always"}), &[]) {
        Ok(_) => panic!("started"),
        Err(e) => e.stderr,
    };
    assert!(
        e.contains("\"prompt\" must be one of none, login, consent, select_account"),
        "{e}"
    );
}

#[test]
fn public_url_shapes_the_callback_and_sign_out() {
    let fake = FakeAuth0::start();
    let public = "https://data.example.org";
    let server = serve(&fake.stub.base, json!({"public_url": public}), &[]);
    let mut browser = Browser::new(&server);
    let q = query_of(&browser.start_sign_in("/"));
    assert_eq!(q["redirect_uri"], format!("{public}/-/auth0-callback"));
    // Behind the proxy, the browser's Origin is the public address.
    let out = browser.post("/-/auth0-logout", public);
    assert_eq!(out.status, 302, "{}", out.body);
    assert_eq!(
        query_of(out.header("location").unwrap())["returnTo"],
        format!("{public}/")
    );
    assert_eq!(browser.post("/-/auth0-logout", &server.base).status, 403);
}

#[test]
fn redirect_anonymous_sends_visitors_of_protected_pages_to_sign_in() {
    let fake = FakeAuth0::start();
    let server = serve(&fake.stub.base, json!({"redirect_anonymous": true}), &[]);
    let r = server.get("/fixture/secrets?_size=2");
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/-/auth0-login?next=%2Ffixture%2Fsecrets%3F_size%3D2")
    );
    // API clients still get the 403 they can read.
    let json = server.get("/fixture/secrets.json");
    assert_eq!(
        (json.status, json.json()["status"].clone()),
        (403, json!(403))
    );
    // Signed in but not allowed: the 403 page, not a loop through Auth0.
    let mut browser = Browser::new(&server);
    *fake.profile.lock().unwrap() =
        json!({"sub": "auth0|eve", "email": "eve@example.com", "email_verified": true});
    assert_eq!(browser.sign_in("/").status, 302);
    assert_eq!(browser.get("/fixture/secrets").status, 403);
    // Off by default.
    let (_fake, plain) = setup();
    assert_eq!(plain.get("/fixture/secrets").status, 403);
}

/// Three instances sharing the secret behind nginx under `/data/`, trusting its forwarded
/// headers: the sign-in starts on one instance and comes back to another, the pages after it
/// land on every one, and every link, redirect and cookie stays under `/data/`.
#[test]
fn signing_in_through_a_proxy_under_a_path() {
    let fake = FakeAuth0::start();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let servers: Vec<Server> = ports
        .iter()
        .map(|p| {
            let p = p.to_string();
            let settings = [
                "-p",
                &p,
                "--setting",
                "base_url",
                "/data/",
                "--setting",
                "trust_forwarded_headers",
                "on",
            ];
            serve(&fake.stub.base, json!({}), &settings)
        })
        .collect();
    let nginx = Nginx::start(
        &ports,
        &Proxying {
            prefix: "/data/",
            forwarded: true,
        },
    );
    let site = format!("{}/data", nginx.base);
    let mut browser = Browser::at(&site);

    let before = browser.get("/fixture/secrets");
    assert_eq!(before.status, 403);
    assert!(
        before
            .body
            .contains("href=\"/data/-/auth0-login?next=%2Fdata%2Ffixture%2Fsecrets\""),
        "{}",
        before.body
    );
    let done = browser.sign_in("/data/fixture/secrets?_size=2");
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some("/data/fixture/secrets?_size=2")
    );
    let set_cookie = done.header("set-cookie").expect("signed in");
    assert!(set_cookie.contains("Path=/data;"), "{set_cookie}");
    assert_eq!(fake.problems(), Vec::<String>::new());
    let authorize = &fake.requests_to("/authorize")[0];
    assert_eq!(
        query_of(&authorize.target)["redirect_uri"],
        format!("{site}/-/auth0-callback"),
        "the callback is the proxy's address, from the forwarded headers"
    );
    let login = servers.iter().position(|s| s.logged("/data/-/auth0-login"));
    let callback = servers
        .iter()
        .position(|s| s.logged("/data/-/auth0-callback"));
    assert!(login.is_some() && callback.is_some() && login != callback);

    for _ in 0..6 {
        let page = browser.get("/fixture/secrets?_size=1");
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page
            .body
            .contains("action=\"/data/-/auth0-logout\"><button class=\"menu-link\">Sign out"));
    }
    for s in &servers {
        assert!(
            s.logged("/data/fixture/secrets"),
            "every instance served a page"
        );
    }

    let out = browser.post("/-/auth0-logout", &nginx.base);
    assert_eq!(out.status, 302, "{}", out.body);
    let location = out.header("location").unwrap().to_string();
    assert_eq!(query_of(&location)["returnTo"], format!("{site}/"));
    assert_eq!(browser.get("/fixture/secrets.json").status, 403);
    assert_eq!(browser.actor(), Value::Null);
}
