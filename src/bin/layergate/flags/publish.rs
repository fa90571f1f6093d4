//! The publishing flags of `diff`, `check`, `comment`, `merge` and `platforms` (clap
//! stays on the command line's side; `publish` receives plain [`Settings`]), and what
//! a delivery printed.

use std::path::PathBuf;

use anyhow::Result;
use layergate::publish::{CommentMode, CommentOn, CommentOutcome, Delivery, Secret, Settings};
use layergate::Marker;

use super::output::write_output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommentWhere {
    /// GitHub on a pull_request event, GitLab in a merge-request pipeline, else none.
    Auto,
    Github,
    Gitlab,
    None,
}

impl From<CommentWhere> for CommentMode {
    fn from(w: CommentWhere) -> CommentMode {
        match w {
            CommentWhere::Auto => CommentMode::Auto,
            CommentWhere::Github => CommentMode::Github,
            CommentWhere::Gitlab => CommentMode::Gitlab,
            CommentWhere::None => CommentMode::None,
        }
    }
}

/// `--comment-on`: when the sticky comment is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommentWhen {
    /// On every run.
    Always,
    /// Only when the verdict or the headline changed since the comment.
    Change,
    /// Only when the gate fails; an existing comment is updated when the verdict changes.
    Failure,
}

/// Publishing flags, flattened into `diff`, `check` and `comment`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentArgs {
    /// Where to post the verdict as a sticky comment.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHERE")]
    pub comment: CommentWhere,
    /// One comment per pull request and key: re-runs update it, another key adds
    /// another. 1-64 letters, digits, '-', '_' or '.'.
    #[arg(long, default_value = layergate::DEFAULT_KEY, value_name = "KEY")]
    pub comment_key: Marker,
    /// Fail when the comment cannot be posted (default: a warning naming the status).
    #[arg(long)]
    pub comment_required: bool,
    /// When to write the sticky comment; never a new comment per push.
    #[arg(long, value_enum, default_value = "always", value_name = "WHEN")]
    pub comment_on: CommentWhen,
    /// GitHub token (default: $GITHUB_TOKEN, then $GH_TOKEN). Prefer the environment.
    #[arg(long, value_name = "TOKEN")]
    pub github_token: Option<Secret>,
    /// GitLab token with `api` scope (default: $LAYERGATE_GITLAB_TOKEN, then $GITLAB_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub gitlab_token: Option<Secret>,
    /// Pull/merge request number (default: from the CI environment).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// GitHub OWNER/NAME or GitLab project id or path (default: from the CI environment).
    #[arg(long, value_name = "REPO")]
    pub repo: Option<String>,
    /// API base URL (default: $GITHUB_API_URL or $CI_API_V4_URL).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Also write the comment's Markdown to FILE (e.g. for a later workflow to post).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Write a GitLab Code Quality report (artifacts:reports:codequality).
    #[arg(long, value_name = "FILE")]
    pub gitlab_codequality: Option<PathBuf>,
    /// Write a JUnit XML report, one test case per rule (artifacts:reports:junit).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a GitLab metrics report (artifacts:reports:metrics).
    #[arg(long, value_name = "FILE")]
    pub gitlab_metrics: Option<PathBuf>,
    /// Repository file Code Quality findings point at (they are about the image it builds).
    #[arg(long, default_value = "Dockerfile", value_name = "PATH")]
    pub codequality_path: String,
}

impl CommentArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            comment: self.comment.into(),
            comment_required: self.comment_required,
            comment_on: match self.comment_on {
                CommentWhen::Always => CommentOn::Always,
                CommentWhen::Change => CommentOn::Change,
                CommentWhen::Failure => CommentOn::Failure,
            },
            github_token: self.github_token.clone(),
            gitlab_token: self.gitlab_token.clone(),
            pr: self.pr,
            repo: self.repo.clone(),
            api_url: self.api_url.clone(),
            markdown: self.markdown.clone(),
            gitlab_codequality: self.gitlab_codequality.clone(),
            junit: self.junit.clone(),
            gitlab_metrics: self.gitlab_metrics.clone(),
            codequality_path: self.codequality_path.clone(),
        }
    }
}

/// Annotations go to standard output (GitHub Actions reads workflow commands
/// there), warnings and what happened to the comment to standard error.
pub fn print_delivery(delivery: &Delivery) -> Result<()> {
    if !delivery.annotations.is_empty() {
        let text = delivery.annotations.join("\n") + "\n";
        write_output(None, &layergate::scrub(&text))?;
    }
    for n in &delivery.notices {
        eprintln!("layergate: {}", layergate::scrub(n));
    }
    for w in &delivery.warnings {
        eprintln!("layergate: warning: {}", layergate::scrub(w));
    }
    match &delivery.comment {
        CommentOutcome::Created { url, .. } => eprintln!("layergate: comment created: {url}"),
        CommentOutcome::Updated { url, .. } => eprintln!("layergate: comment updated: {url}"),
        CommentOutcome::Unchanged { url, .. } => eprintln!(
            "layergate: comment left as it is (--comment-on: nothing new to say){}",
            url.as_deref().map(|u| format!(": {u}")).unwrap_or_default()
        ),
        _ => {}
    }
    match &delivery.failure {
        Some(e) => anyhow::bail!("could not post the comment, which is required: {e}"),
        None => Ok(()),
    }
}

/// Delivers the verdict where `--comment` says and prints what happened.
pub fn deliver(args: &CommentArgs, publication: &layergate::publish::Publication) -> Result<()> {
    let env = layergate::publish::Env::from_process();
    print_delivery(&layergate::publish::deliver(
        &args.settings(),
        publication,
        &env,
    )?)
}
