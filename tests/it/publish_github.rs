//! `layergate comment` and `publish::deliver` against a fake GitHub REST API on
//! 127.0.0.1: one sticky comment per pull request and key, found across pages,
//! updated in place; a fork's read-only token degrades to a warning; rate limits
//! and server errors are retried; the token never shows.

use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use layergate::publish::{
    self, CommentMode, CommentOutcome, Env, Output as Figure, Publication, PublishedFinding,
    Settings,
};
use layergate::Severity;
use serde_json::{json, Value};

use crate::support::forge::{body_file, page_of, with_page, Faults, Reply, Request, Server, PAGE};
use crate::support::{bin, stderr};

const TOKEN: &str = "ghs_S3cretT0kenForTests";
const FORK_TOKEN: &str = "ghs_ForkReadOnlyT0ken";
const LIST: &str = "/repos/acme/app/issues/12/comments";

struct FakeGitHub {
    comments: Mutex<Vec<Value>>,
    next_id: AtomicU64,
    faults: Faults,
    /// When set, the next POST finds that another run posted the same marked
    /// comment a moment earlier (the race two simultaneous runs have).
    racer: std::sync::atomic::AtomicBool,
}

impl FakeGitHub {
    fn bodies(&self) -> Vec<String> {
        self.comments
            .lock()
            .unwrap()
            .iter()
            .map(|c| c["body"].as_str().unwrap().to_string())
            .collect()
    }
}

/// A GitHub that knows one repository (acme/app) with one pull request (#12) that
/// already has three comments from people, so a new comment lands on page 2.
fn github() -> (Server, Arc<FakeGitHub>) {
    github_under("")
}

/// The same GitHub served under a path prefix, as GitHub Enterprise serves its API
/// under `/api/v3`; requests outside the prefix get 404.
fn github_under(prefix: &'static str) -> (Server, Arc<FakeGitHub>) {
    let state = Arc::new(FakeGitHub {
        comments: Mutex::new(
            (1..=3)
                .map(|i| json!({"id": i, "body": format!("LGTM {i}"), "user": {"login": "alice"}, "html_url": format!("https://github.com/acme/app/pull/12#issuecomment-{i}")}))
                .collect(),
        ),
        next_id: AtomicU64::new(100),
        faults: Faults::default(),
        racer: std::sync::atomic::AtomicBool::new(false),
    });
    let s = state.clone();
    let server = Server::start(move |req, base| {
        let Some(rest) = req.path.strip_prefix(prefix) else {
            return Reply::json(404, json!({"message": "Not Found"}));
        };
        let req = Request {
            path: rest.to_string(),
            ..req.clone()
        };
        answer(&s, &req, &format!("{base}{prefix}"))
    });
    (server, state)
}

fn answer(state: &FakeGitHub, req: &Request, base: &str) -> Reply {
    if let Some(reply) = state.faults.take(req) {
        return reply;
    }
    let fork = match req.header("authorization") {
        Some(a) if a == format!("Bearer {TOKEN}") => false,
        Some(a) if a == format!("Bearer {FORK_TOKEN}") => true,
        _ => {
            return Reply::json(
                401,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
            )
        }
    };
    let path = req.path_only().to_string();
    match (req.method.as_str(), path.as_str()) {
        // Installation tokens (GITHUB_TOKEN) cannot read the user they act as.
        ("GET", "/user") => Reply::json(
            403,
            json!({"message": "Resource not accessible by integration"}),
        ),
        ("GET", LIST) => {
            let all = state.comments.lock().unwrap().clone();
            let page = page_of(&req.path);
            let last = all.len().div_ceil(PAGE).max(1);
            let items: Vec<Value> = all.into_iter().skip((page - 1) * PAGE).take(PAGE).collect();
            let mut links = Vec::new();
            if page < last {
                links.push(format!(
                    "<{}>; rel=\"next\"",
                    with_page(base, &req.path, page + 1)
                ));
            }
            links.push(format!(
                "<{}>; rel=\"last\"",
                with_page(base, &req.path, last)
            ));
            Reply::json(200, Value::Array(items)).with_header("link", &links.join(", "))
        }
        ("POST", LIST) => {
            if fork {
                return Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                );
            }
            let body = req.json()["body"].as_str().unwrap_or("").to_string();
            if body.is_empty() {
                return Reply::json(422, json!({"message": "Validation Failed"}));
            }
            if state.racer.swap(false, Ordering::SeqCst) {
                let id = state.next_id.fetch_add(1, Ordering::SeqCst);
                let other = body.replace("## ", "## (other run) ");
                state.comments.lock().unwrap().push(json!({"id": id, "body": other, "user": {"login": "github-actions[bot]"}, "html_url": format!("https://github.com/acme/app/pull/12#issuecomment-{id}")}));
            }
            let id = state.next_id.fetch_add(1, Ordering::SeqCst);
            let c = json!({"id": id, "body": body, "user": {"login": "github-actions[bot]"}, "html_url": format!("https://github.com/acme/app/pull/12#issuecomment-{id}")});
            state.comments.lock().unwrap().push(c.clone());
            Reply::json(201, c)
        }
        ("DELETE", p) if p.starts_with("/repos/acme/app/issues/comments/") => {
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut comments = state.comments.lock().unwrap();
            let before = comments.len();
            comments.retain(|c| c["id"] != id);
            if comments.len() == before {
                return Reply::json(404, json!({"message": "Not Found"}));
            }
            Reply::json(204, Value::Null)
        }
        ("PATCH", p) if p.starts_with("/repos/acme/app/issues/comments/") => {
            if fork {
                return Reply::json(
                    403,
                    json!({"message": "Resource not accessible by integration"}),
                );
            }
            let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
            let mut comments = state.comments.lock().unwrap();
            let Some(c) = comments.iter_mut().find(|c| c["id"] == id) else {
                return Reply::json(404, json!({"message": "Not Found"}));
            };
            c["body"] = req.json()["body"].clone();
            Reply::json(200, c.clone())
        }
        _ => Reply::json(404, json!({"message": "Not Found"})),
    }
}

/// `layergate comment FILE --comment github --pr 12` with only the variables given.
fn comment(server: &Server, token: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", &server.url)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_TOKEN", token)
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
            !text.contains(TOKEN) && !text.contains(FORK_TOKEN),
            "token leaked: {text}"
        );
    }
}

/// The whole point: re-runs update one comment, a second key gets its own, and
/// every request is the right call with the right auth and body.
#[test]
fn comment_is_created_once_then_updated_and_keys_are_separate() {
    let (server, state) = github();
    let dir = tempfile::tempdir().unwrap();
    let first = body_file(dir.path(), "a.md", "## Image size\n\n+3 MB\n");
    let common = ["--comment", "github", "--pr", "12"];

    let out = comment(
        &server,
        TOKEN,
        &[&[first.as_str()][..], &common].concat(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_token(&out);
    assert!(
        stderr(&out)
            .contains("comment created: https://github.com/acme/app/pull/12#issuecomment-100"),
        "{}",
        stderr(&out)
    );
    let requests = server.requests();
    // Two pages of listing, exactly one POST, then the listing again to make sure
    // no racing run created one too.
    let methods: Vec<_> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        methods,
        [
            ("GET", "/user"),
            ("GET", "/repos/acme/app/issues/12/comments?per_page=100"),
            (
                "GET",
                "/repos/acme/app/issues/12/comments?per_page=100&page=2"
            ),
            ("POST", "/repos/acme/app/issues/12/comments"),
            ("GET", "/repos/acme/app/issues/12/comments?per_page=100"),
            (
                "GET",
                "/repos/acme/app/issues/12/comments?per_page=100&page=2"
            ),
        ]
    );
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    }
    let post = &requests[3];
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        post.json(),
        json!({"body": "<!-- layergate:default -->\n## Image size\n\n+3 MB\n"})
    );
    assert_eq!(state.bodies().len(), 4);

    // Second run, new body: found on page 2 and PATCHed in place.
    let second = body_file(
        dir.path(),
        "b.md",
        "<!-- layergate:default -->\n## Image size\n\n-1 MB\n",
    );
    let out = comment(
        &server,
        TOKEN,
        &[&[second.as_str()][..], &common].concat(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("comment updated"), "{}", stderr(&out));
    let writes = server.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[1].method, "PATCH");
    assert_eq!(writes[1].path, "/repos/acme/app/issues/comments/100");
    assert_eq!(
        writes[1].json(),
        json!({"body": "<!-- layergate:default -->\n## Image size\n\n-1 MB\n"})
    );
    let bodies = state.bodies();
    assert_eq!(bodies.len(), 4);
    assert_eq!(
        bodies[3],
        "<!-- layergate:default -->\n## Image size\n\n-1 MB\n"
    );

    // Another key: another comment; the first one is untouched.
    let out = comment(
        &server,
        TOKEN,
        &[
            &[first.as_str(), "--comment-key", "debug-image"][..],
            &common,
        ]
        .concat(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let writes = server.writes();
    assert_eq!(writes.len(), 3);
    assert_eq!(
        (writes[2].method.as_str(), writes[2].path.as_str()),
        ("POST", LIST)
    );
    let bodies = state.bodies();
    assert_eq!(bodies.len(), 5);
    assert_eq!(
        bodies[4],
        "<!-- layergate:debug-image -->\n## Image size\n\n+3 MB\n"
    );
    assert_eq!(
        bodies[3],
        "<!-- layergate:default -->\n## Image size\n\n-1 MB\n"
    );
}

/// In Actions, `--comment auto` finds the PR in the event payload, and the summary
/// and outputs are written beside the comment.
#[test]
fn auto_mode_reads_the_actions_environment() {
    let (server, state) = github();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict\n");
    let event = body_file(
        dir.path(),
        "event.json",
        r#"{"action":"synchronize","number":12,"pull_request":{"number":12}}"#,
    );
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = dir.path().join("output");
    let out = comment(
        &server,
        TOKEN,
        &[&file],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", &event),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(state.bodies().len(), 4);
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "earlier step\n<!-- layergate:default -->\n## Verdict\n"
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "failures=0\nwarnings=0\ncomment-id=100\ncomment-url=https://github.com/acme/app/pull/12#issuecomment-100\ncomment-status=created\n"
    );
}

/// GitHub Enterprise: the API base path is kept on every call, pagination included.
#[test]
fn enterprise_api_base_path_is_kept() {
    let (server, state) = github_under("/api/v3");
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict\n");
    let api = format!("{}/api/v3", server.url);
    let out = comment(
        &server,
        TOKEN,
        &[&file, "--comment", "github", "--pr", "12"],
        &[("GITHUB_API_URL", &api)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /api/v3/user",
            "GET /api/v3/repos/acme/app/issues/12/comments?per_page=100",
            "GET /api/v3/repos/acme/app/issues/12/comments?per_page=100&page=2",
            "POST /api/v3/repos/acme/app/issues/12/comments",
            "GET /api/v3/repos/acme/app/issues/12/comments?per_page=100",
            "GET /api/v3/repos/acme/app/issues/12/comments?per_page=100&page=2",
        ]
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
    assert_eq!(state.bodies().len(), 4);
}

/// On a push build there is no PR: `auto` writes the summary and posts nothing.
#[test]
fn auto_mode_on_push_posts_nothing() {
    let (server, _) = github();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict\n");
    let event = body_file(dir.path(), "event.json", r#"{"ref":"refs/heads/main"}"#);
    let out = comment(
        &server,
        TOKEN,
        &[&file],
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_EVENT_PATH", &event)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(server.requests().is_empty());
}

/// Fork PRs get a read-only token: the job must not fail for it, the reason is
/// given, and the summary still carries the verdict.
#[test]
fn fork_token_403_is_a_warning_and_the_summary_is_still_written() {
    let (server, state) = github();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict: fail\n");
    let summary = dir.path().join("summary.md");
    let out = comment(
        &server,
        FORK_TOKEN,
        &[&file, "--comment", "github", "--pr", "12"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_token(&out);
    let err = stderr(&out);
    assert!(err.contains("layergate: warning: GitHub refused to comment on acme/app#12 (HTTP 403: Resource not accessible by integration)"), "{err}");
    assert!(err.contains("forks get a read-only token"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "<!-- layergate:default -->\n## Verdict: fail\n"
    );
    let writes = server.writes();
    assert_eq!(
        writes.len(),
        1,
        "one attempt, no retry of a permission error"
    );
    assert_eq!(state.bodies().len(), 3);
}

/// A bad token is a configuration error: exit 2, the URL and status named, the
/// token not echoed.
#[test]
fn bad_token_is_an_error_that_does_not_echo_the_token() {
    let (server, _) = github();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let wrong = "ghp_WrongButSecretValue";
    let out = comment(
        &server,
        wrong,
        &[&file, "--comment", "github", "--pr", "12"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains(wrong), "{err}");
    assert!(
        err.contains(&format!(
            "GET {}/user: HTTP 401: Bad credentials; the token is invalid or expired",
            server.url
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// A PR that does not exist (or a token that cannot see it) says so.
#[test]
fn unknown_pull_request_is_a_404_error() {
    let (server, _) = github();
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(
        &server,
        TOKEN,
        &[&file, "--comment", "github", "--pr", "99"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("/repos/acme/app/issues/99/comments?per_page=100: HTTP 404: Not Found; the repository or pull request does not exist"), "{err}");
}

/// GitHub's validation message reaches the user on a 422.
#[test]
fn validation_failure_is_reported() {
    let (server, state) = github();
    state.faults.push(
        "POST",
        LIST,
        Reply::json(
            422,
            json!({"message": "Body is too long (maximum is 65536 characters)"}),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "x\n");
    let out = comment(
        &server,
        TOKEN,
        &[&file, "--comment", "github", "--pr", "12"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("POST"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "HTTP 422: Body is too long (maximum is 65536 characters); GitHub rejected the comment"
        ),
        "{}",
        stderr(&out)
    );
}

fn args(server: &Server) -> Settings {
    Settings {
        comment: CommentMode::Github,
        pr: Some(12),
        repo: Some("acme/app".into()),
        api_url: Some(server.url.clone()),
        github_token: Some(publish::Secret::new(TOKEN)),
        ..Settings::default()
    }
}

fn publication() -> Publication {
    Publication {
        marker: layergate::Marker::new("web").unwrap(),
        markdown: "<!-- layergate:web -->\n## ❌ layergate: 1 rule failed\n".into(),
        passed: Some(false),
        headline: "1 rule failed,\n1 warning".into(),
        rules: vec!["size-growth".into(), "wasted-bytes".into()],
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
                message: "4.0 MB wasted, 100%\nnext".into(),
                path: Some("/var/cache/a,b:c".into()),
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
        report_path: Some("layergate-report.json".into()),
    }
}

/// A 429 with retry-after is waited out (not hammered) and then succeeds.
#[test]
fn rate_limit_429_is_retried_after_the_advertised_wait() {
    let (server, state) = github();
    state.faults.push(
        "POST",
        LIST,
        Reply::json(429, json!({"message": "slow down"})).with_header("retry-after", "1"),
    );
    let env = Env::from_pairs([("LAYERGATE_HTTP_BACKOFF_MS", "10")]);
    let started = Instant::now();
    let delivery = publish::deliver(&args(&server), &publication(), &env).unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(delivery.comment, CommentOutcome::Created { id: 100, .. }),
        "{delivery:?}"
    );
    let posts: Vec<_> = server.writes();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0].body, posts[1].body,
        "the retry resends the same body"
    );
    assert_eq!(state.bodies().len(), 4);
}

/// Secondary rate limits are 403s with retry-after: retried, not taken for a fork.
#[test]
fn secondary_rate_limit_403_is_retried() {
    let (server, state) = github();
    state.faults.push(
        "GET",
        LIST,
        Reply::json(
            403,
            json!({"message": "You have exceeded a secondary rate limit"}),
        )
        .with_header("retry-after", "0"),
    );
    let env = Env::from_pairs([("LAYERGATE_HTTP_BACKOFF_MS", "10")]);
    let delivery = publish::deliver(&args(&server), &publication(), &env).unwrap();
    assert!(
        matches!(delivery.comment, CommentOutcome::Created { .. }),
        "{delivery:?}"
    );
    assert!(delivery.warnings.is_empty());
    assert_eq!(state.bodies().len(), 4);
}

/// A flaky 502/503 is retried with backoff until it succeeds.
#[test]
fn server_errors_are_retried_then_succeed() {
    let (server, state) = github();
    state.faults.push(
        "GET",
        LIST,
        Reply::json(502, json!({"message": "Bad Gateway"})),
    );
    state.faults.push(
        "GET",
        LIST,
        Reply::json(503, json!({"message": "Unavailable"})),
    );
    let env = Env::from_pairs([("LAYERGATE_HTTP_BACKOFF_MS", "10")]);
    let delivery = publish::deliver(&args(&server), &publication(), &env).unwrap();
    assert!(matches!(delivery.comment, CommentOutcome::Created { .. }));
    let gets_first_page = server
        .requests()
        .iter()
        .filter(|r| r.path == format!("{LIST}?per_page=100"))
        .count();
    // Two failures, the answer, and the listing after the POST.
    assert_eq!(gets_first_page, 4);
    assert_eq!(state.bodies().len(), 4);
}

/// Retries are bounded: a server that keeps failing ends the run with one line.
#[test]
fn persistent_server_errors_give_up_after_four_attempts() {
    let (server, state) = github();
    for _ in 0..10 {
        state
            .faults
            .push("GET", LIST, Reply::json(500, json!({"message": "boom"})));
    }
    let env = Env::from_pairs([("LAYERGATE_HTTP_BACKOFF_MS", "1")]);
    let required = Settings {
        comment_required: true,
        ..args(&server)
    };
    let delivery = publish::deliver(&required, &publication(), &env).unwrap();
    let err = delivery.failure.unwrap().to_string();
    assert_eq!(
        err,
        format!(
            "GET {}{LIST}?per_page=100: gave up after 4 attempts: HTTP 500: boom",
            server.url
        )
    );
    assert_eq!(server.requests().len(), 5, "GET /user, then 4 attempts");
}

/// The library API writes outputs (heredoc for multi-line), annotations with
/// escaped data, and the summary, and reports the comment it created.
#[test]
fn deliver_writes_outputs_annotations_and_summary() {
    let (server, _) = github();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let output = dir.path().join("output");
    let env = Env::from_pairs([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ("GITHUB_OUTPUT", output.to_str().unwrap()),
    ]);
    let delivery = publish::deliver(&args(&server), &publication(), &env).unwrap();
    assert_eq!(
        delivery.annotations,
        [
            "::error title=layergate size-growth::image grew by 12.0 MB (limit 5.0 MB)",
            "::warning title=layergate wasted-bytes::4.0 MB wasted, 100%25%0Anext (/var/cache/a,b:c)",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "verdict=fail\nheadline<<LAYERGATE_EOF\n1 rule failed,\n1 warning\nLAYERGATE_EOF\nfailures=1\nwarnings=1\nsize-before=1000\nsize-after=13000\nsize-delta=12000\nreport-path=layergate-report.json\ncomment-id=100\ncomment-url=https://github.com/acme/app/pull/12#issuecomment-100\ncomment-status=created\n"
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "<!-- layergate:web -->\n## ❌ layergate: 1 rule failed\n"
    );
    assert_eq!(delivery.written, vec![summary, output]);
}

/// The job the tool exists for: `diff` posts its verdict as the sticky comment,
/// updates it on a re-run instead of adding another, writes the job summary, and
/// still exits with the policy's verdict.
#[test]
fn diff_posts_its_verdict_once_and_updates_it_on_rerun() {
    let (server, state) = github();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let base = crate::support::image("app-base.oci.tar");
    let head = crate::support::image("app-pr.oci.tar");
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.yml");
    let run = || {
        let mut cmd = bin();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GITHUB_API_URL", &server.url)
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("LAYERGATE_HTTP_BACKOFF_MS", "10")
            .args(["diff", &base, &head, "--policy", policy])
            .args(["--comment", "github", "--pr", "12", "--format", "json"]);
        cmd.output().unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert_no_token(&first);
    let verdict: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(verdict["verdict"]["passed"], false);
    let bodies = state.bodies();
    assert_eq!(bodies.len(), 4, "one comment added to the three existing");
    assert!(
        bodies[3].starts_with("❌ **layergate: image grew"),
        "{}",
        bodies[3]
    );
    assert!(bodies[3].contains("<!-- layergate:default -->"));
    assert!(bodies[3].contains("`size-growth`"));

    let second = run();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert_eq!(state.bodies().len(), 4, "the re-run updates, never adds");
    let writes = server.writes();
    assert_eq!(
        writes.iter().map(|w| w.method.as_str()).collect::<Vec<_>>(),
        ["POST", "PATCH"]
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        written.matches("layergate: image grew").count(),
        2,
        "summary appended per run"
    );
}

/// Two runs at the same moment both find no comment and both post one: the run
/// that sees an older marked comment after posting deletes its own and updates the
/// older one, so the pull request ends with exactly one comment carrying the key.
#[test]
fn racing_runs_converge_on_one_comment() {
    let (server, state) = github();
    state.racer.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let file = body_file(dir.path(), "a.md", "## Verdict\n\nthis run\n");
    let out = comment(
        &server,
        TOKEN,
        &[&file, "--comment", "github", "--pr", "12"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("comment updated"), "{}", stderr(&out));
    let marked: Vec<String> = state
        .bodies()
        .into_iter()
        .filter(|b| b.contains("<!-- layergate:default -->"))
        .collect();
    assert_eq!(
        marked,
        ["<!-- layergate:default -->\n## Verdict\n\nthis run\n"]
    );
    let writes: Vec<(String, String)> = server
        .writes()
        .iter()
        .map(|w| (w.method.clone(), w.path.clone()))
        .collect();
    assert_eq!(
        writes,
        [
            ("POST".to_string(), LIST.to_string()),
            (
                "DELETE".to_string(),
                "/repos/acme/app/issues/comments/101".to_string()
            ),
            (
                "PATCH".to_string(),
                "/repos/acme/app/issues/comments/100".to_string()
            ),
        ]
    );
}
