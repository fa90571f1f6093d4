//! rpm's ndb `Packages.db` (`packages::rpm::ndb::read`).

#![no_main]

use layergate::rpm::{header, ndb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = ndb::read(data) {
        for b in &r.blobs {
            let _ = header::parse(b);
        }
    }
});
