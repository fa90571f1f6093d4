//! The cache entry decoder (`layergate::decode_cache_entry`) fed arbitrary bytes, as a
//! hostile or damaged cache file would hold them: an error or a scan, never a
//! panic or an allocation beyond the entry's limits. Bytes sealed with another
//! secret never decode; a genuine entry round-trips.

#![no_main]

use layergate::Digest;
use libfuzzer_sys::fuzz_target;

const SECRET: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    let key = match Digest::parse(
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ) {
        Ok(k) => k,
        Err(_) => return,
    };
    if let Ok(scan) = layergate::decode_cache_entry(&key, data, &SECRET) {
        // Whatever decoded must encode again and decode to the same scan.
        let again = layergate::encode_cache_entry(&key, &scan, &SECRET).expect("encodes");
        let back = layergate::decode_cache_entry(&key, &again, &SECRET).expect("round-trips");
        assert_eq!(format!("{back:?}"), format!("{scan:?}"));
        assert!(layergate::decode_cache_entry(&key, &again, &[8; 32]).is_err());
    }
});
