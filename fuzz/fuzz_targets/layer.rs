//! The tar scanner and the overlay: the input is split into up to four layer
//! blobs (compression sniffed from their bytes), each scanned, and the scans are
//! applied in order. The overlay's invariant is checked on every input.

#![no_main]

use layergate::Overlay;
use layergate::{scan_layer, Limits};
use libfuzzer_sys::fuzz_target;

/// Separates layers inside one fuzz input.
const SEP: &[u8] = b"--LAYER--";

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut scans = Vec::new();
    let mut rest = data;
    for _ in 0..4 {
        let (blob, next) = match rest.windows(SEP.len()).position(|w| w == SEP) {
            Some(i) => (&rest[..i], &rest[i + SEP.len()..]),
            None => (rest, &rest[rest.len()..]),
        };
        if let Ok(scan) = scan_layer(blob, None, &limits) {
            scans.push(scan);
        }
        if next.is_empty() {
            break;
        }
        rest = next;
    }
    let overlay = Overlay::apply(&scans);
    let stored: u64 = scans.iter().map(|s| s.regular_bytes).sum();
    let dead: u64 = overlay.dead.iter().map(|d| d.size).sum();
    assert_eq!(
        stored,
        overlay.live_bytes() + dead,
        "stored = live + wasted"
    );
});
