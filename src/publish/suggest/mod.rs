//! `layergate fix --suggest`: the rewrite posted as suggestions on the pull request's
//! diff, so a reviewer applies it with a click. GitHub: one review per run holding a
//! suggestion comment per changed run of lines, after this key's suggestions of the
//! previous run are deleted (left alone when they are the same). GitLab: a diff
//! discussion per suggestion (position API), the previous ones deleted alike.
//!
//! Lines the pull request does not show, and anchors the forge rejects (GitHub's 422
//! names no line, so one rejection sends the whole review there), fall back to a
//! sticky comment (key `KEY-fix`) holding the patch; that comment is written only when
//! something fell back, and updated when a later run no longer needs it. Nothing here
//! fails the job once the settings are valid: an API error is a warning.
//!
//! `lines` is the pure half (lines, bodies, what the diff shows); `github` and
//! `gitlab` are the HTTP edge, through the clients the sticky comments use.

mod github;
mod gitlab;
mod lines;

use std::path::Path;

use super::comment_on::{CommentOn, Rule};
use super::target::{self, Target};
use super::{CommentOutcome, Env, Forge, Marker, PublishError, Settings};
use crate::fix::Plan;

/// What to suggest, for one Dockerfile.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The run's comment key: it tags the suggestions and names the fallback comment.
    pub marker: &'a Marker,
    /// The Dockerfile's path in the repository, as the pull request's diff names it.
    pub path: String,
    /// The Dockerfile as the image was built from it (the pull request's head).
    pub original: &'a str,
    pub plan: &'a Plan,
    /// The "Fix it" section with the collapsed diff: the fallback comment's body.
    pub patch_markdown: String,
}

/// What `suggest` did; the binary prints it.
#[derive(Debug)]
pub struct Suggested {
    pub(crate) forge: Option<Forge>,
    /// Suggestions placed on the diff by this run.
    pub posted: usize,
    /// The previous run's suggestions were the same and were left as they are.
    pub unchanged: bool,
    /// The previous run's suggestions deleted.
    pub removed: usize,
    /// The review (GitHub) or first discussion (GitLab) posted.
    pub url: Option<String>,
    /// Why some or all changes went to the fallback comment.
    pub fallback: Option<String>,
    /// The fallback comment.
    pub comment: CommentOutcome,
    pub warnings: Vec<String>,
    pub notices: Vec<String>,
}

/// What a forge did with the suggestions.
#[derive(Debug, Default)]
pub(crate) struct Placed {
    pub posted: usize,
    pub unchanged: bool,
    pub removed: usize,
    pub url: Option<String>,
    /// Suggestions that could not be placed, with why.
    pub left: usize,
    pub why: Option<String>,
}

/// The fallback comment's key: `KEY-fix`, beside the verdict's `KEY`.
pub(super) fn fallback_marker(marker: &Marker) -> Result<Marker, PublishError> {
    Marker::new(&format!("{}-fix", marker.key())).map_err(|e| PublishError::Setting {
        setting: "--comment-key",
        reason: format!("{e} (the fallback comment's key adds \"-fix\")"),
    })
}

/// Posts `request`'s suggestions where `settings` say (the same target as the sticky
/// comment). A bad setting is an error; anything the forge answers is not.
pub fn suggest(
    settings: &Settings,
    request: &Request<'_>,
    env: &Env,
) -> Result<Suggested, PublishError> {
    let plan = target::resolve(settings, env)?;
    let fix_marker = fallback_marker(request.marker)?;
    let mut out = Suggested {
        forge: None,
        posted: 0,
        unchanged: false,
        removed: 0,
        url: None,
        fallback: None,
        comment: CommentOutcome::NotRequested,
        warnings: plan.warnings,
        notices: plan.notices,
    };
    let all = lines::suggestions(request.plan, request.original);
    let rt = super::runtime()?;
    let placed = match &plan.target {
        Target::None => {
            if out.warnings.is_empty() && out.notices.is_empty() {
                out.notices
                    .push("no pull or merge request in this run: no suggestions posted".into());
            }
            return Ok(out);
        }
        Target::GitHub(gh) => {
            out.forge = Some(Forge::GitHub);
            rt.block_on(github::place(gh, request, &all, env))
        }
        Target::GitLab(gl) => {
            out.forge = Some(Forge::GitLab);
            rt.block_on(gitlab::place(gl, request, &all, env))
        }
    };
    let placed = placed.unwrap_or_else(|e| {
        out.warnings
            .push(format!("could not post the suggestions: {e}"));
        Placed {
            left: all.len(),
            why: Some(format!(
                "the suggestions could not be posted ({})",
                short(&e)
            )),
            ..Placed::default()
        }
    });
    out.posted = placed.posted;
    out.unchanged = placed.unchanged;
    out.removed = placed.removed;
    out.url = placed.url.clone();
    out.fallback = placed.why.clone().filter(|_| placed.left > 0);

    // The fallback comment: written when something fell back, updated (never created)
    // when nothing does any more, so a stale patch does not outlive its lines.
    let fell_back = out.fallback.is_some();
    let body = match &out.fallback {
        Some(why) => format!(
            "{}\n> **{} of {} suggestion{} could not be placed on the diff**: {}. Apply the patch below instead (or run `layergate fix --write`).\n\n{}",
            fix_marker.text(),
            placed.left,
            all.len(),
            if all.len() == 1 { "" } else { "s" },
            crate::render::escape::md(why),
            request.patch_markdown
        ),
        None => format!(
            "{}\n### Fix it\n\nThe suggestions of `layergate fix` for {} are on the diff ({} in this run).\n",
            fix_marker.text(),
            crate::render::escape::md(&request.path),
            placed.posted + if placed.unchanged { all.len() } else { 0 }
        ),
    };
    let headline = out.fallback.clone().unwrap_or_default() + &request.plan.text;
    let rule = Rule::new(CommentOn::Failure, Some(!fell_back), &headline);
    let posted = match &plan.target {
        Target::GitHub(gh) => {
            rt.block_on(super::github::upsert(gh, &fix_marker, &body, &rule, env))
        }
        Target::GitLab(gl) => {
            rt.block_on(super::gitlab::upsert(gl, &fix_marker, &body, &rule, env))
        }
        Target::None => Ok(CommentOutcome::NotRequested),
    };
    out.comment = match posted {
        Ok(c) => c,
        Err(e) => CommentOutcome::Failed {
            reason: format!("could not post the fallback comment: {e}"),
        },
    };
    if let CommentOutcome::Skipped { reason, .. } | CommentOutcome::Failed { reason } = &out.comment
    {
        out.warnings.push(reason.clone());
    }
    Ok(out)
}

/// An error's status, or its first words, for the fallback comment's one line.
fn short(e: &PublishError) -> String {
    match e.status() {
        Some(status) => format!("HTTP {status}"),
        None => "no answer".to_string(),
    }
}

/// The Dockerfile's path in the repository: `dockerfile` relative to the checkout
/// (`$GITHUB_WORKSPACE`, `$CI_PROJECT_DIR`, else the current directory), with `/`.
pub fn repo_path(dockerfile: &Path, env: &Env) -> Result<String, PublishError> {
    let bad = |reason: String| PublishError::Setting {
        setting: "--repo-path",
        reason,
    };
    let file = dockerfile
        .canonicalize()
        .map_err(|e| bad(format!("{}: {e}", dockerfile.display())))?;
    let root = match env.get("GITHUB_WORKSPACE").or(env.get("CI_PROJECT_DIR")) {
        Some(dir) => Path::new(dir).to_path_buf(),
        None => std::env::current_dir().map_err(|e| bad(e.to_string()))?,
    };
    let root = root
        .canonicalize()
        .map_err(|e| bad(format!("{}: {e}", root.display())))?;
    let rel = file.strip_prefix(&root).map_err(|_| {
        bad(format!(
            "{} is outside the checkout {}; pass the path the pull request's diff names",
            file.display(),
            root.display()
        ))
    })?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/"))
}
