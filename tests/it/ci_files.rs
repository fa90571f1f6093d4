//! The CI files users copy or include keep their promises: the example workflow
//! grants write access to pull requests only in the commenting job, and the GitLab
//! component runs only in merge-request pipelines, publishes its reports and hands
//! layergate the job's registry credentials.
//! (Syntax and schema are checked by actionlint and check-jsonschema in `.ci/run`.)

use std::path::Path;

use serde_json::{json, Value};

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// Least privilege in every example: nothing by default, `pull-requests: write` only
/// in jobs that run the action, and no `pull_request_target` (it would run a fork's
/// code with a write token).
#[test]
fn example_workflows_grant_pull_request_writes_only_to_commenting_jobs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let name = file.display().to_string();
        let wf = yaml(&format!(
            "examples/github/{}",
            file.file_name().unwrap().to_str().unwrap()
        ));
        assert_eq!(wf["permissions"], json!({}), "{name}");
        assert!(wf["on"].get("pull_request_target").is_none(), "{name}");
        for (job_name, job) in wf["jobs"].as_object().unwrap() {
            // A job comments through the action, or by running the binary's own
            // commenting commands (the matrix recipe's `merge --comment`).
            let steps = job["steps"].as_array().unwrap();
            let uses_action = steps
                .iter()
                .filter_map(|s| s["uses"].as_str())
                .any(|u| u.starts_with("layergate/layergate@"))
                || steps.iter().filter_map(|s| s["run"].as_str()).any(|r| {
                    (r.contains("layergate merge") && r.contains("--comment "))
                        || r.contains("layergate comment ")
                });
            for (scope, level) in job["permissions"].as_object().unwrap() {
                assert!(
                    level == "read" || (scope == "pull-requests" && uses_action),
                    "{name}: {job_name} has {scope}: {level}"
                );
            }
        }
    }
}

/// The component's two documents: the `spec:` header and the jobs.
fn component() -> (Value, Value) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/layergate.yml"),
    )
    .unwrap();
    let (spec, jobs) = text.split_once("\n---\n").expect("spec header, ---, jobs");
    (
        serde_saphyr::from_str(spec).unwrap(),
        serde_saphyr::from_str(jobs).unwrap(),
    )
}

/// `$[[ inputs.NAME ]]` replaced by `given` or the input's default, as GitLab does
/// when the component is included.
fn interpolate(text: &str, spec: &Value, given: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("$[[") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("]]").unwrap() + start;
        let expr = rest[start + 3..end].trim();
        let name = expr
            .strip_prefix("inputs.")
            .expect("only inputs are interpolated");
        let input = &spec["spec"]["inputs"][name];
        assert!(!input.is_null(), "undeclared input {name}");
        let value = match given.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => v.to_string(),
            None => match &input["default"] {
                Value::String(s) => s.clone(),
                Value::Null => panic!("input {name} has no default and was not given"),
                other => other.to_string(),
            },
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The component's job runs in merge-request pipelines only, in the image of its
/// own release (the version in Cargo.toml, so the include ref and the image cannot
/// drift), and publishes the three reports it asks layergate to write.
#[test]
fn gitlab_component_runs_on_merge_requests_with_its_own_release() {
    let (spec, jobs) = component();
    let image = spec["spec"]["inputs"]["image"]["default"].as_str().unwrap();
    assert_eq!(
        image,
        format!("ghcr.io/layergate/layergate:{}", env!("CARGO_PKG_VERSION"))
    );
    let job = &jobs["$[[ inputs.job-name ]]"];
    assert_eq!(
        job["rules"],
        json!([{"if": "$CI_PIPELINE_SOURCE == \"merge_request_event\""}])
    );
    assert_eq!(job["image"]["name"], "$[[ inputs.image ]]");
    let script = job["script"].as_array().unwrap()[0].as_str().unwrap();
    let reports = &job["artifacts"]["reports"];
    for (flag, kind) in [
        ("--gitlab-codequality", "codequality"),
        ("--junit", "junit"),
        ("--gitlab-metrics", "metrics"),
    ] {
        let file = reports[kind].as_str().unwrap();
        assert!(script.contains(&format!("{flag} {file}")), "{script}");
    }
}

/// Runs the component's job script as GitLab would (its variables expanded, the
/// inputs `given` interpolated) with a stand-in `layergate` that records its
/// arguments, Docker config and environment under `RECORD.*`; returns the folder
/// and the record's stem.
fn run_component(given: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let (spec, jobs) = component();
    let job = &jobs["$[[ inputs.job-name ]]"];
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = tmp.path().join("record");
    std::fs::write(
        bin.join("layergate"),
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$RECORD.args\"\ncat \"$DOCKER_CONFIG/config.json\" > \"$RECORD.config\"\nenv > \"$RECORD.env\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        bin.join("layergate"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let mut script = String::new();
    for (k, v) in job["variables"].as_object().unwrap() {
        let v = interpolate(v.as_str().unwrap(), &spec, given);
        script.push_str(&format!("{k}=\"{v}\"; export {k}\n"));
    }
    for line in job["script"].as_array().unwrap() {
        script.push_str(&interpolate(line.as_str().unwrap(), &spec, given));
        script.push('\n');
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("RECORD", &record)
        .env("CI_PIPELINE_SOURCE", "merge_request_event")
        .env("CI_MERGE_REQUEST_IID", "17")
        .env("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main")
        .env("CI_REGISTRY", "registry.example.com")
        .env("CI_REGISTRY_IMAGE", "registry.example.com/acme/app")
        .env("CI_REGISTRY_USER", "gitlab-ci-token")
        .env("CI_REGISTRY_PASSWORD", "glcbt-JobT0ken")
        .env("CI_JOB_TOKEN", "glcbt-JobT0ken")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (tmp, record)
}

/// The job's script, run under `sh` with a merge-request pipeline's variables (the
/// job's variables expanded as GitLab expands them), hands layergate the job's own
/// registry credentials, for CI_REGISTRY only, and the inputs as flags.
#[test]
fn gitlab_component_passes_the_job_registry_credentials() {
    let given = [
        (
            "base",
            "docker://$CI_REGISTRY_IMAGE:$CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
        ),
        (
            "head",
            "docker://$CI_REGISTRY_IMAGE:mr-$CI_MERGE_REQUEST_IID",
        ),
        ("warn-only", "true"),
    ];
    let (_tmp, record) = run_component(&given);
    let args = std::fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(
        args.starts_with("diff\ndocker://registry.example.com/acme/app:main\ndocker://registry.example.com/acme/app:mr-17\n--warn-only\n--comment\nauto\n"),
        "{args}"
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(record.with_extension("config")).unwrap())
            .unwrap();
    let auths = config["auths"].as_object().unwrap();
    assert_eq!(auths.len(), 1, "credentials for CI_REGISTRY only: {config}");
    let auth = auths["registry.example.com"]["auth"].as_str().unwrap();
    let decoded = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' '{auth}' | base64 -d"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded.stdout).unwrap(),
        "gitlab-ci-token:glcbt-JobT0ken"
    );
    // Not the process-wide variables, which layergate would send to every registry.
    let env = std::fs::read_to_string(record.with_extension("env")).unwrap();
    assert!(!env.contains("LAYERGATE_REGISTRY_PASSWORD="), "{env}");
}

/// The recipes can be adopted side by side: no two workflows share a concurrency
/// group prefix (one would cancel the other's runs) or a comment key (two verdicts
/// would rewrite one comment), and every image name read from a registry is built
/// lower-cased (`${GITHUB_REPOSITORY,,}`) by a job that may read packages.
#[test]
fn example_workflows_can_be_adopted_together() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github");
    let mut groups = std::collections::BTreeMap::new();
    let mut keys = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let text = std::fs::read_to_string(dir.join(&file)).unwrap();
        let wf = yaml(&format!("examples/github/{file}"));
        if let Some(group) = wf["concurrency"]["group"].as_str() {
            let prefix = group.split("${{").next().unwrap().to_string();
            if let Some(other) = groups.insert(prefix.clone(), file.clone()) {
                panic!("{file} and {other} share the concurrency group {prefix}");
            }
        }
        for job in wf["jobs"].as_object().unwrap().values() {
            for step in job["steps"].as_array().unwrap() {
                if let Some(key) = step["with"]["comment-key"].as_str() {
                    let key_file = keys.entry(key.to_string()).or_insert(file.clone());
                    // fork-gate.yml prepares what fork-comment.yml posts: one comment.
                    let pair = ["fork-comment.yml", "fork-gate.yml"];
                    assert!(
                        *key_file == file
                            || (pair.contains(&key_file.as_str()) && pair.contains(&file.as_str())),
                        "{file} and {key_file} share the comment key {key}"
                    );
                }
            }
            if text.contains("docker://") {
                assert!(
                    text.contains("${GITHUB_REPOSITORY,,}"),
                    "{file}: image name not lower-cased"
                );
                if job["steps"].to_string().contains("registry-password") {
                    assert_eq!(job["permissions"]["packages"], "read", "{file}");
                }
            }
        }
    }
    assert!(groups.len() >= 4, "{groups:?}");
}

/// `platform: all` reaches the gate as `--platform all`, and the HTML report, which
/// draws one image, is not asked for then (it would be refused); one platform keeps it.
#[test]
fn gitlab_component_gates_every_platform_without_the_html_report() {
    let base = ("base", "docker://$CI_REGISTRY_IMAGE:main");
    let head = (
        "head",
        "docker://$CI_REGISTRY_IMAGE:mr-$CI_MERGE_REQUEST_IID",
    );
    let (_tmp, record) = run_component(&[base, head, ("platform", "all")]);
    let args = std::fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(args.contains("\n--platform\nall\n"), "{args}");
    assert!(!args.contains("--html\n"), "{args}");
    let (_tmp, record) = run_component(&[base, head, ("platform", "linux/arm64")]);
    let args = std::fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(args.contains("\n--platform\nlinux/arm64\n"), "{args}");
    assert!(args.contains("\n--html\nlayergate-report.html\n"), "{args}");
}

/// The component's `dockerfile` input: the note's "Fix it" section, from that file
/// (`--dockerfile`); without it, no such flag.
#[test]
fn gitlab_component_passes_the_dockerfile_for_the_fix_section() {
    let head = (
        "head",
        "docker://$CI_REGISTRY_IMAGE:mr-$CI_MERGE_REQUEST_IID",
    );
    let (_tmp, record) =
        run_component(&[head, ("command", "check"), ("dockerfile", "app/Dockerfile")]);
    let args = std::fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(
        args.starts_with("check\ndocker://registry.example.com/acme/app:mr-17\n--dockerfile\napp/Dockerfile\n--comment\nauto\n"),
        "{args}"
    );
    let (_tmp, record) = run_component(&[head, ("command", "check")]);
    let args = std::fs::read_to_string(record.with_extension("args")).unwrap();
    assert!(!args.contains("--dockerfile"), "{args}");
}
