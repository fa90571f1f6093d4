//! `layergate fix` on the real test images and the Dockerfiles they were built from: the
//! right edit on the right lines with the bytes the advice measured, the diffs
//! snapshotted, nothing for the images with nothing to fix, `--write` atomic and
//! idempotent, and every failure one line with exit 2.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::{bin, image, images, stderr};

fn dockerfile(name: &str) -> PathBuf {
    images().join("dockerfiles").join(name).join("Dockerfile")
}

fn fix(image_file: &str, df: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("fix")
        .arg(image(image_file))
        .arg("--dockerfile")
        .arg(df)
        .args(extra)
        .output()
        .expect("run layergate fix")
}

fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(image_file: &str, name: &str) -> Value {
    let out = fix(image_file, &dockerfile(name), &["--format", "json"]);
    serde_json::from_str(&ok(&out)).unwrap()
}

fn changes(v: &Value) -> Vec<(String, Vec<u64>, Value)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_u64().unwrap())
                    .collect(),
                c["bytes"].clone(),
            )
        })
        .collect()
}

/// The headline: the cleanup of line 18 moves to the end of line 6's RUN, and the
/// saving predicted is the README's wasted bytes.
#[test]
fn cleanup_split_moves_the_cleanup_into_the_first_run() {
    let out = fix("cleanup-split.oci.tar", &dockerfile("cleanup-split"), &[]);
    let diff = ok(&out);
    insta::assert_snapshot!("fix_cleanup_split", diff);
    let err = stderr(&out);
    assert!(err.contains("cleanup-in-later-layer line 6, 18"), "{err}");
    let v = json("cleanup-split.oci.tar", "cleanup-split");
    assert_eq!(
        changes(&v),
        [(
            "cleanup-in-later-layer".to_string(),
            vec![6, 18],
            Value::from(1_572_864u64)
        )]
    );
    assert_eq!(v["predicted_bytes"], 1_572_864);
    assert_eq!(v["written"], false);
    // Every storage form gives the same rewrite.
    for form in ["cleanup-split.docker.tar", "cleanup-split.oci-zstd.tar"] {
        assert_eq!(
            ok(&fix(form, &dockerfile("cleanup-split"), &[])),
            diff,
            "{form}"
        );
    }
}

/// chmod after COPY: `COPY --chmod`, the RUN dropped, and the output says the legacy
/// builder rejects it.
#[test]
fn chmod_split_becomes_copy_chmod() {
    let out = fix("chmod-split.oci.tar", &dockerfile("chmod-split"), &[]);
    insta::assert_snapshot!("fix_chmod_split", ok(&out));
    let err = stderr(&out);
    assert!(err.contains("Needs BuildKit, buildah or podman"), "{err}");
    assert!(err.contains("legacy builder"), "{err}");
    let v = json("chmod-split.oci.tar", "chmod-split");
    assert_eq!(
        changes(&v),
        [(
            "attribute-only-copy".to_string(),
            vec![5, 6],
            Value::from(1_048_576u64)
        )]
    );
}

/// Two late deletions of one RUN's files: both move there, the emptied RUN goes, and the
/// RUN that deletes and recreates a folder keeps its mkdir and echo.
#[test]
fn whiteouts_moves_both_deletions() {
    let out = fix("whiteouts.oci.tar", &dockerfile("whiteouts"), &[]);
    insta::assert_snapshot!("fix_whiteouts", ok(&out));
    let v = json("whiteouts.oci.tar", "whiteouts");
    let total: u64 = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 524_288);
    assert_eq!(v["predicted_bytes"], 524_288);
}

/// The download gets its cache-key COPY (not a size change: bytes null), the cache
/// folder an `rm -rf` (no BuildKit syntax in this file).
#[test]
fn download_gets_a_cache_key_and_its_cache_removed() {
    let out = fix("download.oci.tar", &dockerfile("download"), &[]);
    insta::assert_snapshot!("fix_download", ok(&out));
    let v = json("download.oci.tar", "download");
    let mut c = changes(&v);
    c.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        c,
        [
            (
                "cache-left-behind".to_string(),
                vec![11],
                Value::from(307_200u64)
            ),
            (
                "download-without-cache-key".to_string(),
                vec![7],
                Value::Null
            ),
        ]
    );
}

/// app-pr: the cache goes; the deletion of a COPYed file is refused with the reason.
#[test]
fn app_pr_refuses_the_cleanup_of_a_copy() {
    let v = json("app-pr.oci.tar", "app-pr");
    assert_eq!(
        changes(&v),
        [(
            "cache-left-behind".to_string(),
            vec![12],
            Value::from(327_680u64)
        )]
    );
    let refused = v["refused"].as_array().unwrap();
    let cleanup = refused
        .iter()
        .find(|r| r["code"] == "cleanup-in-later-layer")
        .expect("the COPY cleanup is refused");
    assert!(
        cleanup["reason"]
            .as_str()
            .unwrap()
            .contains(".dockerignore"),
        "{cleanup}"
    );
}

/// The controls: nothing to fix, no diff, no change.
#[test]
fn images_with_nothing_to_fix_give_no_diff() {
    for (img, name) in [
        ("cleanup-merged.oci.tar", "cleanup-merged"),
        ("app-base.oci.tar", "app-base"),
        ("multiarch.oci.tar", "multiarch"),
    ] {
        let out = fix(img, &dockerfile(name), &[]);
        assert_eq!(ok(&out), "", "{img}");
        let v = json(img, name);
        assert_eq!(v["changes"], Value::Array(vec![]), "{img}");
        assert_eq!(v["predicted_bytes"], 0, "{img}");
    }
}

/// `--write` replaces the file keeping its mode; a second run against the same image
/// finds its own edit and changes nothing.
#[test]
fn write_is_atomic_keeps_the_mode_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::copy(dockerfile("cleanup-split"), &df).unwrap();
    std::fs::set_permissions(&df, std::fs::Permissions::from_mode(0o640)).unwrap();
    let diff = ok(&fix("cleanup-split.oci.tar", &df, &["--write"]));
    assert!(
        diff.contains("+ && rm -rf /var/lib/pkg/lists /var/cache/pkg"),
        "{diff}"
    );
    let written = std::fs::read_to_string(&df).unwrap();
    assert!(!written.contains("\nRUN rm -rf"), "{written}");
    let mode = std::fs::metadata(&df).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let again = fix(
        "cleanup-split.oci.tar",
        &df,
        &["--write", "--format", "json"],
    );
    let v: Value = serde_json::from_str(&ok(&again)).unwrap();
    assert_eq!(v["changes"], Value::Array(vec![]));
    assert_eq!(v["diff"], "");
    assert_eq!(v["written"], false);
    assert_eq!(v["already_applied"].as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read_to_string(&df).unwrap(), written);
}

/// The comment section: the table, the note, the diff collapsed.
#[test]
fn markdown_is_the_fix_it_section() {
    let out = fix(
        "chmod-split.oci.tar",
        &dockerfile("chmod-split"),
        &["--format", "markdown"],
    );
    let md = ok(&out);
    assert!(md.starts_with("### Fix it\n"), "{md}");
    assert!(
        md.contains("<details><summary>Dockerfile diff</summary>"),
        "{md}"
    );
    assert!(
        md.contains("```diff\n--- a/Dockerfile\n+++ b/Dockerfile\n"),
        "{md}"
    );
    assert!(md.contains("| `attribute-only-copy` | 5, 6 |"), "{md}");
}

/// A missing Dockerfile is one line and exit 2; so is a missing image.
#[test]
fn bad_input_is_one_line_and_exit_2() {
    let out = fix(
        "cleanup-split.oci.tar",
        Path::new("/nonexistent/Dockerfile"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("cannot read Dockerfile"), "{err}");
    let out = bin()
        .args(["fix", "/nonexistent.tar", "--dockerfile"])
        .arg(dockerfile("cleanup-split"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end().lines().count(),
        1,
        "{}",
        stderr(&out)
    );
}

/// `check --dockerfile`: the verdict comment gains the collapsed "Fix it" section (the
/// same rewrite `fix` prints); without the flag it has none. The verdict is unchanged.
#[test]
fn the_verdict_comment_gains_a_fix_it_section() {
    let df = dockerfile("cleanup-split");
    let md = |extra: &[&str]| {
        let out = bin()
            .args(["check", &image("cleanup-split.oci.tar")])
            .args([
                "--policy",
                "none",
                "--comment",
                "none",
                "--format",
                "markdown",
            ])
            .args(extra)
            .code(0);
        String::from_utf8(out.stdout).unwrap()
    };
    let with = md(&["--dockerfile", df.to_str().unwrap()]);
    assert!(with.contains("### Fix it\n"), "{with}");
    assert!(
        with.contains("<details><summary>Dockerfile diff</summary>"),
        "{with}"
    );
    assert!(
        with.contains("+ && rm -rf /var/lib/pkg/lists /var/cache/pkg\n"),
        "{with}"
    );
    assert!(with.contains("predicted to save **1.5 MiB**"), "{with}");
    let without = md(&[]);
    assert!(!without.contains("Fix it"), "{without}");
    assert!(
        with.starts_with(without.trim_end()),
        "the section is added at the end"
    );
}
