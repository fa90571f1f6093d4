//! `diff` at the public surface: app-base vs app-pr and cleanup-merged vs
//! cleanup-split in several formats and from saved reports, checked against the
//! figures in `tests/data/images/README.md`; Markdown and text snapshots.

use serde_json::Value;

use crate::support::{image, run, stderr};

/// Runs `diff BASE HEAD --format json [extra…]`, returning the exit code and JSON.
fn diff_json(base: &str, head: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["diff", base, head, "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "diff failed: {}", stderr(&out));
    (
        code,
        serde_json::from_slice(&out.stdout).expect("diff prints JSON"),
    )
}

fn layout(name: &str) -> String {
    format!("oci:{}:{name}", image("layout"))
}

fn delta(c: &Value, key: &str) -> (u64, u64, i64) {
    let d = &c["comparison"]["totals"][key];
    (
        d["before"].as_u64().unwrap(),
        d["after"].as_u64().unwrap(),
        d["delta"].as_i64().unwrap(),
    )
}

/// The app-pr figures of the shared README, whatever the archive formats.
fn assert_app_figures(c: &Value) {
    assert_eq!(c["schema"], 2);
    assert_eq!(c["comparison"]["schema"], 2);
    assert_eq!(delta(c, "uncompressed"), (2_506_726, 3_878_886, 1_372_160));
    assert_eq!(delta(c, "live"), (2_506_726, 3_551_206, 1_044_480));
    assert_eq!(delta(c, "wasted"), (0, 327_680, 327_680));
    assert_eq!(delta(c, "layers"), (3, 6, 3));
    let layers = &c["comparison"]["layers"];
    assert_eq!(layers["shared_prefix"], 3);
    assert_eq!(layers["added"], 3);
    assert_eq!(layers["removed"], 0);
    let tail: Vec<(&str, u64)> = layers["tail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["status"].as_str().unwrap(),
                l["head_index"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tail, [("added", 3), ("added", 4), ("added", 5)]);
    let files = &c["comparison"]["files"];
    assert_eq!(files["grown"][0]["path"], "/app/bin/app");
    assert_eq!(files["grown"][0]["before"], 262_144);
    assert_eq!(files["grown"][0]["after"], 978_944);
    assert_eq!(files["removed"][0]["path"], "/app/share/legacy.txt");
    assert_eq!(files["added_count"], 3);
    assert_eq!(files["added_bytes"], 65_536 + 262_144 + 65_536);
    let dirs: Vec<(&str, i64)> = files["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["dir"].as_str().unwrap(), d["delta"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        dirs,
        [
            ("/app/bin", 716_800),
            ("/root/.cache/app-build", 327_680),
            ("/app/share", 0)
        ]
    );
    let waste: Vec<(&str, u64)> = c["comparison"]["new_waste"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap(),
                d["wasted_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        waste,
        [("/app/bin/app", 262_144), ("/app/share/legacy.txt", 65_536)]
    );
    let history = c["comparison"]["history_diff"].as_str().unwrap();
    assert!(
        history.contains("+/bin/sh -c rm /app/share/legacy.txt\n"),
        "{history}"
    );
    assert!(
        !history.contains("-/bin/sh"),
        "nothing was removed: {history}"
    );
}

/// OCI archives: the gzip sizes of the README give the compressed delta too.
#[test]
fn app_pr_against_base_from_oci_archives() {
    let (code, c) = diff_json(&image("app-base.oci.tar"), &image("app-pr.oci.tar"), &[]);
    assert_eq!(code, 0, "no policy, no failure");
    assert_app_figures(&c);
    let base = 1_088_107 + 396_751 + 216;
    assert_eq!(
        delta(&c, "compressed"),
        (
            base,
            base + 983_299 + 161 + 265_194,
            983_299 + 161 + 265_194
        )
    );
    assert_eq!(c["verdict"]["passed"], true);
}

/// Figures must not depend on the formats of the two sides (docker-save vs Docker 25
/// save vs OCI layout directory).
#[test]
fn app_pr_against_base_across_formats() {
    for (base, head) in [
        (image("app-base.docker.tar"), image("app-pr.docker25.tar")),
        (image("app-base.docker.tar"), image("app-pr.oci.tar")),
        (layout("app-base"), layout("app-pr")),
    ] {
        let (_, c) = diff_json(&base, &head, &[]);
        assert_app_figures(&c);
    }
}

/// Merging the cleanup into one RUN is the whole difference: the split image
/// stores the lists and cache (1.5 MiB) that the merged one never wrote.
#[test]
fn cleanup_split_against_merged_in_every_format() {
    for (base, head) in [
        (
            image("cleanup-merged.docker.tar"),
            image("cleanup-split.docker.tar"),
        ),
        (
            image("cleanup-merged.oci.tar"),
            image("cleanup-split.oci-zstd.tar"),
        ),
        (
            image("cleanup-merged.oci.tar"),
            image("cleanup-split.oci-plain.tar"),
        ),
        (layout("cleanup-merged"), layout("cleanup-split")),
    ] {
        let (_, c) = diff_json(&base, &head, &[]);
        assert_eq!(delta(&c, "uncompressed"), (2_441_117, 4_013_981, 1_572_864));
        assert_eq!(delta(&c, "live"), (2_441_117, 2_441_117, 0));
        assert_eq!(delta(&c, "wasted"), (0, 1_572_864, 1_572_864));
        let layers = &c["comparison"]["layers"];
        assert_eq!(
            layers["shared_prefix"], 1,
            "only the busybox base is shared"
        );
        assert_eq!(layers["added"], 3);
        assert_eq!(layers["removed"], 1);
        let files = &c["comparison"]["files"];
        for k in [
            "added_count",
            "removed_count",
            "grown_count",
            "shrunk_count",
        ] {
            assert_eq!(files[k], 0, "same final filesystem: {k}");
        }
        let waste: u64 = c["comparison"]["new_waste"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["wasted_bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(waste, 1_572_864);
        assert_eq!(c["comparison"]["new_waste"].as_array().unwrap().len(), 4);
    }
}

/// CI keeps the base branch's report as an artifact: diffing against it must
/// give exactly what diffing against the image gives.
#[test]
fn saved_base_report_gives_the_same_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("base.json");
    let saved = saved.to_str().unwrap();
    let out = run(&[
        "analyze",
        &image("app-base.oci.tar"),
        "--format",
        "json",
        "--output",
        saved,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, direct) = diff_json(&image("app-base.oci.tar"), &image("app-pr.oci.tar"), &[]);
    for base in [saved.to_string(), format!("report:{saved}")] {
        let (_, c) = diff_json(&base, &image("app-pr.oci.tar"), &[]);
        assert_app_figures(&c);
        assert_eq!(c["comparison"]["totals"], direct["comparison"]["totals"]);
        assert_eq!(c["comparison"]["files"], direct["comparison"]["files"]);
        assert_eq!(c["comparison"]["layers"], direct["comparison"]["layers"]);
    }
}

/// The example policy fails app-pr for its growth and its build cache, warns for
/// its waste, and exits 1; `--warn-only` reports the same and exits 0.
#[test]
fn example_policy_fails_app_pr() {
    let args = ["--policy", "examples/policy.yml"];
    let (code, c) = diff_json(&image("app-base.oci.tar"), &image("app-pr.oci.tar"), &args);
    assert_eq!(code, 1);
    let findings: Vec<(&str, &str)> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [
            ("size-growth", "fail"),
            ("forbidden-path", "fail"),
            ("wasted-bytes", "warn")
        ]
    );
    assert_eq!(c["findings"][0]["value"], 983_299.0 + 161.0 + 265_194.0);
    assert_eq!(c["findings"][0]["limit"], 1_000_000.0);
    assert_eq!(c["findings"][1]["value"], 327_680.0);
    assert_eq!(c["findings"][2]["value"], 327_680.0);
    assert_eq!(c["verdict"]["passed"], false);
    assert_eq!(c["verdict"]["failed"], 2);
    assert_eq!(c["verdict"]["warned"], 1);
    let mut warn_only = args.to_vec();
    warn_only.push("--warn-only");
    let (code, c) = diff_json(
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        &warn_only,
    );
    assert_eq!(code, 0);
    assert_eq!(c["verdict"]["failed"], 2);
}

/// The strict example exercises every rule kind on app-pr.
#[test]
fn strict_policy_reports_every_rule_kind() {
    let args = ["--policy", "examples/policy-strict.yml"];
    let (code, c) = diff_json(
        &image("app-base.docker.tar"),
        &image("app-pr.docker.tar"),
        &args,
    );
    assert_eq!(code, 1);
    let findings: Vec<(&str, &str)> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [
            ("efficiency", "fail"),
            ("wasted-percent", "fail"),
            ("size-growth", "fail"),
            ("forbidden-path", "fail"),
            ("advice-budget", "fail"),
            ("layer-count", "warn"),
            ("uncompressed-growth", "warn"),
            ("forbidden-path", "warn"),
            ("path-budget", "warn"),
        ]
    );
    let pct = c["findings"][1]["value"].as_f64().unwrap();
    assert!(
        (pct - 327_680.0 * 100.0 / 3_878_886.0).abs() < 1e-9,
        "{pct}"
    );
    // The path budget (index 8) on /app: every live byte but busybox's base
    // (1 982 365), /etc/app/app.conf (73) and the cache (327 680): 3 551 206 −
    // 2 310 118 = 1 241 088 = app 978 944 + libcore 131 072 + feature.txt 65 536 +
    // the rest of the COPY 65 536.
    assert_eq!(c["findings"][8]["code"], "path-budget");
    assert_eq!(c["findings"][8]["value"], 1_241_088.0);
    assert_eq!(c["findings"][8]["limit"], 1_048_576.0);
}

/// A `paths.ignore` glob takes the matching files out of every figure.
#[test]
fn ignored_paths_leave_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("ignore.yml");
    std::fs::write(
        &policy,
        "version: 1\npaths:\n  ignore: [\"/root/.cache/**\"]\n  forbid: [\"/root/**\"]\n",
    )
    .unwrap();
    let (code, c) = diff_json(
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        &["--policy", policy.to_str().unwrap()],
    );
    assert_eq!(code, 0, "the forbidden files are ignored");
    assert_eq!(
        delta(&c, "uncompressed"),
        (2_506_726, 3_878_886 - 327_680, 1_372_160 - 327_680)
    );
    assert_eq!(c["comparison"]["files"]["added_count"], 1);
}

fn snapshot_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{64}\b", "[HASH]"),
        (r"\b[0-9a-f]{12}\b", "[DIGEST]"),
        (
            r"/[^\s|`]*/(tests/data/images|test-images-v[0-9]+)/",
            "[IMAGES]/",
        ),
    ]
}

/// The pull-request comment as reviewers see it (docker-save archives, so the
/// "compressed" figures are tar sizes and do not move when gzip does).
#[test]
fn markdown_comment_snapshot() {
    let out = run(&[
        "diff",
        &image("app-base.docker.tar"),
        &image("app-pr.docker.tar"),
        "--policy",
        "examples/policy.yml",
        "--format",
        "markdown",
        "--comment-key",
        "app",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("❌ **layergate: image grew"), "{md}");
    assert!(md.trim_end().ends_with("<!-- layergate:app -->"));
    insta::with_settings!({filters => snapshot_filters()}, {
        insta::assert_snapshot!("diff_app_markdown", md);
    });
}

/// The same content for a terminal.
#[test]
fn text_report_snapshot() {
    let out = run(&[
        "diff",
        &image("app-base.docker.tar"),
        &image("app-pr.docker.tar"),
        "--policy",
        "examples/policy.yml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    insta::with_settings!({filters => snapshot_filters()}, {
        insta::assert_snapshot!("diff_app_text", text);
    });
}

/// cleanup-merged vs cleanup-split, where nothing but waste changes.
#[test]
fn cleanup_markdown_snapshot() {
    let out = run(&[
        "diff",
        &image("cleanup-merged.docker.tar"),
        &image("cleanup-split.docker.tar"),
        "--format",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::with_settings!({filters => snapshot_filters()}, {
        insta::assert_snapshot!("diff_cleanup_markdown", String::from_utf8(out.stdout).unwrap());
    });
}

/// docs/diff.md shows a real comment: it must be what `diff` writes today.
#[test]
fn readme_comment_is_current() {
    let out = run(&[
        "diff",
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        "--policy",
        "examples/policy.yml",
        "--format",
        "markdown",
        "--comment-key",
        "app",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diff.md")).unwrap();
    let digests = regex_lite_hex(&md);
    let start = readme
        .find(md.lines().next().unwrap())
        .expect("docs/diff.md holds the comment");
    let shown = &readme[start..start + md.len().min(readme.len() - start)];
    assert_eq!(
        regex_lite_hex(shown),
        digests,
        "regenerate the comment in docs/diff.md"
    );
}

/// Masks hex runs of 12+ characters (digests move when the images are rebuilt).
fn regex_lite_hex(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() && c.is_ascii_lowercase() || c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if run.len() >= 12 {
            out.push_str("[HEX]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// `analyze --format markdown` goes through its template too.
#[test]
fn analyze_markdown_snapshot() {
    let out = run(&[
        "analyze",
        &image("cleanup-split.docker.tar"),
        "--format",
        "markdown",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::with_settings!({filters => snapshot_filters()}, {
        insta::assert_snapshot!("analyze_cleanup_split_markdown", String::from_utf8(out.stdout).unwrap());
    });
}

/// `check --format markdown`: one image, its figures, the rules it crossed.
#[test]
fn check_markdown_snapshot() {
    let out = run(&[
        "check",
        &image("app-pr.docker.tar"),
        "--policy",
        "examples/policy-strict.yml",
        "--format",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::with_settings!({filters => snapshot_filters()}, {
        insta::assert_snapshot!("check_app_pr_markdown", String::from_utf8(out.stdout).unwrap());
    });
}

/// A broken `--template` is an input error (exit 2) naming the file.
#[test]
fn broken_template_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("broken.md.j2");
    std::fs::write(&t, "{% if %}\n").unwrap();
    let out = run(&[
        "diff",
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        "--format",
        "markdown",
        "--template",
        t.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("broken.md.j2"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1);
}

/// A policy that only limits compressed size and layers is answered from the
/// manifests: no layer is read, the comparison says so, and the compressed figures
/// are the ones a full read gives (archives of both kinds).
#[test]
fn size_only_policy_reads_no_layer_and_keeps_the_compressed_figures() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("size.yml");
    std::fs::write(
        &policy,
        "version: 1\nlimits:\n  compressed_size: 2MB\n  layers: 10\ngrowth:\n  compressed: {max: 500kB}\n",
    )
    .unwrap();
    let policy = policy.display().to_string();
    for kind in ["oci", "docker"] {
        let (base, head) = (
            image(&format!("app-base.{kind}.tar")),
            image(&format!("app-pr.{kind}.tar")),
        );
        let (full_code, full) = diff_json(&base, &head, &[]);
        assert_eq!(full_code, 0);
        assert!(full["comparison"]["head"].get("partial").is_none());
        let (code, fast) = diff_json(&base, &head, &["--policy", &policy]);
        assert_eq!(code, 1, "{kind}");
        assert_eq!(fast["comparison"]["head"]["partial"], true, "{kind}");
        assert_eq!(
            delta(&fast, "compressed"),
            delta(&full, "compressed"),
            "{kind}"
        );
        let codes: Vec<&str> = fast["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["compressed-size", "size-growth"], "{kind}");
    }
    // The comment says what it did not read, and shows no file figures it lacks.
    let out = run(&[
        "diff",
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        "--policy",
        &policy,
        "--format",
        "markdown",
    ]);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("Read from manifests only"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("| wasted |")), "{md}");
}
