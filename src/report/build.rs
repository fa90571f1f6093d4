//! From scans and their overlay to a [`Report`]. Pure: values in, value out.

use crate::image::{Digest, History, MediaType};
use crate::overlay::{NodeKind, Overlay};
use crate::packages::{self, LiveDatabases};
use crate::scan::{Kind, LayerScan};

use super::{
    duplicates, merge, ratio, FileKind, Files, ImageInfo, LayerReport, Report, Totals, SCHEMA,
};

/// What the source knows of one layer, beside what scanning it found.
pub(crate) struct LayerInput<'a> {
    /// The blob digest as the source names it.
    pub digest: &'a Digest,
    pub media_type: &'a MediaType,
    pub created_by: Option<String>,
    pub scan: &'a LayerScan,
}

pub(crate) fn build(image: ImageInfo, history: Vec<History>, layers: &[LayerInput<'_>]) -> Report {
    let overlay = Overlay::apply(layers.iter().map(|l| l.scan));

    let mut wasted_per_layer = vec![0u64; layers.len()];
    for d in &overlay.dead {
        wasted_per_layer[d.layer] += d.size;
    }

    let layer_reports: Vec<LayerReport> = layers
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let scan = input.scan;
            // Members of each kind, in one pass over the records.
            let mut kinds = [0u64; 7];
            for k in scan.records.kinds() {
                kinds[match k {
                    Kind::File { .. } => 0,
                    Kind::Dir => 1,
                    Kind::Symlink { .. } => 2,
                    Kind::Hardlink { .. } => 3,
                    Kind::Whiteout => 4,
                    Kind::Opaque => 5,
                    Kind::Special => 6,
                }] += 1;
            }
            let changes = overlay.changes.get(index).cloned().unwrap_or_default();
            LayerReport {
                index,
                digest: input.digest.clone(),
                diff_id: scan.diff_id.clone(),
                media_type: input.media_type.clone(),
                compression: scan.compression,
                created_by: input.created_by.clone(),
                compressed_bytes: scan.compressed_bytes,
                estimated_gzip_bytes: scan.gzip_estimate,
                uncompressed_bytes: Some(scan.regular_bytes),
                tar_bytes: Some(scan.tar_bytes),
                entries: Some(scan.entries),
                files: Some(kinds[0]),
                dirs: Some(kinds[1]),
                symlinks: Some(kinds[2]),
                hardlinks: Some(kinds[3]),
                whiteouts: Some(kinds[4]),
                opaque_dirs: Some(kinds[5]),
                added: Some(changes.added),
                modified: Some(changes.modified),
                deleted: Some(changes.deleted),
                wasted_bytes: Some(wasted_per_layer[index]),
            }
        })
        .collect();

    let mut duplicates = duplicates::dead_copies(&overlay);
    let same = duplicates::same_content(&overlay);
    let same_content_bytes = same.iter().map(|d| d.wasted_bytes).sum();
    duplicates.extend(same);
    duplicates::sort(&mut duplicates);

    let uncompressed: u64 = layers.iter().map(|l| l.scan.regular_bytes).sum();
    let live = overlay.live_bytes();
    let totals = Totals {
        layers: layers.len() as u64,
        compressed_bytes: layers.iter().map(|l| l.scan.compressed_bytes).sum(),
        uncompressed_bytes: Some(uncompressed),
        live_bytes: Some(live),
        wasted_bytes: Some(uncompressed.saturating_sub(live)),
        efficiency: Some(ratio(live, uncompressed)),
        files: Some(overlay.live_files()),
        same_content_bytes: Some(same_content_bytes),
    };

    let scans: Vec<&LayerScan> = layers.iter().map(|l| l.scan).collect();
    let attribution = packages::attribute(&overlay, &LiveDatabases::from_scans(&overlay, &scans));

    let warnings = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.scan.notes.iter().map(move |n| format!("layer {i}: {n}")))
        .chain(
            attribution
                .warnings
                .into_iter()
                .map(|w| format!("packages: {w}")),
        )
        .collect();

    let merge_savings = merge::savings(&overlay);
    // Listed last, when nothing looks a path up any more: the lookup table is
    // freed first, and the overlay's tree of paths becomes the file list's (no
    // path is copied).
    let mut overlay = overlay;
    overlay.drop_lookup();
    let mut live_files = Vec::with_capacity(usize::try_from(overlay.live_files()).unwrap_or(0));
    live_files.extend(overlay.live().filter_map(|(id, node)| {
        let (kind, bytes) = match node.kind {
            NodeKind::Dir => return None,
            NodeKind::File { size, .. } => (FileKind::File, size),
            NodeKind::Symlink => (FileKind::Symlink, 0),
            NodeKind::Hardlink => (FileKind::Hardlink, 0),
            NodeKind::Special => (FileKind::Special, 0),
        };
        Some((id, bytes, node.layer, kind))
    }));
    let files = Files::from_tree(overlay.into_paths(), live_files);

    Report {
        schema: SCHEMA,
        image,
        totals,
        layers: layer_reports,
        history,
        duplicates,
        merge_savings,
        advice: Vec::new(),
        files,
        packages: attribution.packages,
        package_totals: Some(attribution.totals),
        owners: attribution.owners,
        warnings,
    }
}
