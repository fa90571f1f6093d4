//! The flags of a verdict (`diff` and `check`): policy, template, HTML report and
//! label; the one path both take to their request; and what every verdict command
//! (`merge` and `platforms` too) does with its outcome: print, write, publish, exit.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use layergate::publish::Publication;
use layergate::{Exit, ImageRef, Outcome, Policy, PolicyError, Request, Template};

use super::image::ImageArgs;
use super::output::{write_output, OutputArgs};
use super::publish::{deliver, CommentArgs};

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// Policy file (layergate YAML or dive's .dive-ci), or `none` for no rules; default:
    /// ./.layergate.yml (or layergate.yml, .yaml) if present, else the default policy.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Report failed rules but exit 0.
    #[arg(long)]
    pub warn_only: bool,
    /// Replaces the Markdown template (minijinja) for `--format markdown`.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Also write the HTML report (as `--format html`) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Link the comment to the HTML report published at URL (e.g. the CI run's artifacts).
    #[arg(long, value_name = "URL", env = "LAYERGATE_HTML_URL", value_parser = layergate::link_url)]
    pub html_url: Option<String>,
    /// Name of this image in `--format json`, for `layergate merge` (e.g. the service).
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// The Dockerfile HEAD was built from: the comment gains a collapsed "Fix it" section
    /// with the rewrite `layergate fix` makes of it.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
}

/// The flags `diff` and `check` share after their image arguments.
#[derive(Debug, clap::Args)]
pub struct VerdictArgs {
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub image_args: ImageArgs,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Where to post the verdict (sticky comment, job summary, CI reports).
    #[command(flatten)]
    pub publish: CommentArgs,
}

impl VerdictArgs {
    /// `diff` (with a base) and `check` (without): one request, one path.
    pub fn run(&self, base: Option<String>, head: String) -> Result<Exit> {
        run(
            base,
            head,
            &self.gate,
            &self.image_args,
            &self.out,
            &self.publish,
        )
    }
}

/// `diff` (with a base) and `check` (without): one request, one path.
fn run(
    base: Option<String>,
    head: String,
    args: &GateArgs,
    image_args: &ImageArgs,
    out: &OutputArgs,
    publish: &CommentArgs,
) -> Result<Exit> {
    let Some(policy) = policy_or_exit(args, image_args)? else {
        return Ok(Exit::Error);
    };
    let template = read_template(args.template.as_deref())?;
    let dockerfile = args
        .dockerfile
        .as_deref()
        .map(|p| {
            layergate::read_text_capped(p, layergate::MAX_TEXT_BYTES)
                .with_context(|| format!("{}: cannot read Dockerfile", p.display()))
                .map(|text| layergate::FixInput {
                    name: p
                        .file_name()
                        .map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned()),
                    text,
                })
        })
        .transpose()?;
    let open = image_args.gate_open_options()?;
    // Each reference parsed once, here; the library takes the parsed form.
    let base = base.as_deref().map(ImageRef::parse).transpose()?;
    let head = ImageRef::parse(&head)?;
    let request = Request {
        base,
        head,
        policy,
        open,
        all_platforms: image_args.all_platforms(),
        run: image_args.run_options(),
        format: out.format.into(),
        template,
        key: publish.comment_key.clone(),
        html: args.html.is_some(),
        html_url: args.html_url.clone(),
        label: args.label.clone(),
        dockerfile,
        warn_only: args.warn_only,
    };
    let outcome = layergate::run(&request);
    super::run::warn_once(&request.run);
    let outcome = outcome?;
    if let (Some(path), Some(html)) = (&args.html, &outcome.html) {
        write_output(Some(path), html)?;
    }
    finish(&outcome, out, publish, out.output.as_deref())
}

/// What every verdict command does with its outcome: says its notices, writes the
/// body (`--output`, else standard output), publishes it and gives its exit code.
/// `report` names the file the body went to when it is the command's report.
pub fn finish(
    outcome: &Outcome,
    out: &OutputArgs,
    publish: &CommentArgs,
    report: Option<&Path>,
) -> Result<Exit> {
    for notice in &outcome.notices {
        eprintln!("layergate: warning: {notice}");
    }
    let publication = Publication::from(outcome).with_report_path(report);
    write_output(out.output.as_deref(), &outcome.body)?;
    deliver(publish, &publication)?;
    Ok(outcome.exit)
}

/// `--template FILE`: the replacement Markdown template, read whole.
pub fn read_template(path: Option<&Path>) -> Result<Option<Template>> {
    path.map(|p| {
        layergate::read_text_capped(p, layergate::MAX_TEXT_BYTES)
            .with_context(|| format!("{}: cannot read template", p.display()))
            .map(|text| Template {
                name: p.display().to_string(),
                text,
            })
    })
    .transpose()
}

/// `--policy FILE` of `merge` and `platforms`. A policy with problems prints every
/// one as `FILE:LINE:COL: message` and gives `None` (exit 2).
pub fn policy_file(path: &Path) -> Result<Option<Policy>> {
    match layergate::load_policy_file(path) {
        Ok(p) => Ok(Some(p)),
        Err(PolicyError::Invalid(errors)) => {
            eprintln!("{errors}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The policy to apply: `--policy FILE` (`none`: no rules), else a policy file in
/// the current directory, else the default policy. A policy with problems prints
/// every one as `FILE:LINE:COL: message` and gives `None` (exit 2); a file that
/// cannot be read is an ordinary error.
fn policy_or_exit(args: &GateArgs, image_args: &ImageArgs) -> Result<Option<Policy>> {
    let dir = Path::new(".");
    match layergate::select_policy(args.policy.as_deref(), dir, image_args.manifest_only) {
        Ok(p) => Ok(Some(p)),
        Err(PolicyError::Invalid(errors)) => {
            eprintln!("{errors}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
