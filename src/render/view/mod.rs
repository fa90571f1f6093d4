//! The view model of a `diff` or `check`: every figure formatted, nothing escaped
//! (templates escape with the `md` filter). Templates only lay it out. Here: the
//! rows and helpers both views use; `diff.rs` and `check.rs` hold one view each.

mod check;
mod diff;

pub(crate) use check::{check_view, check_view_of, CheckView};
pub(crate) use diff::{diff_view, DiffInput, DiffView};

use serde::Serialize;

use crate::compare::{Comparison, CompressedBasis, Delta, LayerStatus};
use crate::human::{
    ellipsize, human_bytes, human_delta, layer_list, maybe_bytes, maybe_count, maybe_percent,
    NOT_MEASURED,
};
use crate::policy::{Finding, Severity, Unit, Verdict};
use crate::report::Report;

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

/// A verdict's standing: drawn as an emoji in Markdown (and the view's JSON),
/// as a word on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub(crate) fn emoji(self) -> &'static str {
        match self {
            Status::Pass => "✅",
            Status::Warn => "⚠️",
            Status::Fail => "❌",
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.emoji())
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.emoji())
    }
}

pub(crate) fn verdict_icon(v: &Verdict) -> Status {
    match (v.failed, v.warned) {
        (0, 0) => Status::Pass,
        (0, _) => Status::Warn,
        _ => Status::Fail,
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
