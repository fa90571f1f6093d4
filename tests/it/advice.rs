//! Cacheful-layering advice on the shared images: the right code on the right layers
//! with the right bytes, and nothing misleading where there is nothing to fix.

use serde_json::Value;

use crate::support::{analyze_json, image, run};

/// One advice item reduced to what the tests assert.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    code: String,
    layers: Vec<u64>,
    bytes: u64,
    files: u64,
    paths: Vec<String>,
}

fn items(report: &Value) -> Vec<Item> {
    report["advice"]
        .as_array()
        .expect("advice array")
        .iter()
        .map(|a| Item {
            code: a["code"].as_str().unwrap().to_string(),
            layers: a["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["index"].as_u64().unwrap())
                .collect(),
            bytes: a["bytes"].as_u64().unwrap(),
            files: a["files"].as_u64().unwrap(),
            paths: a["paths"]
                .as_array()
                .map(|p| p.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn advice(reference: &str) -> Vec<Item> {
    items(&analyze_json(&image(reference)))
}

fn codes(items: &[Item]) -> Vec<&str> {
    let mut c: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
    c.sort_unstable();
    c
}

fn only<'a>(items: &'a [Item], code: &str) -> &'a Item {
    let found: Vec<&Item> = items.iter().filter(|i| i.code == code).collect();
    assert_eq!(found.len(), 1, "one {code} expected in {items:#?}");
    found[0]
}

const ALL: &[&str] = &[
    "cleanup-split.docker.tar",
    "cleanup-split.oci.tar",
    "cleanup-split.oci-zstd.tar",
    "cleanup-split.oci-plain.tar",
    "cleanup-merged.docker.tar",
    "chmod-split.docker.tar",
    "whiteouts.docker.tar",
    "whiteouts-opaque.oci.tar",
    "download.oci.tar",
    "app-base.docker.tar",
    "app-pr.docker.tar",
    "app-pr.docker25.tar",
    "multiarch.oci.tar",
];

/// The headline case: the cleanup in L3 frees nothing; it belongs in L1's RUN.
#[test]
fn cleanup_split_advises_moving_the_cleanup_into_layer_1() {
    for r in [
        "cleanup-split.docker.tar",
        "cleanup-split.oci.tar",
        "cleanup-split.oci-zstd.tar",
        "cleanup-split.oci-plain.tar",
    ] {
        let a = advice(r);
        let c = only(&a, "cleanup-in-later-layer");
        assert_eq!(c.layers, [1, 3], "{r}");
        assert_eq!((c.bytes, c.files), (1_572_864, 4), "{r}");
        let mut paths = c.paths.clone();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/var/cache/pkg/archives/libdemo_1.0-1_amd64.pkg",
                "/var/cache/pkg/archives/tool_2.3-4_amd64.pkg",
                "/var/lib/pkg/lists/main_Packages",
                "/var/lib/pkg/lists/updates_Packages",
            ],
            "{r}"
        );
        assert_eq!(
            codes(&a),
            ["cleanup-in-later-layer", "keep-separate"],
            "{r}"
        );
    }
}

/// The fixed Dockerfile must come out clean, or the advice would never go away.
#[test]
fn cleanup_merged_gets_no_advice() {
    for r in ["cleanup-merged.docker.tar", "cleanup-merged.oci.tar"] {
        assert_eq!(advice(r), [], "{r}");
    }
}

/// `RUN chmod` of a COPYed file stores it twice: advise `COPY --chmod`.
#[test]
fn chmod_split_advises_attribute_only_copy() {
    for r in ["chmod-split.docker.tar", "chmod-split.oci.tar"] {
        let a = advice(r);
        assert_eq!(codes(&a), ["attribute-only-copy"], "{r}");
        let c = &a[0];
        assert_eq!(c.layers, [1, 2], "{r}");
        assert_eq!((c.bytes, c.files), (1_048_576, 1), "{r}");
        assert_eq!(c.paths, ["/opt/data/payload.bin"], "{r}");
    }
    let report = analyze_json(&image("chmod-split.docker.tar"));
    let s = report["advice"][0]["suggestion"].as_str().unwrap();
    assert!(s.contains("COPY --chmod"), "{s}");
}

/// wget in a RUN, the same bytes at two paths, and a cache directory left behind.
#[test]
fn download_advises_cache_key_same_content_and_cache_left_behind() {
    for r in ["download.docker.tar", "download.oci.tar"] {
        let a = advice(r);
        assert_eq!(
            codes(&a),
            [
                "cache-left-behind",
                "download-without-cache-key",
                "same-content"
            ],
            "{r}"
        );
        let d = only(&a, "download-without-cache-key");
        assert_eq!((d.layers.as_slice(), d.bytes), (&[1][..], 0), "{r}");

        let s = only(&a, "same-content");
        let mut paths = s.paths.clone();
        paths.sort();
        assert_eq!(paths, ["/opt/tool/copy.bin", "/opt/tool/tool.bin"], "{r}");
        assert_eq!((s.bytes, s.files), (524_288, 1), "{r}");
        assert_eq!(s.layers, [1, 2], "{r}");

        let c = only(&a, "cache-left-behind");
        assert_eq!(c.paths, ["/root/.cache/app"], "{r}");
        assert_eq!((c.bytes, c.files), (307_200, 2), "{r}");
        assert_eq!(c.layers, [3], "{r}");
    }
}

/// Deletions in later layers are late cleanups, per pair; no cache, merge or
/// download advice is invented, whether the deletion is a whiteout or an opaque dir.
#[test]
fn whiteouts_yield_only_the_late_cleanups() {
    for r in [
        "whiteouts.docker.tar",
        "whiteouts.oci.tar",
        "whiteouts-opaque.docker.tar",
        "whiteouts-opaque.oci.tar",
    ] {
        let a = advice(r);
        assert_eq!(
            codes(&a),
            ["cleanup-in-later-layer", "cleanup-in-later-layer"],
            "{r}"
        );
        assert_eq!(
            (a[0].layers.as_slice(), a[0].bytes, a[0].files),
            (&[1, 2][..], 393_216, 4)
        );
        assert_eq!(
            (a[1].layers.as_slice(), a[1].bytes, a[1].files),
            (&[1, 3][..], 131_072, 2)
        );
    }
}

/// The pull request's build cache and its rewrite of /app/bin/app are reported.
#[test]
fn app_pr_advises_its_cache_and_its_rewrite() {
    for r in ["app-pr.docker.tar", "app-pr.docker25.tar", "app-pr.oci.tar"] {
        let a = advice(r);
        assert_eq!(
            codes(&a),
            [
                "cache-left-behind",
                "cleanup-in-later-layer",
                "rewrites-earlier-layer"
            ],
            "{r}"
        );
        let c = only(&a, "cache-left-behind");
        assert_eq!(c.paths, ["/root/.cache/app-build"], "{r}");
        assert_eq!((c.bytes, c.layers.as_slice()), (327_680, &[5][..]), "{r}");
        let w = only(&a, "rewrites-earlier-layer");
        assert_eq!(w.paths, ["/app/bin/app"], "{r}");
        assert_eq!(
            (w.bytes, w.layers.as_slice()),
            (262_144, &[1, 3][..]),
            "{r}"
        );
        let d = only(&a, "cleanup-in-later-layer");
        assert_eq!(d.paths, ["/app/share/legacy.txt"], "{r}");
        assert_eq!((d.bytes, d.layers.as_slice()), (65_536, &[1, 4][..]), "{r}");
    }
    assert_eq!(advice("app-base.docker.tar"), []);
}

/// Two RUN layers that do not touch each other's files: keep them apart, and no
/// advice anywhere recommends merging them.
#[test]
fn independent_layers_are_kept_separate_never_merged() {
    let a = advice("cleanup-split.docker.tar");
    let k = only(&a, "keep-separate");
    assert_eq!(k.layers, [1, 2]);
    assert_eq!((k.bytes, k.files), (0, 0));
    let on_pair: Vec<&str> = a
        .iter()
        .filter(|i| i.layers == [1, 2])
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(on_pair, ["keep-separate"]);
    for r in ALL {
        assert!(
            advice(r).iter().all(|i| i.code != "merge-pays"),
            "{r}: no pair in the shared images rewrites 1 MiB between two RUNs"
        );
    }
}

/// Every dead byte that merging could save sits in exactly one pair item, and the
/// list is ranked by bytes.
#[test]
fn pair_advice_accounts_for_every_wasted_byte_once_ranked_by_bytes() {
    for r in ALL {
        let report = analyze_json(&image(r));
        let a = items(&report);
        let pair_bytes: u64 = a
            .iter()
            .filter(|i| {
                matches!(
                    i.code.as_str(),
                    "cleanup-in-later-layer"
                        | "attribute-only-copy"
                        | "rewrites-earlier-layer"
                        | "merge-pays"
                )
            })
            .map(|i| i.bytes)
            .sum();
        assert_eq!(
            pair_bytes,
            report["totals"]["wasted_bytes"].as_u64().unwrap(),
            "{r}"
        );
        assert!(
            a.windows(2).all(|w| w[0].bytes >= w[1].bytes),
            "{r}: ranked by bytes: {a:#?}"
        );
    }
}

/// The terminal report of `analyze` ends with the advice a reader acts on.
#[test]
fn analyze_text_shows_the_advice_section() {
    let out = run(&["analyze", &image("cleanup-split.docker.tar")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let section = text
        .split("Advice (largest saving first)\n")
        .nth(1)
        .expect("an Advice section");
    assert!(
        section
            .starts_with("  1. medium  cleanup-in-later-layer  L1 → L3  saves 1.5 MiB (4 files)\n"),
        "{section}"
    );
    assert!(section.contains("keep-separate  L1 → L2  saves nothing (cache)"));
    assert!(section.contains("fix: Move the cleanup of L3 (RUN rm -rf /var/lib/pkg/lists /var/cache/pkg) into the RUN of L1"), "{section}");
}

/// `--dockerfile` points each advice layer at the instruction that made it.
#[test]
fn dockerfile_option_names_the_lines_of_the_advised_layers() {
    let dockerfile = crate::support::images().join("dockerfiles/cleanup-split/Dockerfile");
    let out = run(&[
        "analyze",
        &image("cleanup-split.docker.tar"),
        "--dockerfile",
        &dockerfile.display().to_string(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = |code: &str| -> Vec<Option<u64>> {
        let a = report["advice"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap();
        a["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_u64())
            .collect()
    };
    // RUN at line 6 writes the lists; the cleanup RUN is at line 18; the install at 12.
    assert_eq!(lines("cleanup-in-later-layer"), [Some(6), Some(18)]);
    assert_eq!(lines("keep-separate"), [Some(6), Some(12)]);

    let missing = run(&[
        "analyze",
        &image("cleanup-split.docker.tar"),
        "--dockerfile",
        "/nonexistent/Dockerfile",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(crate::support::stderr(&missing).contains("/nonexistent/Dockerfile"));
}
