//! `layergate fix --suggest` against stand-in GitHub and GitLab APIs on 127.0.0.1: the
//! rewrite of a real test image's Dockerfile becomes one review (GitHub) or diff
//! discussions (GitLab) with suggestion blocks on the right lines; a rerun replaces this
//! key's previous suggestions and never posts twice; lines the pull request does not show
//! and anchors the forge rejects fall back to the patch in a sticky comment; none of it
//! changes the exit code.

use std::ops::RangeInclusive;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::support::forge::{page_of, with_page, Reply, Request, Server, PAGE};
use crate::support::{bin, image, images, stderr};

const GH_TOKEN: &str = "ghs_SuggestT0kenForTests";
const GL_TOKEN: &str = "glpat-SuggestT0kenForTests";
const BOT: &str = "github-actions[bot]";

/// The rewrite of `cleanup-split`: line 10 gains ` \` and the `rm` of line 18, which goes.
const LINE_10: &str =
    " && head -c 262144 /dev/urandom > /var/cache/pkg/archives/libdemo_1.0-1_amd64.pkg \\";
const MOVED: &str = " && rm -rf /var/lib/pkg/lists /var/cache/pkg";

/// A checkout holding the test image's Dockerfile at `Dockerfile`, `shift` comment lines
/// added at its top (a later push that moves every line down).
fn checkout(shift: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(images().join("dockerfiles/cleanup-split/Dockerfile")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "# pushed again\n".repeat(shift) + &text,
    )
    .unwrap();
    dir
}

/// The whole Dockerfile as a pull request that adds it shows it.
fn added_patch(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut patch = format!("@@ -0,0 +1,{} @@\n", lines.len());
    for l in lines {
        patch += &format!("+{l}\n");
    }
    patch
}

fn fix_suggest(dir: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LAYERGATE_NO_CACHE", "1")
        .env("LAYERGATE_HTTP_BACKOFF_MS", "10")
        .current_dir(dir)
        .arg("fix")
        .arg(image("cleanup-split.oci.tar"))
        .args(["--dockerfile", "Dockerfile", "--suggest"])
        .args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.code(0)
}

fn no_token(out: &Output) {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert!(!all.contains(GH_TOKEN) && !all.contains(GL_TOKEN), "{all}");
}

// ---------------------------------------------------------------- GitHub

struct Hub {
    /// The Dockerfile's `patch` in `GET /pulls/12/files`.
    patch: Mutex<String>,
    /// The lines GitHub itself accepts a comment on (its own view of the diff, which a
    /// push since the build may have changed).
    accepts: Mutex<RangeInclusive<u64>>,
    review_comments: Mutex<Vec<Value>>,
    reviews: Mutex<Vec<Value>>,
    issue_comments: Mutex<Vec<Value>>,
    next_id: AtomicU64,
}

/// acme/app, pull request #12. Two review comments by a person are already there, one
/// quoting this key's suggestion tag: neither is ever deleted.
fn github(patch: String) -> (Server, Arc<Hub>) {
    let hub = Arc::new(Hub {
        patch: Mutex::new(patch),
        accepts: Mutex::new(1..=1000),
        review_comments: Mutex::new(vec![
            json!({"id": 1, "body": "why a third RUN?", "path": "Dockerfile", "line": 18, "user": {"login": "alice"}}),
            json!({"id": 2, "body": "quoting <!-- layergate-suggestion:default -->", "path": "Dockerfile", "line": 6, "user": {"login": "alice"}}),
            json!({"id": 3, "body": "<!-- layergate-suggestion:default -->\n```suggestion\nRUN x\n```\n", "path": "web/Dockerfile", "line": 3, "user": {"login": BOT}}),
        ]),
        reviews: Mutex::new(Vec::new()),
        issue_comments: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(100),
    });
    let h = hub.clone();
    let server = Server::start(move |req, base| hub_answer(&h, req, base));
    (server, hub)
}

fn paged(all: Vec<Value>, req: &Request, base: &str) -> Reply {
    let page = page_of(&req.path);
    let last = all.len().div_ceil(PAGE).max(1);
    let items: Vec<Value> = all.into_iter().skip((page - 1) * PAGE).take(PAGE).collect();
    let mut reply = Reply::json(200, Value::Array(items));
    if page < last {
        reply = reply.with_header(
            "link",
            &format!("<{}>; rel=\"next\"", with_page(base, &req.path, page + 1)),
        );
    }
    reply
}

fn hub_answer(hub: &Hub, req: &Request, base: &str) -> Reply {
    if req.header("authorization") != Some(&format!("Bearer {GH_TOKEN}")) {
        return Reply::json(401, json!({"message": "Bad credentials"}));
    }
    let id = || hub.next_id.fetch_add(1, Ordering::SeqCst);
    match (req.method.as_str(), req.path_only()) {
        ("GET", "/user") => Reply::json(
            403,
            json!({"message": "Resource not accessible by integration"}),
        ),
        ("GET", "/repos/acme/app/pulls/12/files") => {
            let files = vec![
                json!({"filename": "README.md", "status": "modified", "patch": "@@ -1 +1 @@\n-a\n+b"}),
                json!({"filename": "Dockerfile", "status": "added", "patch": *hub.patch.lock().unwrap()}),
            ];
            paged(files, req, base)
        }
        ("GET", "/repos/acme/app/pulls/12/comments") => {
            paged(hub.review_comments.lock().unwrap().clone(), req, base)
        }
        ("DELETE", p) if p.starts_with("/repos/acme/app/pulls/comments/") => {
            let n: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut all = hub.review_comments.lock().unwrap();
            let before = all.len();
            all.retain(|c| c["id"] != n);
            if all.len() == before {
                return Reply::json(404, json!({"message": "Not Found"}));
            }
            Reply::status(204)
        }
        ("POST", "/repos/acme/app/pulls/12/reviews") => {
            let review = req.json();
            assert_eq!(review["event"], "COMMENT");
            let accepts = hub.accepts.lock().unwrap().clone();
            let comments = review["comments"].as_array().unwrap().clone();
            for c in &comments {
                let lines = [c["line"].as_u64(), c["start_line"].as_u64()];
                if c["path"] != "Dockerfile" || lines.iter().flatten().any(|l| !accepts.contains(l))
                {
                    // GitHub's answer names no line.
                    return Reply::json(
                        422,
                        json!({"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]}),
                    );
                }
            }
            let review_id = id();
            for c in comments {
                let mut c = c.clone();
                c["id"] = json!(id());
                c["user"] = json!({"login": BOT});
                c["pull_request_review_id"] = json!(review_id);
                hub.review_comments.lock().unwrap().push(c);
            }
            let saved = json!({"id": review_id, "html_url": format!("https://github.com/acme/app/pull/12#pullrequestreview-{review_id}"), "body": review["body"]});
            hub.reviews.lock().unwrap().push(saved.clone());
            Reply::json(200, saved)
        }
        ("PUT", p) if p.starts_with("/repos/acme/app/pulls/12/reviews/") => {
            let n: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut all = hub.reviews.lock().unwrap();
            let Some(r) = all.iter_mut().find(|r| r["id"] == n) else {
                return Reply::json(404, json!({"message": "Not Found"}));
            };
            r["body"] = req.json()["body"].clone();
            Reply::json(200, r.clone())
        }
        ("GET", "/repos/acme/app/issues/12/comments") => {
            paged(hub.issue_comments.lock().unwrap().clone(), req, base)
        }
        ("POST", "/repos/acme/app/issues/12/comments") => {
            let n = id();
            let c = json!({"id": n, "body": req.json()["body"], "user": {"login": BOT}, "html_url": format!("https://github.com/acme/app/pull/12#issuecomment-{n}")});
            hub.issue_comments.lock().unwrap().push(c.clone());
            Reply::json(201, c)
        }
        ("PATCH", p) if p.starts_with("/repos/acme/app/issues/comments/") => {
            let n: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut all = hub.issue_comments.lock().unwrap();
            let Some(c) = all.iter_mut().find(|c| c["id"] == n) else {
                return Reply::json(404, json!({"message": "Not Found"}));
            };
            c["body"] = req.json()["body"].clone();
            Reply::json(200, c.clone())
        }
        _ => Reply::json(404, json!({"message": "Not Found"})),
    }
}

fn gh_env(server: &Server) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_API_URL", server.url.clone()),
        ("GITHUB_REPOSITORY", "acme/app".into()),
        ("GITHUB_TOKEN", GH_TOKEN.into()),
    ]
}

fn run_gh(server: &Server, dir: &Path) -> Output {
    let env = gh_env(server);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = fix_suggest(dir, &env, &["--pr", "12"]);
    no_token(&out);
    out
}

/// The bot's suggestion comments on `Dockerfile`, as (start_line, line, body).
fn bot_comments(hub: &Hub) -> Vec<(Option<u64>, u64, String)> {
    hub.review_comments
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c["user"]["login"] == BOT && c["path"] == "Dockerfile")
        .map(|c| {
            (
                c["start_line"].as_u64(),
                c["line"].as_u64().unwrap(),
                c["body"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The headline: one review, a suggestion on line 10 (the RUN that wrote the files
/// gains the `rm`) and one deleting line 18, each saying which advice and how much; the
/// diff still on standard output; no fallback comment.
#[test]
fn github_suggestions_are_one_review_on_the_right_lines() {
    let dir = checkout(0);
    let (server, hub) = github(added_patch(dir.path()));
    let out = run_gh(&server, dir.path());
    let diff = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(diff.contains(&format!("+{MOVED}")), "{diff}");
    let err = stderr(&out);
    assert!(
        err.contains(
            "posted 2 suggestion(s): https://github.com/acme/app/pull/12#pullrequestreview-"
        ),
        "{err}"
    );
    assert_eq!(hub.reviews.lock().unwrap().len(), 1);
    let review_body = hub.reviews.lock().unwrap()[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        review_body.contains("suggests 2 changes to `Dockerfile`, predicted to save 1.5 MiB"),
        "{review_body}"
    );
    let mine = bot_comments(&hub);
    assert_eq!(mine.len(), 2, "{mine:#?}");
    assert_eq!((mine[0].0, mine[0].1), (None, 10));
    // The whole body, as docs/fix.md shows it.
    assert_eq!(
        mine[0].2,
        format!(
            "<!-- layergate-suggestion:default -->\n\
             **layergate fix** · `cleanup-in-later-layer`: moved \\`rm -rf /var/lib/pkg/lists /var/cache/pkg\\` from line 18 to the end of the RUN on line 6 (saves 1.5 MiB)\n\
             \n\
             Apply every suggestion of this change together: each one alone leaves the Dockerfile half edited.\n\
             \n\
             ```suggestion\n{LINE_10}\n{MOVED}\n```\n"
        )
    );
    assert!(
        mine[0].2.starts_with(
            "<!-- layergate-suggestion:default -->\n**layergate fix** · `cleanup-in-later-layer`"
        ),
        "{}",
        mine[0].2
    );
    assert!(mine[0].2.contains("(saves 1.5 MiB)"), "{}", mine[0].2);
    assert_eq!((mine[1].0, mine[1].1), (None, 18));
    assert!(mine[1].2.ends_with("```suggestion\n```\n"), "{}", mine[1].2);
    assert!(hub.issue_comments.lock().unwrap().is_empty());
    assert_eq!(
        server.count("/repos/acme/app/pulls/comments/"),
        0,
        "nothing to delete"
    );
    // Applying every suggestion gives exactly the file `fix --write` writes.
    let edits = mine
        .iter()
        .map(|(start, line, body)| (start.unwrap_or(*line), *line, block(body)))
        .collect();
    assert_eq!(apply(dir.path(), edits), rewritten(dir.path()));
}

/// The lines of the suggestion block of a comment body.
fn block(body: &str) -> Vec<String> {
    let mut lines = body
        .lines()
        .skip_while(|l| !l.trim_start_matches('`').starts_with("suggestion"));
    let open = lines.next().expect("a suggestion block");
    let fence: String = open.chars().take_while(|c| *c == '`').collect();
    lines
        .take_while(|l| *l != fence)
        .map(str::to_string)
        .collect()
}

/// The checkout's Dockerfile with `edits` (first line, last line, new lines) applied, as
/// a reviewer's "apply suggestion" clicks do.
fn apply(dir: &Path, mut edits: Vec<(u64, u64, Vec<String>)>) -> String {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, new) in edits {
        lines.splice(start as usize - 1..end as usize, new);
    }
    lines.join("\n") + "\n"
}

/// What `fix --write` makes of the checkout's Dockerfile (on a copy).
fn rewritten(dir: &Path) -> String {
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("Dockerfile"), copy.path().join("Dockerfile")).unwrap();
    bin()
        .arg("fix")
        .arg(image("cleanup-split.oci.tar"))
        .arg("--dockerfile")
        .arg(copy.path().join("Dockerfile"))
        .arg("--write")
        .code(0);
    std::fs::read_to_string(copy.path().join("Dockerfile")).unwrap()
}

/// A rerun with the same rewrite leaves the review alone; after a push that moves the
/// lines, the previous suggestions are deleted and one new review replaces them: never
/// two sets; a person's comment quoting the tag, and this key's suggestions on another
/// Dockerfile, are never touched.
#[test]
fn github_rerun_replaces_the_previous_suggestions() {
    let dir = checkout(0);
    let (server, hub) = github(added_patch(dir.path()));
    run_gh(&server, dir.path());
    let out = run_gh(&server, dir.path());
    assert!(
        stderr(&out).contains("unchanged: left as they are"),
        "{}",
        stderr(&out)
    );
    assert_eq!(hub.reviews.lock().unwrap().len(), 1, "no second review");
    assert_eq!(bot_comments(&hub).len(), 2);

    let moved = checkout(1);
    *hub.patch.lock().unwrap() = added_patch(moved.path());
    let out = run_gh(&server, moved.path());
    let err = stderr(&out);
    assert!(
        err.contains("removed 2 suggestion(s) of the previous run"),
        "{err}"
    );
    let reviews = hub.reviews.lock().unwrap().clone();
    assert_eq!(reviews.len(), 2);
    assert!(
        reviews[0]["body"]
            .as_str()
            .unwrap()
            .contains("_Superseded: a later run"),
        "{reviews:?}"
    );
    assert!(
        reviews[1]["body"]
            .as_str()
            .unwrap()
            .contains("suggests 2 changes"),
        "{reviews:?}"
    );
    let lines: Vec<u64> = bot_comments(&hub).iter().map(|c| c.1).collect();
    assert_eq!(lines, [11, 19]);
    let people: Vec<u64> = hub
        .review_comments
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c["user"]["login"] == "alice")
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(people, [1, 2]);
    // Another Dockerfile's suggestions under the same key belong to another run.
    assert!(hub
        .review_comments
        .lock()
        .unwrap()
        .iter()
        .any(|c| c["id"] == 3));
}

/// GitHub refuses the review with a 422 that names no line: the patch goes to the sticky
/// comment (key `default-fix`), the exit code stays 0; once the anchors are accepted
/// again, the review is posted and that comment is updated (not a second one).
#[test]
fn github_rejected_anchor_falls_back_to_the_patch_in_the_sticky_comment() {
    let dir = checkout(0);
    let (server, hub) = github(added_patch(dir.path()));
    *hub.accepts.lock().unwrap() = 1..=5;
    let out = run_gh(&server, dir.path());
    let err = stderr(&out);
    assert!(err.contains("fallback to the patch in the comment: GitHub refused the review (HTTP 422: Unprocessable Entity)"), "{err}");
    assert!(
        err.contains("fix: comment created: https://github.com/acme/app/pull/12#issuecomment-"),
        "{err}"
    );
    assert!(bot_comments(&hub).is_empty());
    assert!(hub.reviews.lock().unwrap().is_empty());
    let sticky = hub.issue_comments.lock().unwrap().clone();
    assert_eq!(sticky.len(), 1);
    let body = sticky[0]["body"].as_str().unwrap();
    assert!(body.starts_with("<!-- layergate:default-fix -->\n> **2 of 2 suggestions could not be placed on the diff**"), "{body}");
    assert!(
        body.contains("<details><summary>Dockerfile diff</summary>"),
        "{body}"
    );
    assert!(body.contains(&format!("+{MOVED}\n")), "{body}");

    *hub.accepts.lock().unwrap() = 1..=1000;
    let out = run_gh(&server, dir.path());
    let err = stderr(&out);
    assert!(err.contains("posted 2 suggestion(s)"), "{err}");
    assert!(err.contains("fix: comment updated:"), "{err}");
    let sticky = hub.issue_comments.lock().unwrap().clone();
    assert_eq!(sticky.len(), 1);
    assert!(
        sticky[0]["body"]
            .as_str()
            .unwrap()
            .contains("are on the diff"),
        "{sticky:?}"
    );
}

/// Lines the pull request does not change cannot carry a review comment: no review is
/// attempted for them, and the sticky comment says which lines and holds the patch.
#[test]
fn github_lines_outside_the_diff_go_to_the_sticky_comment() {
    let dir = checkout(0);
    let (server, hub) = github("@@ -1,3 +1,4 @@\n # a\n+# b\n # c\n # d\n".into());
    let out = run_gh(&server, dir.path());
    let err = stderr(&out);
    assert!(
        err.contains("the pull request's diff does not show lines 10, 18 of Dockerfile"),
        "{err}"
    );
    assert_eq!(server.count("/repos/acme/app/pulls/12/reviews"), 0);
    let sticky = hub.issue_comments.lock().unwrap().clone();
    assert_eq!(sticky.len(), 1);
    assert!(
        sticky[0]["body"].as_str().unwrap().contains("```diff\n"),
        "{sticky:?}"
    );
}

// ---------------------------------------------------------------- GitLab

const MR: &str = "/api/v4/projects/42/merge_requests/7";

struct Lab {
    diff: Mutex<String>,
    /// The new lines GitLab accepts a position on.
    accepts: Mutex<Vec<u64>>,
    discussions: Mutex<Vec<Value>>,
    notes: Mutex<Vec<Value>>,
    next_id: AtomicU64,
}

fn gitlab(diff: String) -> (Server, Arc<Lab>) {
    let lab = Arc::new(Lab {
        diff: Mutex::new(diff),
        accepts: Mutex::new((1..=1000).collect()),
        discussions: Mutex::new(vec![
            json!({"id": "d0", "notes": [{"id": 1, "body": "nice", "author": {"username": "alice"}}]}),
        ]),
        notes: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(500),
    });
    let l = lab.clone();
    let server = Server::start(move |req, base| lab_answer(&l, req, base));
    (server, lab)
}

fn lab_answer(lab: &Lab, req: &Request, base: &str) -> Reply {
    if req.header("private-token") != Some(GL_TOKEN) {
        return Reply::json(401, json!({"message": "401 Unauthorized"}));
    }
    let id = || lab.next_id.fetch_add(1, Ordering::SeqCst);
    let path = req.path_only().to_string();
    let rest = path.strip_prefix(MR).unwrap_or(&path);
    match (req.method.as_str(), rest) {
        ("GET", "/api/v4/user") => Reply::json(200, json!({"username": "project_42_bot"})),
        // Newest first, as GitLab lists them.
        ("GET", "/versions") => Reply::json(
            200,
            json!([
                {"id": 2, "base_commit_sha": "b2", "start_commit_sha": "s2", "head_commit_sha": "h2"},
                {"id": 1, "base_commit_sha": "b1", "start_commit_sha": "s1", "head_commit_sha": "h1"}
            ]),
        ),
        ("GET", "/diffs") => paged(
            vec![
                json!({"old_path": "README.md", "new_path": "README.md", "diff": "@@ -1 +1 @@\n-a\n+b\n"}),
                json!({"old_path": "Dockerfile", "new_path": "Dockerfile", "diff": *lab.diff.lock().unwrap()}),
            ],
            req,
            base,
        ),
        ("GET", "/discussions") => paged(lab.discussions.lock().unwrap().clone(), req, base),
        ("POST", "/discussions") => {
            let d = req.json();
            let p = &d["position"];
            let line = p["new_line"].as_u64().unwrap_or(0);
            let ok = p["position_type"] == "text"
                && p["base_sha"] == "b2"
                && p["start_sha"] == "s2"
                && p["head_sha"] == "h2"
                && p["new_path"] == "Dockerfile"
                && p["old_path"] == "Dockerfile"
                && lab.accepts.lock().unwrap().contains(&line);
            if !ok {
                return Reply::json(
                    400,
                    json!({"message": "400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"}),
                );
            }
            let note = json!({"id": id(), "body": d["body"], "author": {"username": "project_42_bot"}, "position": p});
            let disc = json!({"id": format!("d{}", id()), "notes": [note]});
            lab.discussions.lock().unwrap().push(disc.clone());
            Reply::json(201, disc)
        }
        ("DELETE", n) if n.starts_with("/notes/") => {
            let n: u64 = n.rsplit('/').next().unwrap().parse().unwrap();
            let mut all = lab.discussions.lock().unwrap();
            let before: usize = all
                .iter()
                .map(|d| d["notes"].as_array().unwrap().len())
                .sum();
            for d in all.iter_mut() {
                d["notes"].as_array_mut().unwrap().retain(|x| x["id"] != n);
            }
            all.retain(|d| !d["notes"].as_array().unwrap().is_empty());
            let after: usize = all
                .iter()
                .map(|d| d["notes"].as_array().unwrap().len())
                .sum();
            if before == after {
                return Reply::json(404, json!({"message": "404 Not found"}));
            }
            Reply::status(204)
        }
        ("GET", "/notes") => paged(lab.notes.lock().unwrap().clone(), req, base),
        ("POST", "/notes") => {
            let note = json!({"id": id(), "body": req.json()["body"], "system": false, "author": {"username": "project_42_bot"}});
            lab.notes.lock().unwrap().push(note.clone());
            Reply::json(201, note)
        }
        ("PUT", n) if n.starts_with("/notes/") => {
            let n: u64 = n.rsplit('/').next().unwrap().parse().unwrap();
            let mut all = lab.notes.lock().unwrap();
            let Some(note) = all.iter_mut().find(|x| x["id"] == n) else {
                return Reply::json(404, json!({"message": "404 Not found"}));
            };
            note["body"] = req.json()["body"].clone();
            Reply::json(200, note.clone())
        }
        _ => Reply::json(404, json!({"message": "404 Not found"})),
    }
}

/// A merge request that changed line 6 (lines 7-10 shown as context) and added lines
/// 17-18.
fn gl_diff(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let l: Vec<&str> = text.lines().collect();
    format!(
        "@@ -6,5 +6,5 @@ FROM\n-RUN mkdir -p /old\n+{}\n {}\n {}\n {}\n {}\n@@ -16,1 +16,3 @@\n {}\n+{}\n+{}\n",
        l[5], l[6], l[7], l[8], l[9], l[15], l[16], l[17]
    )
}

fn run_gl(server: &Server, dir: &Path) -> Output {
    let api = format!("{}/api/v4", server.url);
    let out = fix_suggest(
        dir,
        &[
            ("GITLAB_CI", "true"),
            ("CI_API_V4_URL", &api),
            ("CI_PROJECT_ID", "42"),
            ("LAYERGATE_GITLAB_TOKEN", GL_TOKEN),
            ("CI_MERGE_REQUEST_IID", "7"),
        ],
        &[],
    );
    no_token(&out);
    out
}

fn bot_notes(lab: &Lab) -> Vec<Value> {
    lab.discussions
        .lock()
        .unwrap()
        .iter()
        .flat_map(|d| d["notes"].as_array().unwrap().clone())
        .filter(|n| n["author"]["username"] == "project_42_bot")
        .collect()
}

/// Each suggestion is a discussion on its line of the latest diff version: line 10 is
/// unchanged context, named by its old and new line; line 18 is added, new line only.
/// A rerun posts nothing new.
#[test]
fn gitlab_suggestions_are_discussions_on_the_diff_lines() {
    let dir = checkout(0);
    let (server, lab) = gitlab(gl_diff(dir.path()));
    let out = run_gl(&server, dir.path());
    assert!(
        stderr(&out).contains("posted 2 suggestion(s)"),
        "{}",
        stderr(&out)
    );
    let notes = bot_notes(&lab);
    assert_eq!(notes.len(), 2, "{notes:#?}");
    let p0 = &notes[0]["position"];
    assert_eq!(
        (p0["new_line"].as_u64(), p0["old_line"].as_u64()),
        (Some(10), Some(10))
    );
    let b0 = notes[0]["body"].as_str().unwrap();
    assert!(
        b0.ends_with(&format!("```suggestion:-0+0\n{LINE_10}\n{MOVED}\n```\n")),
        "{b0}"
    );
    assert!(
        b0.starts_with("<!-- layergate-suggestion:default -->\n"),
        "{b0}"
    );
    let p1 = &notes[1]["position"];
    assert_eq!(
        (p1["new_line"].as_u64(), p1.get("old_line")),
        (Some(18), None)
    );
    assert!(lab.notes.lock().unwrap().is_empty(), "no fallback note");

    // GitLab's block reaches N lines below its anchor: applied, the file `fix --write` writes.
    let edits = notes
        .iter()
        .map(|n| {
            let body = n["body"].as_str().unwrap();
            let below: u64 = body
                .split("suggestion:-0+")
                .nth(1)
                .and_then(|r| r.split('\n').next())
                .unwrap()
                .parse()
                .unwrap();
            let at = n["position"]["new_line"].as_u64().unwrap();
            (at, at + below, block(body))
        })
        .collect();
    assert_eq!(apply(dir.path(), edits), rewritten(dir.path()));

    let out = run_gl(&server, dir.path());
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
    assert_eq!(bot_notes(&lab).len(), 2);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/discussions"))
            .count(),
        2
    );
}

/// GitLab refuses one position (400, line_code): that suggestion goes to the fallback
/// note with the patch, the other is posted; exit 0. The next run, with both accepted,
/// deletes the one it posted before and posts both: two, not three.
#[test]
fn gitlab_rejected_position_falls_back_to_the_patch_in_the_note() {
    let dir = checkout(0);
    let (server, lab) = gitlab(gl_diff(dir.path()));
    *lab.accepts.lock().unwrap() = vec![18];
    let out = run_gl(&server, dir.path());
    let err = stderr(&out);
    assert!(err.contains("posted 1 suggestion(s)"), "{err}");
    assert!(
        err.contains("GitLab refused the position (HTTP 400: 400 Bad request - Note"),
        "{err}"
    );
    let notes = lab.notes.lock().unwrap().clone();
    assert_eq!(notes.len(), 1);
    let body = notes[0]["body"].as_str().unwrap();
    assert!(
        body.starts_with(
            "<!-- layergate:default-fix -->\n> **1 of 2 suggestions could not be placed"
        ),
        "{body}"
    );
    assert!(body.contains(&format!("+{MOVED}\n")), "{body}");

    *lab.accepts.lock().unwrap() = (1..=1000).collect();
    let out = run_gl(&server, dir.path());
    let err = stderr(&out);
    assert!(err.contains("removed 1 suggestion(s)"), "{err}");
    assert_eq!(bot_notes(&lab).len(), 2);
    assert_eq!(
        lab.notes.lock().unwrap().len(),
        1,
        "the fallback note is updated, not doubled"
    );
}

/// Outside a pull request there is nothing to suggest on: a notice, exit 0, the diff
/// printed as always.
#[test]
fn suggest_outside_a_pull_request_is_a_notice() {
    let dir = checkout(0);
    let out = bin()
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .arg("fix")
        .arg(image("cleanup-split.oci.tar"))
        .args(["--dockerfile", "Dockerfile", "--suggest"])
        .code(0);
    assert!(
        stderr(&out).contains("no pull or merge request in this run"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(MOVED));
}

/// The pull request's head holds another version of the Dockerfile than the one the
/// image was built from (a push since the build): its lines read otherwise, so no
/// suggestion is posted on them (it would replace the wrong text); the patch goes to the
/// sticky comment.
#[test]
fn github_suggestions_are_never_made_on_another_version_of_the_file() {
    let dir = checkout(0);
    let pushed = checkout(1);
    let (server, hub) = github(added_patch(pushed.path()));
    let out = run_gh(&server, dir.path());
    let err = stderr(&out);
    assert!(err.contains("lines 10, 18 of Dockerfile read otherwise in the pull request's diff (the image was built from another version of the file)"), "{err}");
    assert_eq!(server.count("/repos/acme/app/pulls/12/reviews"), 0);
    assert!(bot_comments(&hub).is_empty());
    assert_eq!(hub.issue_comments.lock().unwrap().len(), 1);
}
