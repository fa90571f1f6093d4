//! The `diff` and `check` commands end to end: load the images (layers shared by
//! both scanned once), compare, evaluate the policy, render. An edge like `cli.rs`:
//! it reads the images and the `--template` file; it never posts anything. The
//! outcome keeps the Markdown body and the marker key so a publisher can post them.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::{load_reports, open_options, CheckArgs, DiffArgs, Format};
use crate::compare::{compare, CompareOptions, Comparison};
use crate::error::{EXIT_PASS, EXIT_POLICY};
use crate::policy::{verdict, Finding, Policy, Verdict};
use crate::publish::Publication;
use crate::render;

/// What `diff` or `check` produced: the verdict and the renderings.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The pull-request comment (always rendered, whatever `--format` asked).
    pub markdown: String,
    /// The key of the hidden marker inside `markdown`.
    pub key: String,
    /// What `--format` asked for, ready to write.
    pub body: String,
    /// Compressed size before and after (`diff` only), exported as outputs/metrics.
    pub compressed: Option<crate::compare::Delta>,
}

impl Outcome {
    pub fn exit_code(&self, warn_only: bool) -> u8 {
        exit_code(&self.verdict, warn_only)
    }

    /// What the publisher posts.
    pub fn publication(&self, policy: &Policy, report_path: Option<&Path>) -> Publication {
        publication(
            &self.key,
            &self.markdown,
            &self.verdict,
            &self.findings,
            policy,
            self.compressed.as_ref(),
            report_path,
        )
    }
}

fn exit_code(v: &Verdict, warn_only: bool) -> u8 {
    if v.passed || warn_only {
        EXIT_PASS
    } else {
        EXIT_POLICY
    }
}

/// `diff --format json`: the comparison plus the findings and the verdict.
#[derive(Serialize)]
struct DiffJson<'a> {
    schema: u32,
    verdict: &'a Verdict,
    findings: &'a [Finding],
    comparison: &'a Comparison,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    schema: u32,
    verdict: &'a Verdict,
    findings: &'a [Finding],
    totals: &'a crate::report::Totals,
}

fn template(path: Option<&Path>) -> Result<Option<(String, String)>> {
    path.map(|p| {
        std::fs::read_to_string(p)
            .with_context(|| format!("{}: cannot read template", p.display()))
            .map(|text| (p.display().to_string(), text))
    })
    .transpose()
}

fn policy_label(policy: &Policy) -> String {
    if policy.source == Policy::empty().source {
        String::new()
    } else {
        policy.source.clone()
    }
}

pub fn diff(args: &DiffArgs, policy: &Policy) -> Result<Outcome> {
    let mut opts = open_options(&args.image_args)?;
    opts.manifest_only |= !policy.needs_layers();
    let mut reports = load_reports(&[args.base.as_str(), args.head.as_str()], &opts)?;
    let head = reports.pop().context("internal: no head report")?;
    let base = reports.pop().context("internal: no base report")?;
    let comparison = compare(
        &base,
        &head,
        &CompareOptions {
            ignore: policy.ignore_globs(),
            ..CompareOptions::default()
        },
    );
    let findings = policy.evaluate(&head, Some(&comparison));
    let verdict = verdict(&findings, Some(&comparison), &head);
    let label = policy_label(policy);
    let view = render::diff_view(&render::DiffInput {
        comparison: &comparison,
        findings: &findings,
        verdict: &verdict,
        key: &args.publish.comment_key,
        policy: &label,
    });
    let tmpl = template(args.gate.template.as_deref())?;
    let markdown = render::diff_markdown(
        view.clone(),
        tmpl.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        render::COMMENT_LIMIT,
    )?;
    let body = match args.out.format {
        Format::Markdown => markdown.clone(),
        Format::Text => render::diff_text(&view),
        Format::Json => {
            serde_json::to_string_pretty(&DiffJson {
                schema: crate::compare::SCHEMA,
                verdict: &verdict,
                findings: &findings,
                comparison: &comparison,
            })? + "\n"
        }
    };
    Ok(Outcome {
        findings,
        verdict,
        markdown,
        key: args.publish.comment_key.clone(),
        body,
        compressed: Some(comparison.totals.compressed),
    })
}

pub fn check(args: &CheckArgs, policy: &Policy) -> Result<Outcome> {
    let mut opts = open_options(&args.image_args)?;
    opts.manifest_only |= !policy.needs_layers();
    let head = load_reports(&[args.image.as_str()], &opts)?
        .pop()
        .context("internal: no report")?;
    let findings = policy.evaluate(&head, None);
    let verdict = verdict(&findings, None, &head);
    let label = policy_label(policy);
    let view = render::check_view(
        &head,
        &findings,
        &verdict,
        &args.publish.comment_key,
        &label,
    );
    let tmpl = template(args.gate.template.as_deref())?;
    let markdown =
        render::check_markdown(&view, tmpl.as_ref().map(|(n, t)| (n.as_str(), t.as_str())))?;
    let body = match args.out.format {
        Format::Markdown => markdown.clone(),
        Format::Text => render::check_text(&view),
        Format::Json => {
            serde_json::to_string_pretty(&CheckJson {
                schema: crate::compare::SCHEMA,
                verdict: &verdict,
                findings: &findings,
                totals: &head.totals,
            })? + "\n"
        }
    };
    Ok(Outcome {
        findings,
        verdict,
        markdown,
        key: args.publish.comment_key.clone(),
        body,
        compressed: None,
    })
}

/// The neutral form a publisher takes: the comment, the verdict, every rule
/// evaluated, the findings, and the size figures exported as outputs/metrics.
fn publication(
    key: &str,
    markdown: &str,
    verdict: &Verdict,
    findings: &[Finding],
    policy: &Policy,
    compressed: Option<&crate::compare::Delta>,
    report_path: Option<&Path>,
) -> Publication {
    use crate::publish::{Metric, PublishedFinding, Severity as PubSeverity};
    let metrics = compressed
        .map(|d| {
            vec![
                Metric {
                    name: "size-before".into(),
                    value: d.before as f64,
                },
                Metric {
                    name: "size-after".into(),
                    value: d.after as f64,
                },
                Metric {
                    name: "size-delta".into(),
                    value: d.delta as f64,
                },
            ]
        })
        .unwrap_or_default();
    Publication {
        key: key.to_string(),
        markdown: markdown.to_string(),
        passed: Some(verdict.passed),
        headline: verdict.headline.clone(),
        rules: policy.rule_codes(),
        findings: findings
            .iter()
            .map(|f| PublishedFinding {
                code: f.code.clone(),
                severity: match f.severity {
                    crate::policy::Severity::Fail => PubSeverity::Fail,
                    crate::policy::Severity::Warn => PubSeverity::Warn,
                },
                message: f.message.clone(),
                path: f.path.clone(),
            })
            .collect(),
        metrics,
        report_path: report_path.map(|p| p.display().to_string()),
    }
}
