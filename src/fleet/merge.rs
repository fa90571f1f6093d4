//! Many verdicts → one: a row per image, a total row, each image's own comment
//! collapsed below, the size trend from the history, and the worst verdict. Pure:
//! it takes parsed verdicts (and history records) and returns a view and texts.

use serde::Serialize;

use super::history::Record;
use super::input::{Body, Input, Kind};
use super::trend::{self, Trend};
use crate::human::{human_bytes, human_delta};
use crate::marker::Marker;
use crate::policy::{Drift, Finding, Severity, Verdict};
use crate::render::view::{band, finding_rows, pct_text, verdict_icon, FindingRow, Status};
use crate::render::{self, RenderError};

pub(crate) const MERGE_TEMPLATE: &str = include_str!("../../templates/merge.md.j2");

/// What the history adds to a merge: records, which branch is the base, how many
/// of its records to chart, and the `growth.since` rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct HistoryInput<'a> {
    pub records: Vec<&'a Record>,
    pub base_ref: String,
    pub last: usize,
    pub rules: Vec<Drift>,
}

/// What the rows of a merge are: the images of a CI matrix (`merge`), or the
/// platforms of one image (`diff`/`check --platform all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    Images,
    Platforms,
}

impl Rows {
    fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Rows::Images, true) => "image",
            (Rows::Images, false) => "images",
            (Rows::Platforms, true) => "platform",
            (Rows::Platforms, false) => "platforms",
        }
    }
}

/// One image's row.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub label: String,
    pub kind: &'static str,
    /// Compressed sizes; `before`/`delta` empty for a `check` (nothing to compare).
    pub before: String,
    pub after: String,
    pub delta: String,
    pub(crate) band: String,
    pub icon: Status,
    pub verdict: String,
    pub(crate) failed_rules: String,
    pub(crate) warned_rules: String,
}

/// Text for an HTML `<summary>`, where Markdown escapes would show as written.
fn html(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '@' => "&#64;".to_string(),
            c if c.is_control() => " ".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// One image's own comment, shown collapsed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Detail {
    pub label: String,
    pub icon: Status,
    pub headline: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MergeView {
    pub marker: String,
    /// What a row is (`image`, `platform`): the table's first column.
    pub(crate) noun: &'static str,
    pub icon: Status,
    pub headline: String,
    pub verdict: Verdict,
    pub rows: Vec<Row>,
    pub total: Row,
    pub details: Vec<Detail>,
    pub(crate) trends: Vec<Trend>,
    /// Findings of `growth.since` (the only rule that needs the history).
    pub(crate) drift_failed: Vec<FindingRow>,
    pub(crate) drift_warned: Vec<FindingRow>,
    /// Every finding, when the rows are platforms: the terminal has no collapsed
    /// details to show them in (a matrix's images list theirs in their own runs).
    pub failed: Vec<FindingRow>,
    pub warned: Vec<FindingRow>,
    /// Platforms only the base has, and only the head has (`--platform all`):
    /// reported, not judged as a pair.
    pub only_base: Vec<String>,
    pub only_head: Vec<String>,
    pub truncated: bool,
}

/// A merge: the view, plus everything a publisher and the exit code need.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub view: MergeView,
    /// Every finding, each message prefixed with its image's label.
    pub findings: Vec<Finding>,
    /// Total compressed size before/after, when every input is a `diff`.
    pub compressed: Option<crate::compare::Delta>,
}

fn size_cells(before: Option<u64>, after: u64) -> (String, String, String, String) {
    match before {
        Some(b) => {
            let d = crate::compare::Delta::new(b, after);
            (
                human_bytes(b),
                human_bytes(after),
                format!(
                    "{} ({})",
                    human_delta(d.delta as i128),
                    pct_text(d.percent, d.delta)
                ),
                band(d.delta as f64, d.percent, true).into(),
            )
        }
        None => ("—".into(), human_bytes(after), "—".into(), String::new()),
    }
}

fn codes(findings: &[Finding], severity: Severity) -> String {
    let mut out: Vec<&str> = Vec::new();
    for f in findings.iter().filter(|f| f.severity == severity) {
        if !out.contains(&f.code.as_str()) {
            out.push(f.code.as_str());
        }
    }
    out.join(", ")
}

fn outcome_word(v: &Verdict) -> &'static str {
    match (v.failed, v.warned) {
        (0, 0) => "pass",
        (0, _) => "warn",
        _ => "fail",
    }
}

/// One image's comment without its marker (only the merged comment has one),
/// cut to `budget` characters.
fn detail_body(input: &Input, budget: usize, key: &Marker) -> Result<String, RenderError> {
    match &input.body {
        Body::Diff(c) => {
            let mut view = render::diff_view(&render::DiffInput {
                comparison: c,
                findings: &input.findings,
                verdict: &input.verdict,
                key,
                policy: "",
            });
            view.marker = String::new();
            render::diff_markdown(view, None, budget)
        }
        Body::Check { image, totals } => {
            let name = image
                .name
                .clone()
                .unwrap_or_else(|| image.reference.clone());
            let mut view =
                render::view::check_view_of(totals, name, &input.findings, &input.verdict, key, "");
            view.marker = String::new();
            render::check_markdown(&view, None)
        }
    }
}

/// Merges `inputs` (labels already checked unique) under the comment key `key`.
/// `history` adds the trends and the drift rules; `rows` says what an input is.
pub(crate) fn merge(
    inputs: &[Input],
    key: &Marker,
    history: Option<&HistoryInput<'_>>,
    limit: usize,
    rows_are: Rows,
) -> Result<Merged, RenderError> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut rows = Vec::new();
    let mut trends = Vec::new();
    let mut drift_findings = Vec::new();
    for i in inputs {
        let (before, after) = i.compressed();
        let (b, a, d, band) = size_cells(before, after);
        rows.push(Row {
            label: i.label.clone(),
            kind: match i.kind() {
                Kind::Diff => "diff",
                Kind::Check => "check",
            },
            before: b,
            after: a,
            delta: d,
            band,
            icon: verdict_icon(&i.verdict),
            verdict: outcome_word(&i.verdict).into(),
            failed_rules: codes(&i.findings, Severity::Fail),
            warned_rules: codes(&i.findings, Severity::Warn),
        });
        findings.extend(i.findings.iter().map(|f| Finding {
            message: format!("{}: {}", i.label, f.message),
            ..f.clone()
        }));
        if let Some(h) = history {
            let platform = i.platform();
            let all: Vec<&Record> = trend::base_series(
                h.records.iter().copied(),
                &i.label,
                platform.as_deref(),
                &h.base_ref,
                usize::MAX,
            );
            let last = all.len().saturating_sub(h.last);
            trends.push(trend::trend(
                &i.label,
                &all[last..],
                Some(after),
                &h.base_ref,
            ));
            for rule in &h.rules {
                if let Some(f) = trend::evaluate(rule, &i.label, &all, Some(after)) {
                    drift_findings.push(f);
                }
            }
        }
    }
    findings.extend(drift_findings.iter().cloned());

    let befores: Option<Vec<u64>> = inputs.iter().map(|i| i.compressed().0).collect();
    let after_total = crate::compare::saturating_sum(inputs.iter().map(|i| i.compressed().1));
    let before_total = befores.map(crate::compare::saturating_sum);
    let (b, a, d, band) = size_cells(before_total, after_total);
    let failed = findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    let warned = findings.len() - failed;
    let images_failed = inputs.iter().filter(|i| i.verdict.failed > 0).count();
    let images_warned = inputs
        .iter()
        .filter(|i| i.verdict.failed == 0 && i.verdict.warned > 0)
        .count();
    let verdict = Verdict {
        passed: failed == 0,
        headline: headline(
            rows_are.noun(inputs.len()),
            inputs.len(),
            images_failed,
            images_warned,
            drift_findings.len(),
            &d,
        ),
        failed,
        warned,
    };
    let total = Row {
        label: "total".into(),
        kind: "",
        before: b,
        after: a,
        delta: d,
        band,
        icon: verdict_icon(&verdict),
        verdict: outcome_word(&verdict).into(),
        failed_rules: codes(&findings, Severity::Fail),
        warned_rules: codes(&findings, Severity::Warn),
    };
    // Each image's own comment gets an equal share of what the rows leave over.
    let budget = limit.saturating_sub(8_000 + 1_500 * inputs.len()) / inputs.len().max(1);
    let mut details = Vec::new();
    for i in inputs {
        details.push(Detail {
            label: html(&i.label),
            icon: verdict_icon(&i.verdict),
            headline: html(&i.verdict.headline),
            body: detail_body(i, budget.max(2_000), key)?,
        });
    }
    let view = MergeView {
        marker: key.text(),
        noun: rows_are.noun(1),
        icon: verdict_icon(&verdict),
        headline: verdict.headline.clone(),
        verdict,
        rows,
        total,
        details,
        trends,
        drift_failed: finding_rows(&drift_findings, Severity::Fail),
        drift_warned: finding_rows(&drift_findings, Severity::Warn),
        failed: match rows_are {
            Rows::Platforms => finding_rows(&findings, Severity::Fail),
            Rows::Images => Vec::new(),
        },
        warned: match rows_are {
            Rows::Platforms => finding_rows(&findings, Severity::Warn),
            Rows::Images => Vec::new(),
        },
        only_base: Vec::new(),
        only_head: Vec::new(),
        truncated: false,
    };
    let compressed = before_total.map(|b| crate::compare::Delta::new(b, after_total));
    Ok(Merged {
        view,
        findings,
        compressed,
    })
}

fn headline(
    images: &str,
    n: usize,
    failed: usize,
    warned: usize,
    drift: usize,
    total_delta: &str,
) -> String {
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if warned > 0 {
        parts.push(format!("{warned} with warnings"));
    }
    if drift > 0 {
        parts.push(format!("{drift} drifting"));
    }
    let state = if parts.is_empty() {
        "all passed".to_string()
    } else {
        parts.join(", ")
    };
    if total_delta == "—" {
        format!("{n} {images}, {state}")
    } else {
        format!("{n} {images}, {state}; total {total_delta}")
    }
}

/// The merged comment, kept under `limit` characters: when too long, the last
/// images' details are replaced by a note, one at a time.
pub(crate) fn markdown(
    mut view: MergeView,
    template: Option<(&str, &str)>,
    limit: usize,
) -> Result<String, RenderError> {
    let (name, source) = template.unwrap_or(("merge.md.j2", MERGE_TEMPLATE));
    let mut next = view.details.len();
    loop {
        let out = render::markdown::render_template(name, source, &view)?;
        if out.chars().count() <= limit || next == 0 {
            return Ok(out);
        }
        next -= 1;
        view.truncated = true;
        view.details[next].body =
            "_Left out: the comment would be over the size limit. See the job's log._\n".into();
    }
}

/// A label or message on one terminal line: no control characters.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The terminal rendering: the table, then each image's headline and findings.
pub(crate) fn text(view: &MergeView) -> String {
    let mut rows: Vec<Vec<String>> = view
        .rows
        .iter()
        .chain(std::iter::once(&view.total))
        .map(|r| {
            vec![
                r.label.clone(),
                r.before.clone(),
                r.after.clone(),
                r.delta.clone(),
                r.verdict.clone(),
                r.failed_rules.clone(),
                r.warned_rules.clone(),
            ]
        })
        .collect();
    for r in &mut rows {
        for c in r.iter_mut() {
            *c = plain(c);
        }
    }
    let mut out = format!("{} layergate: {}\n\n", view.icon, view.headline);
    out += &crate::human::table(
        &[
            view.noun, "before", "after", "delta", "verdict", "failed", "warned",
        ],
        &rows,
        &[1, 2, 3],
    );
    for p in &view.only_base {
        out += &format!("only in the base: {p}\n");
    }
    for p in &view.only_head {
        out += &format!("only in the head: {p}\n");
    }
    for t in &view.trends {
        if !t.drift.is_empty() {
            out += &format!("\ntrend {}: {}", plain(&t.image), t.drift);
        }
    }
    if !view.trends.is_empty() {
        out.push('\n');
    }
    for f in view
        .failed
        .iter()
        .chain(&view.warned)
        .chain(&view.drift_failed)
        .chain(&view.drift_warned)
    {
        out += &format!("{} {}: {}\n", f.severity, f.code, plain(&f.message));
    }
    out
}

/// `merge --format json`.
#[derive(Serialize)]
pub(crate) struct MergeJson<'a> {
    pub schema: u32,
    pub layergate: &'static str,
    pub verdict: &'a Verdict,
    pub images: Vec<ImageJson<'a>>,
    pub total_compressed: TotalJson,
    pub findings: &'a [Finding],
    pub(crate) trends: &'a [Trend],
}

#[derive(Serialize)]
pub(crate) struct ImageJson<'a> {
    pub label: &'a str,
    pub kind: &'static str,
    /// `null` for a `check`: it measured no base.
    pub compressed_before: Option<u64>,
    pub(crate) compressed_after: u64,
    pub verdict: &'a Verdict,
}

#[derive(Serialize)]
pub(crate) struct TotalJson {
    /// `null` unless every image was compared with a base.
    pub before: Option<u64>,
    pub after: u64,
    pub delta: Option<i64>,
}

pub(crate) fn json(inputs: &[Input], merged: &Merged) -> Result<String, serde_json::Error> {
    let images = inputs
        .iter()
        .map(|i| ImageJson {
            label: &i.label,
            kind: match i.kind() {
                Kind::Diff => "diff",
                Kind::Check => "check",
            },
            compressed_before: i.compressed().0,
            compressed_after: i.compressed().1,
            verdict: &i.verdict,
        })
        .collect();
    let after = crate::compare::saturating_sum(inputs.iter().map(|i| i.compressed().1));
    let doc = MergeJson {
        schema: crate::compare::SCHEMA,
        layergate: env!("CARGO_PKG_VERSION"),
        verdict: &merged.view.verdict,
        images,
        total_compressed: TotalJson {
            before: merged.compressed.map(|d| d.before),
            after,
            delta: merged.compressed.map(|d| d.delta),
        },
        findings: &merged.findings,
        trends: &merged.view.trends,
    };
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}
