//! The policy file loader (`layergate::load_policy_bytes`) fed arbitrary bytes, as
//! `--policy FILE` reads them: any bytes load, or give one `FILE: why` error (not
//! UTF-8, control bytes, empty) or `FILE:LINE:COL` problems, never a panic; and a
//! file that loads is never "empty" by accident (it had something to say).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match layergate::load_policy_bytes("fuzz.yml", data) {
        Ok(_) => assert!(
            std::str::from_utf8(data).is_ok_and(|t| !t.trim().is_empty() && !t.contains('\0'))
        ),
        Err(e) => assert!(e.to_string().starts_with("fuzz.yml:")),
    }
});
