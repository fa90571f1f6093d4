//! The small parsers users and documents feed us: image references, platforms and
//! digests. Any string must parse or be refused, and what parses must print back
//! to something that parses the same way.

#![no_main]

use layergate::ImageRef;
use layergate::{Digest, Platform};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ImageRef::parse(s).map(|r| r.to_string());
    if let Ok(p) = Platform::parse(s) {
        let again = Platform::parse(&p.to_string()).expect("a printed platform parses");
        assert_eq!(again, p);
    }
    if let Ok(d) = Digest::parse(s) {
        let again = Digest::parse(&d.to_string()).expect("a printed digest parses");
        assert_eq!(again, d);
    }
});
