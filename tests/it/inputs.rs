//! Choosing an image inside a source: `--platform` on a multi-arch index, a tag
//! in a layout holding several images, and where the output goes (`--output`).

use layergate_testkit::{Compression, Entry, Image, ImageBuilder, IndexStyle, Layout};

use crate::support::fixtures::{layer, write};
use crate::support::{analyze_json, run, stderr};

fn for_platform(arch: &str, variant: Option<&str>, bytes: usize) -> Image {
    ImageBuilder::new("multi:1")
        .layer(
            layer(
                &[Entry::file(format!("bin/{arch}"), vec![1u8; bytes])],
                Compression::Gzip,
            ),
            &format!("ADD rootfs-{arch}.tar /"),
        )
        .platform("linux", arch, variant)
        .build()
        .unwrap()
}

fn multiarch(style: IndexStyle) -> (tempfile::TempDir, String) {
    let amd = for_platform("amd64", None, 1000);
    let arm = for_platform("arm64", Some("v8"), 2000);
    let arm7 = for_platform("arm", Some("v7"), 3000);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir.path().join("multi.tar"), |f| {
        Layout::new()
            .index(&[&amd, &arm, &arm7], Some("multi:1"), style)
            .write_tar(f)
    });
    (dir, path)
}

/// `--platform` picks the manifest of that platform from an index, nested
/// (BuildKit) or flat (skopeo), variant included.
#[test]
fn platform_selects_the_matching_manifest_from_an_index() {
    for style in [IndexStyle::Nested, IndexStyle::Flat] {
        let (_dir, path) = multiarch(style);
        for (platform, bytes, arch) in [
            ("linux/amd64", 1000, "amd64"),
            ("linux/arm64/v8", 2000, "arm64"),
            ("linux/arm64", 2000, "arm64"),
            ("linux/arm/v7", 3000, "arm"),
        ] {
            let out = run(&["analyze", &path, "--platform", platform, "--format", "json"]);
            assert!(
                out.status.success(),
                "{style:?} {platform}: {}",
                stderr(&out)
            );
            let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(r["totals"]["live_bytes"], bytes, "{style:?} {platform}");
            assert_eq!(r["image"]["architecture"], arch);
        }
    }
}

/// Without `--platform`, the host's platform is chosen.
#[test]
fn host_platform_is_the_default() {
    let (_dir, path) = multiarch(IndexStyle::Nested);
    let r = analyze_json(&path);
    let host = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(r["image"]["architecture"], host);
}

/// An absent platform is an input error (exit 2) on one line that lists the
/// platforms the index holds.
#[test]
fn unknown_platform_lists_the_platforms_present() {
    for style in [IndexStyle::Nested, IndexStyle::Flat] {
        let (_dir, path) = multiarch(style);
        let out = run(&["analyze", &path, "--platform", "linux/s390x"]);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        for p in [
            "linux/s390x",
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
        ] {
            assert!(err.contains(p), "{style:?}: {err} lacks {p}");
        }
    }
}

fn two_images_layout() -> (tempfile::TempDir, std::path::PathBuf) {
    let a = ImageBuilder::new("app:base")
        .layer(
            layer(&[Entry::file("a", vec![1u8; 10])], Compression::Gzip),
            "ADD a",
        )
        .build()
        .unwrap();
    let b = ImageBuilder::new("app:pr")
        .layer(
            layer(&[Entry::file("b", vec![1u8; 20])], Compression::Zstd),
            "ADD b",
        )
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    Layout::new()
        .image(&a, Some("base"))
        .image(&b, Some("pr"))
        .write_dir(&layout)
        .unwrap();
    (dir, layout)
}

/// A layout holding several images needs a tag; without one the error lists
/// the names to choose from.
#[test]
fn layout_with_several_images_and_no_tag_lists_them() {
    let (_dir, layout) = two_images_layout();
    let out = run(&["analyze", &format!("oci:{}", layout.display())]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("base") && err.contains("pr"), "{err}");
    assert!(err.contains(&layout.display().to_string()), "{err}");

    let r = analyze_json(&format!("oci:{}:pr", layout.display()));
    assert_eq!(r["totals"]["live_bytes"], 20);
    let r = analyze_json(&format!("oci:{}:base", layout.display()));
    assert_eq!(r["totals"]["live_bytes"], 10);
    let out = run(&["analyze", &format!("oci:{}:nope", layout.display())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope"));
}

/// `--output FILE` writes the report there and nothing to standard output.
#[test]
fn output_writes_the_report_to_a_file() {
    let (dir, layout) = two_images_layout();
    let file = dir.path().join("report.json");
    let out = run(&[
        "analyze",
        &format!("oci:{}:base", layout.display()),
        "--format",
        "json",
        "--output",
        &file.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(r["schema"], 2);
    assert_eq!(r["totals"]["live_bytes"], 10);
}

/// A reference that cannot be one is refused where the arguments are read (parsed once,
/// then carried as it is), with the same one line for every verdict command, exit 2.
#[test]
fn bad_references_are_one_line_and_exit_2() {
    let pr = crate::support::image("app-pr.oci.tar");
    for (args, shown) in [
        (vec!["diff", "docker-daemon:", &pr], "\"docker-daemon:\""),
        (vec!["diff", &pr, ""], "\"\": empty"),
        (vec!["check", "oci:"], "\"oci:\": no path"),
        (
            vec!["check", "docker-daemon:a?b", "--platform", "all"],
            "\"docker-daemon:a?b\"",
        ),
        (vec!["platforms", "docker://"], "\"docker://\""),
        (
            vec!["platforms", &pr, "--base", "report:"],
            "\"report:\": no file",
        ),
    ] {
        let out = run(&args);
        crate::support::run::assert_code(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("layergate: invalid image reference {shown}")),
            "{args:?}: {err}"
        );
    }
}
