//! The suggestions on GitLab: the merge request's latest diff version (base, start and
//! head commits, `GET /versions`), the lines its diff shows for the Dockerfile
//! (`GET /diffs`), this key's suggestion notes of the previous run (`GET /discussions`,
//! ours by tag and author), deleted unless they are exactly what this run would post,
//! then one discussion per suggestion on its first line (`POST /discussions` with a
//! text position; an unchanged line is named by its old and new line). A 400 or 422 on a
//! position sends that suggestion to the fallback.

use serde::Deserialize;
use serde_json::{json, Value};

use super::github::why_left;
use super::lines::{tag, Flavour, Shown, Suggestion};
use super::{Placed, Request};
use crate::publish::gitlab::{expect_json, next_page, Client};
use crate::publish::http::every_page;
use crate::publish::target::GitLab;
use crate::publish::{Env, PublishError};

#[derive(Debug, Deserialize)]
struct Version {
    base_commit_sha: String,
    start_commit_sha: String,
    head_commit_sha: String,
}

#[derive(Debug, Deserialize)]
struct FileDiff {
    #[serde(default)]
    old_path: String,
    new_path: String,
    #[serde(default)]
    diff: String,
}

#[derive(Debug, Deserialize)]
struct Discussion {
    #[serde(default)]
    notes: Vec<Note>,
}

#[derive(Debug, Deserialize)]
struct Note {
    id: u64,
    #[serde(default)]
    body: String,
    #[serde(default)]
    author: Option<Author>,
    #[serde(default)]
    position: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Author {
    username: String,
}

pub(crate) async fn place(
    gl: &GitLab,
    request: &Request<'_>,
    all: &[Suggestion],
    env: &Env,
) -> Result<Placed, PublishError> {
    let client = Client::new(gl, env)?;
    let key = request.marker.key();
    let mr = format!(
        "{}/projects/{}/merge_requests/{}",
        gl.api, gl.project, gl.mr
    );
    let versions: Vec<Version> = pages(&client, &format!("{mr}/versions")).await?;
    let diffs: Vec<FileDiff> = pages(&client, &format!("{mr}/diffs?per_page=100")).await?;
    let file = diffs.iter().find(|d| d.new_path == request.path);
    let shown = file.map(|f| Shown::parse(&f.diff)).unwrap_or_default();
    let old_path = file.map_or(request.path.as_str(), |f| f.old_path.as_str());

    let mut wanted: Vec<(&Suggestion, Value)> = Vec::new();
    let mut outside: Vec<&Suggestion> = Vec::new();
    let mut other_text: Vec<&Suggestion> = Vec::new();
    for s in all {
        match (versions.first(), shown.anchor(s.start, s.end)) {
            (Some(_), Some(_)) if !shown.agrees(s.start, s.end, request.original) => {
                other_text.push(s)
            }
            (Some(v), Some(old_line)) => {
                let mut position = json!({
                    "position_type": "text",
                    "base_sha": v.base_commit_sha,
                    "start_sha": v.start_commit_sha,
                    "head_sha": v.head_commit_sha,
                    "old_path": old_path,
                    "new_path": request.path,
                    "new_line": s.start,
                });
                if let Some(old) = old_line {
                    position["old_line"] = json!(old);
                }
                let body = s.body(key, Flavour::GitLab);
                wanted.push((s, json!({ "body": body, "position": position })));
            }
            _ => outside.push(s),
        }
    }

    let me = client.username(gl).await?;
    let tag = tag(key);
    let existing: Vec<Note> =
        pages::<Discussion>(&client, &format!("{mr}/discussions?per_page=100"))
            .await?
            .into_iter()
            .flat_map(|d| d.notes)
            // Ours: this key's tag, this file (another Dockerfile's suggestions under the
            // same key are another run's), written by this user.
            .filter(|n| {
                n.body.contains(&tag)
                    && n.position
                        .as_ref()
                        .and_then(|p| p.get("new_path"))
                        .and_then(Value::as_str)
                        == Some(request.path.as_str())
                    && match (&me, &n.author) {
                        (Some(me), Some(a)) => a.username.eq_ignore_ascii_case(me),
                        (Some(_), None) => false,
                        // A token that cannot say who it is: the tag alone.
                        (None, _) => true,
                    }
            })
            .collect();
    let mut placed = Placed {
        left: outside.len() + other_text.len(),
        why: why_left(&outside, &other_text, "merge request", &request.path),
        ..Placed::default()
    };
    if !wanted.is_empty() && same(&existing, &wanted) {
        placed.unchanged = true;
        return Ok(placed);
    }
    for n in &existing {
        let url = format!("{mr}/notes/{}", n.id);
        let answer = client
            .send_json(reqwest::Method::DELETE, "DELETE", &url, None)
            .await?;
        if !(answer.is_success() || answer.status == 404) {
            return Err(PublishError::Status {
                method: "DELETE",
                url,
                status: answer.status,
                message: answer.message(),
                hint: String::new(),
            });
        }
        placed.removed += 1;
    }
    let url = format!("{mr}/discussions");
    let mut refused: Vec<&Suggestion> = Vec::new();
    let mut reason = None;
    for (s, payload) in &wanted {
        let answer = client
            .send_json(reqwest::Method::POST, "POST", &url, Some(payload))
            .await?;
        if matches!(answer.status, 400 | 403 | 422) {
            reason.get_or_insert_with(|| {
                format!(
                    "GitLab refused the position (HTTP {}: {})",
                    answer.status,
                    answer.message()
                )
            });
            refused.push(s);
            continue;
        }
        let saved: Value = expect_json("POST", &url, answer)?;
        placed.posted += 1;
        if placed.url.is_none() {
            placed.url = gl.web.as_deref().and_then(|w| {
                let note = saved.pointer("/notes/0/id")?.as_u64()?;
                Some(format!("{w}/-/merge_requests/{}#note_{note}", gl.mr))
            });
        }
    }
    if let Some(reason) = reason {
        placed.left += refused.len();
        placed.why = Some(match placed.why.take() {
            Some(earlier) => format!("{earlier}; {reason}"),
            None => reason,
        });
    }
    Ok(placed)
}

/// Whether the notes already there are exactly the ones this run would post.
fn same(existing: &[Note], wanted: &[(&Suggestion, Value)]) -> bool {
    let key = |body: &str, line: Option<u64>| format!("{body}\0{line:?}");
    let mut have: Vec<String> = existing
        .iter()
        .map(|n| {
            let line = n
                .position
                .as_ref()
                .and_then(|p| p.get("new_line"))
                .and_then(Value::as_u64);
            key(&n.body, line)
        })
        .collect();
    let mut want: Vec<String> = wanted
        .iter()
        .map(|(s, w)| key(w["body"].as_str().unwrap_or(""), Some(s.start as u64)))
        .collect();
    have.sort();
    want.sort();
    have == want
}

/// Every item of a paginated list (`Link` or `x-next-page`), on the API's origin.
async fn pages<T: serde::de::DeserializeOwned>(
    client: &Client,
    first: &str,
) -> Result<Vec<T>, PublishError> {
    every_page(first, |url, more| async move {
        let answer = client
            .send_json(reqwest::Method::GET, "GET", &url, None)
            .await?;
        let following = next_page(&answer, &url);
        let items: Vec<T> = expect_json("GET", &url, answer)?;
        let next = match following {
            Some(u) if more => Some(client.same_origin(u)?),
            _ => None,
        };
        Ok((items, next))
    })
    .await
}
