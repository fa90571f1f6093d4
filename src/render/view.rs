//! The view model of a `diff` or `check`: every figure formatted, nothing escaped
//! (templates escape with the `md` filter). Templates only lay it out.

use serde::Serialize;

use crate::compare::{Comparison, CompressedBasis, Delta, LayerStatus};
use crate::policy::{Finding, Severity, Unit, Verdict};
use crate::report::Report;
use crate::text::{
    ellipsize, human_bytes, human_delta, layer_list, maybe_bytes, maybe_count, maybe_percent,
    NOT_MEASURED,
};

/// A table cut to its first rows; `omitted` says how many were left out.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Table<T> {
    pub rows: Vec<T>,
    pub total: usize,
    pub(crate) omitted: usize,
}

impl<T> Table<T> {
    fn new(rows: Vec<T>, total: usize) -> Table<T> {
        let omitted = total.saturating_sub(rows.len());
        Table {
            rows,
            total,
            omitted,
        }
    }

    /// Halves the table (for the comment size limit); false when already empty.
    pub(crate) fn halve(&mut self) -> bool {
        if self.rows.is_empty() {
            return false;
        }
        let keep = self.rows.len() / 2;
        self.omitted += self.rows.len() - keep;
        self.rows.truncate(keep);
        true
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct TotalRow {
    pub label: String,
    pub before: String,
    pub after: String,
    pub delta: String,
    pub icon: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FindingRow {
    pub code: String,
    pub severity: String,
    pub icon: String,
    pub message: String,
    pub value: String,
    pub limit: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LayerRowView {
    pub status: String,
    pub icon: String,
    pub base: String,
    pub head: String,
    pub diff_id: String,
    pub compressed: String,
    pub uncompressed: String,
    pub wasted: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileRowView {
    pub change: String,
    pub path: String,
    pub before: String,
    pub after: String,
    pub delta: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DirRowView {
    pub dir: String,
    pub before: String,
    pub after: String,
    pub delta: String,
    pub files: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct WasteRowView {
    pub kind: String,
    pub path: String,
    pub layers: String,
    pub bytes: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AdviceRowView {
    pub code: String,
    pub severity: String,
    pub title: String,
    pub bytes: String,
    pub suggestion: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MergeRowView {
    pub layers: String,
    pub files: String,
    pub bytes: String,
    pub top: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DiffView {
    /// `<!-- layergate:KEY -->`, so a later run finds and updates the comment.
    pub marker: String,
    pub icon: String,
    pub headline: String,
    pub verdict: Verdict,
    pub base: String,
    pub head: String,
    pub totals: Vec<TotalRow>,
    pub failed: Vec<FindingRow>,
    pub warned: Vec<FindingRow>,
    pub(crate) layers_summary: String,
    pub layers: Table<LayerRowView>,
    pub files: Table<FileRowView>,
    pub dirs: Table<DirRowView>,
    pub waste: Table<WasteRowView>,
    pub advice: Table<AdviceRowView>,
    pub merge: Table<MergeRowView>,
    /// Package changes; `None` when either side was not attributed.
    pub packages: Option<Table<super::packages::PackageRowView>>,
    pub(crate) packages_summary: String,
    pub history_diff: String,
    pub(crate) history_fence: String,
    /// Set when tables were cut to fit the comment size limit.
    pub truncated: bool,
    pub policy: String,
    /// Said above the figures when a side was read from manifests only.
    pub note: String,
    /// A Mermaid chart of HEAD's layers, new ones highlighted (empty: none).
    pub chart: String,
    /// Where the CI run put the HTML report (`--html-url`), linked from the comment.
    pub html_url: String,
}

fn partial_note(c: &crate::compare::Comparison) -> String {
    let mut notes = Vec::new();
    if c.base.partial || c.head.partial {
        notes.push(
            "Read from manifests only (the policy needs nothing more, or `--manifest-only`): \
             compressed sizes and layers; no layer was pulled or scanned; other figures are not measured."
                .to_string(),
        );
    }
    let forms = format!("BASE stores {}, HEAD {}", c.base.storage, c.head.storage);
    match c.totals.compressed_basis {
        CompressedBasis::AsStored => {}
        CompressedBasis::Gzip => notes.push(format!(
            "Compressed sizes: {forms}; every layer is counted at its gzip size, a layer both hold at one size."
        )),
        CompressedBasis::GzipEstimated => notes.push(format!(
            "Compressed sizes: {forms}; layers not stored gzip are counted at an estimated gzip size \
             (compressed at the default level, as a registry push would store them), a layer both hold at one size."
        )),
        CompressedBasis::NotComparable => notes.push(format!(
            "Compressed sizes are not comparable: {forms}, and without reading the layers no gzip size \
             could be estimated; growth is judged on the uncompressed size where measured."
        )),
    }
    notes.join(" ")
}

/// Advice rows, shared by the `analyze` and `diff` comments.
pub(crate) fn advice_rows(advice: &[crate::report::Advice]) -> Vec<AdviceRowView> {
    advice
        .iter()
        .map(|a| AdviceRowView {
            code: a.code.to_string(),
            severity: a.severity.as_str().to_string(),
            title: a.title.clone(),
            bytes: human_bytes(a.bytes),
            suggestion: a.suggestion.clone(),
        })
        .collect()
}

/// Merge-saving rows (three largest files each), shared by `analyze` and `diff`.
pub(crate) fn merge_rows(savings: &[crate::report::MergeSaving]) -> Vec<MergeRowView> {
    savings
        .iter()
        .map(|m| MergeRowView {
            layers: format!("L{}–L{}", m.lower, m.upper),
            files: m.files.to_string(),
            bytes: human_bytes(m.bytes),
            top: m
                .top_files
                .iter()
                .take(3)
                .map(|p| p.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

pub(crate) fn verdict_icon(v: &Verdict) -> &'static str {
    match (v.failed, v.warned) {
        (0, 0) => "✅",
        (0, _) => "⚠️",
        _ => "❌",
    }
}

/// An icon per band of relative change, like compressed-size-action: `lower_is_better`
/// for sizes, false for efficiency.
pub(crate) fn band(delta: f64, percent: Option<f64>, lower_is_better: bool) -> &'static str {
    let worse = if lower_is_better {
        delta > 0.0
    } else {
        delta < 0.0
    };
    let p = percent.map_or(if delta == 0.0 { 0.0 } else { 100.0 }, f64::abs);
    if delta == 0.0 || p < 1.0 {
        "⚪"
    } else if !worse {
        "🟢"
    } else if p < 10.0 {
        "🟡"
    } else {
        "🔴"
    }
}

pub(crate) fn pct_text(p: Option<f64>, delta: i64) -> String {
    match p {
        Some(p) => format!("{p:+.1} %"),
        None if delta == 0 => "±0 %".into(),
        None => "new".into(),
    }
}

fn bytes_row(label: &str, d: &Delta) -> TotalRow {
    TotalRow {
        label: label.into(),
        before: human_bytes(d.before),
        after: human_bytes(d.after),
        delta: format!(
            "{} ({})",
            human_delta(d.delta as i128),
            pct_text(d.percent, d.delta)
        ),
        icon: band(d.delta as f64, d.percent, true).into(),
    }
}

/// A row whose figure a side did not measure: said, never shown as 0.
fn unmeasured_row(label: &str) -> TotalRow {
    TotalRow {
        label: label.into(),
        before: NOT_MEASURED.into(),
        after: NOT_MEASURED.into(),
        delta: NOT_MEASURED.into(),
        icon: "⚪".into(),
    }
}

fn count_row(label: &str, d: &Delta) -> TotalRow {
    TotalRow {
        label: label.into(),
        before: d.before.to_string(),
        after: d.after.to_string(),
        delta: format!("{:+} ({})", d.delta, pct_text(d.percent, d.delta)),
        icon: band(d.delta as f64, d.percent, true).into(),
    }
}

pub(crate) fn finding_rows(findings: &[Finding], severity: Severity) -> Vec<FindingRow> {
    let show = |v: f64, unit: Unit| match unit {
        Unit::Bytes if v < 0.0 => human_delta(v as i128),
        Unit::Bytes => human_bytes(v as u64),
        Unit::Count => format!("{v}"),
        Unit::Percent => format!("{v:.2} %"),
    };
    findings
        .iter()
        .filter(|f| f.severity == severity)
        .map(|f| FindingRow {
            code: f.code.to_string(),
            severity: f.severity.as_str().into(),
            icon: if f.severity == Severity::Fail {
                "❌"
            } else {
                "⚠️"
            }
            .into(),
            message: f.message.clone(),
            value: show(f.value, f.unit),
            limit: show(f.limit, f.unit),
        })
        .collect()
}

fn name(side: &crate::compare::Side) -> String {
    side.name.clone().unwrap_or_else(|| side.reference.clone())
}

pub(crate) struct DiffInput<'a> {
    pub comparison: &'a Comparison,
    pub findings: &'a [Finding],
    pub verdict: &'a Verdict,
    pub key: &'a crate::marker::Marker,
    pub policy: &'a str,
}

pub(crate) fn diff_view(i: &DiffInput<'_>) -> DiffView {
    let c = i.comparison;
    let t = &c.totals;
    // Manifests know compressed sizes and layers; the rest says "not measured".
    let bytes = |label: &str, d: &Option<Delta>| match d {
        Some(d) => bytes_row(label, d),
        None => unmeasured_row(label),
    };
    let compressed = match &t.compressed {
        Some(d) if t.compressed_basis == CompressedBasis::AsStored => bytes_row("compressed", d),
        Some(d) => bytes_row(&format!("compressed ({})", t.compressed_basis.label()), d),
        None => TotalRow {
            label: "compressed (as stored)".into(),
            before: format!(
                "{} {}",
                human_bytes(t.stored_compressed.before),
                c.base.storage
            ),
            after: format!(
                "{} {}",
                human_bytes(t.stored_compressed.after),
                c.head.storage
            ),
            delta: "not comparable".into(),
            icon: "⚪".into(),
        },
    };
    let totals = vec![
        compressed,
        bytes("uncompressed", &t.uncompressed),
        bytes("live", &t.live),
        bytes("wasted", &t.wasted),
        match &t.efficiency {
            Some(e) => TotalRow {
                label: "efficiency".into(),
                before: format!("{:.2} %", e.before * 100.0),
                after: format!("{:.2} %", e.after * 100.0),
                delta: format!("{:+.2} pp", e.delta_points),
                icon: band(e.delta_points, Some(e.delta_points), false).into(),
            },
            None => unmeasured_row("efficiency"),
        },
        match &t.files {
            Some(d) => count_row("files", d),
            None => unmeasured_row("files"),
        },
        count_row("layers", &t.layers),
    ];
    // Images without any package database get no package rows at all.
    let package_diff = c
        .packages
        .as_ref()
        .filter(|p| p.count.before > 0 || p.count.after > 0);
    let mut totals = totals;
    if let Some(p) = package_diff {
        totals.push(count_row("packages", &p.count));
    }
    // Read from manifests: the rows nobody measured are left out of the table and
    // the note above it says so ("other figures are not measured").
    let totals: Vec<TotalRow> = totals
        .into_iter()
        .filter(|r| r.after != NOT_MEASURED && r.before != NOT_MEASURED)
        .collect();
    let layers: Vec<LayerRowView> = c
        .layers
        .tail
        .iter()
        .map(|l| LayerRowView {
            status: match l.status {
                LayerStatus::Shared => "shared",
                LayerStatus::Moved => "moved",
                LayerStatus::Added => "added",
                LayerStatus::Removed => "removed",
            }
            .into(),
            icon: match l.status {
                LayerStatus::Added => "➕",
                LayerStatus::Removed => "➖",
                _ => "↔️",
            }
            .into(),
            base: l.base_index.map_or("—".into(), |i| format!("L{i}")),
            head: l.head_index.map_or("—".into(), |i| format!("L{i}")),
            diff_id: short(&l.diff_id),
            compressed: human_bytes(l.compressed_bytes),
            uncompressed: maybe_bytes(l.uncompressed_bytes),
            wasted: match (l.wasted_before, l.wasted_after) {
                (Some(b), Some(a)) if a != b => format!("{} → {}", human_bytes(b), human_bytes(a)),
                (_, Some(a)) => human_bytes(a),
                (Some(b), None) => human_bytes(b),
                (None, None) if c.base.partial || c.head.partial => NOT_MEASURED.into(),
                (None, None) => "—".into(),
            },
            created_by: ellipsize(l.created_by.as_deref().unwrap_or("?"), 120),
        })
        .collect();
    let n_layers = layers.len();
    let f = &c.files;
    let mut files: Vec<(&str, &crate::compare::FileChange)> = Vec::new();
    files.extend(f.added.iter().map(|x| ("added", x)));
    files.extend(f.removed.iter().map(|x| ("removed", x)));
    files.extend(f.grown.iter().map(|x| ("grown", x)));
    files.extend(f.shrunk.iter().map(|x| ("shrunk", x)));
    files.sort_by(|a, b| {
        b.1.delta
            .unsigned_abs()
            .cmp(&a.1.delta.unsigned_abs())
            .then_with(|| a.1.path.cmp(&b.1.path))
    });
    let files_total = f.added_count + f.removed_count + f.grown_count + f.shrunk_count;
    let files: Vec<FileRowView> = files
        .into_iter()
        .map(|(change, x)| FileRowView {
            change: change.into(),
            path: x.path.clone(),
            before: if change == "added" {
                "—".into()
            } else {
                human_bytes(x.before)
            },
            after: if change == "removed" {
                "—".into()
            } else {
                human_bytes(x.after)
            },
            delta: human_delta(x.delta as i128),
        })
        .collect();
    let dirs: Vec<DirRowView> = f
        .dirs
        .iter()
        .map(|d| DirRowView {
            dir: d.dir.clone(),
            before: human_bytes(d.before),
            after: human_bytes(d.after),
            delta: human_delta(d.delta as i128),
            files: format!("+{} -{} ~{}", d.added, d.removed, d.changed),
        })
        .collect();
    let waste: Vec<WasteRowView> = c
        .new_waste
        .iter()
        .map(|d| WasteRowView {
            kind: d.kind.as_str().into(),
            path: d.path.clone(),
            layers: if d.by_layers.is_empty() {
                layer_list(&d.layers)
            } else {
                format!("{} by {}", layer_list(&d.layers), layer_list(&d.by_layers))
            },
            bytes: human_bytes(d.wasted_bytes),
        })
        .chain(c.new_duplicates.iter().map(|d| WasteRowView {
            kind: d.kind.as_str().into(),
            path: d.paths.join(", "),
            layers: layer_list(&d.layers),
            bytes: human_bytes(d.wasted_bytes),
        }))
        .collect();
    let advice = advice_rows(&c.new_advice);
    let merge = merge_rows(&c.merge_savings);
    let (nw, na, nm) = (waste.len(), advice.len(), merge.len());
    DiffView {
        marker: i.key.text(),
        icon: verdict_icon(i.verdict).into(),
        headline: i.verdict.headline.clone(),
        verdict: i.verdict.clone(),
        base: name(&c.base),
        head: name(&c.head),
        totals,
        failed: finding_rows(i.findings, Severity::Fail),
        warned: finding_rows(i.findings, Severity::Warn),
        layers_summary: format!(
            "{} shared, {} added, {} removed; pull cost {} ({} {})",
            c.layers.shared_prefix,
            c.layers.added,
            c.layers.removed,
            human_bytes(c.layers.pull_bytes),
            c.layers.pull_layers,
            if c.layers.pull_layers == 1 {
                "layer"
            } else {
                "layers"
            }
        ),
        layers: Table::new(layers, n_layers),
        files: Table::new(files, files_total),
        dirs: Table::new(dirs, f.dirs_count),
        waste: Table::new(waste, nw),
        advice: Table::new(advice, na),
        merge: Table::new(merge, nm),
        packages: package_diff.map(|p| {
            Table::new(
                super::packages::change_rows(p, super::packages::TOP_CHANGES),
                p.changes.len(),
            )
        }),
        packages_summary: package_diff
            .map(super::packages::summary)
            .unwrap_or_default(),
        history_fence: super::escape::fence_for(&c.history_diff),
        history_diff: c.history_diff.clone(),
        truncated: false,
        policy: i.policy.to_string(),
        note: partial_note(c),
        chart: super::chart::diff_chart(c),
        html_url: String::new(),
    }
}

impl DiffView {
    /// Cuts the longest table in half; false when nothing is left to cut.
    pub(crate) fn shrink(&mut self) -> bool {
        let lens = [
            self.files.rows.len(),
            self.dirs.rows.len(),
            self.waste.rows.len(),
            self.layers.rows.len(),
            self.advice.rows.len(),
            self.merge.rows.len(),
            self.packages.as_ref().map_or(0, |p| p.rows.len()),
        ];
        let Some((i, &n)) = lens.iter().enumerate().max_by_key(|(_, n)| **n) else {
            return false;
        };
        self.truncated = true;
        if n == 0 {
            if self.history_diff.is_empty() {
                return false;
            }
            self.history_diff = "(history diff left out: the comment would be too long)\n".into();
            return true;
        }
        match i {
            0 => self.files.halve(),
            1 => self.dirs.halve(),
            2 => self.waste.halve(),
            3 => self.layers.halve(),
            4 => self.advice.halve(),
            5 => self.merge.halve(),
            _ => self.packages.as_mut().is_some_and(Table::halve),
        }
    }
}

/// The view of `check`: one image against absolute limits.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckView {
    pub marker: String,
    pub icon: String,
    pub headline: String,
    pub verdict: Verdict,
    pub image: String,
    pub totals: Vec<TotalRow>,
    pub failed: Vec<FindingRow>,
    pub warned: Vec<FindingRow>,
    pub policy: String,
    /// A Mermaid chart of the image's layers (empty: none).
    pub chart: String,
    /// Where the CI run put the HTML report (`--html-url`), linked from the comment.
    pub html_url: String,
}

pub(crate) fn check_view(
    head: &Report,
    findings: &[Finding],
    verdict: &Verdict,
    key: &crate::marker::Marker,
    policy: &str,
) -> CheckView {
    let image = head
        .image
        .name
        .clone()
        .unwrap_or_else(|| head.image.reference.clone());
    let mut view = check_view_of(&head.totals, image, findings, verdict, key, policy);
    view.chart = super::chart::layers_chart(&head.layers);
    view
}

/// The `check` view from totals alone (`merge` has no more than a verdict file).
pub(crate) fn check_view_of(
    t: &crate::report::Totals,
    image: String,
    findings: &[Finding],
    verdict: &Verdict,
    key: &crate::marker::Marker,
    policy: &str,
) -> CheckView {
    let one = |label: &str, v: String| TotalRow {
        label: label.into(),
        before: String::new(),
        after: v,
        delta: String::new(),
        icon: String::new(),
    };
    CheckView {
        marker: key.text(),
        icon: verdict_icon(verdict).into(),
        headline: verdict.headline.clone(),
        verdict: verdict.clone(),
        image,
        totals: vec![
            one("compressed", human_bytes(t.compressed_bytes)),
            one("uncompressed", maybe_bytes(t.uncompressed_bytes)),
            one("live", maybe_bytes(t.live_bytes)),
            one("wasted", maybe_bytes(t.wasted_bytes)),
            one("efficiency", maybe_percent(t.efficiency)),
            one("files", maybe_count(t.files)),
            one("layers", t.layers.to_string()),
        ],
        failed: finding_rows(findings, Severity::Fail),
        warned: finding_rows(findings, Severity::Warn),
        policy: policy.to_string(),
        // Filled in by `check_view`; a verdict file carries no layers.
        chart: super::chart::layers_chart(&[]),
        html_url: String::new(),
    }
}

pub(crate) fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}
