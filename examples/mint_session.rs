//! Prints a `ds_session` cookie value: `mint_session SECRET ACTOR_JSON EXPIRES_UNIX_SECONDS`.
//! Datasette's test suite runner (`PEER_RS_COOKIE_CMD`) uses it to sign its actors in.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [secret, actor, expires] = args.as_slice() else {
        eprintln!("usage: mint_session SECRET ACTOR_JSON EXPIRES_UNIX_SECONDS");
        std::process::exit(2);
    };
    let actor: serde_json::Value = serde_json::from_str(actor).unwrap_or_else(|e| {
        eprintln!("mint_session: the actor is not JSON: {e}");
        std::process::exit(2)
    });
    let expires: i64 = expires.parse().unwrap_or_else(|_| {
        eprintln!("mint_session: the expiry is not a number of seconds: {expires}");
        std::process::exit(2)
    });
    println!("{}", testkit::session_cookie_value(secret, &actor, expires));
}
