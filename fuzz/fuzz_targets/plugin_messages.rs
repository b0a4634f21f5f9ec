//! What a plugin may answer: the host decodes it or rejects it, never panics.
#![no_main]
use datasette_plugin_api::{MenuLink, Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Response>(data);
    let _ = serde_json::from_slice::<Vec<MenuLink>>(data);
    let _ = serde_json::from_slice::<Option<bool>>(data);
    let _ = serde_json::from_slice::<Vec<String>>(data);
    if let Ok(r) = serde_json::from_slice::<Request>(data) {
        let _ = r.query_param("next");
        let _ = r.header("authorization");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = datasette_plugin_api::urlencoded::parse(s);
        let _ = datasette_rs::config::resolve_secrets(&serde_json::Value::String(s.into()));
    }
});
