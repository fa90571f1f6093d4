//! Every image in `../shared/images/`, in every format it is shipped in, gives the
//! reference figures of `expected/NAME.json` exactly.

use crate::common::{analyze_json, image, images};

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
