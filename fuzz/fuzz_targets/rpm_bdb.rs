//! BerkeleyDB hash `Packages` (`packages::rpm::bdb::read`), either byte order.

#![no_main]

use layergate::rpm::{bdb, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = bdb::read(data) {
        for b in &r.blobs {
            let _ = header::parse(b);
        }
    }
});
