//! `rpmdb.sqlite` and its WAL (`packages::rpm::sqlite::read`): the input is the
//! database, optionally followed by `--WAL--` and the `-wal` file; every row
//! read goes through the header parser too.

#![no_main]

use layergate::rpm::{header, sqlite};
use libfuzzer_sys::fuzz_target;

const SEP: &[u8] = b"--WAL--";

fuzz_target!(|data: &[u8]| {
    let (db, wal) = match data.windows(SEP.len()).position(|w| w == SEP) {
        Some(at) => (&data[..at], Some(&data[at + SEP.len()..])),
        None => (data, None),
    };
    if let Ok(rows) = sqlite::read(db, wal) {
        for b in &rows.blobs {
            let _ = header::parse(b);
        }
    }
});
