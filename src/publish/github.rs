//! The GitHub sticky comment, through octocrab: list the pull request's comments
//! (every page), update the one carrying the key's marker, create it only when none
//! does. A comment counts only when it carries the marker AND was written by the
//! token's own identity, so another user's comment quoting the marker is never
//! overwritten. octocrab brings the client, base URI (GitHub Enterprise) and bearer
//! auth; we use its raw calls so status and rate-limit headers drive our bounded
//! retries, and its errors reach us as one line (never its backtrace).

use http::header::{HeaderName, ACCEPT};
use serde::Deserialize;
use serde_json::json;

use super::comment_on::Rule;
use super::http::{next_link, one_line, with_retries, Answer};
use super::target::GitHub;
use super::{CommentOutcome, Env, Forge, Marker, PublishError};
use crate::retry::RetryPolicy;

/// GitHub refuses comment bodies over 65,536 characters.
const MAX_BODY_CHARS: usize = 65_536;

/// The login `GITHUB_TOKEN` (an installation token of the GitHub Actions app)
/// comments as; such tokens cannot read `GET /user`.
const ACTIONS_BOT: &str = "github-actions[bot]";
/// Names the commenting identity when `GET /user` cannot (another app's token).
pub(crate) const AUTHOR_ENV: &str = "LAYERGATE_COMMENT_AUTHOR";

#[derive(Debug, Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    html_url: String,
    #[serde(default)]
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct User {
    login: String,
}

/// What makes a comment ours: the key's marker, written by this identity.
struct Mine<'a> {
    marker: &'a Marker,
    login: String,
}

impl Mine<'_> {
    fn owns(&self, c: &Comment) -> bool {
        c.body.as_deref().is_some_and(|b| self.marker.is_in(b))
            && c.user
                .as_ref()
                .is_some_and(|u| u.login.eq_ignore_ascii_case(&self.login))
    }
}

pub(crate) struct Client {
    octo: octocrab::Octocrab,
    policy: RetryPolicy,
    /// `scheme://authority` of the API, to refuse pagination links elsewhere.
    origin: String,
}

pub(crate) async fn upsert(
    gh: &GitHub,
    marker: &Marker,
    body: &str,
    rule: &Rule,
    env: &Env,
) -> Result<CommentOutcome, PublishError> {
    let client = Client::new(gh, env)?;
    let body = fit(&rule.stamp(body));
    let list = format!(
        "/repos/{}/{}/issues/{}/comments?per_page=100",
        gh.owner, gh.repo, gh.pr
    );
    let login = match env.get(AUTHOR_ENV) {
        Some(login) => login.to_string(),
        None => client.login().await?,
    };
    let mine = Mine { marker, login };
    let existing = match client.marked(&list, &mine, false).await? {
        Found::Comments(c) => c.into_iter().next(),
        Found::Refused(reason) => return Ok(refused(gh, reason)),
    };
    if !rule.writes(existing.as_ref().and_then(|c| c.body.as_deref())) {
        return Ok(CommentOutcome::Unchanged {
            forge: Forge::GitHub,
            url: existing.map(|c| c.html_url),
        });
    }
    let answer = match &existing {
        Some(c) => {
            let path = format!("/repos/{}/{}/issues/comments/{}", gh.owner, gh.repo, c.id);
            client.send("PATCH", &path, Some(&body)).await?
        }
        None => {
            let path = format!("/repos/{}/{}/issues/{}/comments", gh.owner, gh.repo, gh.pr);
            client.send("POST", &path, Some(&body)).await?
        }
    };
    let method = if existing.is_some() { "PATCH" } else { "POST" };
    if answer.status == 403 {
        return Ok(refused(gh, answer.message()));
    }
    let url = client.url_of(&list);
    let saved: Comment = client.expect_json(method, &url, answer)?;
    Ok(match existing {
        Some(_) => CommentOutcome::Updated {
            forge: Forge::GitHub,
            id: saved.id,
            url: saved.html_url,
        },
        None => settle(&client, gh, &list, &mine, &body, saved).await?,
    })
}

/// Two runs for one pull request at the same moment can both find no comment and
/// both create one. After creating, list again: when an older comment carries the
/// marker, this run's copy is deleted and the older one takes the body, so racing
/// runs converge on one comment, the oldest.
async fn settle(
    client: &Client,
    gh: &GitHub,
    list: &str,
    mine: &Mine<'_>,
    body: &str,
    saved: Comment,
) -> Result<CommentOutcome, PublishError> {
    let created = CommentOutcome::Created {
        forge: Forge::GitHub,
        id: saved.id,
        url: saved.html_url.clone(),
    };
    let Found::Comments(marked) = client.marked(list, mine, true).await? else {
        return Ok(created);
    };
    let Some(oldest) = marked.into_iter().min_by_key(|c| c.id) else {
        return Ok(created);
    };
    if oldest.id >= saved.id {
        return Ok(created);
    }
    let comment = |id: u64| format!("/repos/{}/{}/issues/comments/{id}", gh.owner, gh.repo);
    let deleted = client.send("DELETE", &comment(saved.id), None).await?;
    if !(200..300).contains(&deleted.status) {
        return Err(PublishError::Answer {
            url: client.url_of(&comment(saved.id)),
            reason: format!("HTTP {}: {}", deleted.status, deleted.message()),
        });
    }
    let answer = client
        .send("PATCH", &comment(oldest.id), Some(body))
        .await?;
    let kept: Comment = client.expect_json("PATCH", &client.url_of(&comment(oldest.id)), answer)?;
    Ok(CommentOutcome::Updated {
        forge: Forge::GitHub,
        id: kept.id,
        url: kept.html_url,
    })
}

fn refused(gh: &GitHub, reason: String) -> CommentOutcome {
    CommentOutcome::Skipped {
        forge: Forge::GitHub,
        reason: format!(
            "GitHub refused to comment on {}/{}#{} (HTTP 403: {reason}); pull requests from forks get a read-only token, so the verdict is only in the job summary and outputs",
            gh.owner, gh.repo, gh.pr
        ),
    }
}

enum Found {
    /// Comments carrying the marker, oldest first (GitHub lists by creation).
    Comments(Vec<Comment>),
    Refused(String),
}

impl Client {
    pub(crate) fn new(gh: &GitHub, env: &Env) -> Result<Self, PublishError> {
        let setting = |e: octocrab::Error| PublishError::Setting {
            setting: "GITHUB_API_URL",
            reason: format!("{}: {}", gh.api, one_line(&e)),
        };
        let octo = octocrab::Octocrab::builder()
            .base_uri(gh.api.as_str())
            .map_err(setting)?
            .personal_token(gh.token.clone())
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(std::time::Duration::from_secs(15)))
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .add_header(ACCEPT, "application/vnd.github+json".into())
            .add_header(
                HeaderName::from_static("x-github-api-version"),
                "2022-11-28".into(),
            )
            .build()
            .map_err(setting)?;
        let origin = origin_of(&gh.api);
        Ok(Client {
            octo,
            policy: RetryPolicy::from_env(|k| env.get(k).map(str::to_string)).map_err(|e| {
                PublishError::Setting {
                    setting: "LAYERGATE_HTTP_BACKOFF_MS",
                    reason: e.to_string(),
                }
            })?,
            origin,
        })
    }

    pub(crate) fn url_of(&self, path: &str) -> String {
        format!("{}{}", self.origin, path)
    }

    /// The token's login: `GET /user`, or for tokens that cannot read it (the
    /// workflow's `GITHUB_TOKEN` answers 403) the GitHub Actions bot.
    pub(crate) async fn login(&self) -> Result<String, PublishError> {
        let answer = self.send("GET", "/user", None).await?;
        if matches!(answer.status, 403 | 404) {
            return Ok(ACTIONS_BOT.to_string());
        }
        let user: User = self.expect_json("GET", &self.url_of("/user"), answer)?;
        Ok(user.login)
    }

    /// Walks the pages of comments for ours: up to the first match, or with
    /// `all` through every page. A 403 while listing is a refusal like one while
    /// posting.
    async fn marked(&self, first: &str, mine: &Mine<'_>, all: bool) -> Result<Found, PublishError> {
        let mut next = Some(first.to_string());
        let mut pages = 0;
        let mut found = Vec::new();
        while let Some(path) = next.take() {
            pages += 1;
            let answer = self.send("GET", &path, None).await?;
            if answer.status == 403 {
                return Ok(Found::Refused(answer.message()));
            }
            let link = answer.header("link").map(str::to_string);
            let url = self.url_of(&path);
            let comments: Vec<Comment> = self.expect_json("GET", &url, answer)?;
            found.extend(comments.into_iter().filter(|c| mine.owns(c)));
            if !all && !found.is_empty() {
                break;
            }
            // A pull request with more than 100 pages of comments is not worth more.
            if pages < 100 {
                next = link
                    .as_deref()
                    .and_then(next_link)
                    .map(|u| self.relative(&u))
                    .transpose()?;
            }
        }
        Ok(Found::Comments(found))
    }

    /// Pagination links are absolute; octocrab only sends the token with relative
    /// paths, which is what we want, and only for the API's own origin.
    pub(crate) fn relative(&self, url: &str) -> Result<String, PublishError> {
        let rest = url
            .strip_prefix(&self.origin)
            .filter(|r| r.starts_with('/'))
            .ok_or_else(|| PublishError::Answer {
                url: self.origin.clone(),
                reason: format!("pagination link leaves the API: {url}"),
            })?;
        Ok(rest.to_string())
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Answer, PublishError> {
        let payload = body.map(|b| json!({ "body": b }));
        self.send_json(method, path, payload.as_ref()).await
    }

    /// Any JSON payload (a review with its comments), under the same retries.
    pub(crate) async fn send_json(
        &self,
        method: &'static str,
        path: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<Answer, PublishError> {
        let url = self.url_of(path);
        with_retries(&self.policy, method, &url, || async {
            let response = match method {
                "POST" => self.octo._post(path, payload).await,
                "PATCH" => self.octo._patch(path, payload).await,
                "PUT" => self.octo._put(path, payload).await,
                "DELETE" => self.octo._delete(path, None::<&()>).await,
                _ => self.octo._get(path).await,
            }
            .map_err(|e| one_line(&e))?;
            let mut answer = Answer::head(response.status(), response.headers());
            answer.body = self
                .octo
                .body_to_string(response)
                .await
                .map_err(|e| one_line(&e))?;
            Ok(answer)
        })
        .await
    }

    pub(crate) fn expect_json<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        url: &str,
        answer: Answer,
    ) -> Result<T, PublishError> {
        answer.json(method, url, |status| {
            match status {
                401 => "; the token is invalid or expired",
                404 => {
                    "; the repository or pull request does not exist, or the token cannot see it"
                }
                422 => "; GitHub rejected the comment",
                _ => "",
            }
            .into()
        })
    }
}

/// `https://ghe.example/api/v3` → `https://ghe.example`.
fn origin_of(api: &str) -> String {
    let (scheme, rest) = api.split_once("://").unwrap_or(("https", api));
    let authority = rest.split('/').next().unwrap_or(rest);
    let base_path = rest[authority.len()..].trim_end_matches('/');
    // Paths are sent relative to the base URI and octocrab keeps the base path, so the
    // origin for our own URLs includes it.
    format!("{scheme}://{authority}{base_path}")
}

/// Over-long bodies are cut at a line boundary with a note, keeping the marker
/// (the renderer puts it first) so the next run still finds the comment.
fn fit(body: &str) -> String {
    if body.chars().count() <= MAX_BODY_CHARS {
        return body.to_string();
    }
    let note = "\n\n… (truncated: the full report is in the job summary)\n";
    let budget = MAX_BODY_CHARS - note.chars().count();
    let cut: String = body.chars().take(budget).collect();
    let cut = match cut.rfind('\n') {
        Some(i) => &cut[..i],
        None => cut.as_str(),
    };
    format!("{cut}{note}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backtrace octocrab appends under RUST_BACKTRACE never reaches the warning.
    #[test]
    fn errors_are_one_line_without_backtrace() {
        let e = "Service Error: client error (Connect)\nFound at 0: snafu::Generate\n 1: octocrab";
        assert_eq!(one_line(&e), "Service Error: client error (Connect)");
        assert_eq!(one_line(&"a\n  b"), "a b");
    }

    /// A huge duplicate-file table must not make GitHub reject the whole comment.
    #[test]
    fn long_bodies_are_cut_below_the_limit() {
        let body = format!("<!-- layergate:k -->\n{}", "row\n".repeat(40_000));
        let out = fit(&body);
        assert!(out.chars().count() <= MAX_BODY_CHARS);
        assert!(out.starts_with("<!-- layergate:k -->\n"));
        assert!(out.ends_with("(truncated: the full report is in the job summary)\n"));
    }

    /// GitHub Enterprise serves the API under /api/v3; pagination links include it.
    #[test]
    fn origin_keeps_the_enterprise_base_path() {
        assert_eq!(
            origin_of("https://ghe.example/api/v3/"),
            "https://ghe.example/api/v3"
        );
        assert_eq!(origin_of("http://127.0.0.1:99"), "http://127.0.0.1:99");
    }
}
