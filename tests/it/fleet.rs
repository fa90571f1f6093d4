//! `merge` and `history` at the public surface: verdicts written by real `diff`
//! and `check` runs over the real test images become one comment with the worst
//! exit code; a history of records becomes a trend chart and a drift finding.

use std::path::{Path, PathBuf};

use crate::support::{image, run, stderr};

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs a gate command writing its JSON verdict to `out`; returns its exit code.
fn verdict(args: &[&str], out: &Path) -> i32 {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--format", "json", "--output", path_str(out)]);
    let o = run(&all);
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 1, "{args:?}: {}", stderr(&o));
    code
}

/// Three real runs: `api` passes, `web` warns, `worker` fails.
fn three_verdicts(dir: &Path) -> Vec<PathBuf> {
    let base = image("app-base.oci.tar");
    let pr = image("app-pr.oci.tar");
    let warn = write(
        dir,
        "warn.yml",
        "growth:\n  compressed:\n    max_percent: 1%\n    severity: warn\n",
    );
    let fail = write(dir, "fail.yml", "limits:\n  compressed_size: 100KB\n");
    let (api, web, worker) = (
        dir.join("api.json"),
        dir.join("web.json"),
        dir.join("worker.json"),
    );
    assert_eq!(verdict(&["diff", &base, &pr, "--label", "api"], &api), 0);
    let w = [
        "diff",
        &base,
        &pr,
        "--label",
        "web",
        "--policy",
        path_str(&warn),
    ];
    assert_eq!(verdict(&w, &web), 0);
    let f = [
        "check",
        &pr,
        "--label",
        "worker",
        "--policy",
        path_str(&fail),
    ];
    assert_eq!(verdict(&f, &worker), 1);
    vec![api, web, worker]
}

fn merge(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["merge"];
    all.extend_from_slice(args);
    all.extend(["--comment", "none"]);
    let o = run(&all);
    (
        o.status.code().unwrap(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr(&o),
    )
}

fn table_rows(md: &str) -> Vec<&str> {
    md.lines()
        .take_while(|l| !l.starts_with("Sizes are compressed"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| | image"))
        .collect()
}

/// One comment for a matrix: a row per image, a total, each image's details
/// collapsed, one marker, and the worst verdict as the exit code.
#[test]
fn merge_of_pass_warn_fail_is_one_comment_with_the_worst_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let v = three_verdicts(dir.path());
    let files: Vec<&str> = v.iter().map(|p| path_str(p)).collect();
    let mut args = files.clone();
    args.extend(["--format", "markdown"]);
    let (code, md, err) = merge(&args);
    assert_eq!(code, 1, "{err}");
    let rows = table_rows(&md);
    assert_eq!(rows.len(), 4, "{md}");
    assert_eq!(
        rows,
        [
            "| ✅ | api | 1.4 MiB | 2.6 MiB | +1.2 MiB (+84.1 %) | 🔴 |  |  |",
            "| ⚠️ | web | 1.4 MiB | 2.6 MiB | +1.2 MiB (+84.1 %) | 🔴 |  | size-growth |",
            "| ❌ | worker | — | 2.6 MiB | — |  | compressed-size |  |",
            "| ❌ | **total** | **—** | **7.8 MiB** | **—** |  | | |",
        ]
    );
    assert!(
        md.starts_with("❌ **layergate: 3 images, 1 failed, 1 with warnings**"),
        "{md}"
    );
    assert_eq!(md.matches("<!-- layergate:").count(), 1, "one marker only");
    for summary in [
        "<details><summary>✅ api: image grew 1.2 MiB (+84.1 %) — all rules passed</summary>",
        "<details><summary>⚠️ web: image grew 1.2 MiB (+84.1 %) — 1 warning</summary>",
    ] {
        assert_eq!(md.matches(summary).count(), 1, "{summary}");
    }
    assert!(md.contains(
        "<details><summary>❌ worker: image is 2.6 MiB compressed, 6 layers — 1 rule failed</summary>"
    ));

    // Text and JSON say the same; --warn-only exits 0.
    let mut args = files.clone();
    args.extend(["--format", "json", "--warn-only"]);
    let (code, json, _) = merge(&args);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["verdict"]["passed"], false);
    assert_eq!(j["verdict"]["failed"], 1);
    assert_eq!(j["verdict"]["warned"], 1);
    let labels: Vec<&str> = j["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["api", "web", "worker"]);
    assert_eq!(j["images"][2]["compressed_before"], serde_json::Value::Null);
    assert_eq!(j["total_compressed"]["before"], serde_json::Value::Null);

    // Two diffs only: the total is measured on both sides.
    let (code, text, _) = merge(&[files[0], files[1], "--format", "text"]);
    assert_eq!(code, 0);
    let total = text.lines().find(|l| l.starts_with("total")).unwrap();
    assert_eq!(
        total.split_whitespace().collect::<Vec<_>>().join(" "),
        "total 2.8 MiB 5.2 MiB +2.4 MiB (+84.1 %) warn size-growth"
    );
    // The exact bytes: 2 × 1 485 074 before, 2 × 2 733 728 after.
    let (_, json, _) = merge(&[files[0], files[1], "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["total_compressed"]["before"], 2 * 1_485_074);
    assert_eq!(j["total_compressed"]["after"], 2 * 2_733_728);
}

/// A matrix job that forgot `--label`, two jobs with one label, a verdict of
/// another layergate: one clear line each, exit 2.
#[test]
fn merge_refuses_missing_duplicate_and_foreign_labels() {
    let dir = tempfile::tempdir().unwrap();
    let base = image("app-base.oci.tar");
    let pr = image("app-pr.oci.tar");
    let unlabelled = dir.path().join("x.json");
    verdict(&["diff", &base, &pr], &unlabelled);
    let (code, _, err) = merge(&[path_str(&unlabelled)]);
    assert_eq!(code, 2);
    assert!(err.contains("x.json: no label"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let a = dir.path().join("a.json");
    verdict(&["diff", &base, &pr, "--label", "api"], &a);
    let (code, _, err) = merge(&[path_str(&a), path_str(&a)]);
    assert_eq!(code, 2);
    assert!(err.contains("label `api` is given twice"), "{err}");

    let text = std::fs::read_to_string(&a).unwrap();
    let ours = format!("\"layergate\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&ours));
    let old = write(
        dir.path(),
        "old.json",
        &text.replace(&ours, "\"layergate\": \"0.0.9\""),
    );
    let (code, _, err) = merge(&[path_str(&old)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("old.json: written by layergate 0.0.9"),
        "{err}"
    );

    let report = dir.path().join("report.json");
    let o = run(&[
        "analyze",
        &pr,
        "--format",
        "json",
        "--output",
        path_str(&report),
    ]);
    assert!(o.status.success());
    let (code, _, err) = merge(&[path_str(&report)]);
    assert_eq!(code, 2);
    assert!(err.contains("not a diff/check verdict"), "{err}");
}

fn append(history: &Path, verdicts: &[&Path], commit: &str, git_ref: &str, extra: &[&str]) {
    let mut args = vec!["history", "append", path_str(history)];
    args.extend(verdicts.iter().map(|p| path_str(p)));
    args.extend([
        "--commit",
        commit,
        "--ref",
        git_ref,
        "--time",
        "2026-12-01T12:00:00Z",
    ]);
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Writes a hand-made check verdict of `label` at `compressed` bytes, by editing a
/// real one (so the format is the binary's own).
fn sized_verdict(real: &Path, dir: &Path, label: &str, compressed: u64) -> PathBuf {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(real).unwrap()).unwrap();
    v["label"] = label.into();
    v["totals"]["compressed_bytes"] = compressed.into();
    let p = dir.join(format!("{label}-{compressed}.json"));
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
    p
}

/// Ten merges to main, each a little larger than the one before, then a pull
/// request: the chart shows the last records plus the PR (snapshot), the drift
/// line sums it up, and `growth.since` fails what no single step crossed.
#[test]
fn history_trend_chart_and_drift_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pr = image("app-pr.oci.tar");
    let real = d.join("real.json");
    verdict(&["check", &pr, "--label", "api"], &real);
    let history = d.join("history.jsonl");
    std::fs::write(&history, "not ours\n").unwrap();
    for i in 0..10u64 {
        let v = sized_verdict(&real, d, "api", 10_000_000 + i * 200_000);
        append(&history, &[&v], &format!("{i:02}abcdef0123"), "main", &[]);
        // A feature branch's record is not part of the base trend.
        append(&history, &[&v], "feature0", "feature", &[]);
    }
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(
        text.starts_with("not ours\n"),
        "a foreign line is never rewritten away"
    );
    assert_eq!(text.lines().count(), 21);

    let now = sized_verdict(&real, d, "api", 12_200_000);
    let policy = write(
        d,
        "drift.yml",
        "growth:\n  since:\n    records: 8\n    max_percent: 15%\n",
    );
    let (code, md, err) = merge(&[
        path_str(&now),
        "--history",
        path_str(&history),
        "--base-ref",
        "main",
        "--trend",
        "5",
        "--policy",
        path_str(&policy),
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("history.jsonl:1: not JSON; line skipped"),
        "{err}"
    );
    let trend: String = md
        .split("#### Failed rules")
        .nth(1)
        .unwrap()
        .split("<details>")
        .next()
        .unwrap()
        .to_string();
    insta::assert_snapshot!("history_trend", trend);
    assert!(
        md.contains("line [10.49, 10.68, 10.87, 11.06, 11.25, 11.63]"),
        "{md}"
    );
    assert!(md.contains("`size-drift`"));

    // --keep bounds each series; the foreign line stays.
    let v = sized_verdict(&real, d, "api", 12_000_000);
    append(&history, &[&v], "last", "main", &["--keep", "3"]);
    let text = std::fs::read_to_string(&history).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Three records of the series (any branch), newest last.
    assert_eq!(lines.len(), 1 + 3, "{text}");
    assert!(lines[3].contains("\"commit\":\"last\""), "{text}");
    assert_eq!(lines[0], "not ours");
}

/// Parallel jobs appending to one file lose no record.
#[test]
fn parallel_history_appends_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let real = d.join("real.json");
    verdict(
        &["check", &image("app-base.oci.tar"), "--label", "base"],
        &real,
    );
    let history = d.join("h.jsonl");
    // Six appends at once, each run checked (exit 0, no panic).
    std::thread::scope(|scope| {
        for i in 0..6 {
            let (history, real) = (&history, &real);
            scope.spawn(move || {
                crate::support::bin()
                    .args(["history", "append", path_str(history), path_str(real)])
                    .args([
                        "--commit",
                        &format!("c{i}"),
                        "--ref",
                        "main",
                        "--keep",
                        "100",
                    ])
                    .code(0);
            });
        }
    });
    let text = std::fs::read_to_string(&history).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
}

/// One platform of a multi-arch app: a base layer all platforms share (the same
/// blob), and an app layer of `bytes` bytes.
fn platform_image(arch: &str, variant: Option<&str>, bytes: usize) -> layergate_testkit::Image {
    use layergate_testkit::{Compression, Entry, ImageBuilder};
    let base = crate::support::fixtures::layer(
        &[Entry::file("etc/os-release", b"ID=test\n")],
        Compression::Gzip,
    );
    // Incompressible, so compressed sizes follow `bytes`.
    let mut state = 0x2545_f491_u32 ^ bytes as u32;
    let content: Vec<u8> = (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let app = crate::support::fixtures::layer(
        &[Entry::file(format!("app/{arch}"), content)],
        Compression::Gzip,
    );
    ImageBuilder::new("multi:1")
        .layer(base, "ADD base.tar /")
        .layer(app, "COPY app /app")
        .platform("linux", arch, variant)
        .build()
        .unwrap()
}

fn multiarch_archive(dir: &Path, name: &str, images: &[&layergate_testkit::Image]) -> String {
    use layergate_testkit::{IndexStyle, Layout};
    let path = crate::support::fixtures::write(&dir.join(name), |f| {
        Layout::new()
            .index(images, Some("multi:1"), IndexStyle::Nested)
            .write_tar(f)
    });
    format!("oci-archive:{path}")
}

/// `platforms` analyses every platform of an index: totals per platform, the
/// largest/smallest ratio and its rule, the layer that differs most, the shared
/// base blob read once; against a base, platforms pair by os/arch/variant and a
/// platform on one side only is reported.
#[test]
fn platforms_all_gives_parity_figures_and_pairs_with_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let amd = platform_image("amd64", None, 300_000);
    let arm = platform_image("arm64", Some("v8"), 100_000);
    let s390 = platform_image("s390x", None, 50_000);
    let head = multiarch_archive(d, "head.tar", &[&amd, &arm]);
    let base = multiarch_archive(d, "base.tar", &[&arm, &s390]);
    let policy = write(d, "p.yml", "platforms:\n  max_ratio: 2\n");

    let o = run(&[
        "platforms",
        &head,
        "--policy",
        path_str(&policy),
        "--format",
        "json",
        "--comment",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = j["platforms"].as_array().unwrap();
    let names: Vec<&str> = p.iter().map(|p| p["platform"].as_str().unwrap()).collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64/v8"]);
    let uncompressed: Vec<u64> = p
        .iter()
        .map(|p| p["uncompressed_bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(uncompressed, [300_008, 100_008]);
    let ratio = j["ratio"].as_f64().unwrap();
    assert!((2.9..3.1).contains(&ratio), "{ratio}");
    assert_eq!(j["findings"][0]["code"], "platform-ratio");
    assert_eq!(j["layer_gaps"][0]["index"], 1);
    assert_eq!(
        j["layer_gaps"][0]["bytes"],
        serde_json::json!([300_000, 100_000])
    );
    // The base layer is one blob for both platforms: 3 distinct in 4 layers.
    assert_eq!(j["distinct_blobs"], 3);
    assert_eq!(j["layers"], 4);

    let o = run(&[
        "platforms",
        &head,
        "--base",
        &base,
        "--format",
        "markdown",
        "--comment",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(
        md.contains("| linux/arm64/v8 | 98.0 KiB | 97.7 KiB | 2 | 98.0 KiB | 0 B (+0.0 %) | ⚪ |"),
        "{md}"
    );
    assert!(
        md.contains("| linux/amd64 | 293.3 KiB | 293.0 KiB | 2 | — | — |  |"),
        "{md}"
    );
    assert!(md.contains("➖ linux/s390x: only in the base."), "{md}");
    assert!(md.contains("➕ linux/amd64: only in the head."), "{md}");
}

/// The real multi-arch test image (buildah, linux/amd64 and linux/arm64).
#[test]
fn platforms_all_on_the_real_multiarch_image() {
    let o = run(&[
        "platforms",
        &image("multiarch.oci.tar"),
        "--format",
        "json",
        "--comment",
        "none",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = j["platforms"].as_array().unwrap();
    let rows: Vec<(&str, u64, u64)> = p
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap(),
                p["uncompressed_bytes"].as_u64().unwrap(),
                p["layers"].as_u64().unwrap(),
            )
        })
        .collect();
    // expected/multiarch.json: two layers of 65 536 file bytes each.
    assert_eq!(
        rows,
        [("linux/amd64", 131_072, 2), ("linux/arm64", 131_072, 2)]
    );
    assert_eq!(j["layer_gaps"], serde_json::json!([]));
    let ratio = j["ratio"].as_f64().unwrap();
    assert!((0.99..1.01).contains(&ratio), "{ratio}");
    // One-platform request from a list; a platform the image lacks is an error.
    let o = run(&[
        "platforms",
        &image("multiarch.oci.tar"),
        "--platform",
        "linux/s390x",
        "--comment",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no image for platform linux/s390x; present: linux/amd64, linux/arm64"),
        "{}",
        stderr(&o)
    );
}

/// The test case names of a JUnit report, in order.
fn junit_cases(xml: &str) -> Vec<String> {
    xml.split("<testcase ")
        .skip(1)
        .map(|c| {
            let name = c.split(" name=\"").nth(1).unwrap();
            name[..name.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The failures a JUnit report counts (its `<testsuites>` line).
fn junit_failures(xml: &str) -> &str {
    let rest = xml.split("failures=\"").nth(1).unwrap();
    &rest[..rest.find('"').unwrap()]
}

/// A merge's JUnit report is one test case per rule the matrix evaluated, the ones
/// that passed included (a JUnit consumer counts them): the policy's rules and the
/// drift rule the history judged, not only those that fired. Its metrics carry the
/// size delta in percent, as a diff's do.
#[test]
fn merge_publishes_every_evaluated_rule_and_the_delta_percent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let policy = write(
        d,
        "policy.yml",
        "limits:\n  compressed_size: 100MB\ngrowth:\n  compressed:\n    max_percent: 200%\n  since: {records: 3, max_percent: 500%}\n",
    );
    let (api, web) = (d.join("api.json"), d.join("web.json"));
    let (base, pr) = (image("app-base.oci.tar"), image("app-pr.oci.tar"));
    let p = path_str(&policy);
    assert_eq!(
        verdict(&["diff", &base, &pr, "--label", "api", "--policy", p], &api),
        0
    );
    assert_eq!(
        verdict(&["diff", &base, &pr, "--label", "web", "--policy", p], &web),
        0
    );
    let history = d.join("history.jsonl");
    append(&history, &[&api, &web], "0123abcdef", "main", &[]);
    let (junit, metrics) = (d.join("junit.xml"), d.join("metrics.txt"));
    let (code, _, err) = merge(&[
        path_str(&api),
        path_str(&web),
        "--policy",
        p,
        "--history",
        path_str(&history),
        "--junit",
        path_str(&junit),
        "--gitlab-metrics",
        path_str(&metrics),
        "--comment-key",
        "images",
    ]);
    assert_eq!(code, 0, "{err}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        junit_cases(&xml),
        ["compressed-size", "size-growth", "size-drift"],
        "{xml}"
    );
    assert_eq!(junit_failures(&xml), "0", "{xml}");
    // 2 × 1 485 074 bytes before, 2 × 2 733 728 after: +84.08 %.
    let metrics = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        metrics.contains("layergate_images_size_delta_percent 84.08\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("layergate_images_size_before 2970148\n"),
        "{metrics}"
    );

    // Without a history the drift rule is not judged, and says so.
    let (code, _, err) = merge(&[path_str(&api), "--policy", p, "--junit", path_str(&junit)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: growth.since needs --history FILE; drift not judged"),
        "{err}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        junit_cases(&xml),
        ["compressed-size", "size-growth"],
        "{xml}"
    );
}

/// `platforms` evaluates one rule, `platforms.max_ratio`: its JUnit report has that
/// test case whether it passed or failed.
#[test]
fn platforms_junit_lists_the_parity_rule_passing_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let amd = platform_image("amd64", None, 300_000);
    let arm = platform_image("arm64", Some("v8"), 100_000);
    let head = multiarch_archive(d, "head.tar", &[&amd, &arm]);
    let junit = d.join("junit.xml");
    // amd64 is about 3× arm64.
    for (max_ratio, code, failures) in [("4", 0, "0"), ("2", 1, "1")] {
        let policy = write(
            d,
            "p.yml",
            &format!("platforms:\n  max_ratio: {max_ratio}\n"),
        );
        let o = run(&[
            "platforms",
            &head,
            "--policy",
            path_str(&policy),
            "--junit",
            path_str(&junit),
            "--comment",
            "none",
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert_eq!(junit_cases(&xml), ["platform-ratio"], "{xml}");
        assert_eq!(junit_failures(&xml), failures, "{xml}");
    }
}
