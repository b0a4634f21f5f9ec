//! Tilde and percent decoding, and query strings: never a panic; decoding inverts encoding.
#![no_main]
use datasette_rs::urls;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = urls::tilde_decode(s);
    let _ = urls::percent_decode(s);
    let _ = urls::parse_query(s);
    assert_eq!(urls::tilde_decode(&urls::tilde_encode(s)).as_deref(), Some(s));
});
