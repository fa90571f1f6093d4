//! `layergate merge VERDICT.json…`: one verdict from the JSON verdicts of several
//! `diff`/`check` runs (a CI matrix), with the size trend and drift rules of a history.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::fleet::history_file;
use layergate::fleet::merge::{self, HistoryInput};
use layergate::{EXIT_ERROR, EXIT_PASS, EXIT_POLICY};

use crate::flags::output::{write_output, Format, OutputArgs};
use crate::flags::publish::{deliver, publication, CommentArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
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
    pub publish: CommentArgs,
}

pub fn run(args: &Args) -> Result<u8> {
    let inputs = crate::flags::verdicts::read_inputs(&args.verdicts)?;
    let rules = match &args.policy {
        None => Vec::new(),
        Some(path) => match layergate::load_policy_file(path) {
            Ok(p) => p.drift,
            Err(layergate::PolicyError::Invalid(errors)) => {
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
            crate::flags::verdicts::env_first(&[
                "GITHUB_BASE_REF",
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
            ])
            .unwrap_or_else(|| "main".into())
        }),
        last: args.trend,
        rules,
    });
    let limit = layergate::COMMENT_LIMIT;
    let merged = merge::merge(
        &inputs,
        &args.publish.comment_key,
        hist_input.as_ref(),
        limit,
    )?;
    let tmpl = match &args.template {
        Some(p) => Some((
            p.display().to_string(),
            layergate::read_text_capped(p, layergate::MAX_TEXT_BYTES)
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
    deliver(&args.publish, &publication)?;
    Ok(if merged.view.verdict.passed || args.warn_only {
        EXIT_PASS
    } else {
        EXIT_POLICY
    })
}
