//! The archive/layout reader end to end: any bytes, written to a file and opened
//! as an image archive (docker-save or OCI, sniffed), then analysed. Errors are
//! fine; panics, hangs and unbounded allocations are not.

#![no_main]

use std::io::Write;

use layergate::Limits;
use layergate::{analyze, Job};
use layergate::{open_local, ImageRef, OpenOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let reference = ImageRef::Path(file.path().to_path_buf());
    let Ok(opened) = open_local(&reference, &OpenOptions::default()) else {
        return;
    };
    let job = Job::of(&opened);
    let _ = analyze(&[job], &Limits::default());
});
