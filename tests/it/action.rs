//! `action.yml` end to end, run as a runner would (see `action_runner`), with the
//! cargo-built binary handed in through the `layergate-path` input and a stand-in of
//! the GitHub REST API on 127.0.0.1: an API outage never fails a passing gate (a
//! warning naming the status) unless the comment is required; a workflow_run posts
//! on the pull request it is given; analyze writes the report; a marker quoted in
//! someone else's comment is left alone.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::support::action_runner::{repo_root, Run, Runner};
use crate::support::forge::Server;
use crate::support::github_api::{self, FakeGitHub};

const REPO: &str = "acme/app";

fn github() -> (Server, Arc<FakeGitHub>) {
    github_api::start(REPO)
}

/// A pull_request run of the action for acme/app#7 against `api`, with the built
/// binary and a policy that passes with one warning (so there is an annotation).
fn pr_run(dir: &std::path::Path, api: &str) -> Runner {
    let runner = Runner::new(dir)
        .event(
            "pull_request",
            json!({"number": 7, "pull_request": {"number": 7}}),
        )
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_API_URL", api)
        .env("LAYERGATE_HTTP_BACKOFF_MS", "1");
    let policy = runner.workspace().join("policy.yml");
    std::fs::write(
        &policy,
        "version: 1\nlimits:\n  layers: {max: 0, severity: warn}\n",
    )
    .unwrap();
    let image = format!(
        "oci-archive:{}",
        repo_root().join("examples/base.oci.tar").display()
    );
    runner
        .input("layergate-path", env!("CARGO_BIN_EXE_layergate"))
        .input("base", &image)
        .input("head", &image)
        .input("policy", policy.to_str().unwrap())
}

fn all_outputs_set(run: &Run, non_empty: &[&str]) {
    for name in non_empty {
        assert!(
            !run.output(name).is_empty(),
            "output {name} is empty: {:#?}\n{}",
            run.outputs,
            run.stderr
        );
    }
}

/// The API answers 500 to everything: the gate still passes (exit 0), the failure is
/// one warning naming the status, with no backtrace, and the summary, outputs and
/// annotations are all delivered.
#[test]
fn api_outage_is_a_warning_when_the_verdict_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, gh) = github();
    gh.down.store(true, Ordering::SeqCst);
    let run = pr_run(tmp.path(), &api.url).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // layergate-path given: no binary to cache; the layer cache is restored (first
    // layergate step of the job) and saved; no HTML report to upload. Inner actions
    // are pinned by commit.
    let steps: Vec<(&str, bool)> = run.uses.iter().map(|u| (u.uses.as_str(), u.runs)).collect();
    let cache = "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830";
    let restore = "actions/cache/restore@0057852bfaa89a56745cba8c7296529d2fc39830";
    let save = "actions/cache/save@0057852bfaa89a56745cba8c7296529d2fc39830";
    let upload = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02";
    assert_eq!(
        steps,
        [
            (cache, false),
            (restore, true),
            (save, true),
            (upload, false)
        ],
        "{:?}",
        run.uses
    );
    assert!(
        run.stdout
            .contains("::warning title=layergate layer-count::"),
        "annotation missing: {}",
        run.stdout
    );
    let warning = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning title=layergate::could not post the comment"))
        .unwrap_or_else(|| panic!("no comment warning: {}", run.stdout));
    assert!(warning.contains("HTTP 500"), "{warning}");
    assert!(!run.stderr.contains("backtrace") && !run.stderr.contains("   0: "));
    assert!(
        run.summary.contains("<!-- layergate:default -->"),
        "{}",
        run.summary
    );
    assert_eq!(run.output("verdict"), "pass");
    assert_eq!(run.output("comment-status"), "failed");
    assert_eq!(run.output("comment-id"), "");
    assert_eq!(run.output("size-delta"), "0");
    assert_eq!(run.output("size-kind"), "compressed");
    all_outputs_set(
        &run,
        &[
            "headline",
            "failures",
            "warnings",
            "size-before",
            "size-after",
            "size-delta-percent",
            "report-path",
            "markdown-path",
            "version",
        ],
    );
    assert!(std::path::Path::new(run.output("report-path")).is_file());
    assert!(std::fs::read_to_string(run.output("markdown-path"))
        .unwrap()
        .contains("<!-- layergate:default -->"));
}

/// The same outage with comment-required: the step fails, on one clean line, after
/// delivering the summary, outputs and annotations.
#[test]
fn api_outage_fails_when_the_comment_is_required() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, gh) = github();
    gh.down.store(true, Ordering::SeqCst);
    let run = pr_run(tmp.path(), &api.url)
        .input("comment-required", "true")
        .run();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("could not post the comment, which is required"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(line.contains("HTTP 500"), "{line}");
    assert!(run
        .stdout
        .contains("::warning title=layergate layer-count::"));
    assert!(run.summary.contains("<!-- layergate:default -->"));
    assert_eq!(run.output("verdict"), "pass");
    assert_eq!(run.output("comment-status"), "failed");
}

/// workflow_run carries no pull request: pr-number says which one to comment on.
#[test]
fn workflow_run_comments_on_the_given_pull_request() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, gh) = github();
    let run = pr_run(tmp.path(), &api.url)
        .event(
            "workflow_run",
            json!({"workflow_run": {"id": 1, "event": "pull_request", "pull_requests": []}}),
        )
        .input("pr-number", "42")
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let on_42 = gh.comments_on(42);
    assert_eq!(on_42.len(), 1, "{on_42:?}");
    assert!(on_42[0]["body"]
        .as_str()
        .unwrap()
        .contains("<!-- layergate:default -->"));
    assert_eq!(run.output("comment-status"), "created");
    assert_eq!(run.output("comment-id"), on_42[0]["id"].to_string());
    assert!(gh.comments_on(7).is_empty());
}

/// Without a pull request and without pr-number, one line says so.
#[test]
fn push_runs_say_there_is_no_pull_request() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, gh) = github();
    let run = pr_run(tmp.path(), &api.url)
        .event("push", json!({"ref": "refs/heads/main"}))
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("No PR associated with this action run"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output("comment-status"), "none");
    assert!(gh.comments.lock().unwrap().is_empty());
}

/// analyze writes the report where asked and says where in report-path; the
/// comparison outputs exist, empty.
#[test]
fn analyze_writes_the_report_and_sets_report_path() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, _gh) = github();
    let report = tmp.path().join("out/base-report.json");
    let run = pr_run(tmp.path(), &api.url)
        .input("command", "analyze")
        .input("base", "")
        .input("head", "")
        .input(
            "image",
            &format!(
                "oci-archive:{}",
                repo_root().join("examples/base.oci.tar").display()
            ),
        )
        .input("report", report.to_str().unwrap())
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.output("report-path"), report.to_str().unwrap());
    let json: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert!(json["totals"]["layers"].as_u64().unwrap() > 0);
    assert_eq!(run.output("verdict"), "");
    assert_eq!(run.output("comment-status"), "none");

    // The saved report is a base later runs diff against.
    let run = pr_run(&tmp.path().join("second"), &api.url)
        .input("base", report.to_str().unwrap())
        .input("comment", "false")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.output("size-delta"), "0");
}

/// Someone quoting the marker in their own comment does not hijack the sticky
/// comment: theirs is left as it is, ours is created beside it and then updated.
#[test]
fn a_marker_in_another_users_comment_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, gh) = github();
    let planted = json!({
        "id": 5,
        "body": "look: <!-- layergate:default --> ha",
        "user": {"login": "mallory"},
        "html_url": "https://github.com/acme/app/pull/7#issuecomment-5",
    });
    gh.comments.lock().unwrap().push((7, planted.clone()));
    for round in 0..2 {
        let run = pr_run(&tmp.path().join(format!("r{round}")), &api.url).run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let expected = if round == 0 { "created" } else { "updated" };
        assert_eq!(run.output("comment-status"), expected);
    }
    let comments = gh.comments_on(7);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert_eq!(comments[0], planted);
    assert_eq!(comments[1]["user"]["login"], "github-actions[bot]");
}

/// The version the action installs by default is its own: a release tag ref names
/// it, any other ref (v0, a SHA) falls back to the version written in the script,
/// which must be Cargo.toml's.
#[test]
fn the_action_runs_its_own_release_by_default() {
    let script = std::fs::read_to_string(repo_root().join("scripts/action-run.sh")).unwrap();
    assert!(
        script.contains(&format!("ACTION_VERSION=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "scripts/action-run.sh ACTION_VERSION differs from Cargo.toml"
    );
    for (action_ref, input, want) in [
        ("v9.8.7", "", "9.8.7"),
        ("v0", "", env!("CARGO_PKG_VERSION")),
        (
            "0123456789abcdef0123456789abcdef01234567",
            "",
            env!("CARGO_PKG_VERSION"),
        ),
        ("v0", "1.2.3", "1.2.3"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let status = std::process::Command::new("bash")
            .arg(repo_root().join("scripts/action-run.sh"))
            .arg("resolve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("ACTION_REF", action_ref)
            .env("INPUT_VERSION", input)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE_DIR", tmp.path())
            .env("GITHUB_OUTPUT", &out)
            .status()
            .unwrap();
        assert!(status.success());
        let outputs = crate::support::action_runner::parse_file_commands(
            &std::fs::read_to_string(&out).unwrap(),
        );
        assert_eq!(outputs["version"], want, "{action_ref} {input}");
        assert_eq!(
            outputs["cache-key"],
            format!("layergate-{want}-release-x86_64-unknown-linux-musl")
        );
    }
}

/// `version: latest` would be cached under that name and never looked at again: it is
/// refused with one line saying what to do instead.
#[test]
fn version_latest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(repo_root().join("scripts/action-run.sh"))
        .arg("resolve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("INPUT_VERSION", "latest")
        .env("GITHUB_OUTPUT", tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains(
        "::error title=layergate::input 'version' must be a release X.Y.Z, not 'latest' (pin the action's ref to follow releases)"
    ));
}

/// The release refuses a tag that disagrees with the versions in the tree.
#[test]
fn release_versions_must_agree_with_the_tag() {
    let check = |tag: &str| {
        std::process::Command::new("sh")
            .arg(repo_root().join("scripts/check-release-versions.sh"))
            .arg(tag)
            .output()
            .unwrap()
    };
    let ok = check(&format!("v{}", env!("CARGO_PKG_VERSION")));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = check("v99.0.0");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the tag says 99.0.0"));
}

/// `command: cache-key` before the build: the Dockerfile's download gets its key file and
/// the COPY right before it, as the example workflow's step promises.
#[test]
fn cache_key_command_keys_the_dockerfile_downloads() {
    let tmp = tempfile::tempdir().unwrap();
    let files = crate::support::http::Server::start(|_, _| {
        crate::support::http::Reply::ok(b"tool".to_vec()).with_header("etag", "\"t1\"")
    });
    let runner = Runner::new(tmp.path());
    let workspace = runner.workspace();
    let dockerfile = workspace.join("Dockerfile");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(
        &dockerfile,
        format!("FROM busybox\nRUN wget -O /tool {}/tool\n", files.url),
    )
    .unwrap();
    let run = runner
        .input("layergate-path", env!("CARGO_BIN_EXE_layergate"))
        .input("command", "cache-key")
        .input("dockerfile", dockerfile.to_str().unwrap())
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rewritten = std::fs::read_to_string(&dockerfile).unwrap();
    let lines: Vec<&str> = rewritten.lines().collect();
    assert!(
        lines[1].starts_with("COPY .cache-keys/tool-"),
        "{rewritten}"
    );
    assert!(lines[2].starts_with("RUN wget"), "{rewritten}");
    let keys = std::fs::read_dir(workspace.join(".cache-keys"))
        .unwrap()
        .count();
    assert_eq!(keys, 1);
}

/// `command: cache-key` only makes builds cacheable: a download server that gives no
/// validator (no ETag, no Last-Modified) is a warning, and the job goes on to the
/// build and the size gate.
#[test]
fn cache_key_never_fails_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let files = crate::support::http::Server::start(|_, _| {
        crate::support::http::Reply::ok(b"tool".to_vec())
    });
    let runner = Runner::new(tmp.path());
    let dockerfile = runner.workspace().join("Dockerfile");
    std::fs::write(
        &dockerfile,
        format!("FROM busybox\nRUN wget -O /tool {}/tool\n", files.url),
    )
    .unwrap();
    let run = runner
        .input("layergate-path", env!("CARGO_BIN_EXE_layergate"))
        .input("command", "cache-key")
        .input("dockerfile", dockerfile.to_str().unwrap())
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("::warning title=layergate::cache-key could not key every download"),
        "{}",
        run.stdout
    );
}
