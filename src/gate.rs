//! The gate: one validated [`Request`] (a HEAD image, an optional BASE, a policy)
//! run end to end — load (layers both images share scanned once), compare when
//! there is a base, evaluate the policy, render. `diff` is a request with a base,
//! `check` one without; they share this one path. The binary builds the request
//! from its flags (`src/bin/layergate/`); this module never sees them, never prints, never
//! posts: the outcome keeps the Markdown body and the marker key for a publisher.

use std::path::Path;

use serde::Serialize;

use crate::compare::{compare, CompareOptions, Comparison};
use crate::error::{EXIT_PASS, EXIT_POLICY};
use crate::load::{load, LoadError, ReadLayers};
use crate::policy::{verdict, Finding, NotMeasured, Policy, Verdict};
use crate::publish::Publication;
use crate::render::{self, RenderError};
use crate::source::OpenOptions;

/// What `--format` asks the gate to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// A self-contained HTML page with a treemap (`render::html`).
    Html,
}

/// A replacement Markdown template: its name (for messages) and its text.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub text: String,
}

/// Everything a `diff` or `check` run needs, validated before anything runs.
#[derive(Debug, Clone)]
pub struct Request {
    /// The base to compare with (`diff`); `None` checks HEAD alone (`check`).
    pub base: Option<String>,
    pub head: String,
    pub policy: Policy,
    pub open: OpenOptions,
    pub format: Format,
    pub template: Option<Template>,
    /// The hidden marker of the comment.
    pub key: crate::marker::Marker,
    /// Also render the HTML report (`--html FILE`), whatever `format` is.
    pub html: bool,
    /// Where the HTML report is published (`--html-url`), linked from the comment.
    pub html_url: Option<String>,
    /// `--label`: the name `layergate merge` shows this verdict under.
    pub label: Option<String>,
    /// `--dockerfile`: the file HEAD was built from; the comment gains a "Fix it"
    /// section with the rewrite `layergate fix` makes of it.
    pub dockerfile: Option<render::FixInput>,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A rule's figure was not measured and cannot be: exit 2, never a pass.
    #[error("cannot judge the policy, figures were not measured: {missing} ({why})")]
    NotMeasured { missing: NotMeasured, why: String },
}

/// What `diff` or `check` produced: the verdict and the renderings.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The pull-request comment (always rendered, whatever `--format` asked).
    pub markdown: String,
    /// The hidden marker inside `markdown`.
    pub key: crate::marker::Marker,
    /// What `--format` asked for, ready to write.
    pub body: String,
    /// Compressed size before and after (`diff` only), exported as outputs/metrics.
    pub compressed: Option<crate::compare::Delta>,
    /// What those sizes measure (plain tar for `docker save` archives).
    pub size_kind: Option<crate::publish::SizeKind>,
    /// The HTML report, when the request asked for it beside the body.
    pub html: Option<String>,
}

impl Outcome {
    pub fn exit_code(&self, warn_only: bool) -> u8 {
        if self.verdict.passed || warn_only {
            EXIT_PASS
        } else {
            EXIT_POLICY
        }
    }

    /// What the publisher posts.
    pub fn publication(&self, policy: &Policy, report_path: Option<&Path>) -> Publication {
        let mut p = publication(
            &self.key,
            &self.markdown,
            &self.verdict,
            &self.findings,
            policy,
            self.compressed.as_ref(),
            report_path,
        );
        p.size_kind = self.size_kind;
        p
    }
}

/// `diff --format json`: the comparison plus the findings and the verdict.
#[derive(Serialize)]
struct DiffJson<'a> {
    schema: u32,
    /// Which layergate wrote this (`merge` refuses other versions).
    layergate: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    verdict: &'a Verdict,
    findings: &'a [Finding],
    comparison: &'a Comparison,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    schema: u32,
    layergate: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    image: &'a crate::report::ImageInfo,
    verdict: &'a Verdict,
    findings: &'a [Finding],
    totals: &'a crate::report::Totals,
}

fn policy_label(policy: &Policy) -> String {
    policy.label()
}

/// Why a side's figures are missing: the gate reads the layers whenever a rule
/// needs them, so only `--manifest-only` or a saved partial report leave a gap.
fn why_not_measured(req: &Request, missing: &NotMeasured) -> String {
    let saved = |r: &str| {
        matches!(
            crate::source::ImageRef::parse(r),
            Ok(crate::source::ImageRef::Report(_))
        )
    };
    let mut why = Vec::new();
    for (is_base, reference) in [(false, Some(&req.head)), (true, req.base.as_ref())] {
        let Some(reference) = reference else { continue };
        if !missing.0.iter().any(|m| m.base == is_base) {
            continue;
        }
        let side = if is_base { "BASE" } else { "HEAD" };
        why.push(if saved(reference) {
            format!("{side} `{reference}` is a report saved from manifests only: save it without --manifest-only")
        } else {
            format!("{side} was read with --manifest-only, which reads no layer: drop it to read the layers")
        });
    }
    why.join("; ")
}

/// Runs one request: load, compare (with a base), evaluate, render.
pub fn run(req: &Request) -> Result<Outcome, GateError> {
    let policy = &req.policy;
    // Read the layers when a rule needs their contents; a policy of compressed
    // sizes and layer counts is answered from manifests, unless the storage forms
    // differ and the compressed sizes need estimating to compare.
    let read = if req.open.manifest_only {
        ReadLayers::Never
    } else if policy.needs_layers() || req.dockerfile.is_some() {
        ReadLayers::Always
    } else {
        ReadLayers::WhenFormsDiffer
    };
    let refs: Vec<&str> = req
        .base
        .iter()
        .map(String::as_str)
        .chain([req.head.as_str()])
        .collect();
    let mut reports = load(&refs, &req.open, read)?;
    let count = reports.len();
    let head = reports.pop().ok_or(LoadError::Count(count, refs.len()))?;
    let base = reports.pop();
    let comparison = base.as_ref().map(|base| {
        compare(
            base,
            &head,
            &CompareOptions {
                ignore: policy.ignore_globs(),
                ..CompareOptions::default()
            },
        )
    });
    let findings = policy
        .evaluate(&head, comparison.as_ref())
        .map_err(|missing| GateError::NotMeasured {
            why: why_not_measured(req, &missing),
            missing,
        })?;
    let verdict = verdict(&findings, comparison.as_ref(), &head);
    let label = policy_label(policy);
    let tmpl = req
        .template
        .as_ref()
        .map(|t| (t.name.as_str(), t.text.as_str()));
    let want_html = req.html || req.format == Format::Html;
    let html_url = req.html_url.clone().unwrap_or_default();
    let (markdown, body, html) = match (&comparison, &base) {
        (Some(comparison), Some(base)) => {
            let mut view = render::diff_view(&render::DiffInput {
                comparison,
                findings: &findings,
                verdict: &verdict,
                key: &req.key,
                policy: &label,
            });
            view.html_url = html_url;
            let markdown = render::diff_markdown(view.clone(), tmpl, render::COMMENT_LIMIT)?;
            let markdown = fix_section(markdown, &head, req);
            let html = want_html
                .then(|| render::html::diff_html(base, &head, comparison, &findings, &verdict));
            let body = match req.format {
                Format::Markdown => markdown.clone(),
                Format::Text => render::diff_text(&view),
                Format::Html => html.clone().unwrap_or_default(),
                Format::Json => {
                    serde_json::to_string_pretty(&DiffJson {
                        schema: crate::compare::SCHEMA,
                        layergate: env!("CARGO_PKG_VERSION"),
                        label: req.label.as_deref(),
                        verdict: &verdict,
                        findings: &findings,
                        comparison,
                    })? + "\n"
                }
            };
            (markdown, body, html)
        }
        _ => {
            let mut view = render::check_view(&head, &findings, &verdict, &req.key, &label);
            view.html_url = html_url;
            let markdown = render::check_markdown(&view, tmpl)?;
            let markdown = fix_section(markdown, &head, req);
            let html = want_html.then(|| render::html::check_html(&head, &findings, &verdict));
            let body = match req.format {
                Format::Markdown => markdown.clone(),
                Format::Text => render::check_text(&view),
                Format::Html => html.clone().unwrap_or_default(),
                Format::Json => {
                    serde_json::to_string_pretty(&CheckJson {
                        schema: crate::compare::SCHEMA,
                        layergate: env!("CARGO_PKG_VERSION"),
                        label: req.label.as_deref(),
                        image: &head.image,
                        verdict: &verdict,
                        findings: &findings,
                        totals: &head.totals,
                    })? + "\n"
                }
            };
            (markdown, body, html)
        }
    };
    Ok(Outcome {
        findings,
        verdict,
        markdown,
        key: req.key.clone(),
        body,
        size_kind: base.as_ref().and_then(|base| {
            crate::publish::SizeKind::of(
                [base, &head]
                    .into_iter()
                    .flat_map(|r| &r.layers)
                    .map(|l| l.compression != crate::image::Compression::None),
            )
        }),
        compressed: comparison.and_then(|c| c.totals.compressed),
        html,
    })
}

/// The comment with the "Fix it" section when the request names the Dockerfile.
fn fix_section(markdown: String, head: &crate::report::Report, req: &Request) -> String {
    match &req.dockerfile {
        Some(input) => render::with_fix_section(&markdown, head, input, render::COMMENT_LIMIT),
        None => markdown,
    }
}

/// The neutral form a publisher takes: the comment, the verdict, every rule
/// evaluated, the findings, and the size figures exported as outputs/metrics.
fn publication(
    key: &crate::marker::Marker,
    markdown: &str,
    verdict: &Verdict,
    findings: &[Finding],
    policy: &Policy,
    compressed: Option<&crate::compare::Delta>,
    report_path: Option<&Path>,
) -> Publication {
    use crate::publish::{Output, PublishedFinding};
    let mut outputs = Vec::new();
    if let Some(d) = compressed {
        let figure = |name: &str, value: f64| Output {
            name: name.into(),
            value,
        };
        outputs.push(figure("size-before", d.before as f64));
        outputs.push(figure("size-after", d.after as f64));
        outputs.push(figure("size-delta", d.delta as f64));
        if let Some(p) = d.percent {
            // Two decimals: a step output is for humans and `if:` comparisons.
            outputs.push(figure("size-delta-percent", (p * 100.0).round() / 100.0));
        }
    }
    Publication {
        marker: key.clone(),
        markdown: markdown.to_string(),
        passed: Some(verdict.passed),
        headline: verdict.headline.clone(),
        rules: policy.rule_codes(),
        findings: findings
            .iter()
            .map(|f| PublishedFinding {
                code: f.code.to_string(),
                severity: f.severity,
                message: f.message.clone(),
                path: f.path.clone(),
            })
            .collect(),
        outputs,
        size_kind: None,
        report_path: report_path.map(|p| p.display().to_string()),
    }
}
