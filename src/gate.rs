//! The gate: one validated [`Request`] (a HEAD image, an optional BASE, a policy)
//! run end to end — load (layers both images share scanned once), compare when
//! there is a base, evaluate the policy, render. `diff` is a request with a base,
//! `check` one without; they share this one path. The binary builds the request
//! from its flags (`src/bin/layergate/`); this module never sees them, never prints, never
//! posts: the outcome keeps the Markdown body and the marker key for a publisher.

use std::borrow::Cow;

use crate::analyze::RunOptions;
use crate::compare::{compare, CompareOptions};
use crate::document::{self, Document};
use crate::image::Platform;
use crate::load::{load, load_platforms, platforms_of, LoadError, ReadLayers};
use crate::outcome::{Exit, Notice, Outcome, SizeKind};
use crate::policy::{verdict, NotMeasured, Policy};
use crate::render::{self, Format, RenderError, Template};
use crate::report::Report;
use crate::source::{ImageRef, OpenOptions};

/// Everything a `diff` or `check` run needs, validated before anything runs.
#[derive(Debug, Clone)]
pub struct Request {
    /// The base to compare with (`diff`); `None` checks HEAD alone (`check`). Parsed
    /// once, by the binary, where the arguments are read.
    pub base: Option<ImageRef>,
    pub head: ImageRef,
    pub policy: Policy,
    pub open: OpenOptions,
    /// The layer cache and progress display the analysis uses.
    pub run: RunOptions,
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
    /// `--warn-only`: report failed rules but exit 0.
    pub warn_only: bool,
    /// `--platform all`: every platform of the images judged, one verdict with a
    /// row per platform (`open.platform` is then `None`).
    pub all_platforms: bool,
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
    /// An output that draws one image asked of `--platform all`.
    #[error("--platform all: {option} shows one platform; give --platform OS/ARCH[/VARIANT]")]
    OnePlatform { option: &'static str },
}

fn policy_label(policy: &Policy) -> String {
    policy.label()
}

/// Why a side's figures are missing: the gate reads the layers whenever a rule
/// needs them, so only `--manifest-only` or a saved partial report leave a gap.
fn why_not_measured(req: &Request, missing: &NotMeasured) -> String {
    let mut why = Vec::new();
    for (is_base, reference) in [(false, Some(&req.head)), (true, req.base.as_ref())] {
        let Some(reference) = reference else { continue };
        if !missing.0.iter().any(|m| m.base == is_base) {
            continue;
        }
        let side = if is_base { "BASE" } else { "HEAD" };
        why.push(if reference.is_report() {
            format!("{side} `{reference}` is a report saved from manifests only: save it without --manifest-only")
        } else {
            format!("{side} was read with --manifest-only, which reads no layer: drop it to read the layers")
        });
    }
    why.join("; ")
}

/// Runs one request: load, compare (with a base), evaluate, render.
pub fn run(req: &Request) -> Result<Outcome, GateError> {
    let mut outcome = judge(req)?;
    // A failed run leaves the warning with the cache, where the caller still finds it.
    outcome
        .notices
        .extend(req.run.take_cache_warning().map(Notice::CacheOff));
    Ok(outcome)
}

/// The body `--format` asks for, from the renderings of one view (the text and the
/// JSON made only when asked).
fn body(
    format: Format,
    markdown: &str,
    text: impl FnOnce() -> String,
    html: Option<&String>,
    json: impl FnOnce() -> serde_json::Result<String>,
) -> Result<String, GateError> {
    Ok(match format {
        Format::Markdown => markdown.to_string(),
        Format::Text => text(),
        Format::Html => html.cloned().unwrap_or_default(),
        Format::Json => json()? + "\n",
    })
}

fn judge(req: &Request) -> Result<Outcome, GateError> {
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
    if req.all_platforms {
        return all_platforms(req, read);
    }
    let refs: Vec<&ImageRef> = req.base.iter().chain([&req.head]).collect();
    let mut reports = load(&refs, &req.open, &req.run, read)?;
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
    let tmpl = req.template.as_ref().map(Template::as_pair);
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
            let body = body(
                req.format,
                &markdown,
                || render::diff_text(&view),
                html.as_ref(),
                || {
                    let body = document::Diff {
                        verdict: Cow::Borrowed(&verdict),
                        findings: Cow::Borrowed(&findings),
                        comparison: Cow::Borrowed(comparison),
                    };
                    Document::new(req.label.as_deref(), body).to_json()
                },
            )?;
            (markdown, body, html)
        }
        _ => {
            let mut view = render::check_view(&head, &findings, &verdict, &req.key, &label);
            view.html_url = html_url;
            let markdown = render::check_markdown(&view, tmpl)?;
            let markdown = fix_section(markdown, &head, req);
            let html = want_html.then(|| render::html::check_html(&head, &findings, &verdict));
            let body = body(
                req.format,
                &markdown,
                || render::check_text(&view),
                html.as_ref(),
                || {
                    let body = document::Check {
                        image: Cow::Borrowed(&head.image),
                        verdict: Cow::Borrowed(&verdict),
                        findings: Cow::Borrowed(&findings),
                        totals: Cow::Borrowed(&head.totals),
                    };
                    Document::new(req.label.as_deref(), body).to_json()
                },
            )?;
            (markdown, body, html)
        }
    };
    Ok(Outcome {
        exit: Exit::of(&verdict, req.warn_only),
        rules: policy.rule_codes(),
        findings,
        verdict,
        markdown,
        key: req.key.clone(),
        body,
        notices: Vec::new(),
        size_kind: base.as_ref().and_then(|base| {
            SizeKind::of(
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

/// Each report under its platform's name, as `fleet::platforms::pair` takes them.
fn named(side: &[(Platform, Report)]) -> Vec<(String, &Report)> {
    side.iter().map(|(p, r)| (p.to_string(), r)).collect()
}

/// `--platform all`: every platform of HEAD (and BASE) read in one run, so a blob
/// several platforms share is read once; the platforms paired by os/arch/variant;
/// each pair compared and judged by every rule; one verdict over them, drawn with a
/// row per platform (`fleet::merge`, whose rows are then platforms). A platform only
/// HEAD has is checked alone (growth needs a base); one only BASE has is reported.
fn all_platforms(req: &Request, read: ReadLayers) -> Result<Outcome, GateError> {
    use crate::fleet::input::{Body, Input};
    use crate::fleet::merge::{self, Rows};
    if req.format == Format::Html {
        return Err(GateError::OnePlatform {
            option: "--format html",
        });
    }
    for (given, option) in [
        (req.html, "--html"),
        (req.template.is_some(), "--template"),
        (req.dockerfile.is_some(), "--dockerfile"),
    ] {
        if given {
            return Err(GateError::OnePlatform { option });
        }
    }
    let policy = &req.policy;
    let mut wanted = Vec::new();
    for r in req.base.iter().chain([&req.head]) {
        wanted.push((r, platforms_of(r, &req.open)?));
    }
    let mut sides = load_platforms(&wanted, &req.open, &req.run, read)?;
    let count = sides.len();
    let head = sides.pop().ok_or(LoadError::Count(count, wanted.len()))?;
    let base = sides.pop().unwrap_or_default();
    let (base_named, head_named) = (named(&base), named(&head));
    let pairing = crate::fleet::platforms::pair(&base_named, &head_named);
    let options = CompareOptions {
        ignore: policy.ignore_globs(),
        ..CompareOptions::default()
    };
    let mut inputs = Vec::new();
    for (platform, base, head) in &pairing.pairs {
        let comparison = base.map(|base| compare(base, head, &options));
        let findings = policy
            .evaluate(head, comparison.as_ref())
            .map_err(|missing| GateError::NotMeasured {
                why: why_not_measured(req, &missing),
                missing,
            })?;
        let verdict = verdict(&findings, comparison.as_ref(), head);
        inputs.push(Input {
            source: platform.to_string(),
            label: platform.to_string(),
            verdict,
            findings,
            platform: Some(platform.to_string()),
            body: match comparison {
                Some(c) => Body::Diff(Box::new(c)),
                None => Body::Check {
                    image: Box::new(head.image.clone()),
                    totals: head.totals.clone(),
                },
            },
        });
    }
    let merged = merge::merge(
        &inputs,
        &req.key,
        None,
        render::COMMENT_LIMIT,
        Rows::Platforms,
    )?;
    let mut view = merged.view;
    view.only_base = pairing.only_base;
    view.only_head = pairing.only_head;
    let markdown = merge::markdown(view.clone(), None, render::COMMENT_LIMIT)?;
    let body = match req.format {
        Format::Markdown => markdown.clone(),
        Format::Text => merge::text(&view),
        Format::Html => String::new(),
        Format::Json => {
            let platforms = inputs
                .iter()
                .map(|i| {
                    let (comparison, image, totals) = match &i.body {
                        Body::Diff(c) => (Some(Cow::Borrowed(c.as_ref())), None, None),
                        Body::Check { image, totals } => (
                            None,
                            Some(Cow::Borrowed(image.as_ref())),
                            Some(Cow::Borrowed(totals)),
                        ),
                    };
                    document::Platform {
                        platform: Cow::Borrowed(&i.label),
                        verdict: Cow::Borrowed(&i.verdict),
                        findings: Cow::Borrowed(&i.findings),
                        comparison,
                        image,
                        totals,
                    }
                })
                .collect();
            let body = document::Platforms {
                verdict: Cow::Borrowed(&view.verdict),
                findings: Cow::Borrowed(&merged.findings),
                platforms,
                only_base: Cow::Borrowed(&view.only_base),
                only_head: Cow::Borrowed(&view.only_head),
            };
            Document::new(req.label.as_deref(), body).to_json()? + "\n"
        }
    };
    let size_kind = req.base.as_ref().and_then(|_| {
        SizeKind::of(
            base.iter()
                .chain(&head)
                .flat_map(|(_, r)| &r.layers)
                .map(|l| l.compression != crate::image::Compression::None),
        )
    });
    Ok(Outcome {
        exit: Exit::of(&view.verdict, req.warn_only),
        rules: policy.rule_codes(),
        verdict: view.verdict,
        findings: merged.findings,
        markdown,
        key: req.key.clone(),
        body,
        compressed: merged.compressed,
        size_kind,
        html: None,
        notices: Vec::new(),
    })
}
