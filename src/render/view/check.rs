//! The view of `check`: one image against the policy's absolute limits.

use super::*;

/// The view of `check`: one image against absolute limits.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckView {
    pub marker: String,
    pub icon: Status,
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
    view.chart = crate::render::chart::layers_chart(&head.layers);
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
        icon: verdict_icon(verdict),
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
        chart: crate::render::chart::layers_chart(&[]),
        html_url: String::new(),
    }
}
