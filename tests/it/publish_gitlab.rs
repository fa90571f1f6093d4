//! `layergate comment` and `publish::deliver` against a fake GitLab REST API (v4) on
//! 127.0.0.1: one sticky note per merge request and key, system notes ignored,
//! PUT for updates; refusals, bad tokens, rate limits and server errors; and the
//! report artifacts (Code Quality, JUnit, metrics).

use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use layergate::publish::{
    self, CommentMode, CommentOutcome, Env, Output as Figure, Publication, PublishedFinding,
    Settings,
};
use layergate::Severity;
use serde_json::{json, Value};

use crate::support::forge::{body_file, page_of, with_page, Faults, Reply, Request, Server, PAGE};
use crate::support::{bin, stderr};

const TOKEN: &str = "glpat-S3cretProjectT0ken";
const REPORTER_TOKEN: &str = "glpat-ReporterRoleT0ken";
const NOTES: &str = "/api/v4/projects/42/merge_requests/7/notes";

struct FakeGitLab {
    notes: Mutex<Vec<Value>>,
    next_id: AtomicU64,
    faults: Faults,
    /// When set, the next POST finds that another pipeline posted the same marked
    /// note a moment earlier.
    racer: std::sync::atomic::AtomicBool,
}

impl FakeGitLab {
    fn user_bodies(&self) -> Vec<String> {
        self.notes
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n["system"] == false)
            .map(|n| n["body"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Project 42, merge request !7, with three notes; the system note quotes the
/// default marker (as a "changed the description" note can) and must never be
/// taken for ours.
fn gitlab() -> (Server, Arc<FakeGitLab>) {
    let state = Arc::new(FakeGitLab {
        notes: Mutex::new(vec![
            json!({"id": 1, "body": "added 1 commit\n\n<!-- layergate:default -->", "system": true}),
            json!({"id": 2, "body": "Looks fine", "system": false, "author": {"username": "alice"}}),
            json!({"id": 3, "body": "approved this merge request", "system": true}),
        ]),
        next_id: AtomicU64::new(500),
        faults: Faults::default(),
        racer: std::sync::atomic::AtomicBool::new(false),
    });
    let s = state.clone();
    let server = Server::start(move |req, base| answer(&s, req, base));
    (server, state)
}

fn answer(state: &FakeGitLab, req: &Request, base: &str) -> Reply {
    if let Some(reply) = state.faults.take(req) {
        return reply;
    }
    let reporter = match req.header("private-token") {
        Some(TOKEN) => false,
        Some(REPORTER_TOKEN) => true,
        _ => return Reply::json(401, json!({"message": "401 Unauthorized"})),
    };
    let path = req.path_only().to_string();
    match (req.method.as_str(), path.as_str()) {
        ("GET", "/api/v4/user") => Reply::json(200, json!({"username": "project_42_bot"})),
        ("GET", NOTES) => {
            let all = state.notes.lock().unwrap().clone();
            let page = page_of(&req.path);
            let last = all.len().div_ceil(PAGE).max(1);
            let items: Vec<Value> = all.into_iter().skip((page - 1) * PAGE).take(PAGE).collect();
            let next = if page < last {
                (page + 1).to_string()
            } else {
                String::new()
            };
            let mut links = Vec::new();
            if page < last {
                links.push(format!(
                    "<{}>; rel=\"next\"",
                    with_page(base, &req.path, page + 1)
                ));
            }
            links.push(format!(
                "<{}>; rel=\"first\"",
                with_page(base, &req.path, 1)
            ));
            Reply::json(200, Value::Array(items))
                .with_header("link", &links.join(", "))
                .with_header("x-next-page", &next)
                .with_header("x-total-pages", &last.to_string())
        }
        ("POST", NOTES) => {
            if reporter {
                return Reply::json(403, json!({"message": "403 Forbidden"}));
            }
            if state.racer.swap(false, Ordering::SeqCst) {
                let id = state.next_id.fetch_add(1, Ordering::SeqCst);
                let other = format!("{} (other pipeline)", req.json()["body"].as_str().unwrap());
                state
                    .notes
                    .lock()
                    .unwrap()
                    .push(json!({"id": id, "body": other, "system": false, "author": {"username": "project_42_bot"}}));
            }
            let id = state.next_id.fetch_add(1, Ordering::SeqCst);
            let note = json!({"id": id, "body": req.json()["body"], "system": false, "author": {"username": "project_42_bot"}});
            state.notes.lock().unwrap().push(note.clone());
            Reply::json(201, note)
        }
        ("DELETE", p) if p.starts_with(&format!("{NOTES}/")) => {
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut notes = state.notes.lock().unwrap();
            let before = notes.len();
            notes.retain(|n| n["id"] != id);
            if notes.len() == before {
                return Reply::json(404, json!({"message": "404 Not found"}));
            }
            Reply::json(204, Value::Null)
        }
        ("PUT", p) if p.starts_with(&format!("{NOTES}/")) => {
            if reporter {
                return Reply::json(403, json!({"message": "403 Forbidden"}));
            }
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut notes = state.notes.lock().unwrap();
            let Some(n) = notes.iter_mut().find(|n| n["id"] == id) else {
                return Reply::json(404, json!({"message": "404 Not found"}));
            };
            n["body"] = req.json()["body"].clone();
            Reply::json(200, n.clone())
        }
        _ => Reply::json(404, json!({"message": "404 Not found"})),
    }
}

/// `layergate comment FILE` in a merge-request pipeline's environment.
fn comment(server: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITLAB_CI", "true")
        .env("CI_API_V4_URL", format!("{}/api/v4", server.url))
        .env("CI_PROJECT_ID", "42")
        .env("CI_MERGE_REQUEST_IID", "7")
        .env(
            "CI_MERGE_REQUEST_PROJECT_URL",
            "https://gitlab.example/acme/app",
        )
        .env("CI_JOB_TOKEN", "job-token-never-used")
        .env("LAYERGATE_HTTP_BACKOFF_MS", "10")
        .arg("comment")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn assert_no_token(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(
            !text.contains(TOKEN) && !text.contains(REPORTER_TOKEN),
            "token leaked: {text}"
        );
    }
}

/// Re-runs update one note (PUT), a second key gets its own, system notes are
/// never touched, and requests carry the token header and the body.
#[test]
fn note_is_created_once_then_updated_and_system_notes_are_skipped() {
    let (server, state) = gitlab();
    let dir = tempfile::tempdir().unwrap();
    let first = body_file(dir.path(), "a.md", "## Image size\n\n+3 MB\n");
    let token = [("LAYERGATE_GITLAB_TOKEN", TOKEN)];

    let out = comment(&server, &[&first], &token);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_token(&out);
    assert!(
        stderr(&out).contains(
            "comment created: https://gitlab.example/acme/app/-/merge_requests/7#note_500"
        ),
        "{}",
        stderr(&out)
    );
    let requests = server.requests();
    let calls: Vec<_> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/api/v4/user"),
            ("GET", "/api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at"),
            ("GET", "/api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at&page=2"),
            ("POST", NOTES),
            // Listed again: no racing pipeline created one too.
            ("GET", "/api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at"),
            ("GET", "/api/v4/projects/42/merge_requests/7/notes?per_page=100&sort=asc&order_by=created_at&page=2"),
        ]
    );
    for r in &requests {
        assert_eq!(r.header("private-token"), Some(TOKEN));
        assert!(
            r.header("authorization").is_none(),
            "CI_JOB_TOKEN must not be sent"
        );
        assert!(r.header("user-agent").unwrap().starts_with("layergate/"));
    }
    assert_eq!(requests[3].header("content-type"), Some("application/json"));
    assert_eq!(
        requests[3].json(),
        json!({"body": "<!-- layergate:default -->\n## Image size\n\n+3 MB\n"})
    );

    let second = body_file(dir.path(), "b.md", "## Image size\n\n-1 MB\n");
    let out = comment(&server, &[&second], &token);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("comment updated"), "{}", stderr(&out));
    let writes = server.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(
        (writes[1].method.as_str(), writes[1].path.as_str()),
        ("PUT", "/api/v4/projects/42/merge_requests/7/notes/500")
    );
    assert_eq!(
        writes[1].json(),
        json!({"body": "<!-- layergate:default -->\n## Image size\n\n-1 MB\n"})
    );

    let out = comment(
        &server,
        &[&first, "--comment-key", "debug"],
        &[("GITLAB_TOKEN", TOKEN)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let writes = server.writes();
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[2].method, "POST");
    assert_eq!(
        state.user_bodies(),
        [
            "Looks fine",
            "<!-- layergate:default -->\n## Image size\n\n-1 MB\n",
            "<!-- layergate:debug -->\n## Image size\n\n+3 MB\n",
        ]
    );
    // The system note quoting the marker is as it was.
    assert_eq!(
        state.notes.lock().unwrap()[0]["body"],
        "added 1 commit\n\n<!-- layergate:default -->"
    );
}

/// A token without the rights to write notes must not fail the pipeline; the
/// warning says which token to use.
#[test]
fn forbidden_note_is_a_warning() {
    let (server, state) = gitlab();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(
        &server,
        &[&file],
        &[("LAYERGATE_GITLAB_TOKEN", REPORTER_TOKEN)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_token(&out);
    let err = stderr(&out);
    assert!(err.contains("layergate: warning: GitLab refused to write a note on merge request !7 (HTTP 403: 403 Forbidden)"), "{err}");
    assert!(
        err.contains("CI_JOB_TOKEN cannot write merge request notes"),
        "{err}"
    );
    assert_eq!(state.user_bodies().len(), 1);
}

/// A rejected token fails with the fix in the message, and never shows the token.
#[test]
fn unauthorized_token_names_the_fix() {
    let (server, _) = gitlab();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(
        &server,
        &[&file],
        &[("LAYERGATE_GITLAB_TOKEN", "glpat-RevokedSecret")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains("glpat-RevokedSecret"), "{err}");
    assert!(err.contains("HTTP 401: 401 Unauthorized; the token is invalid or expired: set LAYERGATE_GITLAB_TOKEN"), "{err}");
    assert!(
        err.contains(&format!("GET {}/api/v4/user", server.url)),
        "{err}"
    );
}

/// In an MR pipeline without a project token, `auto` warns and does not fail;
/// CI_JOB_TOKEN is never tried.
#[test]
fn missing_token_in_auto_mode_warns_without_requests() {
    let (server, _) = gitlab();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(&server, &[&file], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not commenting on merge request !7: no GitLab token"),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());
    // Asking for GitLab explicitly makes it an error.
    let out = comment(&server, &[&file, "--comment", "gitlab"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CI_JOB_TOKEN cannot write merge request notes"));
}

/// An unknown merge request is a 404 error naming the URL.
#[test]
fn unknown_merge_request_is_a_404_error() {
    let (server, _) = gitlab();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(
        &server,
        &[&file],
        &[
            ("LAYERGATE_GITLAB_TOKEN", TOKEN),
            ("CI_MERGE_REQUEST_IID", "8"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/projects/42/merge_requests/8/notes?per_page=100&sort=asc&order_by=created_at: HTTP 404: 404 Not found; the project or merge request does not exist"), "{}", stderr(&out));
}

fn args(server: &Server) -> Settings {
    Settings {
        comment: CommentMode::Gitlab,
        pr: Some(7),
        repo: Some("42".into()),
        api_url: Some(format!("{}/api/v4", server.url)),
        gitlab_token: Some(publish::Secret::new(TOKEN)),
        ..Settings::default()
    }
}

fn publication() -> Publication {
    Publication {
        marker: layergate::Marker::new("web").unwrap(),
        markdown: "## verdict\n".into(),
        passed: Some(false),
        headline: "1 rule failed".into(),
        rules: vec![
            "size-growth".into(),
            "wasted-bytes".into(),
            "max-layers".into(),
        ],
        findings: vec![
            PublishedFinding {
                code: "size-growth".into(),
                severity: Severity::Fail,
                message: "image grew by 12.0 MB (limit 5.0 MB)".into(),
                path: None,
            },
            PublishedFinding {
                code: "wasted-bytes".into(),
                severity: Severity::Warn,
                message: "4.0 MB wasted".into(),
                path: Some("/var/cache/apt/archives/<x>.deb".into()),
            },
        ],
        outputs: vec![
            Figure {
                name: "size-before".into(),
                value: 1000.0,
            },
            Figure {
                name: "size-after".into(),
                value: 13000.0,
            },
            Figure {
                name: "size-delta".into(),
                value: 12000.0,
            },
        ],
        size_kind: None,
        report_path: None,
    }
}

/// 429 with retry-after and a 5xx on the write are both retried; one note results.
#[test]
fn rate_limit_and_server_error_are_retried() {
    let (server, state) = gitlab();
    state.faults.push(
        "POST",
        NOTES,
        Reply::json(429, json!({"message": "429 Too Many Requests"}))
            .with_header("retry-after", "1"),
    );
    state.faults.push(
        "POST",
        NOTES,
        Reply::json(502, json!({"message": "502 Bad Gateway"})),
    );
    let env = Env::from_pairs([("LAYERGATE_HTTP_BACKOFF_MS", "10")]);
    let started = std::time::Instant::now();
    let delivery = publish::deliver(&args(&server), &publication(), &env).unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(950));
    assert!(
        matches!(delivery.comment, CommentOutcome::Created { id: 500, .. }),
        "{delivery:?}"
    );
    assert_eq!(server.writes().len(), 3);
    assert_eq!(
        state.user_bodies(),
        ["Looks fine", "<!-- layergate:web -->\n## verdict\n"]
    );
}

/// The report artifacts are written even when no note is requested, and carry
/// the findings GitLab shows in the merge request widgets.
#[test]
fn report_artifacts_are_written_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let cq = dir.path().join("gl-code-quality.json");
    let junit = dir.path().join("junit.xml");
    let metrics = dir.path().join("metrics.txt");
    let a = Settings {
        comment: CommentMode::None,
        gitlab_codequality: Some(cq.clone()),
        junit: Some(junit.clone()),
        gitlab_metrics: Some(metrics.clone()),
        ..Settings::default()
    };
    let delivery = publish::deliver(&a, &publication(), &Env::default()).unwrap();
    assert_eq!(delivery.comment, CommentOutcome::NotRequested);
    assert_eq!(
        delivery.written,
        vec![cq.clone(), junit.clone(), metrics.clone()]
    );

    let issues: Value = serde_json::from_slice(&std::fs::read(&cq).unwrap()).unwrap();
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0]["check_name"], "layergate/size-growth");
    assert_eq!(issues[0]["severity"], "major");
    assert_eq!(
        issues[0]["location"],
        json!({"path": "Dockerfile", "lines": {"begin": 1}})
    );
    assert_eq!(
        issues[1]["description"],
        "4.0 MB wasted (/var/cache/apt/archives/<x>.deb)"
    );
    assert_eq!(issues[1]["severity"], "minor");
    // Same findings, same fingerprints: GitLab must not see them as new.
    let again = publish::codequality_json(&publication(), "Dockerfile");
    assert_eq!(std::fs::read_to_string(&cq).unwrap(), again);

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert!(xml.contains("&lt;x&gt;.deb"));

    assert_eq!(
        std::fs::read_to_string(&metrics).unwrap(),
        "layergate_web_passed 0\nlayergate_web_size_before 1000\nlayergate_web_size_after 13000\nlayergate_web_size_delta 12000\nlayergate_web_failures 1\nlayergate_web_warnings 1\n"
    );
}

/// Two pipelines at the same moment both find no note and both create one: the one
/// that sees an older marked note afterwards deletes its own and updates the older,
/// so the merge request keeps exactly one note per key.
#[test]
fn racing_pipelines_converge_on_one_note() {
    let (server, state) = gitlab();
    state.racer.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict\n");
    let out = comment(
        &server,
        &[&file, "--comment", "gitlab"],
        &[("LAYERGATE_GITLAB_TOKEN", TOKEN)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let marked: Vec<String> = state
        .user_bodies()
        .into_iter()
        .filter(|b| b.contains("<!-- layergate:default -->"))
        .collect();
    assert_eq!(marked, ["<!-- layergate:default -->\n## Verdict\n"]);
    let writes: Vec<(String, String)> = server
        .writes()
        .iter()
        .map(|w| (w.method.clone(), w.path.clone()))
        .collect();
    assert_eq!(
        writes,
        [
            ("POST".to_string(), NOTES.to_string()),
            ("DELETE".to_string(), format!("{NOTES}/501")),
            ("PUT".to_string(), format!("{NOTES}/500")),
        ]
    );
}

/// Another user's note quoting the marker is not ours: it is left as it is and our
/// own note is created beside it, then updated on the next run.
#[test]
fn a_marker_in_another_users_note_is_left_alone() {
    let (server, state) = gitlab();
    let planted = json!({"id": 5, "body": "see <!-- layergate:default -->", "system": false, "author": {"username": "mallory"}});
    state.notes.lock().unwrap().push(planted.clone());
    let dir = tempfile::tempdir().unwrap();
    for text in ["first\n", "second\n"] {
        let file = body_file(dir.path(), "a.md", text);
        let out = comment(&server, &[&file], &[("LAYERGATE_GITLAB_TOKEN", TOKEN)]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let notes = state.notes.lock().unwrap().clone();
    assert!(notes.contains(&planted), "{notes:#?}");
    let ours: Vec<&Value> = notes
        .iter()
        .filter(|n| n["author"]["username"] == "project_42_bot")
        .collect();
    assert_eq!(ours.len(), 1, "{notes:#?}");
    assert_eq!(ours[0]["body"], "<!-- layergate:default -->\nsecond\n");
}
