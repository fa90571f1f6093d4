//! The data the HTML page draws: a serialisable value built from a report (and,
//! for `diff`, the base report and the comparison). Pure; the page template only
//! formats it, and the snapshot tests pin it instead of the markup.

use std::collections::HashMap;

use serde::Serialize;

use crate::advice::Advice;
use crate::compare::{Comparison, LayerRow};
use crate::image::Digest;
use crate::policy::{Finding, Verdict};
use crate::report::Report;

use super::packages::{self, PackageView};
use super::tree::{self, Aggregation, Node};

/// Which command made the page.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PageKind {
    Analyze,
    Check,
    Diff,
}

/// Rows kept in the shrunk and removed lists beside the `diff` treemap.
pub(super) const CHANGE_ROWS: usize = 200;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Payload {
    /// Version of this payload's shape, for anyone reading it out of the page.
    pub(crate) schema: u32,
    pub(crate) kind: PageKind,
    pub(crate) image: ImageSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) base: Option<ImageSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) verdict: Option<Verdict>,
    pub(crate) totals: Vec<TotalRow>,
    pub(crate) layers: Vec<LayerSummary>,
    /// `diff`: the layers HEAD and BASE do not share, matched by diffID.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) layer_changes: Vec<LayerRow>,
    /// The final filesystem; `None` when only manifests were read.
    pub(crate) tree: Option<Node>,
    pub(crate) aggregation: Aggregation,
    /// The "by package" view (HEAD's for `diff`); `None` when packages were not
    /// attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) packages: Option<PackageView>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) advice: Vec<Advice>,
    /// `diff`: files that shrank or went away (they have no cell in HEAD's map).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) shrunk: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) removed: Vec<Change>,
    /// Counts before the lists were cut to [`CHANGE_ROWS`].
    pub(crate) shrunk_count: usize,
    pub(crate) removed_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) history_diff: Option<String>,
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct ImageSummary {
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub platform: String,
    pub config_digest: Digest,
    /// Only manifests were read: file figures are unknown, not zero.
    pub partial: bool,
}

/// One line of the totals table. `before` only for `diff`; `None` is "not
/// measured", shown as a dash, never as 0.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct TotalRow {
    pub label: &'static str,
    pub(crate) unit: Unit,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Unit {
    Bytes,
    Count,
    Ratio,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct LayerSummary {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub compressed: u64,
    /// `None`: not measured (manifests only), shown as a dash.
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
    pub wasted: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Change {
    pub path: String,
    pub before: u64,
    pub after: u64,
}

fn summary(r: &Report) -> ImageSummary {
    let i = &r.image;
    let mut platform = format!("{}/{}", i.os, i.architecture);
    if let Some(v) = &i.variant {
        platform = format!("{platform}/{v}");
    }
    ImageSummary {
        reference: i.reference.clone(),
        name: i.name.clone(),
        platform,
        config_digest: i.config_digest.clone(),
        partial: i.partial,
    }
}

fn layers(r: &Report) -> Vec<LayerSummary> {
    r.layers
        .iter()
        .map(|l| LayerSummary {
            index: l.index,
            created_by: l.created_by.clone(),
            compressed: l.compressed_bytes,
            uncompressed: l.uncompressed_bytes,
            files: l.files,
            wasted: l.wasted_bytes,
        })
        .collect()
}

/// The totals of one image; file figures are absent (not 0) for a partial report.
fn totals(r: &Report, base: Option<&Report>) -> Vec<TotalRow> {
    type Pick = fn(&Report) -> serde_json::Value;
    let rows: [(&'static str, Unit, bool, Pick); 7] = [
        ("compressed", Unit::Bytes, false, |r| {
            r.totals.compressed_bytes.into()
        }),
        ("stored (uncompressed)", Unit::Bytes, true, |r| {
            r.totals.uncompressed_bytes.into()
        }),
        ("live", Unit::Bytes, true, |r| r.totals.live_bytes.into()),
        ("wasted", Unit::Bytes, true, |r| {
            r.totals.wasted_bytes.into()
        }),
        ("efficiency", Unit::Ratio, true, |r| {
            r.totals.efficiency.into()
        }),
        ("live files", Unit::Count, true, |r| r.totals.files.into()),
        ("layers", Unit::Count, false, |r| r.totals.layers.into()),
    ];
    let value = |r: &Report, needs_files: bool, pick: Pick| {
        (!(needs_files && r.image.partial)).then(|| pick(r))
    };
    rows.into_iter()
        .map(|(label, unit, needs_files, pick)| TotalRow {
            label,
            unit,
            before: base.and_then(|b| value(b, needs_files, pick)),
            after: value(r, needs_files, pick),
        })
        .collect()
}

fn tree_of(r: &Report, base: Option<&Report>) -> (Option<Node>, Aggregation) {
    if r.image.partial {
        return (None, Aggregation::default());
    }
    let base = base.filter(|b| !b.image.partial);
    let (node, agg) = tree::build(r, base);
    (Some(node), agg)
}

/// `analyze`: the image, its layers, its advice.
pub fn analyze(report: &Report) -> Payload {
    let (tree, aggregation) = tree_of(report, None);
    Payload {
        schema: 1,
        kind: PageKind::Analyze,
        image: summary(report),
        base: None,
        verdict: None,
        totals: totals(report, None),
        layers: layers(report),
        layer_changes: Vec::new(),
        tree,
        aggregation,
        packages: packages::view(report),
        findings: Vec::new(),
        advice: report.advice.clone(),
        shrunk: Vec::new(),
        removed: Vec::new(),
        shrunk_count: 0,
        removed_count: 0,
        history_diff: None,
        warnings: report.warnings.clone(),
    }
}

/// `check`: the image and the policy's findings.
pub(crate) fn check(report: &Report, findings: &[Finding], verdict: &Verdict) -> Payload {
    Payload {
        kind: PageKind::Check,
        verdict: Some(verdict.clone()),
        findings: findings.to_vec(),
        ..analyze(report)
    }
}

/// `diff`: HEAD's map with its growth, and what shrank or went away beside it.
pub(crate) fn diff(
    base: &Report,
    head: &Report,
    comparison: &Comparison,
    findings: &[Finding],
    verdict: &Verdict,
) -> Payload {
    let (tree, aggregation) = tree_of(head, Some(base));
    let (shrunk, removed) = if head.image.partial || base.image.partial {
        (Vec::new(), Vec::new())
    } else {
        shrunk_removed(base, head)
    };
    let history_diff =
        (!comparison.history_diff.is_empty()).then(|| comparison.history_diff.clone());
    Payload {
        schema: 1,
        kind: PageKind::Diff,
        image: summary(head),
        base: Some(summary(base)),
        verdict: Some(verdict.clone()),
        totals: totals(head, Some(base)),
        layers: layers(head),
        layer_changes: comparison.layers.tail.clone(),
        tree,
        aggregation,
        packages: packages::view(head),
        findings: findings.to_vec(),
        advice: comparison.new_advice.clone(),
        shrunk_count: shrunk.len(),
        removed_count: removed.len(),
        shrunk: cut(shrunk),
        removed: cut(removed),
        history_diff,
        warnings: head.warnings.clone(),
    }
}

fn cut(mut v: Vec<Change>) -> Vec<Change> {
    v.sort_by(|a, b| {
        let d = |c: &Change| c.before.saturating_sub(c.after);
        d(b).cmp(&d(a)).then_with(|| a.path.cmp(&b.path))
    });
    v.truncate(CHANGE_ROWS);
    v
}

fn shrunk_removed(base: &Report, head: &Report) -> (Vec<Change>, Vec<Change>) {
    let after: HashMap<String, u64> = head.files.iter().map(|f| (f.path, f.bytes)).collect();
    let mut shrunk = Vec::new();
    let mut removed = Vec::new();
    for f in &base.files {
        match after.get(f.path.as_str()) {
            None => removed.push(Change {
                path: f.path.clone(),
                before: f.bytes,
                after: 0,
            }),
            Some(&a) if a < f.bytes => shrunk.push(Change {
                path: f.path.clone(),
                before: f.bytes,
                after: a,
            }),
            Some(_) => {}
        }
    }
    (shrunk, removed)
}
