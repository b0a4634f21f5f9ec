//! metadata.json: any bytes load or give an error naming the file, never a panic.
#![no_main]
use datasette_rs::config::Metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Metadata::parse(s, std::path::Path::new("metadata.json")) {
        assert!(e.to_string().contains("metadata.json"));
    }
});
