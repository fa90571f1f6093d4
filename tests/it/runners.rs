//! The Action and the GitLab component under real runner implementations: nektos/act
//! runs workflows that use the Action (`uses: ./`, see `support::act`) against the
//! stand-in GitHub API; gitlab-ci-local runs a merge-request pipeline that includes
//! the component (`support::gitlab_ci_local`). Each workflow here is written as a
//! project adopting layergate would write it.

use serde_json::json;

use crate::support::act::{self, Repo};
use crate::support::github_api;

const REPO: &str = "acme/app";

/// A pull-request workflow gating the example images with the project's policy and
/// echoing the Action's outputs for the test to read.
const GATE: &str = r#"
name: gate
on:
  pull_request:
  workflow_run:
    workflows: [build]
    types: [completed]
permissions: {}
jobs:
  gate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write
    steps:
      - uses: actions/checkout@v5
      - id: layergate
        uses: layergate/layergate@v0
        with:
          base: oci-archive:base.oci.tar
          head: oci-archive:pr.oci.tar
          policy: policy.yml
          pr-number: ${{ github.event.workflow_run && '42' || '' }}
      - if: always()
        env:
          VERDICT: ${{ steps.layergate.outputs.verdict }}
          STATUS: ${{ steps.layergate.outputs.comment-status }}
          DELTA: ${{ steps.layergate.outputs.size-delta }}
        run: |
          echo "verdict=$VERDICT"
          echo "comment-status=$STATUS"
          echo "size-delta=$DELTA"
"#;

/// Growth of more than 1 KB fails: the example pull request grows by 24 KB. The waste
/// limit (which passes) makes layergate read the layers, not only the manifests.
const STRICT: &str =
    "version: 1\ngrowth:\n  compressed: {max: 1KB}\nlimits:\n  wasted_bytes: {max: 1GB}\n";
/// Growth is fine; one warning so there is an annotation.
const LENIENT: &str = "version: 1\nlimits:\n  layers: {max: 0, severity: warn}\n";

fn example_repo(policy: &str) -> Repo {
    let repo = Repo::new();
    repo.copy(
        &act::repo_root().join("examples/base.oci.tar"),
        "base.oci.tar",
    )
    .copy(&act::repo_root().join("examples/pr.oci.tar"), "pr.oci.tar")
    .write("policy.yml", policy)
    .workflow("gate.yml", GATE);
    repo.commit("adopt layergate");
    repo
}

/// The per-layer progress lines of a run (`--progress`): how each layer was had.
fn layer_lines(run: &act::ActRun) -> Vec<&str> {
    run.log
        .lines()
        .filter(|l| l.contains("layergate: layer "))
        .collect()
}

/// A failing diff fails the job and posts one comment; the rerun (a new push) updates
/// that comment instead of adding one, and reads every layer from the layer cache the
/// Action restored (saved by the first run's post step, keyed per base branch).
#[test]
fn act_failing_diff_posts_one_comment_and_the_rerun_updates_it() {
    let (api, gh) = github_api::start(REPO);
    let repo = example_repo(STRICT);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let event = act::pull_request(7, &head, &head);
    let first = repo
        .act("gate.yml", "pull_request", &event, &api.url)
        .expect(1);
    assert_eq!(first.echoed("verdict"), "fail");
    assert_eq!(first.echoed("comment-status"), "created");
    assert_eq!(first.echoed("size-delta"), "24423");
    let body = gh.only_comment(7);
    assert!(body.contains("<!-- layergate:default -->"), "{body}");
    assert!(body.contains("size-growth"), "{body}");

    let cold = layer_lines(&first);
    assert!(!cold.is_empty(), "{}", first.log);
    assert!(cold.iter().all(|l| !l.contains("from cache")), "{cold:#?}");

    let second = repo
        .act("gate.yml", "pull_request", &event, &api.url)
        .expect(1);
    assert_eq!(second.echoed("comment-status"), "updated");
    assert_eq!(gh.only_comment(7), body);
    assert!(second.has("Cache restored from key: layergate-layers-v1-Linux-main-"));
    let warm = layer_lines(&second);
    assert_eq!(warm.len(), cold.len(), "{}", second.log);
    assert!(
        warm.iter().all(|l| l.contains("from cache, not read")),
        "{warm:#?}"
    );
}

/// The API answers 500 to everything: a passing gate still passes, with one warning
/// naming the status.
#[test]
fn act_api_outage_is_a_warning_when_the_gate_passes() {
    let (api, gh) = github_api::start(REPO);
    gh.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let repo = example_repo(LENIENT);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let run = repo
        .act(
            "gate.yml",
            "pull_request",
            &act::pull_request(7, &head, &head),
            &api.url,
        )
        .expect(0);
    assert_eq!(run.echoed("verdict"), "pass");
    assert_eq!(run.echoed("comment-status"), "failed");
    assert!(
        run.has("::warning title=layergate::could not post the comment (HTTP 500)"),
        "{}",
        run.log
    );
    assert!(
        !run.has("snafu"),
        "a backtrace in the warning:\n{}",
        run.log
    );
    assert!(gh.comments.lock().unwrap().is_empty());
}

/// workflow_run carries no pull request: `pr-number` says which one to comment on.
#[test]
fn act_workflow_run_comments_on_the_given_pull_request() {
    let (api, gh) = github_api::start(REPO);
    let repo = example_repo(LENIENT);
    let event = json!({
        "action": "completed",
        "workflow_run": {"id": 1, "name": "build", "event": "pull_request", "pull_requests": []},
        "repository": {"full_name": REPO},
    });
    let run = repo
        .act("gate.yml", "workflow_run", &event, &api.url)
        .expect(0);
    assert_eq!(run.echoed("comment-status"), "created");
    assert!(gh.only_comment(42).contains("<!-- layergate:default -->"));
    assert!(gh.comments_on(7).is_empty());
}

/// `comment-on: change`: a rerun with the same verdict and figures leaves the comment
/// alone (`unchanged`); `comment-on: failure` posts nothing while the gate passes.
#[test]
fn act_comment_on_change_and_failure_stay_quiet() {
    let (api, gh) = github_api::start(REPO);
    let repo = example_repo(LENIENT);
    let quiet = GATE.replace(
        "          policy: policy.yml\n",
        "          policy: policy.yml\n          comment-on: ${{ github.event.number == 8 && 'failure' || 'change' }}\n",
    );
    repo.workflow("gate.yml", &quiet);
    let head = repo.commit("quiet comments");
    let event = act::pull_request(7, &head, &head);
    let first = repo
        .act("gate.yml", "pull_request", &event, &api.url)
        .expect(0);
    assert_eq!(first.echoed("comment-status"), "created");
    let second = repo
        .act("gate.yml", "pull_request", &event, &api.url)
        .expect(0);
    assert_eq!(second.echoed("comment-status"), "unchanged");
    assert_eq!(gh.comments_on(7).len(), 1);

    let passing = repo
        .act(
            "gate.yml",
            "pull_request",
            &act::pull_request(8, &head, &head),
            &api.url,
        )
        .expect(0);
    assert_eq!(passing.echoed("comment-status"), "unchanged");
    assert!(gh.comments_on(8).is_empty());
}

/// analyze on the default branch writes the report later pull requests diff against.
#[test]
fn act_analyze_writes_a_report() {
    let (api, _gh) = github_api::start(REPO);
    let repo = example_repo(LENIENT);
    repo.workflow(
        "analyze.yml",
        r#"
name: analyze
on: {push: {branches: [main]}}
permissions: {}
jobs:
  report:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@v5
      - id: layergate
        uses: layergate/layergate@v0
        with:
          command: analyze
          image: oci-archive:base.oci.tar
          report: ${{ runner.temp }}/base-report.json
      - env:
          REPORT: ${{ steps.layergate.outputs.report-path }}
        run: |
          echo "report=$REPORT"
          echo "layers=$(jq .totals.layers "$REPORT")"
"#,
    );
    repo.commit("analyze on main");
    let run = repo
        .act(
            "analyze.yml",
            "push",
            &json!({"ref": "refs/heads/main"}),
            &api.url,
        )
        .expect(0);
    assert!(run.echoed("report").ends_with("/base-report.json"));
    assert_eq!(run.echoed("layers"), "3");
}

/// The example's Dockerfile: one layer copied from the build context, so the test
/// engine builds it offline (`FROM scratch`).
const DOCKERFILE: &str = "FROM scratch\nCOPY app.bin /app/app.bin\nCMD [\"/app/app.bin\"]\n";

/// Deterministic incompressible-ish bytes of `len`, so sizes are the same on every run.
fn app_bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// examples/github/image-gate.yml as a project adopts it, on the real test engine:
/// the pull request that adds the workflow and its policy has no base report and no
/// policy on its base commit: it passes, the comment and summary say "No base yet"
/// with the image's size and layers, and a notice says the pull request's policy
/// applies. workflow_dispatch on main then seeds the base; the next pull request run
/// diffs against it and updates the same comment. Stand-ins (support::act): buildx's
/// OCI export is the engine's classic builder + skopeo; actions/cache is a local store.
#[test]
fn act_image_gate_recipe_first_pull_request_then_seeded_base() {
    let engine = crate::support::dockerd::Dockerd::start();
    let (api, gh) = github_api::start(REPO);
    let repo = Repo::new().env("DOCKER_HOST", &engine.host());
    repo.write("Dockerfile", DOCKERFILE)
        .write("app.bin", app_bytes(40_000, 1));
    let base = repo.commit("the app");
    repo.workflow(
        "image-gate.yml",
        &std::fs::read_to_string(act::repo_root().join("examples/github/image-gate.yml")).unwrap(),
    )
    .write(
        ".layergate.yml",
        "version: 1\ngrowth:\n  compressed: {max: 1KB}\nlimits:\n  layers: {max: 5}\n",
    );
    let head = repo.commit("adopt layergate");
    let event = act::pull_request(3, &base, &head);

    let first = repo
        .act("image-gate.yml", "pull_request", &event, &api.url)
        .expect(0);
    assert!(
        first.has("::notice title=layergate::no base yet"),
        "{}",
        first.log
    );
    assert!(
        first.has(&format!("::notice title=layergate::no policy at {base}")),
        "{}",
        first.log
    );
    let body = gh.only_comment(3);
    assert!(body.contains("No base yet"), "{body}");
    assert!(body.contains("<!-- layergate:image-gate -->"), "{body}");
    assert!(first.has("verdict=pass base=missing"), "{}", first.log);
    // html: "true": the report is uploaded and the comment links the run's artifacts.
    let html = repo
        .store()
        .join("artifacts/layergate-image-gate-html/layergate-image-gate.html");
    assert!(html.is_file(), "{}", first.log);
    assert!(body.contains("/actions/runs/"), "{body}");

    // The pull request is merged; "Run workflow" on main seeds the base; the next pull
    // request grows the app and is gated against it, by the policy now on main.
    let seed = repo
        .act("image-gate.yml", "workflow_dispatch", &json!({}), &api.url)
        .expect(0);
    assert!(
        seed.has(&format!("Cache saved with key: layergate-base-{head}")),
        "{}",
        seed.log
    );
    repo.write("app.bin", app_bytes(60_000, 2));
    let grown = repo.commit("grow the app");
    let second = repo
        .act(
            "image-gate.yml",
            "pull_request",
            &act::pull_request(3, &head, &grown),
            &api.url,
        )
        .expect(1);
    assert!(second.has("verdict=fail base=present"), "{}", second.log);
    let body = gh.only_comment(3);
    assert!(!body.contains("No base yet"), "{body}");
    assert!(body.contains("size-growth"), "{body}");
}

/// A matrix of two images through the Action: each leg writes its labelled verdict
/// (`label`, no comment) and uploads it; one job merges them (`command: merge`) into
/// ONE comment with a row per image, and fails because one image failed.
#[test]
fn act_matrix_merges_two_labelled_verdicts_into_one_comment() {
    let (api, gh) = github_api::start(REPO);
    let repo = example_repo(STRICT);
    repo.workflow(
        "matrix.yml",
        r#"
name: matrix
on: pull_request
permissions: {}
jobs:
  analyse:
    runs-on: ubuntu-latest
    permissions: {contents: read}
    strategy:
      fail-fast: false
      matrix:
        image: [api, web]
    steps:
      - uses: actions/checkout@v5
      - uses: layergate/layergate@v0
        with:
          base: oci-archive:base.oci.tar
          head: oci-archive:${{ matrix.image == 'api' && 'pr' || 'base' }}.oci.tar
          policy: policy.yml
          label: ${{ matrix.image }}
          comment: "false"
          # The merge decides: a failed rule here must not stop the upload.
          warn-only: "true"
          report: verdicts/${{ matrix.image }}.json
      - uses: actions/upload-artifact@v4
        with:
          name: verdict-${{ matrix.image }}
          path: verdicts/
  merge:
    needs: analyse
    if: ${{ !cancelled() }}
    runs-on: ubuntu-latest
    permissions: {contents: read, pull-requests: write}
    steps:
      - uses: actions/download-artifact@v4
        with:
          pattern: verdict-*
          merge-multiple: true
          path: verdicts
      - id: merged
        uses: layergate/layergate@v0
        with:
          command: merge
          verdicts: verdicts/*.json
          comment-key: images
      - if: always()
        env:
          VERDICT: ${{ steps.merged.outputs.verdict }}
        run: echo "merged=$VERDICT"
"#,
    );
    repo.commit("matrix");
    let head = repo.git(&["rev-parse", "HEAD"]);
    let run = repo
        .act(
            "matrix.yml",
            "pull_request",
            &act::pull_request(9, &head, &head),
            &api.url,
        )
        .expect(1);
    assert_eq!(run.echoed("merged"), "fail");
    let body = gh.only_comment(9);
    assert!(body.contains("<!-- layergate:images -->"), "{body}");
    for label in ["api", "web"] {
        assert!(body.contains(label), "{label} missing: {body}");
    }
}

/// A merge-request pipeline that includes the component with inputs, under
/// gitlab-ci-local: the job fails because the gate fails (exit status = verdict), one
/// note lands on the merge request, and the job log says why (headline and failed
/// rules). A second pipeline updates the note and reads every layer from the layer
/// cache the component keeps with GitLab's `cache:`.
#[test]
fn gitlab_ci_local_merge_request_pipeline_runs_the_component() {
    use crate::support::gitlab_ci_local::{self, Project};
    let (api, gl) = gitlab_ci_local::start(42);
    let project = Project::new();
    project
        .copy(
            &act::repo_root().join("examples/base.oci.tar"),
            "base.oci.tar",
        )
        .copy(&act::repo_root().join("examples/pr.oci.tar"), "pr.oci.tar")
        .write("policy.yml", STRICT)
        .write(
            ".gitlab-ci.yml",
            r#"
include:
  - local: templates/layergate.yml
    inputs:
      base: oci-archive:base.oci.tar
      head: oci-archive:pr.oci.tar
      policy: policy.yml
      comment-key: image
# The shell executor runs the job on this host (see support::gitlab_ci_local).
layergate:
  image: null
"#,
        );
    project.commit();
    for round in 0..2 {
        let run = project.merge_request_pipeline(&api.url, 42, 7);
        assert_eq!(run.code, 1, "round {round}:\n{}", run.log);
        assert!(run.log.contains("FAIL 1"), "{}", run.log);
        assert!(
            run.log.contains("layergate > layergate: ❌ layergate: "),
            "no headline in the job log:\n{}",
            run.log
        );
        assert!(
            run.log
                .contains("layergate > layergate: | ❌ | `size-growth` |"),
            "no failed rule in the job log:\n{}",
            run.log
        );
        // The component's `cache:` keeps the layer cache: the second pipeline reads
        // no layer.
        if round == 1 {
            let layers: Vec<&str> = run
                .log
                .lines()
                .filter(|l| l.contains("layergate: layer "))
                .collect();
            assert!(!layers.is_empty(), "{}", run.log);
            assert!(
                layers.iter().all(|l| l.contains("from cache, not read")),
                "{layers:#?}"
            );
        }
        let notes = gl.notes_on(7);
        assert_eq!(notes.len(), 1, "{notes:#?}\n{}", run.log);
        assert!(notes[0].contains("<!-- layergate:image -->"));
    }
}

/// Builds `context` with the test engine and pushes it to `registry` as `name` (what
/// the default branch's publishing workflow would have pushed to ghcr.io).
fn publish(
    engine: &crate::support::dockerd::Dockerd,
    registry: &crate::support::registry::Registry,
    context: &std::path::Path,
    name: &str,
) {
    let out = engine
        .docker()
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", "published:base"])
        .arg(context)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = engine.dir().join("published.tar");
    engine.run(&["save", "published:base", "-o", archive.to_str().unwrap()]);
    let out = std::process::Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("docker://{}/{name}", registry.host()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// registry-base.yml, fork-gate.yml and fork-comment.yml adopted together by a
/// repository whose name has capitals (Acme/App): the base is read from the registry
/// under the lower-cased name, the fork gate comments nothing itself and its
/// workflow_run companion posts what it prepared after checking the pull request's
/// head; the two recipes' comments live side by side (distinct keys). ghcr.io is
/// replaced by a local registry (the workflows' REGISTRY variable).
#[test]
fn act_registry_base_and_fork_recipes() {
    let engine = crate::support::dockerd::Dockerd::start();
    let registry = crate::support::registry::Registry::start();
    let (api, gh) = github_api::start("Acme/App");
    let repo = Repo::named("Acme/App").env("DOCKER_HOST", &engine.host());
    repo.write("Dockerfile", DOCKERFILE)
        .write("app.bin", app_bytes(40_000, 1));
    let base = repo.commit("the app");
    publish(&engine, &registry, &repo.root, "acme/app:main");

    for name in ["registry-base.yml", "fork-gate.yml", "fork-comment.yml"] {
        let text = std::fs::read_to_string(act::repo_root().join("examples/github").join(name))
            .unwrap()
            .replace(
                "REGISTRY: ghcr.io",
                &format!("REGISTRY: {}", registry.host()),
            );
        repo.workflow(name, &text);
    }
    repo.write(".layergate.yml", STRICT)
        .write("app.bin", app_bytes(60_000, 2));
    let head = repo.commit("adopt layergate, grow the app");
    let event = act::pull_request(5, &base, &head);

    let gate = repo
        .act("registry-base.yml", "pull_request", &event, &api.url)
        .expect(1);
    assert!(
        gate.has(&format!("docker://{}/acme/app:main", registry.host())),
        "{}",
        gate.log
    );
    let body = gh.only_comment(5);
    assert!(body.contains("<!-- layergate:registry-base -->"), "{body}");
    assert!(body.contains("size-growth"), "{body}");

    let fork = repo
        .act("fork-gate.yml", "pull_request", &event, &api.url)
        .expect(1);
    assert!(
        fork.has("Artifact layergate-comment uploaded"),
        "{}",
        fork.log
    );
    assert_eq!(gh.comments_on(5).len(), 1, "the fork gate must not comment");

    gh.heads.lock().unwrap().push((5, head.clone()));
    let run = json!({
        "action": "completed",
        "workflow_run": {"id": 77, "name": "image gate (forks)", "event": "pull_request",
            "head_sha": head, "pull_requests": []},
        "repository": {"full_name": "Acme/App"},
    });
    repo.act("fork-comment.yml", "workflow_run", &run, &api.url)
        .expect(0);
    let comments = gh.comments_on(5);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert!(comments[1]["body"]
        .as_str()
        .unwrap()
        .contains("<!-- layergate:fork-gate -->"));
}

/// image-matrix.yml: "Run workflow" on main builds each service once and saves its
/// report (and the history); a pull request that grows one service gets ONE comment
/// with a row per image, and the merge fails because that image failed.
#[test]
fn act_image_matrix_recipe() {
    let engine = crate::support::dockerd::Dockerd::start();
    let (api, gh) = github_api::start(REPO);
    let repo = Repo::new().env("DOCKER_HOST", &engine.host());
    for (i, service) in ["api", "web", "worker"].into_iter().enumerate() {
        repo.write(&format!("services/{service}/Dockerfile"), DOCKERFILE)
            .write(
                &format!("services/{service}/app.bin"),
                app_bytes(20_000, i as u8),
            );
    }
    repo.workflow(
        "image-matrix.yml",
        &std::fs::read_to_string(act::repo_root().join("examples/github/image-matrix.yml"))
            .unwrap(),
    )
    .write(".layergate.yml", STRICT);
    let base = repo.commit("services and the matrix gate");
    let seed = repo
        .act(
            "image-matrix.yml",
            "workflow_dispatch",
            &json!({}),
            &api.url,
        )
        .expect(0);
    for service in ["api", "web", "worker"] {
        assert!(
            seed.has(&format!(
                "Cache saved with key: layergate-base-{service}-{base}"
            )),
            "{}",
            seed.log
        );
    }
    assert!(
        seed.has("Cache saved with key: layergate-history-"),
        "{}",
        seed.log
    );

    repo.write("services/web/app.bin", app_bytes(50_000, 9));
    let head = repo.commit("grow web");
    let run = repo
        .act(
            "image-matrix.yml",
            "pull_request",
            &act::pull_request(11, &base, &head),
            &api.url,
        )
        .expect(1);
    let body = gh.only_comment(11);
    assert!(
        body.contains("<!-- layergate:image-matrix -->"),
        "{body}\n{}",
        run.log
    );
    for service in ["api", "web", "worker"] {
        assert!(body.contains(service), "{service} missing: {body}");
    }
}

/// docs/github.md and docs/gitlab.md list every input and output, and every recipe in
/// examples/github is named there with a test in this file that runs it.
#[test]
fn docs_list_every_input_output_and_recipe_test() {
    let root = act::repo_root();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let github = read("docs/github.md");
    let action: serde_json::Value = serde_saphyr::from_str(&read("action.yml")).unwrap();
    for section in ["inputs", "outputs"] {
        for name in action[section].as_object().unwrap().keys() {
            assert!(
                github.contains(&format!("| `{name}` |")),
                "docs/github.md does not list {section}.{name}"
            );
        }
    }
    let component = read("templates/layergate.yml");
    let (spec, _) = component.split_once("\n---\n").unwrap();
    let spec: serde_json::Value = serde_saphyr::from_str(spec).unwrap();
    let gitlab = read("docs/gitlab.md");
    for name in spec["spec"]["inputs"].as_object().unwrap().keys() {
        assert!(
            gitlab.contains(&format!("| `{name}` |")),
            "docs/gitlab.md does not list input {name}"
        );
    }
    let tests = read("tests/it/runners.rs");
    for entry in std::fs::read_dir(root.join("examples/github")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let row = github
            .lines()
            .find(|l| l.contains(&format!("`{file}`")))
            .unwrap_or_else(|| panic!("docs/github.md has no row for {file}"));
        let test = row.rsplit('`').nth(1).unwrap();
        assert!(
            tests.contains(&format!("fn {test}()")),
            "{file}: no test {test} in tests/it/runners.rs"
        );
        assert!(
            tests.contains(&format!("\"{file}\""))
                || tests.contains(&format!("examples/github/{file}")),
            "{file} is not run by tests/it/runners.rs"
        );
    }
}

/// The fenced block between `<!-- readme-NAME:start -->` and `<!-- readme-NAME:end -->`
/// in README.md.
fn readme_block(name: &str) -> String {
    let readme = std::fs::read_to_string(act::repo_root().join("README.md")).unwrap();
    let start = format!("<!-- readme-{name}:start -->");
    let end = format!("<!-- readme-{name}:end -->");
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has no {start}"))
        + start.len();
    let to = readme[from..].find(&end).unwrap() + from;
    readme[from..to]
        .lines()
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's complete workflow and one-line policy, exactly as written there, on a
/// pull request that grows the image by more than 10 %: the job fails and posts one
/// comment naming the rule. Its `docker build` steps run on the test's engine with the
/// classic builder (`DOCKER_BUILDKIT=0`: BuildKit's buildx plugin is not installed here).
#[test]
fn act_readme_workflow_gates_a_pull_request() {
    let engine = crate::support::dockerd::Dockerd::start();
    let (api, gh) = github_api::start(REPO);
    let repo = Repo::new()
        .env("DOCKER_HOST", &engine.host())
        .env("DOCKER_BUILDKIT", "0");
    repo.write("Dockerfile", DOCKERFILE)
        .write("app.bin", app_bytes(40_000, 1));
    let base = repo.commit("the app");
    repo.workflow("image-size.yml", &readme_block("workflow"))
        .write(".layergate.yml", readme_block("policy"))
        .write("app.bin", app_bytes(80_000, 2));
    let head = repo.commit("adopt layergate, double the app");
    let run = repo
        .act(
            "image-size.yml",
            "pull_request",
            &act::pull_request(21, &base, &head),
            &api.url,
        )
        .expect(1);
    let body = gh.only_comment(21);
    assert!(body.contains("size-growth"), "{body}\n{}", run.log);
}
