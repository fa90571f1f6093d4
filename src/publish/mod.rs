//! Publishing the verdict where reviewers look: one sticky comment per pull request
//! (GitHub, through octocrab) or merge request (GitLab, through reqwest) and key, the
//! GitHub Actions job summary, outputs and annotations, and the GitLab report
//! artifacts. An edge: it writes files and talks to the network; it never renders
//! (the caller passes the finished Markdown) and never decides the verdict.
//!
//! Local files are written before any network call, so a refused or failed comment
//! still leaves the summary and reports behind.

mod actions;
mod comment_on;
mod env;
mod error;
mod github;
mod gitlab;
mod gitlab_reports;
mod http;
mod suggest;
mod target;

use std::path::PathBuf;

use crate::outcome::Outcome;

pub(crate) use crate::marker::Marker;
pub(crate) use crate::outcome::SizeKind;
pub(crate) use crate::policy::Severity;
pub use comment_on::CommentOn;
pub use env::Env;
pub use error::PublishError;
pub use gitlab_reports::codequality_json;
pub use suggest::{repo_path, suggest, Request as SuggestRequest, Suggested};

/// Everything publishing needs, independent of how the verdict was computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// Sticky-comment marker: one comment per pull request and key.
    pub marker: Marker,
    /// The finished comment body; the marker is added when missing.
    pub markdown: String,
    /// The policy's verdict; `None` when only a prepared body is posted.
    pub passed: Option<bool>,
    /// One line summing up the verdict (an output; annotations' context).
    pub headline: String,
    /// Codes of every rule evaluated, passing or not (one JUnit test case each).
    pub rules: Vec<String>,
    pub findings: Vec<PublishedFinding>,
    /// Figures exported as step outputs and GitLab metrics. By convention
    /// `size-before`, `size-after`, `size-delta` (bytes) and `size-delta-percent`
    /// for a comparison.
    pub outputs: Vec<Output>,
    /// What the size figures measure, when there are any.
    pub size_kind: Option<SizeKind>,
    /// Where the JSON report was written, if it was.
    pub report_path: Option<String>,
}

impl From<&Outcome> for Publication {
    /// The one publication of every verdict command (`diff`, `check`, `merge`,
    /// `platforms`): the comment, the verdict, every rule evaluated, the findings,
    /// and the size figures as outputs/metrics when there is a comparable base.
    fn from(outcome: &Outcome) -> Publication {
        let mut outputs = Vec::new();
        if let Some(d) = &outcome.compressed {
            let figure = |name: &str, value: f64| Output {
                name: name.into(),
                value,
            };
            outputs.push(figure("size-before", d.before as f64));
            outputs.push(figure("size-after", d.after as f64));
            outputs.push(figure("size-delta", d.delta as f64));
            if let Some(p) = d.percent {
                // Two decimals: a step output is for humans and `if:` comparisons.
                outputs.push(figure("size-delta-percent", (p * 100.0).round() / 100.0));
            }
        }
        Publication {
            marker: outcome.key.clone(),
            markdown: outcome.markdown.clone(),
            passed: Some(outcome.verdict.passed),
            headline: outcome.verdict.headline.clone(),
            rules: outcome.rules.iter().map(ToString::to_string).collect(),
            findings: outcome
                .findings
                .iter()
                .map(|f| PublishedFinding {
                    code: f.code.to_string(),
                    severity: f.severity,
                    message: f.message.clone(),
                    path: f.path.clone(),
                })
                .collect(),
            outputs,
            size_kind: outcome.size_kind,
            report_path: None,
        }
    }
}

impl Publication {
    /// Names the file the command's output was written to (the `report-path` output).
    pub fn with_report_path(mut self, path: Option<&std::path::Path>) -> Publication {
        self.report_path = path.map(|p| p.display().to_string());
        self
    }
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

/// A named figure: a GitHub step output and a GitLab metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// kebab-case, e.g. `size-after`.
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentMode {
    /// GitHub on a pull_request event, GitLab in a merge-request pipeline, else none.
    Auto,
    Github,
    Gitlab,
    None,
}

/// How and where to publish; the command line fills it (`src/bin/layergate/flags/publish.rs`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to post the verdict as a sticky comment.
    pub comment: CommentMode,
    /// A comment that cannot be posted is an error (else a warning naming the status).
    pub comment_required: bool,
    /// When the sticky comment is written (every run, on a change, on a failure).
    pub comment_on: CommentOn,
    /// GitHub token (default: $GITHUB_TOKEN, then $GH_TOKEN).
    pub github_token: Option<Secret>,
    /// GitLab token with `api` scope (default: $LAYERGATE_GITLAB_TOKEN, then $GITLAB_TOKEN).
    pub gitlab_token: Option<Secret>,
    /// Pull/merge request number (default: from the CI environment).
    pub pr: Option<u64>,
    /// GitHub OWNER/NAME or GitLab project id or path (default: from the CI environment).
    pub repo: Option<String>,
    /// API base URL (default: $GITHUB_API_URL or $CI_API_V4_URL).
    pub api_url: Option<String>,
    /// Write the comment's Markdown here too.
    pub markdown: Option<PathBuf>,
    /// GitLab Code Quality report (artifacts:reports:codequality).
    pub gitlab_codequality: Option<PathBuf>,
    /// JUnit XML report, one test case per rule (artifacts:reports:junit).
    pub junit: Option<PathBuf>,
    /// GitLab metrics report (artifacts:reports:metrics).
    pub gitlab_metrics: Option<PathBuf>,
    /// Repository file Code Quality findings point at.
    pub codequality_path: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            comment: CommentMode::Auto,
            comment_required: false,
            comment_on: CommentOn::Always,
            github_token: None,
            gitlab_token: None,
            pr: None,
            repo: None,
            api_url: None,
            markdown: None,
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

    pub(crate) fn expose(&self) -> &str {
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

/// The code forge the comment went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentOutcome {
    /// `--comment none`, or `auto` outside a pull/merge request.
    NotRequested,
    Created {
        forge: Forge,
        id: u64,
        url: String,
    },
    Updated {
        forge: Forge,
        id: u64,
        url: String,
    },
    /// `--comment-on change|failure` found nothing new to say: the comment (if any)
    /// was left as it is.
    Unchanged {
        forge: Forge,
        /// The comment left alone, when there is one.
        url: Option<String>,
    },
    /// The forge refused (e.g. a fork's read-only token); `reason` says why.
    Skipped {
        forge: Forge,
        reason: String,
    },
    /// The comment could not be posted (an API error, no network); `reason` is one
    /// line naming the status. Only when the comment was not required.
    Failed {
        reason: String,
    },
}

impl CommentOutcome {
    /// The `comment-status` output.
    pub(crate) fn status(&self) -> &'static str {
        match self {
            CommentOutcome::NotRequested => "none",
            CommentOutcome::Created { .. } => "created",
            CommentOutcome::Updated { .. } => "updated",
            CommentOutcome::Unchanged { .. } => "unchanged",
            CommentOutcome::Skipped { .. } => "skipped",
            CommentOutcome::Failed { .. } => "failed",
        }
    }
}

/// What `deliver` did. The caller prints `annotations` on standard output (that is
/// how GitHub Actions reads them), `notices` and `warnings` on standard error, and
/// then fails when `failure` is set.
#[derive(Debug)]
pub struct Delivery {
    pub comment: CommentOutcome,
    pub warnings: Vec<String>,
    /// Things worth a line that are not a problem (no pull request to comment on).
    pub notices: Vec<String>,
    pub annotations: Vec<String>,
    /// Files written or appended to.
    pub written: Vec<PathBuf>,
    /// A required comment that could not be posted: everything else was delivered,
    /// and the run fails with this.
    pub failure: Option<PublishError>,
}

/// Publishes `publication` as `settings` ask, reading the CI environment from `env`.
/// Summary, annotations, Markdown and report files are written first; then the
/// sticky comment is created or updated; then `$GITHUB_OUTPUT` is written (with
/// the comment's URL and status). A comment that cannot be posted is a warning in
/// the returned `Delivery` (or its `failure`, when `comment_required`), never an
/// early return: the verdict reaches the summary, outputs and annotations either way.
pub fn deliver(
    settings: &Settings,
    publication: &Publication,
    env: &Env,
) -> Result<Delivery, PublishError> {
    let marker = &publication.marker;
    let body = marker.stamp(&publication.markdown);
    let rule = comment_on::Rule::new(
        settings.comment_on,
        publication.passed,
        &publication.headline,
    );
    // A bad setting is a usage error, found before anything is written.
    let plan = target::resolve(settings, env)?;
    let mut delivery = Delivery {
        comment: CommentOutcome::NotRequested,
        warnings: plan.warnings.clone(),
        notices: plan.notices.clone(),
        annotations: Vec::new(),
        written: Vec::new(),
        failure: None,
    };

    if let Some(path) = env.get("GITHUB_STEP_SUMMARY") {
        // Appended in one piece or not at all; a summary that cannot be written (a
        // full disk) is a warning: the outputs and the comment still carry the verdict.
        match actions::append_summary(path.as_ref(), &body) {
            Ok(()) => delivery.written.push(path.into()),
            Err(e) => delivery
                .warnings
                .push(format!("job summary not written: {e}")),
        }
    }
    if env.is_true("GITHUB_ACTIONS") {
        delivery.annotations = actions::annotations(publication);
    }
    if let Some(path) = &settings.markdown {
        gitlab_reports::write_atomic(path, &body)?;
        delivery.written.push(path.clone());
    }
    gitlab_reports::write_requested(settings, publication, &mut delivery.written)?;

    let posted = match &plan.target {
        target::Target::None => Ok(CommentOutcome::NotRequested),
        target::Target::GitHub(gh) => {
            runtime().and_then(|rt| rt.block_on(github::upsert(gh, marker, &body, &rule, env)))
        }
        target::Target::GitLab(gl) => {
            runtime().and_then(|rt| rt.block_on(gitlab::upsert(gl, marker, &body, &rule, env)))
        }
    };
    delivery.comment = match posted {
        Ok(outcome) => outcome,
        Err(e) if settings.comment_required => {
            delivery.failure = Some(e);
            CommentOutcome::Failed {
                reason: "required".into(),
            }
        }
        Err(e) => {
            let reason = match e.status() {
                Some(status) => format!("could not post the comment (HTTP {status}): {e}"),
                None => format!("could not post the comment: {e}"),
            };
            CommentOutcome::Failed { reason }
        }
    };
    match &delivery.comment {
        CommentOutcome::Skipped { reason, .. } | CommentOutcome::Failed { reason }
            if delivery.failure.is_none() =>
        {
            delivery.warnings.push(reason.clone())
        }
        _ => {}
    }

    // On GitHub Actions a warning is also an annotation, so it shows on the run's
    // page and not only in the log.
    if env.is_true("GITHUB_ACTIONS") {
        for w in &delivery.warnings {
            delivery.annotations.push(format!(
                "::warning title=layergate::{}",
                actions::escape_data(w)
            ));
        }
    }

    if let Some(path) = env.get("GITHUB_OUTPUT") {
        let extra = settings
            .markdown
            .as_ref()
            .map(|p| ("markdown-path".to_string(), p.display().to_string()));
        actions::write_outputs(path.as_ref(), publication, &delivery.comment, extra)?;
        delivery.written.push(path.into());
    }
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

    /// Debug-printing the settings (e.g. in a bug report) must not leak a token.
    #[test]
    fn tokens_are_redacted_in_debug_output() {
        let settings = Settings {
            github_token: Some(Secret::new("ghp_secret")),
            ..Settings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("ghp_secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    /// Every verdict command publishes through this one conversion: every rule
    /// evaluated (a JUnit case each, passing ones included), the findings, and the
    /// size figures with the delta in percent whenever there is a comparable base.
    #[test]
    fn a_publication_carries_every_rule_and_the_delta_percent() {
        use crate::policy::{FindingCode, Unit, Verdict};
        let outcome = Outcome {
            verdict: Verdict {
                passed: false,
                headline: "1 rule failed".into(),
                failed: 1,
                warned: 0,
            },
            findings: vec![crate::policy::Finding {
                code: FindingCode::SizeGrowth,
                severity: Severity::Fail,
                message: "grew".into(),
                value: 84.08,
                limit: 10.0,
                unit: Unit::Percent,
                path: None,
            }],
            rules: vec![FindingCode::CompressedSize, FindingCode::SizeGrowth],
            markdown: "body".into(),
            key: Marker::default(),
            body: String::new(),
            compressed: Some(crate::compare::Delta::new(1_485_074, 2_733_728)),
            size_kind: Some(SizeKind::Compressed),
            html: None,
            notices: Vec::new(),
            exit: crate::outcome::Exit::Policy,
        };
        let p = Publication::from(&outcome).with_report_path(Some(std::path::Path::new("r.json")));
        assert_eq!(p.rules, ["compressed-size", "size-growth"]);
        assert_eq!(p.passed, Some(false));
        assert_eq!(p.findings[0].code, "size-growth");
        let outputs: Vec<(&str, f64)> = p
            .outputs
            .iter()
            .map(|o| (o.name.as_str(), o.value))
            .collect();
        assert_eq!(
            outputs,
            [
                ("size-before", 1_485_074.0),
                ("size-after", 2_733_728.0),
                ("size-delta", 1_248_654.0),
                ("size-delta-percent", 84.08),
            ]
        );
        assert_eq!(p.size_kind, Some(SizeKind::Compressed));
        assert_eq!(p.report_path.as_deref(), Some("r.json"));
    }
}
