//! The example image pair in `examples/` is what its recipe writes today, and
//! layergate reports on it the figures `examples/README.md` describes.

#[allow(dead_code, clippy::all)]
#[path = "../../examples/make-images.rs"]
mod make_images;

use std::path::Path;

use serde_json::json;

use crate::support::analyze_json;

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

/// A recipe change without regenerating the archives (or the reverse) fails here:
/// the committed bytes and the recipe never drift apart.
#[test]
fn committed_example_archives_match_the_recipe() {
    for (name, bytes) in make_images::archives().unwrap() {
        let committed = std::fs::read(examples().join(name)).unwrap();
        assert!(
            committed == bytes,
            "examples/{name} differs from the recipe: run `cargo run --example make-images`"
        );
        assert!(bytes.len() < 64 * 1024, "{name} should stay tiny");
    }
}

/// The base image wastes nothing.
#[test]
fn example_base_figures() {
    let r = analyze_json(&examples().join("base.oci.tar").display().to_string());
    let t = &r["totals"];
    assert_eq!(t["layers"], 3);
    assert_eq!(t["uncompressed_bytes"], 6144 + 26 + 7168 + 34);
    assert_eq!(t["live_bytes"], 6144 + 26 + 7168 + 34);
    assert_eq!(t["wasted_bytes"], 0);
    assert_eq!(t["files"], 9);
}

/// The PR image shows the cleanup-in-a-later-layer waste, the grown binary and
/// the merge that would save the most.
#[test]
fn example_pr_figures() {
    let r = analyze_json(&examples().join("pr.oci.tar").display().to_string());
    let t = &r["totals"];
    assert_eq!(t["layers"], 7);
    assert_eq!(t["uncompressed_bytes"], 45_116);
    assert_eq!(t["live_bytes"], 24_636);
    assert_eq!(t["wasted_bytes"], 20_480);
    let rows: Vec<_> = r["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!([d["path"], d["kind"], d["wasted_bytes"]]))
        .collect();
    assert_eq!(
        rows,
        vec![
            json!([
                "/var/lib/apt/lists/deb.example.org_main_Packages",
                "deleted",
                8192
            ]),
            json!([
                "/var/cache/apt/archives/build-essential_12.9_amd64.deb",
                "deleted",
                6144
            ]),
            json!(["/app/bin/app", "overwritten", 4096]),
            json!(["/app/share/legacy.txt", "deleted", 2048]),
        ]
    );
    let top = &r["merge_savings"][0];
    assert_eq!(
        (
            top["lower"].as_u64(),
            top["upper"].as_u64(),
            top["bytes"].as_u64()
        ),
        (Some(3), Some(6), Some(14_336))
    );
    // The base's layers are shared: same diffIDs at the bottom of the PR image.
    let base = analyze_json(&examples().join("base.oci.tar").display().to_string());
    for i in 0..3 {
        assert_eq!(r["layers"][i]["diff_id"], base["layers"][i]["diff_id"]);
    }
    assert!(r["layers"][4]["created_by"]
        .as_str()
        .unwrap()
        .starts_with("RUN wget"));
}
