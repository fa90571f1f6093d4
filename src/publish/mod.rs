//! Publishing the verdict where reviewers look: one sticky comment per pull request
//! (GitHub, through octocrab) or merge request (GitLab, through reqwest) and key, the
//! GitHub Actions job summary, outputs and annotations, and the GitLab report
//! artifacts. An edge: it writes files and talks to the network; it never renders
//! (the caller passes the finished Markdown) and never decides the verdict.
//!
//! Local files are written before any network call, so a refused or failed comment
//! still leaves the summary and reports behind.

mod actions;
mod env;
mod error;
mod github;
mod gitlab;
mod gitlab_reports;
mod http;
mod target;

use std::path::PathBuf;

pub use actions::{escape_data, escape_property};
pub use env::Env;
pub use error::PublishError;
pub use gitlab_reports::{codequality_json, junit_xml, metrics_text};

/// The comment key used when none is given.
pub const DEFAULT_KEY: &str = "default";

/// Everything publishing needs, independent of how the verdict was computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// Sticky-comment key: one comment per pull request and key.
    pub key: String,
    /// The finished comment body; the marker is added when missing.
    pub markdown: String,
    /// The policy's verdict; `None` when only a prepared body is posted.
    pub passed: Option<bool>,
    /// One line summing up the verdict (an output; annotations' context).
    pub headline: String,
    /// Codes of every rule evaluated, passing or not (one JUnit test case each).
    pub rules: Vec<String>,
    pub findings: Vec<PublishedFinding>,
    /// Figures exported as outputs and GitLab metrics. By convention `size-before`,
    /// `size-after` and `size-delta` (bytes) for a comparison.
    pub metrics: Vec<Metric>,
    /// Where the JSON report was written, if it was.
    pub report_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedFinding {
    /// The rule's stable kebab-case code, e.g. `size-growth`.
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// The file inside the image the finding is about, if any.
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Warn,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// kebab-case, e.g. `size-after`.
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommentMode {
    /// GitHub on a pull_request event, GitLab in a merge-request pipeline, else none.
    Auto,
    Github,
    Gitlab,
    None,
}

/// Publishing flags, flattened into `diff` and `comment`.
#[derive(Debug, Clone, clap::Args)]
pub struct CommentArgs {
    /// Where to post the verdict as a sticky comment.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHERE")]
    pub comment: CommentMode,
    /// One comment per pull request and key: re-runs update it, another key adds another.
    #[arg(long, default_value = DEFAULT_KEY, value_name = "KEY")]
    pub comment_key: String,
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

impl Default for CommentArgs {
    fn default() -> Self {
        CommentArgs {
            comment: CommentMode::Auto,
            comment_key: DEFAULT_KEY.into(),
            github_token: None,
            gitlab_token: None,
            pr: None,
            repo: None,
            api_url: None,
            gitlab_codequality: None,
            junit: None,
            gitlab_metrics: None,
            codequality_path: "Dockerfile".into(),
        }
    }
}

/// A token: printed as `***` by `Debug`, so logging the arguments cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(token: impl Into<String>) -> Self {
        Secret(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// Where the comment went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    GitHub,
    GitLab,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    /// `--comment none`, or `auto` outside a pull/merge request.
    NotRequested,
    Created {
        platform: Platform,
        id: u64,
        url: String,
    },
    Updated {
        platform: Platform,
        id: u64,
        url: String,
    },
    /// The platform refused (e.g. a fork's read-only token); `reason` says why.
    Skipped { platform: Platform, reason: String },
}

/// What `deliver` did. The caller prints `annotations` on standard output (that is
/// how GitHub Actions reads them) and `warnings` on standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub comment: CommentOutcome,
    pub warnings: Vec<String>,
    pub annotations: Vec<String>,
    /// Files written or appended to.
    pub written: Vec<PathBuf>,
}

/// The hidden marker that identifies a key's sticky comment.
pub fn marker(key: &str) -> String {
    format!("<!-- layergate:{key} -->")
}

/// The body with its marker, added at the top when the renderer did not put it in.
pub fn with_marker(markdown: &str, key: &str) -> String {
    let m = marker(key);
    if markdown.contains(&m) {
        markdown.to_string()
    } else {
        format!("{m}\n{markdown}")
    }
}

/// Keys end up inside an HTML comment and a file name: keep them plain.
fn validate_key(key: &str) -> Result<(), PublishError> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(PublishError::Setting {
            setting: "--comment-key",
            reason: format!("{key:?}: use 1-64 letters, digits, '-', '_' or '.'"),
        })
    }
}

/// Publishes `publication` as `args` ask, reading the CI environment from `env`.
/// Summary, annotations and report files are written first; then the sticky comment
/// is created or updated; then `$GITHUB_OUTPUT` is written (with the comment's URL).
/// A refused comment (HTTP 403) is a warning in the returned `Delivery`, not an error.
pub fn deliver(
    args: &CommentArgs,
    publication: &Publication,
    env: &Env,
) -> Result<Delivery, PublishError> {
    validate_key(&publication.key)?;
    let body = with_marker(&publication.markdown, &publication.key);
    let plan = target::resolve(args, env)?;
    let mut delivery = Delivery {
        comment: CommentOutcome::NotRequested,
        warnings: plan.warnings.clone(),
        annotations: Vec::new(),
        written: Vec::new(),
    };

    if let Some(path) = env.get("GITHUB_STEP_SUMMARY") {
        actions::append_summary(path.as_ref(), &body)?;
        delivery.written.push(path.into());
    }
    if env.is_true("GITHUB_ACTIONS") {
        delivery.annotations = actions::annotations(publication);
    }
    gitlab_reports::write_requested(args, publication, &mut delivery.written)?;

    let posted =
        match &plan.target {
            target::Target::None => Ok(CommentOutcome::NotRequested),
            target::Target::GitHub(gh) => runtime()
                .and_then(|rt| rt.block_on(github::upsert(gh, &publication.key, &body, env))),
            target::Target::GitLab(gl) => runtime()
                .and_then(|rt| rt.block_on(gitlab::upsert(gl, &publication.key, &body, env))),
        };
    if let Ok(CommentOutcome::Skipped { reason, .. }) = &posted {
        delivery.warnings.push(reason.clone());
    }

    if let Some(path) = env.get("GITHUB_OUTPUT") {
        let comment = posted.as_ref().ok();
        actions::write_outputs(path.as_ref(), publication, comment)?;
        delivery.written.push(path.into());
    }
    delivery.comment = posted?;
    Ok(delivery)
}

/// tokio lives only here: the rest of layergate is synchronous.
fn runtime() -> Result<tokio::runtime::Runtime, PublishError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PublishError::Setting {
            setting: "runtime",
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-runs must find their own comment: the marker is added exactly once.
    #[test]
    fn marker_is_added_once() {
        let once = with_marker("# Verdict\n", "api");
        assert_eq!(once, "<!-- layergate:api -->\n# Verdict\n");
        assert_eq!(with_marker(&once, "api"), once);
    }

    /// One key's marker never matches another key's comment.
    #[test]
    fn markers_of_different_keys_do_not_overlap() {
        assert!(!marker("ab").contains(&marker("a")));
    }

    /// Debug-printing the arguments (e.g. in a bug report) must not leak a token.
    #[test]
    fn tokens_are_redacted_in_debug_output() {
        let args = CommentArgs {
            github_token: Some(Secret::new("ghp_secret")),
            ..CommentArgs::default()
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains("ghp_secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    /// A key could otherwise close the HTML comment and inject Markdown.
    #[test]
    fn keys_are_validated() {
        assert!(validate_key("web-1.x_y").is_ok());
        assert!(validate_key("a -->").is_err());
        assert!(validate_key("").is_err());
    }
}
