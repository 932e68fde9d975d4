//! The link-creation body as it arrives: any bytes, parsed as JSON and validated, must end
//! in a request or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = quiver::http::links::parse_new_link(&value);
    }
});
