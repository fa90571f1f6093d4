//! `layergate fix --suggest`: the flags that say where the suggestions go (the same
//! names and defaults as the sticky comment's, fewer of them: no report files), turned
//! into `publish::Settings`, and the printing of what was posted.

use anyhow::Result;
use layergate::publish::{CommentOutcome, Secret, Settings, Suggested};
use layergate::Marker;

use super::publish::CommentWhere;

#[derive(Debug, Clone, clap::Args)]
pub struct SuggestArgs {
    /// Post each change as a suggestion on the pull request's diff (a GitHub review, GitLab
    /// discussions); lines the diff does not show go to a sticky comment (key KEY-fix).
    #[arg(long)]
    pub suggest: bool,
    /// Where to post the suggestions.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "WHERE",
        requires = "suggest"
    )]
    pub comment: CommentWhere,
    /// Tags this run's suggestions, so the next run replaces them; the fallback comment
    /// uses KEY-fix.
    #[arg(long, default_value = layergate::DEFAULT_KEY, value_name = "KEY", requires = "suggest")]
    pub comment_key: Marker,
    /// GitHub token (default: $GITHUB_TOKEN, then $GH_TOKEN). Prefer the environment.
    #[arg(long, value_name = "TOKEN", requires = "suggest")]
    pub github_token: Option<Secret>,
    /// GitLab token with `api` scope (default: $LAYERGATE_GITLAB_TOKEN, then $GITLAB_TOKEN).
    #[arg(long, value_name = "TOKEN", requires = "suggest")]
    pub gitlab_token: Option<Secret>,
    /// Pull/merge request number (default: from the CI environment).
    #[arg(long, value_name = "N", requires = "suggest")]
    pub pr: Option<u64>,
    /// GitHub OWNER/NAME or GitLab project id or path (default: from the CI environment).
    #[arg(long, value_name = "REPO", requires = "suggest")]
    pub repo: Option<String>,
    /// API base URL (default: $GITHUB_API_URL or $CI_API_V4_URL).
    #[arg(long, value_name = "URL", requires = "suggest")]
    pub api_url: Option<String>,
    /// The Dockerfile's path as the pull request's diff names it (default: relative to
    /// $GITHUB_WORKSPACE or $CI_PROJECT_DIR, else to the current directory).
    #[arg(long, value_name = "PATH", requires = "suggest")]
    pub repo_path: Option<String>,
}

impl SuggestArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            comment: self.comment.into(),
            github_token: self.github_token.clone(),
            gitlab_token: self.gitlab_token.clone(),
            pr: self.pr,
            repo: self.repo.clone(),
            api_url: self.api_url.clone(),
            ..Settings::default()
        }
    }
}

/// One line per thing that happened, on standard error.
pub fn print(s: &Suggested) -> Result<()> {
    let scrub = layergate::scrub;
    for n in &s.notices {
        eprintln!("layergate: {}", scrub(n));
    }
    for w in &s.warnings {
        eprintln!("layergate: warning: {}", scrub(w));
    }
    if s.removed > 0 {
        eprintln!(
            "layergate: fix: removed {} suggestion(s) of the previous run",
            s.removed
        );
    }
    if s.unchanged {
        eprintln!("layergate: fix: the suggestions on the diff are unchanged: left as they are");
    }
    if s.posted > 0 {
        eprintln!(
            "layergate: fix: posted {} suggestion(s){}",
            s.posted,
            s.url
                .as_deref()
                .map(|u| format!(": {}", scrub(u)))
                .unwrap_or_default()
        );
    }
    if let Some(why) = &s.fallback {
        eprintln!(
            "layergate: fix: fallback to the patch in the comment: {}",
            scrub(why)
        );
    }
    match &s.comment {
        CommentOutcome::Created { url, .. } => {
            eprintln!("layergate: fix: comment created: {}", scrub(url))
        }
        CommentOutcome::Updated { url, .. } => {
            eprintln!("layergate: fix: comment updated: {}", scrub(url))
        }
        _ => {}
    }
    Ok(())
}
