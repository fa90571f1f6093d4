//! Compressed sizes that mean the same thing on both sides. A compressed size
//! depends on how the source stores a layer: the same tar is ~40 % of its size
//! as gzip, ~100 % stored plain (`docker save`), something else as zstd. A delta
//! between a gzip base and a plain head measures the storage, not the change.
//!
//! The rule (documented in docs/diff.md, "Compressed sizes"):
//! - every layer of both images stored the same way: the stored sizes compare
//!   (`as-stored`);
//! - otherwise every layer is counted at its gzip size (`gzip`), what a registry
//!   push stores: the stored size of a gzip layer, else the estimate the scan made
//!   by compressing its tar at the default level (`estimated_gzip_bytes`), marked
//!   as an estimate (`gzip-estimated`);
//! - either way, a layer both images hold (same diffID) counts one size on both
//!   sides (a stored gzip size first, BASE's before HEAD's), so shared layers never
//!   make a delta;
//! - when some layer has no gzip size (read from manifests only, or a saved report
//!   without estimates), the compressed delta is `not-comparable`: `None`.

use serde::{Deserialize, Serialize};

use crate::image::Compression;
use crate::report::{LayerReport, Report};

/// How the compared compressed figures were made.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CompressedBasis {
    /// Both images store every layer the same way: sizes as stored.
    AsStored,
    /// Storage forms differ: every layer at its stored gzip size.
    Gzip,
    /// As `Gzip`, with some layers' gzip sizes estimated by compressing them.
    GzipEstimated,
    /// Storage forms differ and some layer has no gzip size: no compressed delta.
    NotComparable,
}

impl CompressedBasis {
    /// Words for a reader, after a figure ("gzip, estimated").
    pub(crate) fn label(self) -> &'static str {
        match self {
            CompressedBasis::AsStored => "as stored",
            CompressedBasis::Gzip => "gzip",
            CompressedBasis::GzipEstimated => "gzip, estimated",
            CompressedBasis::NotComparable => "not comparable",
        }
    }
}

/// The comparable compressed totals of both sides, or `None` (not comparable).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comparable {
    pub basis: CompressedBasis,
    pub sizes: Option<(u64, u64)>,
    /// The storage forms of each side, for messages (`gzip`, `none`, `zstd`).
    pub forms: (Vec<Compression>, Vec<Compression>),
}

fn forms(r: &Report) -> Vec<Compression> {
    let mut forms: Vec<Compression> = r.layers.iter().map(|l| l.compression).collect();
    forms.sort_by_key(|c| form_key(*c));
    forms.dedup();
    forms
}

fn form_key(c: Compression) -> u8 {
    match c {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Zstd => 2,
    }
}

/// A layer's gzip size: stored, or estimated (`true`).
fn gzip_size(l: &LayerReport) -> Option<(u64, bool)> {
    if l.compression == Compression::Gzip {
        Some((l.compressed_bytes, false))
    } else {
        l.estimated_gzip_bytes.map(|b| (b, true))
    }
}

pub(crate) fn comparable(base: &Report, head: &Report) -> Comparable {
    let forms = (forms(base), forms(head));
    let uniform = {
        let mut all: Vec<u8> = forms
            .0
            .iter()
            .chain(&forms.1)
            .map(|c| form_key(*c))
            .collect();
        all.sort_unstable();
        all.dedup();
        all.len() <= 1
    };
    let in_base = base.layers_by_diff_id();
    let in_head = head.layers_by_diff_id();
    if uniform {
        // The totals as stored, with HEAD's shared layers at BASE's size (the same
        // tar compressed by another tool can differ by a few bytes).
        let after = head
            .layers
            .iter()
            .fold(head.totals.compressed_bytes, |acc, h| {
                match in_base.get(&h.diff_id) {
                    Some(b) => acc
                        .saturating_sub(h.compressed_bytes)
                        .saturating_add(b.compressed_bytes),
                    None => acc,
                }
            });
        return Comparable {
            basis: CompressedBasis::AsStored,
            sizes: Some((base.totals.compressed_bytes, after)),
            forms,
        };
    }
    let mut estimated = false;
    // One size for a layer: shared layers take the same on both sides (a stored
    // gzip size first, BASE's before HEAD's, then an estimate).
    let mut size_of = |l: &LayerReport| -> Option<u64> {
        let b = in_base.get(&l.diff_id);
        let h = in_head.get(&l.diff_id);
        let (size, est) = match (b, h) {
            (Some(b), Some(h)) => [b, h]
                .into_iter()
                .filter_map(|x| gzip_size(x))
                .find(|(_, est)| !est)
                .or_else(|| gzip_size(b))
                .or_else(|| gzip_size(h))?,
            _ => gzip_size(l)?,
        };
        estimated |= est;
        Some(size)
    };
    let sum = |r: &Report, size_of: &mut dyn FnMut(&LayerReport) -> Option<u64>| {
        r.layers
            .iter()
            .try_fold(0u64, |acc, l| Some(acc.saturating_add(size_of(l)?)))
    };
    let sizes = sum(base, &mut size_of).zip(sum(head, &mut size_of));
    let basis = match (&sizes, estimated) {
        (None, _) => CompressedBasis::NotComparable,
        (Some(_), false) => CompressedBasis::Gzip,
        (Some(_), true) => CompressedBasis::GzipEstimated,
    };
    Comparable {
        basis,
        sizes,
        forms,
    }
}

/// `gzip` / `gzip+none`, for a message about a side's storage.
pub(super) fn forms_text(forms: &[Compression]) -> String {
    let names: Vec<&str> = forms
        .iter()
        .map(|c| match c {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
        .collect();
    if names.is_empty() {
        "no layers".into()
    } else {
        names.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Digest;

    fn report(layers: &[(&str, Compression, u64, Option<u64>)]) -> Report {
        let layers: Vec<serde_json::Value> = layers
            .iter()
            .enumerate()
            .map(|(i, (name, c, size, est))| {
                // Layers are named by a letter: their digests are the letter's.
                let diff_id = Digest::sha256_of(name.as_bytes());
                let digest = Digest::sha256_of(format!("d{i}{name}").as_bytes());
                serde_json::json!({"index": i, "digest": digest, "diff_id": diff_id,
                    "media_type": "", "compression": c, "compressed_bytes": size,
                    "estimated_gzip_bytes": est})
            })
            .collect();
        let total: u64 = layers
            .iter()
            .map(|l| l["compressed_bytes"].as_u64().unwrap())
            .sum();
        serde_json::from_value(serde_json::json!({
            "schema": 2,
            "image": {"reference": "r", "format": "oci", "config_digest": Digest::sha256_of(b"c"), "os": "linux", "architecture": "amd64"},
            "totals": {"layers": layers.len(), "compressed_bytes": total},
            "layers": layers, "history": [], "duplicates": [], "merge_savings": [], "files": []
        }))
        .unwrap()
    }

    use Compression::{Gzip, None as Plain};

    /// One storage form: sizes as stored, shared layers at BASE's size.
    #[test]
    fn one_form_compares_as_stored_with_shared_layers_at_one_size() {
        let base = report(&[("a", Gzip, 100, None)]);
        let head = report(&[("a", Gzip, 103, None), ("b", Gzip, 50, None)]);
        let c = comparable(&base, &head);
        assert_eq!(c.basis, CompressedBasis::AsStored);
        assert_eq!(c.sizes, Some((100, 150)));
    }

    /// gzip base, plain head: the shared layer takes its gzip size on both sides,
    /// the new plain layer its estimate; without an estimate, not comparable.
    #[test]
    fn mixed_forms_compare_at_gzip_size() {
        let base = report(&[("a", Gzip, 100, None)]);
        let head = report(&[("a", Plain, 400, Some(101)), ("b", Plain, 200, Some(60))]);
        let c = comparable(&base, &head);
        assert_eq!(c.basis, CompressedBasis::GzipEstimated);
        assert_eq!(c.sizes, Some((100, 160)), "stored gzip beats an estimate");
        let head = report(&[("a", Plain, 400, None), ("b", Plain, 200, None)]);
        let c = comparable(&base, &head);
        assert_eq!(c.basis, CompressedBasis::NotComparable);
        assert_eq!(c.sizes, None);
        assert_eq!(forms_text(&c.forms.1), "plain");
        // Only shared plain layers: their gzip size comes from BASE, no estimate.
        let head = report(&[("a", Plain, 400, None)]);
        let c = comparable(&base, &head);
        assert_eq!(
            (c.basis, c.sizes),
            (CompressedBasis::Gzip, Some((100, 100)))
        );
    }
}
