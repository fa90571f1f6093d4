//! The CI files users copy or include keep their promises: the example workflow
//! grants write access to pull requests only in the commenting job, and the GitLab
//! template runs only in merge-request pipelines and publishes its reports.
//! (Syntax and schema are checked by actionlint and check-jsonschema in `.ci/run`.)

use std::path::Path;

use serde_json::{json, Value};

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// Least privilege: nothing by default, `pull-requests: write` only where commenting.
#[test]
fn example_workflow_grants_pull_request_writes_only_to_the_commenting_job() {
    let wf = yaml("examples/github/image-gate.yml");
    assert_eq!(wf["permissions"], json!({}));
    let jobs = wf["jobs"].as_object().unwrap();
    let writers: Vec<&String> = jobs
        .iter()
        .filter(|(_, j)| j["permissions"]["pull-requests"] == "write")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(writers, ["gate"]);
    let gate_uses: Vec<&str> = jobs["gate"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert!(gate_uses
        .iter()
        .any(|u| u.starts_with("layergate/layergate@")));
    for (name, job) in jobs {
        for (scope, level) in job["permissions"].as_object().unwrap() {
            assert!(
                level == "read" || (name == "gate" && scope == "pull-requests"),
                "{name} has {scope}: {level}"
            );
        }
    }
}

/// The template's job runs in merge-request pipelines only, in the tool's image, and
/// publishes the three reports it asks layergate to write.
#[test]
fn gitlab_template_runs_on_merge_requests_and_publishes_reports() {
    let t = yaml("ci/layergate.gitlab-ci.yml");
    let job = &t[".layergate"];
    assert_eq!(
        job["rules"],
        json!([{"if": "$CI_PIPELINE_SOURCE == \"merge_request_event\""}])
    );
    assert!(job["image"]["name"]
        .as_str()
        .unwrap()
        .starts_with("ghcr.io/layergate/layergate:"));
    let script = job["script"].as_array().unwrap()[1].as_str().unwrap();
    let reports = &job["artifacts"]["reports"];
    for (flag, kind) in [
        ("--gitlab-codequality", "codequality"),
        ("--junit", "junit"),
        ("--gitlab-metrics", "metrics"),
    ] {
        let file = reports[kind].as_str().unwrap();
        assert!(script.contains(&format!("{flag} {file}")), "{script}");
    }
    assert_eq!(t["layergate"]["extends"], ".layergate");
}
