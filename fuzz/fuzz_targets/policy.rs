//! The policy parser (`layergate::load_policy_str`): any text must load or give
//! errors, never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = layergate::load_policy_str("fuzz.yml", text);
});
