//! `diff` and `check --platform all` on the real multi-arch test image: every
//! platform judged by every rule, one verdict and exit code, a row per platform,
//! base and head paired by os/arch/variant, a platform on one side only reported.

use crate::support::{image, run, stderr};

/// Runs a gate command with `--comment none --quiet`; returns (exit code, stdout, stderr).
fn gate(args: &[&str]) -> (i32, String, String) {
    let mut all = args.to_vec();
    all.extend(["--comment", "none", "--quiet"]);
    let o = run(&all);
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout.clone()).unwrap(),
        stderr(&o),
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The multi-arch image against itself: both platforms paired and compared, each
/// row unchanged, one passing verdict; the JSON carries each platform's verdict
/// and comparison.
#[test]
fn diff_platform_all_compares_every_platform_of_the_multiarch_image() {
    let multi = image("multiarch.oci.tar");
    let (code, json, err) = gate(&[
        "diff",
        &multi,
        &multi,
        "--platform",
        "all",
        "--policy",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let platforms: Vec<&str> = j["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    for p in j["platforms"].as_array().unwrap() {
        // expected/multiarch.json: 65 536 + 65 536 file bytes on each platform.
        assert_eq!(
            p["comparison"]["totals"]["uncompressed"]["after"], 131_072,
            "{p}"
        );
        assert_eq!(p["comparison"]["totals"]["uncompressed"]["delta"], 0);
        assert_eq!(p["verdict"]["passed"], true);
    }
    assert_eq!(j["only_base"], serde_json::json!([]));
    assert_eq!(j["only_head"], serde_json::json!([]));
    assert_eq!(j["verdict"]["passed"], true);
    assert_eq!(
        j["verdict"]["headline"],
        "2 platforms, all passed; total 0 B (+0.0 %)"
    );

    let (code, md, err) = gate(&[
        "diff",
        &multi,
        &multi,
        "--platform",
        "all",
        "--policy",
        "none",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        md.starts_with("✅ **layergate: 2 platforms, all passed; total 0 B \\(+0.0 %\\)**"),
        "{md}"
    );
    for row in [
        "| ✅ | linux/amd64 | 66.0 KiB | 66.0 KiB | 0 B (+0.0 %) | ⚪ |  |  |",
        "| ✅ | linux/arm64 | 66.0 KiB | 66.0 KiB | 0 B (+0.0 %) | ⚪ |  |  |",
    ] {
        assert_eq!(md.matches(row).count(), 1, "{row}\n{md}");
    }
    assert_eq!(md.matches("<!-- layergate:").count(), 1, "one marker only");
}

/// A single-platform base (app-base, linux/amd64) against the multi-arch head: amd64
/// is compared, arm64 is only in the head and checked alone; the other way round
/// arm64 is only in the base and reported.
#[test]
fn diff_platform_all_pairs_by_platform_and_reports_one_sided_ones() {
    let (multi, single) = (image("multiarch.oci.tar"), image("app-base.oci.tar"));
    let (code, md, err) = gate(&[
        "diff",
        &single,
        &multi,
        "--platform",
        "all",
        "--policy",
        "none",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        md.contains("| ✅ | linux/amd64 | 1.4 MiB | 66.0 KiB | -1.4 MiB (-95.4 %) | 🟢 |  |  |"),
        "{md}"
    );
    assert!(
        md.contains("| ✅ | linux/arm64 | — | 66.0 KiB | — |  |  |  |"),
        "{md}"
    );
    assert!(md.contains("➕ linux/arm64: only in the head."), "{md}");

    let (code, json, err) = gate(&[
        "diff",
        &multi,
        &single,
        "--platform",
        "all",
        "--policy",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["platforms"].as_array().unwrap().len(), 1);
    assert_eq!(j["platforms"][0]["platform"], "linux/amd64");
    assert_eq!(j["only_base"], serde_json::json!(["linux/arm64"]));
    assert_eq!(j["only_head"], serde_json::json!([]));
}

/// Every rule runs on every platform and the verdict is the worst of them: a
/// size limit both platforms cross fails twice, exit 1 (0 with --warn-only); the
/// findings name their platform.
#[test]
fn check_platform_all_judges_every_platform_with_one_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "p.yml", "limits:\n  compressed_size: 10KB\n");
    let multi = image("multiarch.oci.tar");
    let args = [
        "check",
        multi.as_str(),
        "--platform",
        "all",
        "--policy",
        policy.as_str(),
        "--format",
        "json",
    ];
    let (code, json, err) = gate(&args);
    assert_eq!(code, 1, "{err}");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["verdict"]["failed"], 2);
    let findings: Vec<(&str, &str)> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let message = f["message"].as_str().unwrap();
            (
                f["code"].as_str().unwrap(),
                &message[..message.find(':').unwrap()],
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            ("compressed-size", "linux/amd64"),
            ("compressed-size", "linux/arm64")
        ]
    );
    // Checked alone: each platform's image and totals, no comparison.
    assert_eq!(j["platforms"][1]["totals"]["layers"], 2);
    assert!(j["platforms"][1].get("comparison").is_none());

    let mut warn_only = args.to_vec();
    warn_only.push("--warn-only");
    let (code, _, err) = gate(&warn_only);
    assert_eq!(code, 0, "{err}");
}

/// The HTML report draws one image: asked of every platform it is one clear line
/// and exit 2, before anything is read. Standard input can be read once, so its
/// platforms cannot be listed and then read: one line too.
#[test]
fn platform_all_refuses_the_one_image_outputs() {
    let multi = image("multiarch.oci.tar");
    let (code, _, err) = gate(&["check", &multi, "--platform", "all", "--format", "html"]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        "layergate: --platform all: --format html shows one platform; give --platform OS/ARCH[/VARIANT]"
    );
    let o = crate::support::bin()
        .args([
            "check",
            "-",
            "--platform",
            "all",
            "--comment",
            "none",
            "--quiet",
        ])
        .output_with_stdin(std::fs::read(&multi).unwrap())
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("standard input can be read only once"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

/// A `--platform all` verdict written for a CI matrix (`--label`) merges as a row
/// per platform, labelled with it, beside an ordinary verdict.
#[test]
fn platform_all_verdict_merges_as_a_row_per_platform() {
    let dir = tempfile::tempdir().unwrap();
    let (multi_json, app_json) = (dir.path().join("multi.json"), dir.path().join("app.json"));
    let multi = image("multiarch.oci.tar");
    let (code, _, err) = gate(&[
        "diff",
        &multi,
        &multi,
        "--platform",
        "all",
        "--policy",
        "none",
        "--label",
        "multi",
        "--format",
        "json",
        "--output",
        multi_json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = gate(&[
        "check",
        &image("app-pr.oci.tar"),
        "--policy",
        "none",
        "--label",
        "app",
        "--format",
        "json",
        "--output",
        app_json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let o = run(&[
        "merge",
        multi_json.to_str().unwrap(),
        app_json.to_str().unwrap(),
        "--format",
        "json",
        "--comment",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows: Vec<(&str, &str)> = j["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["label"].as_str().unwrap(), i["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [
            ("multi (linux/amd64)", "diff"),
            ("multi (linux/arm64)", "diff"),
            ("app", "check")
        ]
    );
}
