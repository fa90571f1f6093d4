//! Every real test image (`tests/data/images/`), in every storage form, gives the
//! reference figures of `expected/NAME.json` exactly.

use crate::support::{analyze_json, image, images};

fn expected(name: &str) -> serde_json::Value {
    let path = images().join("expected").join(format!("{name}.json"));
    serde_json::from_slice(&std::fs::read(&path).expect("expected figures")).expect("expected JSON")
}

fn assert_figures(name: &str, reference: &str) {
    let want = expected(name);
    let got = analyze_json(reference);
    let t = &got["totals"];
    assert_eq!(
        t["uncompressed_bytes"], want["stored_bytes"],
        "{reference}: stored"
    );
    assert_eq!(t["live_bytes"], want["live_bytes"], "{reference}: live");
    assert_eq!(
        t["wasted_bytes"], want["wasted_bytes"],
        "{reference}: wasted"
    );
    assert_eq!(t["files"], want["live_files"], "{reference}: live files");
    let eff = t["efficiency"].as_f64().unwrap();
    assert!(
        (eff - want["efficiency"].as_f64().unwrap()).abs() < 1e-12,
        "{reference}: efficiency {eff}"
    );
    let layers = got["layers"].as_array().unwrap();
    let want_layers = want["layers"].as_array().unwrap();
    assert_eq!(layers.len(), want_layers.len(), "{reference}: layer count");
    for (l, w) in layers.iter().zip(want_layers) {
        assert_eq!(
            l["uncompressed_bytes"], w["regular_bytes"],
            "{reference}: layer {}",
            w["index"]
        );
        assert_eq!(
            l["entries"], w["entries"],
            "{reference}: layer {} entries",
            w["index"]
        );
    }
    // Per-path waste: every path truth.py counts, with its bytes.
    let mut waste: std::collections::BTreeMap<String, u64> = Default::default();
    for d in got["duplicates"].as_array().unwrap() {
        if d["kind"] != "same-content" {
            *waste
                .entry(d["path"].as_str().unwrap().to_string())
                .or_default() += d["wasted_bytes"].as_u64().unwrap();
        }
    }
    let want_waste: std::collections::BTreeMap<String, u64> = want["top_waste"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
        .collect();
    assert_eq!(waste, want_waste, "{reference}: waste by path");
    crate::packages::assert_sum_invariant(&got);
}

macro_rules! figures {
    ($($test:ident: $name:literal => [$($file:literal),+];)+) => {$(
        #[test]
        fn $test() {
            $(assert_figures($name, &image($file));)+
            assert_figures($name, &format!("oci:{}:{}", image("layout"), $name));
        }
    )+};
}

figures! {
    cleanup_split_matches_reference_in_every_format: "cleanup-split" => [
        "cleanup-split.docker.tar", "cleanup-split.oci.tar", "cleanup-split.oci-zstd.tar", "cleanup-split.oci-plain.tar"];
    cleanup_merged_matches_reference_in_every_format: "cleanup-merged" => ["cleanup-merged.docker.tar", "cleanup-merged.oci.tar"];
    chmod_split_matches_reference_in_every_format: "chmod-split" => ["chmod-split.docker.tar", "chmod-split.oci.tar"];
    whiteouts_matches_reference_in_every_format: "whiteouts" => ["whiteouts.docker.tar", "whiteouts.oci.tar"];
    whiteouts_opaque_matches_reference_in_every_format: "whiteouts-opaque" => [
        "whiteouts-opaque.docker.tar", "whiteouts-opaque.oci.tar"];
    download_matches_reference_in_every_format: "download" => ["download.docker.tar", "download.oci.tar"];
    app_base_matches_reference_in_every_format: "app-base" => ["app-base.docker.tar", "app-base.oci.tar"];
    app_pr_matches_reference_in_every_format: "app-pr" => ["app-pr.docker.tar", "app-pr.docker25.tar", "app-pr.oci.tar"];
    multiarch_matches_reference_for_the_host_platform: "multiarch" => ["multiarch.oci.tar"];
}

/// One row of a layer table in `tests/data/images/README.md`: gzip bytes of the
/// blob in `NAME.oci.tar`, diffID prefix, and `created_by`.
struct ReadmeLayer {
    gzip_bytes: u64,
    diff_id_prefix: String,
    created_by: String,
}

/// The layer table under `### NAME` in the test images README.
fn readme_layers(name: &str) -> Vec<ReadmeLayer> {
    let readme = std::fs::read_to_string(images().join("README.md")).expect("test images README");
    let section = readme
        .split(&format!("\n### {name}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {name}"));
    let section = section.split("\n### ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| L"))
        .map(|l| {
            // `\|` inside a command is an escaped pipe, not a cell border.
            let cells: Vec<String> = l
                .replace("\\|", "\u{0}")
                .split('|')
                .map(|c| c.trim().replace('\u{0}', "|"))
                .collect();
            let num = |s: &str| -> u64 {
                s.chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap()
            };
            ReadmeLayer {
                gzip_bytes: num(&cells[4]),
                diff_id_prefix: cells[5].trim_matches('`').to_string(),
                created_by: cells[6]
                    .strip_prefix('`')
                    .and_then(|c| c.strip_suffix('`'))
                    .unwrap()
                    .to_string(),
            }
        })
        .collect()
}

/// Per-layer compressed size, diffID and command from the config history agree
/// with the test images README for every image's OCI archive.
#[test]
fn oci_archives_match_readme_gzip_bytes_diff_ids_and_commands() {
    for name in [
        "cleanup-split",
        "cleanup-merged",
        "chmod-split",
        "whiteouts",
        "whiteouts-opaque",
        "download",
        "app-base",
        "app-pr",
    ] {
        let want = readme_layers(name);
        let got = analyze_json(&image(&format!("{name}.oci.tar")));
        let layers = got["layers"].as_array().unwrap();
        assert_eq!(layers.len(), want.len(), "{name}: layer count");
        for (i, (l, w)) in layers.iter().zip(&want).enumerate() {
            assert_eq!(
                l["compressed_bytes"], w.gzip_bytes,
                "{name} L{i}: gzip bytes"
            );
            assert_eq!(l["compression"], "gzip", "{name} L{i}");
            let diff_id = l["diff_id"].as_str().unwrap();
            assert!(
                diff_id.starts_with(&format!("sha256:{}", w.diff_id_prefix)),
                "{name} L{i}: {diff_id}"
            );
            assert_eq!(
                l["created_by"],
                w.created_by.as_str(),
                "{name} L{i}: created_by"
            );
        }
        let total: u64 = want.iter().map(|w| w.gzip_bytes).sum();
        assert_eq!(
            got["totals"]["compressed_bytes"], total,
            "{name}: compressed total"
        );
    }
}
