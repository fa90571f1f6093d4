//! The report of a tiny image built in code: the JSON schema and the text
//! rendering as snapshots, and the duplicate, merge-saving, per-layer and history
//! figures asserted one by one.

use std::path::Path;

use layergate_testkit::{oci_archive, Compression, Entry, Image, ImageBuilder};
use serde_json::{json, Value};

use crate::support::bin;
use crate::support::fixtures::{layer, write};

/// Three layers showing every duplicate kind: `/app/bin` overwritten, `/etc/conf`
/// re-chmodded (unchanged copy), `/tmp/build.log` deleted, and one content live at
/// `/srv/a.dat` and `/srv/b.dat`. Empty steps sit between the layers.
fn tiny() -> Image {
    let g = Compression::Gzip;
    ImageBuilder::new("tiny:1")
        .layer(
            layer(
                &[
                    Entry::dir("app"),
                    Entry::file("app/bin", vec![1u8; 3000]).mode(0o755),
                    Entry::file("etc/conf", b"port = 8080\n"),
                    Entry::file("tmp/build.log", vec![b'l'; 2000]),
                    Entry::file("srv/a.dat", vec![5u8; 400]),
                ],
                g,
            ),
            "COPY . /",
        )
        .empty_step("ENV MODE=prod")
        .layer(
            layer(
                &[
                    Entry::file("app/bin", vec![2u8; 3500]).mode(0o755),
                    Entry::file("srv/b.dat", vec![5u8; 400]),
                ],
                g,
            ),
            "RUN make install",
        )
        .layer(
            layer(
                &[
                    Entry::file("etc/conf", b"port = 8080\n").mode(0o600),
                    Entry::whiteout("tmp/build.log"),
                ],
                g,
            ),
            "RUN chmod 600 /etc/conf && rm /tmp/build.log",
        )
        .empty_step("CMD [\"/app/bin\"]")
        .build()
        .unwrap()
}

/// Runs `analyze image.tar` inside `dir`, so the reference in the output is
/// the same on every machine.
fn analyze_in(dir: &Path, format: &str) -> String {
    let out = bin()
        .current_dir(dir)
        .args(["analyze", "image.tar", "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn tiny_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("image.tar"), |f| oci_archive(&tiny(), f));
    dir
}

fn tiny_report() -> Value {
    let dir = tiny_dir();
    serde_json::from_str(&analyze_in(dir.path(), "json")).unwrap()
}

/// Every field of the JSON report, as the tool prints it: a schema change shows
/// up here as a diff to review.
#[test]
fn json_report_schema_snapshot() {
    let dir = tiny_dir();
    insta::assert_snapshot!("tiny_report_json", analyze_in(dir.path(), "json"));
}

/// The text summary people read in a terminal.
#[test]
fn text_report_snapshot() {
    let dir = tiny_dir();
    insta::assert_snapshot!("tiny_report_text", analyze_in(dir.path(), "text"));
}

/// The testkit writes the same bytes for the same recipe, so snapshots and
/// digests are stable.
#[test]
fn testkit_output_is_deterministic() {
    let a = oci_archive(&tiny(), Vec::new()).unwrap();
    let b = oci_archive(&tiny(), Vec::new()).unwrap();
    assert_eq!(a, b);
}

fn row<'a>(r: &'a Value, path: &str, kind: &str) -> &'a Value {
    r["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == path && d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} row for {path}"))
}

/// Each duplicate kind carries the bytes of the copies that are gone (never the
/// kept one) and the layers that wrote and killed them.
#[test]
fn duplicate_kinds_count_only_the_copies_that_are_gone() {
    let r = tiny_report();
    let d = row(&r, "/app/bin", "overwritten");
    assert_eq!(
        (d["wasted_bytes"].as_u64(), d["bytes"].as_u64()),
        (Some(3000), Some(3000))
    );
    assert_eq!(d["layers"], json!([0, 1]));
    assert_eq!(d["by_layers"], json!([1]));
    let d = row(&r, "/etc/conf", "unchanged-copy");
    assert_eq!(d["wasted_bytes"], 12);
    assert_eq!(d["layers"], json!([0, 2]));
    let d = row(&r, "/tmp/build.log", "deleted");
    assert_eq!(d["wasted_bytes"], 2000);
    assert_eq!(d["layers"], json!([0]));
    assert_eq!(d["by_layers"], json!([2]));
    let d = row(&r, "/srv/a.dat", "same-content");
    assert_eq!(d["wasted_bytes"], 400);
    assert_eq!(d["paths"], json!(["/srv/a.dat", "/srv/b.dat"]));
    assert_eq!(d["layers"], json!([0, 1]));
    assert_eq!(r["duplicates"].as_array().unwrap().len(), 4);
    // Sorted by bytes, largest first.
    let order: Vec<&str> = r["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["/app/bin", "/tmp/build.log", "/srv/a.dat", "/etc/conf"]
    );

    let t = &r["totals"];
    assert_eq!(
        t["uncompressed_bytes"],
        3000 + 12 + 2000 + 400 + 3500 + 400 + 12
    );
    assert_eq!(t["live_bytes"], 3500 + 12 + 400 + 400);
    assert_eq!(t["wasted_bytes"], 3000 + 12 + 2000);
    assert_eq!(t["same_content_bytes"], 400);
    assert_eq!(t["files"], 4);
}

/// Merge savings name each (lower, upper) pair where upper kills files of lower,
/// with the bytes merging them saves.
#[test]
fn merge_savings_pair_each_killing_layer_with_its_victims() {
    let r = tiny_report();
    let pairs: Vec<Value> = r["merge_savings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| json!([m["lower"], m["upper"], m["files"], m["bytes"]]))
        .collect();
    assert_eq!(pairs, vec![json!([0, 1, 1, 3000]), json!([0, 2, 2, 2012])]);
    let top = &r["merge_savings"][1]["top_files"];
    assert_eq!(
        top,
        &json!([{"path": "/tmp/build.log", "bytes": 2000}, {"path": "/etc/conf", "bytes": 12}])
    );
}

/// Per-layer figures: what each layer added, modified and deleted, its own
/// waste, and the command from history (empty steps skipped).
#[test]
fn per_layer_changes_waste_and_commands() {
    let r = tiny_report();
    let got: Vec<Value> = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            json!([
                l["added"],
                l["modified"],
                l["deleted"],
                l["files"],
                l["whiteouts"],
                l["wasted_bytes"],
                l["created_by"]
            ])
        })
        .collect();
    assert_eq!(
        got,
        vec![
            json!([5, 0, 0, 4, 0, 5012, "COPY . /"]),
            json!([1, 1, 0, 2, 0, 0, "RUN make install"]),
            json!([
                0,
                1,
                1,
                1,
                1,
                0,
                "RUN chmod 600 /etc/conf && rm /tmp/build.log"
            ]),
        ]
    );
    let history: Vec<(&str, bool)> = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["created_by"].as_str().unwrap(), h["empty_layer"] == true))
        .collect();
    assert_eq!(history.len(), 5);
    assert_eq!(history[1], ("ENV MODE=prod", true));
    assert_eq!(history[4], ("CMD [\"/app/bin\"]", true));
}
