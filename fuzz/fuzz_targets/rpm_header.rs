//! The rpm header blob parser (`packages::rpm::header::parse`): any bytes give a
//! header or an error, never a panic or an allocation beyond the input.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = layergate::rpm::header::parse(data) {
        let _ = h.payload_bytes();
        let _ = h.evr();
    }
});
