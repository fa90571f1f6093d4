//! The GitLab sticky note, through reqwest: list the merge request's notes (every
//! page, skipping system notes), update the one carrying the key's marker and
//! written by the token's own user (`GET /user`) with PUT, create it with POST only
//! when none does. Another user's note quoting the marker is never overwritten.

use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::json;

use super::comment_on::Rule;
use super::http::{next_link, one_line, with_retries, Answer};
use super::target::{gitlab_token_hint, GitLab};
use super::{CommentOutcome, Env, Forge, Marker, PublishError};
use crate::retry::RetryPolicy;

#[derive(Debug, Deserialize)]
struct Note {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    system: bool,
    #[serde(default)]
    author: Option<Author>,
}

#[derive(Debug, Deserialize)]
struct Author {
    username: String,
}

pub(crate) struct Client {
    http: reqwest::Client,
    policy: RetryPolicy,
    origin: String,
}

pub(crate) async fn upsert(
    gl: &GitLab,
    marker: &Marker,
    body: &str,
    rule: &Rule,
    env: &Env,
) -> Result<CommentOutcome, PublishError> {
    let client = Client::new(gl, env)?;
    let body = &rule.stamp(body);
    let notes = format!(
        "{}/projects/{}/merge_requests/{}/notes",
        gl.api, gl.project, gl.mr
    );
    let marker = marker.text();
    let me = client.username(gl).await?;
    let mine = |n: &Note| match (&me, &n.author) {
        (Some(me), Some(a)) => a.username.eq_ignore_ascii_case(me),
        (Some(_), None) => false,
        // A token that cannot say who it is: the marker alone.
        (None, _) => true,
    };
    let existing = match client.marked(&notes, &marker, false, &mine).await? {
        Ok(found) => found.into_iter().next(),
        Err(reason) => return Ok(refused(gl, reason)),
    };
    if !rule.writes(existing.as_ref().and_then(|n| n.body.as_deref())) {
        return Ok(CommentOutcome::Unchanged {
            forge: Forge::GitLab,
            url: existing.map(|n| {
                gl.web
                    .as_deref()
                    .map(|w| format!("{w}/-/merge_requests/{}#note_{}", gl.mr, n.id))
                    .unwrap_or_else(|| format!("{notes}/{}", n.id))
            }),
        });
    }

    let (method, url) = match &existing {
        Some(n) => ("PUT", format!("{notes}/{}", n.id)),
        None => ("POST", notes.clone()),
    };
    let verb = if method == "PUT" {
        reqwest::Method::PUT
    } else {
        reqwest::Method::POST
    };
    let answer = client.send(verb, method, &url, Some(body)).await?;
    if answer.status == 403 {
        return Ok(refused(gl, answer.message()));
    }
    let saved: Note = expect_json(method, &url, answer)?;
    let link = |id: u64| {
        gl.web
            .as_deref()
            .map(|w| format!("{w}/-/merge_requests/{}#note_{id}", gl.mr))
            .unwrap_or_else(|| format!("{notes}/{id}"))
    };
    if existing.is_some() {
        return Ok(CommentOutcome::Updated {
            forge: Forge::GitLab,
            id: saved.id,
            url: link(saved.id),
        });
    }
    // Two pipelines at the same moment can both find no note and both create one:
    // list again, and when an older note carries the marker, delete this run's and
    // give the older one the body, so racing runs converge on one note, the oldest.
    let oldest = match client.marked(&notes, &marker, true, &mine).await? {
        Ok(found) => found.into_iter().map(|n| n.id).min(),
        Err(_) => None,
    };
    match oldest {
        Some(older) if older < saved.id => {
            let mine = format!("{notes}/{}", saved.id);
            let deleted = client
                .send(reqwest::Method::DELETE, "DELETE", &mine, None)
                .await?;
            if !(200..300).contains(&deleted.status) {
                return Err(PublishError::Answer {
                    url: mine,
                    reason: format!("HTTP {}: {}", deleted.status, deleted.message()),
                });
            }
            let url = format!("{notes}/{older}");
            let answer = client
                .send(reqwest::Method::PUT, "PUT", &url, Some(body))
                .await?;
            let kept: Note = expect_json("PUT", &url, answer)?;
            Ok(CommentOutcome::Updated {
                forge: Forge::GitLab,
                id: kept.id,
                url: link(kept.id),
            })
        }
        _ => Ok(CommentOutcome::Created {
            forge: Forge::GitLab,
            id: saved.id,
            url: link(saved.id),
        }),
    }
}

fn refused(gl: &GitLab, reason: String) -> CommentOutcome {
    CommentOutcome::Skipped {
        forge: Forge::GitLab,
        reason: format!(
            "GitLab refused to write a note on merge request !{} (HTTP 403: {reason}); {}",
            gl.mr,
            gitlab_token_hint()
        ),
    }
}

/// GitLab sends both a `Link` header and `x-next-page`; either is enough.
pub(crate) fn next_page(answer: &Answer, current: &str) -> Option<String> {
    if let Some(link) = answer.header("link").and_then(next_link) {
        return Some(link);
    }
    let page = answer
        .header("x-next-page")
        .filter(|p| !p.trim().is_empty())?;
    let (base, query) = current.split_once('?').unwrap_or((current, ""));
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    params.push(format!("page={}", page.trim()));
    Some(format!("{base}?{}", params.join("&")))
}

impl Client {
    pub(crate) fn new(gl: &GitLab, env: &Env) -> Result<Self, PublishError> {
        let mut token = HeaderValue::from_str(&gl.token).map_err(|_| PublishError::Setting {
            setting: "LAYERGATE_GITLAB_TOKEN",
            reason: "the token contains characters not allowed in an HTTP header".into(),
        })?;
        token.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert("private-token", token);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("layergate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(15))
            .timeout(std::time::Duration::from_secs(60))
            // A redirect could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PublishError::Setting {
                setting: "CI_API_V4_URL",
                reason: one_line(&e),
            })?;
        Ok(Client {
            http,
            policy: RetryPolicy::from_env(|k| env.get(k).map(str::to_string)).map_err(|e| {
                PublishError::Setting {
                    setting: "LAYERGATE_HTTP_BACKOFF_MS",
                    reason: e.to_string(),
                }
            })?,
            origin: origin_of(&gl.api),
        })
    }

    /// The user notes carrying the marker, oldest first: up to the first one, or with
    /// `all` through every page. `Err` carries the reason of a 403 (no access).
    /// The token's user name: `GET /user` (a project access token answers with its
    /// bot user); `None` when the token may not read it.
    pub(crate) async fn username(&self, gl: &GitLab) -> Result<Option<String>, PublishError> {
        let url = format!("{}/user", gl.api);
        let answer = self.send(reqwest::Method::GET, "GET", &url, None).await?;
        if matches!(answer.status, 403 | 404) {
            return Ok(None);
        }
        let me: Author = expect_json("GET", &url, answer)?;
        Ok(Some(me.username))
    }

    async fn marked(
        &self,
        notes: &str,
        marker: &str,
        all: bool,
        mine: &dyn Fn(&Note) -> bool,
    ) -> Result<Result<Vec<Note>, String>, PublishError> {
        let mut found = Vec::new();
        let mut next = Some(format!("{notes}?per_page=100&sort=asc&order_by=created_at"));
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            let answer = self.send(reqwest::Method::GET, "GET", &url, None).await?;
            if answer.status == 403 {
                return Ok(Err(answer.message()));
            }
            let following = next_page(&answer, &url);
            let page: Vec<Note> = expect_json("GET", &url, answer)?;
            found.extend(page.into_iter().filter(|n| {
                !n.system && n.body.as_deref().is_some_and(|b| b.contains(marker)) && mine(n)
            }));
            // A merge request with more than 100 pages of notes is not worth more.
            if (!all && !found.is_empty()) || pages >= 100 {
                break;
            }
            next = following.map(|u| self.same_origin(u)).transpose()?;
        }
        Ok(Ok(found))
    }

    /// Pagination links must stay on the API's origin: the token goes with them.
    pub(crate) fn same_origin(&self, url: String) -> Result<String, PublishError> {
        let rest = url.strip_prefix(&self.origin).unwrap_or("");
        if rest.starts_with('/') {
            Ok(url)
        } else {
            Err(PublishError::Answer {
                url: self.origin.clone(),
                reason: format!("pagination link leaves the API: {url}"),
            })
        }
    }

    async fn send(
        &self,
        verb: reqwest::Method,
        method: &'static str,
        url: &str,
        body: Option<&str>,
    ) -> Result<Answer, PublishError> {
        let payload = body.map(|b| json!({ "body": b }));
        self.send_json(verb, method, url, payload.as_ref()).await
    }

    /// Any JSON payload (a discussion with its position), under the same retries.
    pub(crate) async fn send_json(
        &self,
        verb: reqwest::Method,
        method: &'static str,
        url: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<Answer, PublishError> {
        with_retries(&self.policy, method, url, || async {
            let mut req = self.http.request(verb.clone(), url);
            if let Some(p) = payload {
                req = req.json(p);
            }
            let response = req.send().await.map_err(|e| one_line(&e.without_url()))?;
            let mut answer = Answer::head(response.status(), response.headers());
            answer.body = response
                .text()
                .await
                .map_err(|e| one_line(&e.without_url()))?;
            Ok(answer)
        })
        .await
    }
}

pub(crate) fn expect_json<T: serde::de::DeserializeOwned>(
    method: &'static str,
    url: &str,
    answer: Answer,
) -> Result<T, PublishError> {
    answer.json(method, url, |status| match status {
        401 => format!("; the token is invalid or expired: {}", gitlab_token_hint()),
        404 => "; the project or merge request does not exist, or the token cannot see it".into(),
        _ => String::new(),
    })
}

fn origin_of(api: &str) -> String {
    let (scheme, rest) = api.split_once("://").unwrap_or(("https", api));
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a Link header, x-next-page still walks the pages.
    #[test]
    fn x_next_page_builds_the_next_url() {
        let a = Answer {
            status: 200,
            headers: vec![("x-next-page".into(), "3".into())],
            body: "[]".into(),
        };
        assert_eq!(
            next_page(&a, "https://g/api/v4/p/notes?per_page=100&page=2").as_deref(),
            Some("https://g/api/v4/p/notes?per_page=100&page=3")
        );
        let last = Answer {
            headers: vec![("x-next-page".into(), "".into())],
            ..a
        };
        assert_eq!(next_page(&last, "https://g/x?page=3"), None);
    }
}
