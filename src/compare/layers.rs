//! Layers matched by diffID: the shared prefix, the layers each side has alone, and
//! the history (`created_by` lines) as a unified diff.

use serde::{Deserialize, Serialize};

use crate::image::Digest;
use crate::report::{LayerReport, Report};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LayerStatus {
    /// Same diffID at the same depth on both sides, below any change.
    Shared,
    /// Same diffID on both sides, but after the first difference.
    Moved,
    Added,
    Removed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct LayersDiff {
    /// Number of leading layers with the same diffIDs (the reused base).
    pub shared_prefix: usize,
    /// Bytes of the shared prefix (compressed, as HEAD stores them).
    pub(crate) shared_compressed_bytes: u64,
    pub added: usize,
    pub removed: usize,
    /// Pull cost: the compressed bytes a client that already holds BASE must
    /// download to get HEAD, i.e. HEAD's layers whose diffID BASE lacks (each
    /// once). What the registry sends over the wire for this change.
    #[serde(default)]
    pub pull_bytes: u64,
    /// How many layers that is.
    #[serde(default)]
    pub pull_layers: usize,
    /// The changed tail: every layer after the shared prefix, HEAD's in order,
    /// then BASE's that HEAD does not have.
    pub tail: Vec<LayerRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct LayerRow {
    pub status: LayerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base_index: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_index: Option<usize>,
    pub diff_id: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub compressed_bytes: u64,
    /// `None` (null): not measured.
    pub uncompressed_bytes: Option<u64>,
    /// Bytes of this layer wasted in BASE (None when BASE lacks it or did not measure it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) wasted_before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) wasted_after: Option<u64>,
}

pub(super) fn diff(base: &Report, head: &Report) -> LayersDiff {
    let shared_prefix = base
        .layers
        .iter()
        .zip(&head.layers)
        .take_while(|(b, h)| b.diff_id == h.diff_id)
        .count();
    let in_base = base.layers_by_diff_id();
    let in_head = head.layers_by_diff_id();
    let mut tail = Vec::new();
    for h in head.layers.iter().skip(shared_prefix) {
        let b = in_base.get(&h.diff_id);
        tail.push(LayerRow {
            status: if b.is_some() {
                LayerStatus::Moved
            } else {
                LayerStatus::Added
            },
            base_index: b.map(|b| b.index),
            head_index: Some(h.index),
            diff_id: h.diff_id.clone(),
            created_by: h.created_by.clone(),
            compressed_bytes: h.compressed_bytes,
            uncompressed_bytes: h.uncompressed_bytes,
            wasted_before: b.and_then(|b| b.wasted_bytes),
            wasted_after: h.wasted_bytes,
        });
    }
    for b in base.layers.iter().skip(shared_prefix) {
        if !in_head.contains_key(&b.diff_id) {
            tail.push(LayerRow {
                status: LayerStatus::Removed,
                base_index: Some(b.index),
                head_index: None,
                diff_id: b.diff_id.clone(),
                created_by: b.created_by.clone(),
                compressed_bytes: b.compressed_bytes,
                uncompressed_bytes: b.uncompressed_bytes,
                wasted_before: b.wasted_bytes,
                wasted_after: None,
            });
        }
    }
    let count = |s: LayerStatus| tail.iter().filter(|r| r.status == s).count();
    let mut pulled: std::collections::HashSet<&Digest> = std::collections::HashSet::new();
    let to_pull: Vec<&LayerReport> = head
        .layers
        .iter()
        .filter(|h| !in_base.contains_key(&h.diff_id) && pulled.insert(&h.diff_id))
        .collect();
    LayersDiff {
        pull_bytes: super::saturating_sum(to_pull.iter().map(|l| l.compressed_bytes)),
        pull_layers: to_pull.len(),
        shared_prefix,
        shared_compressed_bytes: super::saturating_sum(
            head.layers
                .iter()
                .take(shared_prefix)
                .map(|l| l.compressed_bytes),
        ),
        added: count(LayerStatus::Added),
        removed: count(LayerStatus::Removed),
        tail,
    }
}

/// The Dockerfile change as the images record it: one `created_by` per line
/// (whitespace runs folded, so a long RUN stays one line).
pub(super) fn history_diff(base: &Report, head: &Report) -> String {
    let lines = |r: &Report| -> String {
        r.history
            .iter()
            .map(|h| {
                h.created_by
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "\n"
            })
            .collect()
    };
    let (b, h) = (lines(base), lines(head));
    if b == h {
        return String::new();
    }
    similar::TextDiff::from_lines(&b, &h)
        .unified_diff()
        .context_radius(2)
        .header("base", "head")
        .to_string()
}
