//! `merge` and `platforms` from a validated request to the same [`Outcome`] as
//! `gate::run`: the edge of `fleet`. It reads the JSON verdicts and the history file
//! (`merge`), lists and opens an image's platforms through `load` (`platforms`),
//! hands them to the pure views (`merge.rs`, `platforms.rs`), renders, and says
//! which rules were evaluated and how the run exits. Never parses flags, prints or
//! posts: the binary writes the body and `publish` delivers the outcome.

use std::path::{Path, PathBuf};

use super::history::{self, Record};
use super::history_file;
use super::input::{self, Input};
use super::merge::{self, HistoryInput, Rows};
use super::platforms::{self, PlatformReport};
use super::FleetError;
use crate::analyze::RunOptions;
use crate::image::Platform;
use crate::load::{load_platforms, platforms_of, ReadLayers};
use crate::marker::Marker;
use crate::outcome::{add_rules, Exit, Notice, Outcome};
use crate::policy::{FindingCode, ParityRule, Policy};
use crate::render::{Format, Template, COMMENT_LIMIT};
use crate::source::{ImageRef, OpenOptions};

/// Largest JSON verdict read back: a `diff` of 200 000 files is far below it.
const MAX_VERDICT_BYTES: u64 = 256 << 20;

/// Everything a `merge` needs, validated before anything runs.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The JSON verdicts of the `diff`/`check` runs, one per image.
    pub verdicts: Vec<PathBuf>,
    /// The matrix's policy: its `growth.since` rules judge the drift over the
    /// history, and its rules are those the images were gated under (one file
    /// holds both), so each is a JUnit test case.
    pub policy: Option<Policy>,
    /// The history file (JSON lines): a size trend per image and the drift rules.
    pub history: Option<PathBuf>,
    /// The base branch whose records make the trend.
    pub base_ref: String,
    /// How many base-branch records the chart shows.
    pub trend: usize,
    pub template: Option<Template>,
    pub format: Format,
    pub key: Marker,
    /// `--warn-only`: report failed rules but exit 0.
    pub warn_only: bool,
}

/// Which platforms `platforms` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every platform the image offers.
    All,
    /// These, in this order.
    Listed(Vec<Platform>),
}

/// Everything a `platforms` run needs, validated before anything runs.
#[derive(Debug, Clone)]
pub struct PlatformsRequest {
    /// The (multi-arch) image, parsed once by the binary.
    pub image: ImageRef,
    /// A base compared platform by platform (paired by os/arch/variant).
    pub base: Option<ImageRef>,
    pub platforms: Selection,
    /// `platforms.max_ratio`: how far the largest platform may be from the smallest.
    pub parity: Option<ParityRule>,
    /// The image's name in the output (default: the reference).
    pub label: Option<String>,
    pub open: OpenOptions,
    /// The layer cache and progress display the analysis uses.
    pub run: RunOptions,
    pub format: Format,
    pub key: Marker,
}

/// The JSON verdicts of one commit's `diff`/`check` runs, read for `history append`.
pub struct Verdicts(Vec<Input>);

/// Reads the JSON verdicts `history append` records (as `merge` reads them).
pub fn read_verdicts(paths: &[PathBuf]) -> Result<Verdicts, FleetError> {
    read_inputs(paths).map(Verdicts)
}

/// Appends one record per verdict to the history at `path`: the analysed image's
/// own figures, stamped with `commit`, `git_ref` and `time`; with `keep`, every
/// series is then trimmed to its newest `keep` records. Returns how many records
/// were appended and the warnings about lines of the file that were skipped.
pub fn append_history(
    path: &Path,
    verdicts: &Verdicts,
    commit: &str,
    git_ref: &str,
    time: &str,
    keep: Option<usize>,
) -> Result<(usize, Vec<String>), FleetError> {
    let records: Vec<Record> = verdicts
        .0
        .iter()
        .map(|i| {
            let (uncompressed, layers) = i.head_figures();
            Record {
                format: history::FORMAT,
                time: time.to_string(),
                commit: commit.to_string(),
                git_ref: git_ref.to_string(),
                image: i.label.clone(),
                platform: i.platform(),
                compressed_bytes: i.head_compressed(),
                uncompressed_bytes: uncompressed,
                layers,
                verdict: history::Outcome::of(&i.verdict),
            }
        })
        .collect();
    let warnings = history_file::append(path, &records, keep)?;
    Ok((records.len(), warnings))
}

/// Reads the JSON verdicts of `diff`/`check` runs, refusing a missing or duplicate
/// label (`merge` and `history append` read them alike).
fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, FleetError> {
    if paths.is_empty() {
        return Err(FleetError::NoInputs);
    }
    let mut inputs = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        let bytes =
            crate::read::read_capped(p, MAX_VERDICT_BYTES).map_err(|source| FleetError::Read {
                path: name.clone(),
                source,
            })?;
        inputs.extend(input::parse(&name, &bytes)?);
    }
    input::check_labels(&inputs)?;
    Ok(inputs)
}

/// Runs one `merge`: the verdicts (and the history) to one verdict and comment.
pub fn run_merge(req: &MergeRequest) -> Result<Outcome, FleetError> {
    // A merge draws many images: there is no one page to draw, so say it first.
    if req.format == Format::Html {
        return Err(FleetError::NoHtml { command: "merge" });
    }
    let inputs = read_inputs(&req.verdicts)?;
    let drift = req
        .policy
        .as_ref()
        .map(|p| p.drift.clone())
        .unwrap_or_default();
    let mut notices = Vec::new();
    if !drift.is_empty() && req.history.is_none() {
        notices.push(Notice::DriftNotJudged);
    }
    let history = req.history.as_deref().map(history_file::read).transpose()?;
    if let Some(h) = &history {
        notices.extend(h.warnings.iter().cloned().map(Notice::HistoryLineSkipped));
    }
    let judged_drift = history.is_some() && !drift.is_empty();
    let hist_input = history.as_ref().map(|h| HistoryInput {
        records: h.records().collect(),
        base_ref: req.base_ref.clone(),
        last: req.trend,
        rules: drift,
    });
    let merged = merge::merge(
        &inputs,
        &req.key,
        hist_input.as_ref(),
        COMMENT_LIMIT,
        Rows::Images,
    )?;
    let markdown = merge::markdown(
        merged.view.clone(),
        req.template.as_ref().map(Template::as_pair),
        COMMENT_LIMIT,
    )?;
    let body = match req.format {
        Format::Markdown => markdown.clone(),
        Format::Text => merge::text(&merged.view),
        Format::Json => merge::json(&inputs, &merged)?,
        Format::Html => return Err(FleetError::NoHtml { command: "merge" }),
    };
    // Every rule the matrix ran: the policy's, any an image reported, and the
    // drift rule when the history judged it.
    let mut rules = req
        .policy
        .as_ref()
        .map(Policy::rule_codes)
        .unwrap_or_default();
    add_rules(
        &mut rules,
        inputs
            .iter()
            .flat_map(|i| i.findings.iter().map(|f| f.code)),
    );
    if judged_drift {
        add_rules(&mut rules, [FindingCode::SizeDrift]);
    }
    let verdict = merged.view.verdict.clone();
    Ok(Outcome {
        exit: Exit::of(&verdict, req.warn_only),
        verdict,
        findings: merged.findings,
        rules,
        markdown,
        key: req.key.clone(),
        body,
        compressed: merged.compressed,
        size_kind: None,
        html: None,
        notices,
    })
}

/// The platforms to read of one side: all, or those of the list it has
/// (`strict`: a listed platform it lacks is an error rather than one-sided).
fn chosen(
    present: Vec<Platform>,
    want: &Selection,
    strict: bool,
    image: &str,
) -> Result<Vec<Platform>, FleetError> {
    let Selection::Listed(list) = want else {
        return Ok(present);
    };
    let mut out = Vec::new();
    for w in list {
        match present.iter().find(|p| w.matches(p)) {
            Some(p) => out.push(p.clone()),
            None if strict => {
                return Err(FleetError::NoPlatform {
                    image: image.to_string(),
                    wanted: w.to_string(),
                    present: present
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
            None => {}
        }
    }
    Ok(out)
}

/// Runs one `platforms`: every chosen platform of the image (and of the base),
/// analysed in one run so a blob several platforms share is read once, to the
/// parity view and its `platforms.max_ratio` rule.
pub fn run_platforms(req: &PlatformsRequest) -> Result<Outcome, FleetError> {
    let mut outcome = judge_platforms(req)?;
    // A failed run leaves the warning with the cache, where the caller still finds it.
    outcome
        .notices
        .extend(req.run.take_cache_warning().map(Notice::CacheOff));
    Ok(outcome)
}

fn judge_platforms(req: &PlatformsRequest) -> Result<Outcome, FleetError> {
    if req.format == Format::Html {
        return Err(FleetError::NoHtml {
            command: "platforms",
        });
    }
    let (head_ref, base_ref) = (&req.image, req.base.as_ref());
    for r in std::iter::once(head_ref).chain(base_ref) {
        if r.is_report() {
            return Err(FleetError::NotAnImage {
                reference: r.to_string(),
            });
        }
    }
    let strict = base_ref.is_none();
    let head_platforms = chosen(
        platforms_of(head_ref, &req.open)?,
        &req.platforms,
        strict,
        &head_ref.to_string(),
    )?;
    let mut wanted = vec![(head_ref, head_platforms)];
    if let Some(r) = base_ref {
        let present = platforms_of(r, &req.open)?;
        wanted.push((r, chosen(present, &req.platforms, false, &r.to_string())?));
    }
    let mut loaded = load_platforms(&wanted, &req.open, &req.run, ReadLayers::Always)?.into_iter();
    let named = |side: Vec<(Platform, crate::report::Report)>| {
        side.into_iter()
            .map(|(p, r)| (p.to_string(), r))
            .collect::<Vec<_>>()
    };
    let head = named(loaded.next().unwrap_or_default());
    let base = named(loaded.next().unwrap_or_default());
    let platforms::Pairing {
        pairs,
        only_base,
        only_head,
    } = platforms::pair(&base, &head);
    let rows: Vec<PlatformReport<'_>> = pairs
        .iter()
        .map(|(p, b, h)| PlatformReport {
            platform: p,
            head: h,
            base: *b,
        })
        .collect();
    let label = req.label.clone().unwrap_or_else(|| req.image.to_string());
    let view = platforms::parity(
        &label,
        &rows,
        only_base,
        only_head,
        req.parity.as_ref(),
        &req.key,
    );
    let markdown = crate::render::markdown::render_template(
        "platforms.md.j2",
        platforms::PARITY_TEMPLATE,
        &view,
    )?;
    let body = match req.format {
        Format::Markdown => markdown.clone(),
        Format::Text => platforms::text(&view),
        Format::Html => {
            return Err(FleetError::NoHtml {
                command: "platforms",
            })
        }
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": crate::compare::SCHEMA,
                "layergate": env!("CARGO_PKG_VERSION"),
                "label": label,
                "verdict": view.verdict,
                "platforms": view.platforms,
                "ratio": view.ratio,
                "layer_gaps": view.gaps,
                "only_base": view.only_base,
                "only_head": view.only_head,
                "distinct_blobs": view.distinct_blobs,
                "layers": view.layer_count,
                "findings": view.findings,
            }))? + "\n"
        }
    };
    Ok(Outcome {
        exit: Exit::of(&view.verdict, false),
        verdict: view.verdict,
        findings: view.findings,
        // The one rule `platforms` evaluates, when the policy sets it.
        rules: req
            .parity
            .iter()
            .map(|_| FindingCode::PlatformRatio)
            .collect(),
        markdown,
        key: req.key.clone(),
        body,
        compressed: None,
        size_kind: None,
        html: None,
        notices: Vec::new(),
    })
}
