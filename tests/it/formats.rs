//! The same image built in code gives the same figures in every format and
//! compression layergate reads, including standard input.

use layergate_testkit::{Compression, Entry};
use serde_json::Value;

use crate::support::fixtures::{every_format, image_with};
use crate::support::{analyze_json, bin};

fn sample(c: Compression) -> layergate_testkit::Image {
    image_with(
        "sample:1",
        &[
            (
                "ADD rootfs.tar /",
                vec![
                    Entry::dir("etc"),
                    Entry::file("etc/os-release", b"ID=sample\n"),
                    Entry::dir("usr/bin"),
                    Entry::file("usr/bin/tool", vec![7u8; 5000]).mode(0o755),
                    Entry::symlink("usr/bin/t", "tool"),
                    Entry::hardlink("usr/bin/tool2", "usr/bin/tool"),
                    Entry::char_device("dev/null", 1, 3),
                    Entry::fifo("run/fifo"),
                ],
            ),
            (
                "RUN apt-get install big",
                vec![
                    Entry::file("var/cache/big.deb", vec![1u8; 20_000]),
                    Entry::file("etc/os-release", b"ID=sample2\n"),
                ],
            ),
            ("RUN rm -rf /var/cache", vec![Entry::whiteout("var/cache")]),
        ],
        c,
    )
}

/// The figures that must not depend on the source: everything but the
/// reference, format, digests and compressed sizes.
fn figures(report: &Value) -> Value {
    let mut r = report.clone();
    r["image"] = Value::Null;
    for l in r["layers"].as_array_mut().unwrap() {
        l["digest"] = Value::Null;
        l["media_type"] = Value::Null;
        l["compression"] = Value::Null;
        l["compressed_bytes"] = Value::Null;
    }
    r["totals"]["compressed_bytes"] = Value::Null;
    r
}

fn analyze_stdin(path: &str) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let out = bin()
        .args(["analyze", "-", "--format", "json"])
        .output_with_stdin(bytes)
        .unwrap();
    crate::support::run::assert_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One image, eight ways of storing it, one set of figures.
#[test]
fn same_image_gives_same_figures_in_every_format_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for (i, c) in [Compression::Gzip, Compression::Zstd, Compression::None]
        .into_iter()
        .enumerate()
    {
        let sub = dir.path().join(i.to_string());
        std::fs::create_dir(&sub).unwrap();
        for r in every_format(&sample(c), &sub) {
            reports.push((r.clone(), analyze_json(&r)));
        }
        let stdin = sub.join("docker25.tar").display().to_string();
        reports.push((format!("- < {stdin}"), analyze_stdin(&stdin)));
    }
    let (first_ref, first) = &reports[0];
    let want = figures(first);
    assert_eq!(
        first["totals"]["uncompressed_bytes"],
        5000 + 10 + 20_000 + 11
    );
    assert_eq!(first["totals"]["live_bytes"], 5000 + 11);
    for (r, got) in &reports[1..] {
        assert_eq!(figures(got), want, "{r} differs from {first_ref}");
    }
}
