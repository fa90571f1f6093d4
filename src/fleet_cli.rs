//! `merge`, `history append` and `platforms` from the command line (part of the
//! binary, like `cli.rs`): reads the verdict files, the history, the policy and
//! the images, hands them to the library's `fleet` core, prints warnings, writes
//! the output and delivers the comment through `publish`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::{print_delivery, write_output, Format, OutputArgs};
use crate::error::{EXIT_ERROR, EXIT_PASS, EXIT_POLICY};
use layergate::fleet::history::{Outcome, Record, FORMAT};
use layergate::fleet::input::{self, Input};
use layergate::fleet::merge::{self, HistoryInput};
use layergate::fleet::{history_file, platforms, FleetError};

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The JSON verdicts (`diff`/`check --format json --label NAME`), one per image.
    #[arg(required = true, value_name = "VERDICT.json")]
    pub verdicts: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Replaces the Markdown template (minijinja) of the merged comment.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Policy whose `growth.since` rules judge the drift (needs --history).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Report failed rules but exit 0.
    #[arg(long)]
    pub warn_only: bool,
    /// History file (JSON lines): adds a size trend per image and the drift rules.
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// The base branch whose records make the trend (default: the CI's target branch, else main).
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    /// How many base-branch records the chart shows.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub trend: usize,
    /// Where to post the verdict (sticky comment, job summary, CI reports).
    #[command(flatten)]
    pub publish: crate::cli::comment_args::CommentArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum HistoryCmd {
    /// Append one record per verdict (the analysed commit of each image).
    Append(AppendArgs),
}

#[derive(Debug, clap::Args)]
pub struct AppendArgs {
    /// The history file (JSON lines; created if missing).
    pub file: PathBuf,
    /// The JSON verdicts of this commit's diff/check runs.
    #[arg(required = true, value_name = "VERDICT.json")]
    pub verdicts: Vec<PathBuf>,
    /// The analysed commit (default: $GITHUB_SHA, then $CI_COMMIT_SHA).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The branch (default: $GITHUB_REF_NAME, then $CI_COMMIT_REF_NAME).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// The record's time, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Keep only the newest N records of each image (and platform).
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

const MAX_VERDICT_BYTES: u64 = 256 << 20;

fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    if paths.is_empty() {
        return Err(FleetError::NoInputs.into());
    }
    let mut inputs = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        let size = std::fs::metadata(p).with_context(|| name.clone())?.len();
        if size > MAX_VERDICT_BYTES {
            anyhow::bail!("{name}: larger than the {MAX_VERDICT_BYTES}-byte limit for a verdict");
        }
        let bytes = std::fs::read(p).with_context(|| name.clone())?;
        inputs.push(input::parse(&name, &bytes)?);
    }
    input::check_labels(&inputs)?;
    Ok(inputs)
}

pub fn run_merge(args: &MergeArgs) -> Result<u8> {
    let inputs = read_inputs(&args.verdicts)?;
    let rules = match &args.policy {
        None => Vec::new(),
        Some(path) => match crate::policy::load_file(path) {
            Ok(p) => p.drift,
            Err(crate::policy::PolicyError::Invalid(errors)) => {
                eprintln!("{errors}");
                return Ok(EXIT_ERROR);
            }
            Err(e) => return Err(e.into()),
        },
    };
    if !rules.is_empty() && args.history.is_none() {
        eprintln!("layergate: warning: growth.since needs --history FILE; drift not judged");
    }
    let history = match &args.history {
        Some(p) => {
            let h = history_file::read(p)?;
            for w in &h.warnings {
                eprintln!("layergate: warning: {w}");
            }
            Some(h)
        }
        None => None,
    };
    let hist_input = history.as_ref().map(|h| HistoryInput {
        records: h.records().collect(),
        base_ref: args.base_ref.clone().unwrap_or_else(|| {
            env_first(&["GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"])
                .unwrap_or_else(|| "main".into())
        }),
        last: args.trend,
        rules,
    });
    let limit = crate::render::COMMENT_LIMIT;
    let merged = merge::merge(
        &inputs,
        &args.publish.comment_key,
        hist_input.as_ref(),
        limit,
    )?;
    let tmpl = match &args.template {
        Some(p) => Some((
            p.display().to_string(),
            std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read template", p.display()))?,
        )),
        None => None,
    };
    let markdown = merge::markdown(
        merged.view.clone(),
        tmpl.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        limit,
    )?;
    let body = match args.out.format {
        Format::Markdown => markdown.clone(),
        Format::Text => merge::text(&merged.view),
        Format::Json => merge::json(&inputs, &merged)?,
        Format::Html => {
            anyhow::bail!("merge: --format html is not available (text, markdown or json)")
        }
    };
    write_output(args.out.output.as_deref(), &body)?;
    let publication = publication(
        &merged.view.verdict,
        &merged.findings,
        merged.compressed,
        markdown,
        &args.publish.comment_key,
    );
    let env = crate::publish::Env::from_process();
    print_delivery(&crate::publish::deliver(
        &args.publish.settings(),
        &publication,
        &env,
    )?)?;
    Ok(if merged.view.verdict.passed || args.warn_only {
        EXIT_PASS
    } else {
        EXIT_POLICY
    })
}

fn publication(
    verdict: &crate::policy::Verdict,
    findings: &[crate::policy::Finding],
    compressed: Option<crate::compare::Delta>,
    markdown: String,
    key: &layergate::marker::Marker,
) -> crate::publish::Publication {
    use crate::publish::{Output, PublishedFinding, Severity as PubSeverity};
    let mut rules: Vec<String> = Vec::new();
    for f in findings {
        if !rules.iter().any(|r| f.code == r.as_str()) {
            rules.push(f.code.to_string());
        }
    }
    let outputs = compressed
        .map(|d| {
            vec![
                Output {
                    name: "size-before".into(),
                    value: d.before as f64,
                },
                Output {
                    name: "size-after".into(),
                    value: d.after as f64,
                },
                Output {
                    name: "size-delta".into(),
                    value: d.delta as f64,
                },
            ]
        })
        .unwrap_or_default();
    crate::publish::Publication {
        marker: key.clone(),
        markdown,
        passed: Some(verdict.passed),
        headline: verdict.headline.clone(),
        rules,
        findings: findings
            .iter()
            .map(|f| PublishedFinding {
                code: f.code.to_string(),
                severity: match f.severity {
                    crate::policy::Severity::Fail => PubSeverity::Fail,
                    crate::policy::Severity::Warn => PubSeverity::Warn,
                },
                message: f.message.clone(),
                path: f.path.clone(),
            })
            .collect(),
        outputs,
        size_kind: None,
        report_path: None,
    }
}

pub fn run_history(cmd: &HistoryCmd) -> Result<u8> {
    match cmd {
        HistoryCmd::Append(args) => {
            let inputs = read_inputs(&args.verdicts)?;
            let commit = args
                .commit
                .clone()
                .or_else(|| env_first(&["GITHUB_SHA", "CI_COMMIT_SHA"]))
                .context("no commit: give --commit SHA (or run in GitHub Actions / GitLab CI)")?;
            let git_ref = args
                .git_ref
                .clone()
                .or_else(|| env_first(&["GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"]))
                .context("no ref: give --ref BRANCH (or run in GitHub Actions / GitLab CI)")?;
            let time = match &args.time {
                Some(t) => t.clone(),
                None => rfc3339_now(),
            };
            if args.keep == Some(0) {
                anyhow::bail!("--keep 0 would drop every record: give at least 1");
            }
            let records: Vec<Record> = inputs
                .iter()
                .map(|i| {
                    let (uncompressed, layers) = i.head_figures();
                    Record {
                        format: FORMAT,
                        time: time.clone(),
                        commit: commit.clone(),
                        git_ref: git_ref.clone(),
                        image: i.label.clone(),
                        platform: i.platform(),
                        compressed_bytes: i.head_compressed(),
                        uncompressed_bytes: uncompressed,
                        layers,
                        verdict: Outcome::of(&i.verdict),
                    }
                })
                .collect();
            for w in history_file::append(&args.file, &records, args.keep)? {
                eprintln!("layergate: warning: {w}");
            }
            eprintln!(
                "layergate: {} record(s) appended to {}",
                records.len(),
                args.file.display()
            );
            Ok(EXIT_PASS)
        }
    }
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ` (civil date from days since 1970, Howard Hinnant's algorithm).
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_056_281), "2026-11-30T16:31:21Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}

#[derive(Debug, clap::Args)]
pub struct PlatformsArgs {
    /// The (multi-arch) image: docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], docker://REF.
    pub image: String,
    /// Compare with this base image, platform by platform (paired by os/arch/variant).
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,
    /// `all`, or a list: linux/amd64,linux/arm64.
    #[arg(long, default_value = "all", value_name = "all|OS/ARCH[/VARIANT],…")]
    pub platform: String,
    /// Policy whose `platforms.max_ratio` bounds largest/smallest.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The image's name in the output (default: the reference).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Registry credentials (else LAYERGATE_REGISTRY_USER/_PASSWORD, docker or podman login).
    #[arg(long, value_name = "USER:PASS")]
    pub creds: Option<String>,
    /// Talk plain HTTP to this registry (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    #[command(flatten)]
    pub cache: crate::run_options::CacheArgs,
    #[command(flatten)]
    pub progress: crate::run_options::ProgressArgs,
    #[command(flatten)]
    pub publish: crate::cli::comment_args::CommentArgs,
}

/// The platforms an image offers, asked of the source itself: a request for a
/// platform no image has is answered with the list of those present (an image
/// without an index has exactly its own).
fn platforms_of(
    r: &crate::source::ImageRef,
    opts: &crate::source::OpenOptions,
) -> Result<Vec<String>> {
    use crate::image::Platform;
    use crate::source::SourceError;
    let mut probe = opts.clone();
    probe.platform = Some(Platform {
        os: "layergate-probe".into(),
        architecture: "none".into(),
        variant: None,
    });
    probe.manifest_only = true;
    match crate::source::open_image(r, &probe) {
        Ok(o) => Ok(vec![platform_name(&o.image.info)]),
        Err(SourceError::NoPlatform { present, .. }) => {
            let mut out: Vec<String> = Vec::new();
            for p in present.split(", ").filter(|p| !p.is_empty()) {
                let parsed = Platform::parse(p)?;
                // BuildKit attestations are `unknown/unknown`: not a platform.
                if parsed.os != "unknown" && !out.contains(&parsed.to_string()) {
                    out.push(parsed.to_string());
                }
            }
            Ok(out)
        }
        Err(e) => Err(e.into()),
    }
}

fn platform_name(i: &crate::report::ImageInfo) -> String {
    match &i.variant {
        Some(v) => format!("{}/{}/{v}", i.os, i.architecture),
        None => format!("{}/{}", i.os, i.architecture),
    }
}

/// The platforms to analyse on one side: all, or those of the list it has
/// (`strict`: a listed platform it lacks is an error rather than one-sided).
fn chosen(present: Vec<String>, want: &str, strict: bool, image: &str) -> Result<Vec<String>> {
    if want == "all" {
        return Ok(present);
    }
    let mut out = Vec::new();
    for w in want.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let w = crate::image::Platform::parse(w)?;
        match present
            .iter()
            .find(|p| crate::image::Platform::parse(p).is_ok_and(|p| w.matches(&p)))
        {
            Some(p) => out.push(p.clone()),
            None if strict => anyhow::bail!(
                "{image}: no image for platform {w}; present: {}",
                present.join(", ")
            ),
            None => {}
        }
    }
    Ok(out)
}

pub fn run_platforms(args: &PlatformsArgs) -> Result<u8> {
    use crate::source::{open_image, ImageRef};
    let creds = match args.creds.as_deref() {
        Some(c) => Some(
            crate::source::registry::Credentials::parse(c)
                .context("--creds: expected USER:PASS")?,
        ),
        None => None,
    };
    let opts = crate::source::OpenOptions {
        platform: None,
        registry: crate::source::RegistryOptions {
            creds,
            insecure: args.insecure_registry.clone(),
        },
        manifest_only: false,
        run: crate::run_options::run_options(&args.cache, &args.progress),
    };
    let parity_rule = match &args.policy {
        None => None,
        Some(path) => match crate::policy::load_file(path) {
            Ok(p) => p.parity,
            Err(crate::policy::PolicyError::Invalid(errors)) => {
                eprintln!("{errors}");
                return Ok(EXIT_ERROR);
            }
            Err(e) => return Err(e.into()),
        },
    };
    let head_ref = ImageRef::parse(&args.image)?;
    let base_ref = args.base.as_deref().map(ImageRef::parse).transpose()?;
    for r in std::iter::once(&head_ref).chain(base_ref.as_ref()) {
        if matches!(r, ImageRef::Report(_)) {
            anyhow::bail!("{r}: `platforms` reads images, not saved reports");
        }
    }
    let strict = base_ref.is_none();
    let head_platforms = chosen(
        platforms_of(&head_ref, &opts)?,
        &args.platform,
        strict,
        &args.image,
    )?;
    let base_platforms = match (&base_ref, &args.base) {
        (Some(r), Some(name)) => chosen(platforms_of(r, &opts)?, &args.platform, false, name)?,
        _ => Vec::new(),
    };
    // Open every platform of both sides, then analyse them in one run: a layer
    // blob several platforms (or base and head) share is read once.
    let mut opened = Vec::new();
    for (r, platforms) in [(&head_ref, &head_platforms)]
        .into_iter()
        .chain(base_ref.as_ref().map(|b| (b, &base_platforms)))
    {
        for p in platforms {
            let mut o = opts.clone();
            o.platform = Some(crate::image::Platform::parse(p)?);
            opened.push(open_image(r, &o)?);
        }
    }
    let jobs: Vec<crate::analyze::Job<'_>> = opened
        .iter()
        .map(|o| crate::analyze::Job {
            image: &o.image,
            blobs: o.blobs.as_ref(),
        })
        .collect();
    let reports = crate::analyze::analyze_with(&jobs, &crate::scan::Limits::default(), &opts.run);
    crate::run_options::warn_once(&opts.run);
    let reports = reports?;
    let (head_reports, base_reports) = reports.split_at(head_platforms.len());
    let head: Vec<(String, &crate::report::Report)> =
        head_platforms.iter().cloned().zip(head_reports).collect();
    let base: Vec<(String, &crate::report::Report)> =
        base_platforms.iter().cloned().zip(base_reports).collect();
    let platforms::Pairing {
        pairs,
        only_base,
        only_head,
    } = platforms::pair(&base, &head);
    let rows: Vec<platforms::PlatformReport<'_>> = pairs
        .iter()
        .map(|(p, b, h)| platforms::PlatformReport {
            platform: p,
            head: h,
            base: b.copied(),
        })
        .collect();
    let label = args.label.clone().unwrap_or_else(|| args.image.clone());
    let view = platforms::parity(
        &label,
        &rows,
        only_base,
        only_head,
        parity_rule.as_ref(),
        &args.publish.comment_key,
    );
    let markdown = crate::render::markdown::render_template(
        "platforms.md.j2",
        platforms::PARITY_TEMPLATE,
        &view,
    )?;
    let body = match args.out.format {
        Format::Markdown => markdown.clone(),
        Format::Text => platforms::text(&view),
        Format::Html => {
            anyhow::bail!("platforms: --format html is not available (text, markdown or json)")
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
    write_output(args.out.output.as_deref(), &body)?;
    let publication = publication(
        &view.verdict,
        &view.findings,
        None,
        markdown,
        &args.publish.comment_key,
    );
    let env = crate::publish::Env::from_process();
    print_delivery(&crate::publish::deliver(
        &args.publish.settings(),
        &publication,
        &env,
    )?)?;
    Ok(if view.verdict.passed {
        EXIT_PASS
    } else {
        EXIT_POLICY
    })
}
