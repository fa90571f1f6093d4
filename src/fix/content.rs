//! What `--prove` needs beyond the reports: the content of every regular file in the
//! final filesystem of an image it built. The reports carry paths, kinds and sizes;
//! two files of one size can still differ, so each built image is opened again, its
//! layers scanned (an engine export as it streams by) and applied, and the content
//! hashes compared. An edge: it reads the image.

use std::collections::BTreeMap;

use crate::overlay::{NodeKind, Overlay};
use crate::scan::{display_path, scan_layer, ContentHash, LayerScan, Limits};
use crate::source::{open_image, ImageRef, OpenOptions};

/// Every live regular file of `reference`'s final filesystem and its content hash.
pub(crate) fn live_contents(
    reference: &str,
    open: &OpenOptions,
) -> Result<BTreeMap<String, ContentHash>, String> {
    let parsed = ImageRef::parse(reference).map_err(|e| e.to_string())?;
    let opened = open_image(&parsed, open).map_err(|e| e.to_string())?;
    let limits = Limits::default();
    let mut scans: Vec<LayerScan> = Vec::new();
    for layer in &opened.image.layers {
        let scan = match opened.blobs.scanned(layer) {
            Some(done) => done.map_err(|e| e.to_string())?,
            None => {
                let declared = layer.declared_compression().map_err(|e| e.to_string())?;
                let reader = opened.blobs.open_layer(layer).map_err(|e| e.to_string())?;
                scan_layer(reader, declared, &limits).map_err(|e| e.to_string())?
            }
        };
        scans.push(scan);
    }
    let overlay = Overlay::apply(&scans);
    Ok(overlay
        .live()
        .filter_map(|(id, node)| match node.kind {
            NodeKind::File { hash, .. } => Some((display_path(&overlay.paths().path(id)), hash)),
            _ => None,
        })
        .collect())
}

/// The paths whose content differs between two final filesystems (present in both,
/// same path, other bytes), outside what `skip` says the rewrite may drop.
pub(crate) fn differing(
    original: &BTreeMap<String, ContentHash>,
    rewritten: &BTreeMap<String, ContentHash>,
    skip: impl Fn(&str) -> bool,
) -> Vec<String> {
    original
        .iter()
        .filter(|(p, h)| rewritten.get(*p).is_some_and(|h2| h2 != *h) && !skip(p))
        .map(|(p, _)| p.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same path, other bytes: listed; a path on one side only is the reports' business.
    #[test]
    fn only_paths_on_both_sides_with_other_bytes_differ() {
        let a: BTreeMap<String, ContentHash> = [
            ("/a".to_string(), [1; 32]),
            ("/b".to_string(), [2; 32]),
            ("/tmp/x".to_string(), [3; 32]),
            ("/gone".to_string(), [4; 32]),
        ]
        .into();
        let b: BTreeMap<String, ContentHash> = [
            ("/a".to_string(), [1; 32]),
            ("/b".to_string(), [9; 32]),
            ("/tmp/x".to_string(), [8; 32]),
        ]
        .into();
        assert_eq!(differing(&a, &b, |p| p.starts_with("/tmp/")), ["/b"]);
    }
}
