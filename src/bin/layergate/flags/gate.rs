//! The flags of a verdict (`diff` and `check`): policy, template, HTML report and
//! label; and the one path both take, request to outcome to output and comment.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use layergate::EXIT_ERROR;
use layergate::{Policy, PolicyError};
use layergate::{Request, Template};

use super::image::ImageArgs;
use super::output::{write_output, OutputArgs};
use super::publish::{print_delivery, CommentArgs};

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

/// `diff` (with a base) and `check` (without): one request, one path.
pub fn run(
    base: Option<String>,
    head: String,
    args: &GateArgs,
    image_args: &ImageArgs,
    out: &OutputArgs,
    publish: &CommentArgs,
) -> Result<u8> {
    let Some(policy) = policy_or_exit(args, image_args)? else {
        return Ok(EXIT_ERROR);
    };
    let template = args
        .template
        .as_deref()
        .map(|p| {
            layergate::read_text_capped(p, layergate::MAX_TEXT_BYTES)
                .with_context(|| format!("{}: cannot read template", p.display()))
                .map(|text| Template {
                    name: p.display().to_string(),
                    text,
                })
        })
        .transpose()?;
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
    let request = Request {
        base,
        head,
        policy,
        open: image_args.open_options()?,
        format: out.format.into(),
        template,
        key: publish.comment_key.clone(),
        html: args.html.is_some(),
        html_url: args.html_url.clone(),
        label: args.label.clone(),
        dockerfile,
    };
    let outcome = layergate::run(&request);
    super::run::warn_once(&request.open.run);
    let outcome = outcome?;
    if let (Some(path), Some(html)) = (&args.html, &outcome.html) {
        write_output(Some(path), html)?;
    }
    let publication = outcome.publication(&request.policy, out.output.as_deref());
    write_output(out.output.as_deref(), &outcome.body)?;
    let env = layergate::publish::Env::from_process();
    print_delivery(&layergate::publish::deliver(
        &publish.settings(),
        &publication,
        &env,
    )?)?;
    Ok(outcome.exit_code(args.warn_only))
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
