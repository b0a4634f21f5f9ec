//! `_next` tokens: any text decodes to keys or an error, never a panic.
#![no_main]
use datasette_rs::db::next_token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for keys in 1..4 {
        let _ = next_token::decode(s, keys, false);
        let _ = next_token::decode(s, keys, true);
    }
    let _ = next_token::decode_offset(s);
});
