//! `--format html`: one self-contained page (inline CSS and JavaScript, no network
//! at view time) with a zoomable treemap of the final filesystem, the layer table,
//! advice, and for `check`/`diff` the findings and what changed.
//!
//! Two steps, as everywhere in `render`: `payload` builds a serialisable value from
//! the report (pure, snapshot-tested), `page` embeds it as JSON in the template.
//! Whatever came from the image is only ever data: the JSON is escaped so that no
//! `<` can close its script element, and the page draws it with `textContent`.

mod packages;
mod page;
pub(crate) mod payload;
mod tree;

pub(crate) use page::page;
pub(crate) use payload::analyze as analyze_payload;
pub(crate) use payload::{check as check_payload, diff as diff_payload};

use crate::compare::Comparison;
use crate::policy::{Finding, Verdict};
use crate::report::Report;

/// `analyze --format html`.
pub fn analyze_html(report: &Report) -> String {
    page(&analyze_payload(report))
}

/// `check --format html`.
pub(crate) fn check_html(report: &Report, findings: &[Finding], verdict: &Verdict) -> String {
    page(&check_payload(report, findings, verdict))
}

/// `diff --format html`.
pub(crate) fn diff_html(
    base: &Report,
    head: &Report,
    comparison: &Comparison,
    findings: &[Finding],
    verdict: &Verdict,
) -> String {
    page(&diff_payload(base, head, comparison, findings, verdict))
}
