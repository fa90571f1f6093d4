//! Deciding where the comment goes, from the flags and the CI environment: the
//! GitHub repository, pull request, API base and token, or the GitLab project,
//! merge request, API base and token. `auto` never fails for lack of a context; an
//! explicit platform does, naming the missing setting.

use std::path::Path;

use super::{CommentMode, Env, PublishError, Settings};

pub(super) struct Plan {
    pub target: Target,
    /// Why `auto` chose not to comment although it could have been expected to.
    pub warnings: Vec<String>,
    /// Why `auto` had nothing to comment on (no pull request in this run).
    pub notices: Vec<String>,
}

pub(crate) enum Target {
    None,
    GitHub(GitHub),
    GitLab(GitLab),
}

pub(crate) struct GitHub {
    /// Without a trailing slash, e.g. `https://api.github.com` or `https://ghe/api/v3`.
    pub api: String,
    pub owner: String,
    pub repo: String,
    pub pr: u64,
    pub token: String,
}

pub(crate) struct GitLab {
    pub api: String,
    /// As it goes in the URL: numeric id or URL-encoded path.
    pub project: String,
    pub mr: u64,
    pub token: String,
    /// `CI_MERGE_REQUEST_PROJECT_URL`, to build a link to the note.
    pub web: Option<String>,
}

pub(crate) fn resolve(args: &Settings, env: &Env) -> Result<Plan, PublishError> {
    if args.pr == Some(0) {
        return Err(missing(
            "--pr",
            "0 is not a pull or merge request number (they start at 1)",
        ));
    }
    match args.comment {
        CommentMode::None => Ok(plan(Target::None)),
        CommentMode::Github => github(args, env, true),
        CommentMode::Gitlab => gitlab(args, env, true),
        CommentMode::Auto if env.is_true("GITHUB_ACTIONS") => github(args, env, false),
        CommentMode::Auto if env.is_true("GITLAB_CI") => gitlab(args, env, false),
        CommentMode::Auto => Ok(plan(Target::None)),
    }
}

fn plan(target: Target) -> Plan {
    Plan {
        target,
        warnings: Vec::new(),
        notices: Vec::new(),
    }
}

fn missing(setting: &'static str, reason: &str) -> PublishError {
    PublishError::Setting {
        setting,
        reason: reason.to_string(),
    }
}

fn github(args: &Settings, env: &Env, explicit: bool) -> Result<Plan, PublishError> {
    let pr = match args.pr {
        Some(n) => Some(n),
        None => env
            .get("GITHUB_EVENT_PATH")
            .map(|p| pr_from_event(Path::new(p)))
            .transpose()?
            .flatten(),
    };
    let Some(pr) = pr else {
        if explicit {
            return Err(missing(
                "--pr",
                "no pull request: pass --pr or run on a pull_request event",
            ));
        }
        // compressed-size-action's wording, which users search for.
        return Ok(Plan {
            notices: vec![
                "No PR associated with this action run: not commenting (pass --pr, the action's pr-number, under workflow_run)".into(),
            ],
            ..plan(Target::None)
        });
    };
    let full = args
        .repo
        .as_deref()
        .or(env.get("GITHUB_REPOSITORY"))
        .ok_or_else(|| {
            missing(
                "--repo",
                "no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY",
            )
        })?;
    let (owner, repo) = full
        .split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| PublishError::Setting {
            setting: "--repo",
            reason: format!("{full:?} is not OWNER/NAME"),
        })?;
    let api = match args.api_url.as_deref() {
        Some(url) => api_url("--api-url", url)?,
        None => match env.get("GITHUB_API_URL") {
            Some(url) => api_url("GITHUB_API_URL", url)?,
            None => "https://api.github.com".to_string(),
        },
    };
    let token = args
        .github_token
        .as_ref()
        .map(|t| t.expose().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| env.get("GITHUB_TOKEN").map(str::to_string))
        .or_else(|| env.get("GH_TOKEN").map(str::to_string));
    if let Some(t) = &token {
        crate::redact::register(t);
    }
    let Some(token) = token else {
        let reason =
            "no GitHub token: set GITHUB_TOKEN (the action passes github.token) or --github-token";
        if explicit {
            return Err(missing("GITHUB_TOKEN", reason));
        }
        return Ok(Plan {
            warnings: vec![format!("not commenting on pull request #{pr}: {reason}")],
            ..plan(Target::None)
        });
    };
    Ok(plan(Target::GitHub(GitHub {
        api,
        owner: owner.to_string(),
        repo: repo.to_string(),
        pr,
        token,
    })))
}

/// Largest event payload read (GitHub's are a few hundred kilobytes at most).
const MAX_EVENT_BYTES: u64 = 64 << 20;

/// The pull request number of a `pull_request`/`pull_request_target` event, or of
/// an `issue_comment` on a pull request; `None` for other events (push, schedule).
fn pr_from_event(path: &Path) -> Result<Option<u64>, PublishError> {
    // A real byte cap (GITHUB_EVENT_PATH=/dev/zero would never end) and no FIFOs.
    let bytes =
        crate::read::read_capped(path, MAX_EVENT_BYTES).map_err(|e| PublishError::file(path, e))?;
    let event: serde_json::Value = crate::image::parse_json(&bytes)
        .map_err(|e| PublishError::file(path, format!("not a GitHub event payload: {e}")))?;
    if let Some(n) = event
        .pointer("/pull_request/number")
        .and_then(|v| v.as_u64())
    {
        return Ok(Some(n));
    }
    // workflow_run lists the pull requests of the triggering run (same-repository
    // ones only; forks need the action's pr-number).
    if let Some(n) = event
        .pointer("/workflow_run/pull_requests/0/number")
        .and_then(|v| v.as_u64())
    {
        return Ok(Some(n));
    }
    let on_pr = event.pointer("/issue/pull_request").is_some();
    Ok(event
        .pointer("/issue/number")
        .and_then(|v| v.as_u64())
        .filter(|_| on_pr))
}

const GITLAB_TOKEN_HINT: &str = "set LAYERGATE_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token with the api scope; CI_JOB_TOKEN cannot write merge request notes";

fn gitlab(args: &Settings, env: &Env, explicit: bool) -> Result<Plan, PublishError> {
    let mr = match args.pr {
        Some(n) => Some(n),
        None => env
            .get("CI_MERGE_REQUEST_IID")
            .map(|v| {
                crate::environment::id("CI_MERGE_REQUEST_IID", v).map_err(|e| {
                    PublishError::Setting {
                        setting: "CI_MERGE_REQUEST_IID",
                        reason: e.to_string(),
                    }
                })
            })
            .transpose()?,
    };
    let Some(mr) = mr else {
        if explicit {
            return Err(missing(
                "--pr",
                "no merge request: pass --pr or run in a merge-request pipeline (CI_MERGE_REQUEST_IID)",
            ));
        }
        return Ok(plan(Target::None));
    };
    let api = match (args.api_url.as_deref(), env.get("CI_API_V4_URL")) {
        (Some(url), _) => api_url("--api-url", url)?,
        (None, Some(url)) => api_url("CI_API_V4_URL", url)?,
        (None, None) => {
            return Err(missing(
                "--api-url",
                "no GitLab API: pass --api-url or set CI_API_V4_URL",
            ))
        }
    };
    let project = args
        .repo
        .as_deref()
        .or(env.get("CI_MERGE_REQUEST_PROJECT_ID"))
        .or(env.get("CI_PROJECT_ID"))
        .ok_or_else(|| {
            missing(
                "--repo",
                "no GitLab project: pass --repo or set CI_PROJECT_ID",
            )
        })?;
    let project = project.replace('%', "%25").replace('/', "%2F");
    let token = args
        .gitlab_token
        .as_ref()
        .map(|t| t.expose().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| env.get("LAYERGATE_GITLAB_TOKEN").map(str::to_string))
        .or_else(|| env.get("GITLAB_TOKEN").map(str::to_string));
    if let Some(t) = &token {
        crate::redact::register(t);
    }
    let Some(token) = token else {
        if explicit {
            return Err(missing("LAYERGATE_GITLAB_TOKEN", GITLAB_TOKEN_HINT));
        }
        return Ok(Plan {
            warnings: vec![format!(
                "not commenting on merge request !{mr}: no GitLab token: {GITLAB_TOKEN_HINT}"
            )],
            ..plan(Target::None)
        });
    };
    Ok(plan(Target::GitLab(GitLab {
        api,
        project,
        mr,
        token,
        web: env.get("CI_MERGE_REQUEST_PROJECT_URL").map(str::to_string),
    })))
}

/// An API base URL a token may be sent to: `https://`, or `http://` to this machine
/// only (a test server, a local proxy). Anything else (no scheme, `ftp://`, plain
/// HTTP across a network, credentials in the URL) is refused before a request is
/// made: the token would travel in clear or the client would not know the scheme.
pub(crate) fn api_url(setting: &'static str, raw: &str) -> Result<String, PublishError> {
    let shown = crate::redact::url(raw);
    let bad = |why: &str| PublishError::Setting {
        setting,
        reason: format!("{shown:?}: {why}"),
    };
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| bad(&format!("not a URL ({e}); expected https://HOST/…")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials in the URL are refused; use the token setting",
        ));
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(bad("no host; expected https://HOST/…"));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(
                "plain http:// would send the token in clear; use https:// (http:// is for 127.0.0.1/localhost only)",
            ))
        }
        other => return Err(bad(&format!("scheme {other}:// is not https://"))),
    }
    Ok(raw.trim().trim_end_matches('/').to_string())
}

pub(crate) fn gitlab_token_hint() -> &'static str {
    GITLAB_TOKEN_HINT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Option<u64> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("event.json");
        std::fs::write(&p, json).unwrap();
        pr_from_event(&p).unwrap()
    }

    /// pull_request and pull_request_target carry the number under pull_request.
    #[test]
    fn pr_number_comes_from_the_event() {
        assert_eq!(
            event(r#"{"number":7,"pull_request":{"number":7}}"#),
            Some(7)
        );
        assert_eq!(
            event(r#"{"issue":{"number":9,"pull_request":{"url":"x"}}}"#),
            Some(9)
        );
        assert_eq!(event(r#"{"issue":{"number":9}}"#), None);
        assert_eq!(event(r#"{"ref":"refs/heads/main"}"#), None);
    }

    /// `auto` on a push build must not fail the job: there is nothing to comment on.
    #[test]
    fn auto_without_pull_request_does_nothing() {
        let env = Env::from_pairs([("GITHUB_ACTIONS", "true"), ("GITHUB_TOKEN", "t")]);
        let plan = resolve(&Settings::default(), &env).unwrap();
        assert!(matches!(plan.target, Target::None));
        assert!(plan.notices[0].starts_with("No PR associated with this action run"));
    }

    /// Explicit GitLab without a token names the variable and why CI_JOB_TOKEN won't do.
    #[test]
    fn gitlab_without_token_explains_the_job_token() {
        let env = Env::from_pairs([
            ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
            ("CI_PROJECT_ID", "5"),
            ("CI_MERGE_REQUEST_IID", "3"),
            ("CI_JOB_TOKEN", "job"),
        ]);
        let args = Settings {
            comment: CommentMode::Gitlab,
            ..Settings::default()
        };
        let err = resolve(&args, &env).err().unwrap().to_string();
        assert!(err.contains("LAYERGATE_GITLAB_TOKEN"), "{err}");
        assert!(err.contains("CI_JOB_TOKEN cannot write"), "{err}");
    }
}
