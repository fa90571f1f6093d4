//! The suggestions on GitHub: which lines the pull request's diff shows for the
//! Dockerfile (`GET /pulls/N/files`), this key's suggestion comments of the previous run
//! (`GET /pulls/N/comments`, ours by tag and author), deleted unless they are exactly
//! what this run would post, then one review (`POST /pulls/N/reviews`, event
//! `COMMENT`) carrying a comment per suggestion. A 422 is GitHub refusing an anchor
//! without saying which: the whole review falls back.

use serde::Deserialize;
use serde_json::{json, Value};

use super::lines::{tag, Flavour, Shown, Suggestion};
use super::{Placed, Request};
use crate::publish::github::{Client, AUTHOR_ENV};
use crate::publish::http::{every_page, next_link};
use crate::publish::target::GitHub;
use crate::publish::{Env, PublishError};

#[derive(Debug, Deserialize)]
struct File {
    filename: String,
    #[serde(default)]
    patch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReviewComment {
    id: u64,
    #[serde(default)]
    body: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    start_line: Option<u64>,
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    pull_request_review_id: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct User {
    login: String,
}

#[derive(Debug, Deserialize)]
struct Review {
    #[serde(default)]
    html_url: String,
}

pub(crate) async fn place(
    gh: &GitHub,
    request: &Request<'_>,
    all: &[Suggestion],
    env: &Env,
) -> Result<Placed, PublishError> {
    let client = Client::new(gh, env)?;
    let key = request.marker.key();
    let pr = format!("/repos/{}/{}/pulls/{}", gh.owner, gh.repo, gh.pr);
    let files: Vec<File> = pages(&client, &format!("{pr}/files?per_page=100")).await?;
    let shown = files
        .iter()
        .find(|f| f.filename == request.path)
        .and_then(|f| f.patch.as_deref())
        .map(Shown::parse)
        .unwrap_or_default();
    let (shown_lines, outside): (Vec<&Suggestion>, Vec<&Suggestion>) = all
        .iter()
        .partition(|s| shown.anchor(s.start, s.end).is_some());
    let (fits, other_text): (Vec<&Suggestion>, Vec<&Suggestion>) = shown_lines
        .into_iter()
        .partition(|s| shown.agrees(s.start, s.end, request.original));
    let wanted: Vec<Value> = fits
        .iter()
        .map(|s| {
            let mut c = json!({
                "path": request.path,
                "body": s.body(key, Flavour::GitHub),
                "line": s.end,
                "side": "RIGHT",
            });
            if s.start < s.end {
                c["start_line"] = json!(s.start);
                c["start_side"] = json!("RIGHT");
            }
            c
        })
        .collect();

    let login = match env.get(AUTHOR_ENV) {
        Some(login) => login.to_string(),
        None => client.login().await?,
    };
    let tag = tag(key);
    let existing: Vec<ReviewComment> = pages(&client, &format!("{pr}/comments?per_page=100"))
        .await?
        .into_iter()
        // Ours: this key's tag, this file (another Dockerfile's suggestions under the same
        // key are another run's), written by this identity.
        .filter(|c: &ReviewComment| {
            c.body.contains(&tag)
                && c.path == request.path
                && c.user
                    .as_ref()
                    .is_some_and(|u| u.login.eq_ignore_ascii_case(&login))
        })
        .collect();
    let mut placed = Placed {
        left: outside.len() + other_text.len(),
        why: why_left(&outside, &other_text, "pull request", &request.path),
        ..Placed::default()
    };
    if same(&existing, &wanted) && !wanted.is_empty() {
        placed.unchanged = true;
        return Ok(placed);
    }
    for c in &existing {
        let path = format!("/repos/{}/{}/pulls/comments/{}", gh.owner, gh.repo, c.id);
        let answer = client.send_json("DELETE", &path, None).await?;
        // Someone resolved and deleted it already: that is what we wanted.
        if !(answer.is_success() || answer.status == 404) {
            return Err(PublishError::Status {
                method: "DELETE",
                url: client.url_of(&path),
                status: answer.status,
                message: answer.message(),
                hint: String::new(),
            });
        }
        placed.removed += 1;
    }
    // A submitted review cannot be deleted; its summary line is all that is left of
    // the previous run once its comments are gone, so it says it was superseded.
    let mut reviews: Vec<u64> = existing
        .iter()
        .filter_map(|c| c.pull_request_review_id)
        .collect();
    reviews.sort_unstable();
    reviews.dedup();
    for id in reviews {
        let superseded = json!({
            "body": format!("{tag}\n_Superseded: a later run of `layergate fix` replaced these suggestions._"),
        });
        // Cosmetic: a review that cannot be edited leaves its old line, nothing else.
        let _ = client
            .send_json("PUT", &format!("{pr}/reviews/{id}"), Some(&superseded))
            .await;
    }
    if wanted.is_empty() {
        return Ok(placed);
    }
    let review = json!({
        "event": "COMMENT",
        "body": format!(
            "{tag}\n**layergate fix** suggests {} change{} to `{}`, predicted to save {} of stored layers.",
            wanted.len(),
            if wanted.len() == 1 { "" } else { "s" },
            crate::render::escape::md(&request.path).replace('`', "'"),
            crate::human::human_bytes(request.plan.predicted_bytes),
        ),
        "comments": wanted,
    });
    let path = format!("{pr}/reviews");
    let answer = client.send_json("POST", &path, Some(&review)).await?;
    if answer.status == 422 || answer.status == 403 {
        placed.left = all.len();
        placed.why = Some(format!(
            "GitHub refused the review (HTTP {}: {})",
            answer.status,
            answer.message()
        ));
        return Ok(placed);
    }
    let saved: Review = client.expect_json("POST", &client.url_of(&path), answer)?;
    placed.posted = fits.len();
    placed.url = Some(saved.html_url).filter(|u| !u.is_empty());
    Ok(placed)
}

/// Whether the comments already there are exactly the ones this run would post.
fn same(existing: &[ReviewComment], wanted: &[Value]) -> bool {
    let key = |path: &str, body: &str, line: Option<u64>, start: Option<u64>| {
        format!("{path}\0{body}\0{line:?}\0{start:?}")
    };
    let mut have: Vec<String> = existing
        .iter()
        .map(|c| key(&c.path, &c.body, c.line, c.start_line))
        .collect();
    let mut want: Vec<String> = wanted
        .iter()
        .map(|w| {
            key(
                w["path"].as_str().unwrap_or(""),
                w["body"].as_str().unwrap_or(""),
                w["line"].as_u64(),
                w["start_line"].as_u64(),
            )
        })
        .collect();
    have.sort();
    want.sort();
    have == want
}

/// `3, 18-19`
pub(super) fn ranges(s: &[&Suggestion]) -> String {
    s.iter()
        .map(|s| {
            if s.start == s.end {
                s.start.to_string()
            } else {
                format!("{}-{}", s.start, s.end)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every item of a paginated list, following `Link: rel="next"` on the API's origin.
async fn pages<T: serde::de::DeserializeOwned>(
    client: &Client,
    first: &str,
) -> Result<Vec<T>, PublishError> {
    every_page(first, |path, more| async move {
        let answer = client.send_json("GET", &path, None).await?;
        let link = answer.header("link").map(str::to_string);
        let items: Vec<T> = client.expect_json("GET", &client.url_of(&path), answer)?;
        let next = match link.as_deref().and_then(next_link) {
            Some(u) if more => Some(client.relative(&u)?),
            _ => None,
        };
        Ok((items, next))
    })
    .await
}

/// Why suggestions were left out: lines the diff does not show, lines it shows with
/// other text (the image was built from another version of the file).
pub(super) fn why_left(
    outside: &[&Suggestion],
    other_text: &[&Suggestion],
    what: &str,
    path: &str,
) -> Option<String> {
    let mut why = Vec::new();
    if !outside.is_empty() {
        why.push(format!(
            "the {what}'s diff does not show lines {} of {path}",
            ranges(outside)
        ));
    }
    if !other_text.is_empty() {
        why.push(format!(
            "lines {} of {path} read otherwise in the {what}'s diff (the image was built from another version of the file)",
            ranges(other_text)
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}
