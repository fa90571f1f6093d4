//! `layergate merge VERDICT.json…`: one verdict from the JSON verdicts of several
//! `diff`/`check` runs (a CI matrix), with the size trend and drift rules of a history.

use std::path::PathBuf;

use anyhow::Result;
use layergate::Exit;
use layergate::MergeRequest;

use crate::flags::gate::{finish, policy_file, read_template};
use crate::flags::output::OutputArgs;
use crate::flags::publish::CommentArgs;

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

pub fn run(args: &Args) -> Result<Exit> {
    let policy = match &args.policy {
        None => None,
        Some(path) => match policy_file(path)? {
            Some(policy) => Some(policy),
            None => return Ok(Exit::Error),
        },
    };
    let request = MergeRequest {
        verdicts: args.verdicts.clone(),
        policy,
        history: args.history.clone(),
        base_ref: args.base_ref.clone().unwrap_or_else(|| {
            crate::flags::verdicts::env_first(&[
                "GITHUB_BASE_REF",
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
            ])
            .unwrap_or_else(|| "main".into())
        }),
        trend: args.trend,
        template: read_template(args.template.as_deref())?,
        format: args.out.format.into(),
        key: args.publish.comment_key.clone(),
        warn_only: args.warn_only,
    };
    finish(
        &layergate::run_merge(&request)?,
        &args.out,
        &args.publish,
        None,
    )
}
