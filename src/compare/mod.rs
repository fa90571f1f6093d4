//! Base versus head: what a pull request did to the image, in numbers. Pure: two
//! reports in, one serialisable `Comparison` out (`"schema": 1`). Layers are matched
//! by diffID, never by position; files by path in the final filesystem.
//!
//! Owns the comparison model and its construction; it knows nothing about policies
//! (which judge a comparison) or rendering (which shows one).

mod compressed;
mod files;
mod layers;
mod packages;

use globset::GlobSet;
use serde::{Deserialize, Serialize};

use crate::image::Digest;
use crate::report::Advice;
use crate::report::{Duplicate, DuplicateKind, MergeSaving, Report, Totals};

pub(crate) use compressed::{comparable, CompressedBasis};
pub(crate) use files::{FileChange, FilesDiff};
pub(crate) use layers::{LayerRow, LayerStatus, LayersDiff};
pub(crate) use packages::{PackageChange, PackageChangeKind, PackagesDiff};

pub(crate) const SCHEMA: u32 = 2;

/// How much detail to keep. `ignore` removes paths from every file-level figure.
#[derive(Debug, Clone)]
pub(crate) struct CompareOptions {
    /// Rows kept per file and directory list (largest changes first).
    pub top: usize,
    /// Directories are aggregated at this many path components (`/usr/lib/python3` = 3).
    pub(crate) dir_depth: usize,
    pub ignore: Option<GlobSet>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            top: 20,
            dir_depth: 3,
            ignore: None,
        }
    }
}

impl CompareOptions {
    pub(crate) fn ignored(&self, path: &str) -> bool {
        self.ignore.as_ref().is_some_and(|g| g.is_match(path))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Comparison {
    pub schema: u32,
    pub base: Side,
    pub head: Side,
    pub totals: TotalsDiff,
    pub layers: LayersDiff,
    /// Unified diff of the `created_by` lines of both histories (empty when equal).
    pub history_diff: String,
    pub files: FilesDiff,
    /// Dead copies (overwritten, deleted, unchanged copies) HEAD has and BASE has not.
    pub new_waste: Vec<Duplicate>,
    /// Same content at several live paths, new in HEAD.
    pub(crate) new_duplicates: Vec<Duplicate>,
    /// Advice HEAD gets that BASE did not.
    pub(crate) new_advice: Vec<Advice>,
    /// HEAD's merge savings: what merging its layers would save.
    pub merge_savings: Vec<MergeSaving>,
    /// Package changes; `None` when either side has no package attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackagesDiff>,
}

/// Which image a side is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Side {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub format: String,
    pub config_digest: Digest,
    /// Read from manifests only (`--manifest-only`, or a policy that needs no more):
    /// only compressed sizes and layers are known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// How the side stores its layers: `gzip`, `plain`, `zstd`, or several joined by `+`.
    #[serde(default)]
    pub storage: String,
}

/// One figure before and after.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Delta {
    pub(crate) before: u64,
    pub(crate) after: u64,
    pub(crate) delta: i64,
    /// delta / before; `None` when before is 0.
    pub(crate) percent: Option<f64>,
}

/// `after - before`, clamped: a hostile saved report must not overflow.
pub(crate) fn signed_delta(before: u64, after: u64) -> i64 {
    (after as i128 - before as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Sums without overflowing on absurd (hand-made) reports.
pub(crate) fn saturating_sum(it: impl IntoIterator<Item = u64>) -> u64 {
    it.into_iter().fold(0u64, u64::saturating_add)
}

impl Delta {
    pub(crate) fn new(before: u64, after: u64) -> Delta {
        let delta = signed_delta(before, after);
        let percent = (before > 0).then(|| delta as f64 * 100.0 / before as f64);
        Delta {
            before,
            after,
            delta,
            percent,
        }
    }
}

/// A ratio before and after (efficiency), delta in percentage points.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub(crate) struct RatioDelta {
    pub before: f64,
    pub after: f64,
    /// after - before, in percentage points.
    pub(crate) delta_points: f64,
}

/// Totals before and after. A figure either side did not measure (a report built
/// from manifests only) has no delta: `None`, JSON `null`, "not measured".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct TotalsDiff {
    /// Compressed sizes made comparable (see `compressed_basis`); `None` (null):
    /// not comparable (storage forms differ and a gzip size is missing).
    pub compressed: Option<Delta>,
    /// How `compressed` was made: `as-stored`, `gzip`, `gzip-estimated`, `not-comparable`.
    pub compressed_basis: CompressedBasis,
    /// The compressed sizes exactly as the sources store them (not for judging:
    /// they differ with the storage form).
    pub(crate) stored_compressed: Delta,
    pub uncompressed: Option<Delta>,
    pub live: Option<Delta>,
    pub wasted: Option<Delta>,
    pub efficiency: Option<RatioDelta>,
    pub files: Option<Delta>,
    pub layers: Delta,
}

/// A delta when both sides measured the figure.
fn both(before: Option<u64>, after: Option<u64>) -> Option<Delta> {
    Some(Delta::new(before?, after?))
}

/// A report's totals with the `ignore`d paths taken out: their live bytes leave
/// `uncompressed` and `live`, their dead copies leave `uncompressed` and `wasted`.
/// Compressed sizes cannot be split by file, so they stay as stored.
pub(crate) fn effective_totals(r: &Report, ignore: Option<&GlobSet>) -> Totals {
    let mut t = r.totals.clone();
    let Some(ignore) = ignore else {
        return t;
    };
    let live = saturating_sum(
        r.files
            .iter()
            .filter(|f| ignore.is_match(&f.path))
            .map(|f| f.bytes),
    );
    let dead = saturating_sum(
        r.duplicates
            .iter()
            .filter(|d| d.kind != DuplicateKind::SameContent && ignore.is_match(&d.path))
            .map(|d| d.wasted_bytes),
    );
    let files = r.files.iter().filter(|f| ignore.is_match(&f.path)).count() as u64;
    // Unmeasured figures stay unmeasured: there is nothing to take out of them.
    t.live_bytes = t.live_bytes.map(|v| v.saturating_sub(live));
    t.wasted_bytes = t.wasted_bytes.map(|v| v.saturating_sub(dead));
    t.uncompressed_bytes = t
        .uncompressed_bytes
        .map(|v| v.saturating_sub(live.saturating_add(dead)));
    t.files = t.files.map(|v| v.saturating_sub(files));
    t.efficiency = match (t.live_bytes, t.uncompressed_bytes) {
        (Some(l), Some(u)) => Some(crate::report::ratio(l, u)),
        _ => None,
    };
    t
}

pub(crate) fn compare(base: &Report, head: &Report, opts: &CompareOptions) -> Comparison {
    let b = &effective_totals(base, opts.ignore.as_ref());
    let h = &effective_totals(head, opts.ignore.as_ref());
    let cmp = comparable(base, head);
    let totals = TotalsDiff {
        compressed: cmp.sizes.map(|(b, h)| Delta::new(b, h)),
        compressed_basis: cmp.basis,
        stored_compressed: Delta::new(b.compressed_bytes, h.compressed_bytes),
        uncompressed: both(b.uncompressed_bytes, h.uncompressed_bytes),
        live: both(b.live_bytes, h.live_bytes),
        wasted: both(b.wasted_bytes, h.wasted_bytes),
        efficiency: match (b.efficiency, h.efficiency) {
            (Some(before), Some(after)) => Some(RatioDelta {
                before,
                after,
                delta_points: (after - before) * 100.0,
            }),
            _ => None,
        },
        files: both(b.files, h.files),
        layers: Delta::new(b.layers, h.layers),
    };
    Comparison {
        schema: SCHEMA,
        base: side(base, &cmp.forms.0),
        head: side(head, &cmp.forms.1),
        totals,
        layers: layers::diff(base, head),
        history_diff: layers::history_diff(base, head),
        files: files::diff(base, head, opts),
        new_waste: new_duplicates(base, head, opts, false),
        new_duplicates: new_duplicates(base, head, opts, true),
        new_advice: crate::advice::new_in(&head.advice, &base.advice)
            .into_iter()
            .cloned()
            .collect(),
        merge_savings: head.merge_savings.clone(),
        packages: packages::diff(base, head),
    }
}

fn side(r: &Report, forms: &[crate::image::Compression]) -> Side {
    Side {
        reference: r.image.reference.clone(),
        name: r.image.name.clone(),
        format: r.image.format.clone(),
        config_digest: r.image.config_digest.clone(),
        partial: r.image.partial,
        storage: compressed::forms_text(forms),
    }
}

/// Rows of HEAD's duplicate table whose path BASE's table does not have (waste rows
/// or same-content rows, as `same_content` says), largest first.
fn new_duplicates(
    base: &Report,
    head: &Report,
    opts: &CompareOptions,
    same_content: bool,
) -> Vec<Duplicate> {
    let wanted = |d: &&Duplicate| (d.kind == DuplicateKind::SameContent) == same_content;
    let known: std::collections::HashSet<&str> = base
        .duplicates
        .iter()
        .filter(wanted)
        .map(|d| d.path.as_str())
        .collect();
    let mut out: Vec<Duplicate> = head
        .duplicates
        .iter()
        .filter(wanted)
        .filter(|d| !known.contains(d.path.as_str()) && !opts.ignored(&d.path))
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then_with(|| a.path.cmp(&b.path))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Percentages must not divide by zero when the base had nothing.
    #[test]
    fn delta_from_zero_has_no_percent() {
        let d = Delta::new(0, 10);
        assert_eq!(d.delta, 10);
        assert_eq!(d.percent, None);
        let d = Delta::new(200, 100);
        assert_eq!(d.delta, -100);
        assert_eq!(d.percent, Some(-50.0));
    }
}
