//! The JSON outputs stay byte-identical while the code moves: `analyze`, `check` and
//! `diff` on every real test image, `platforms` on the multi-arch one and `merge` of two
//! verdicts are compared with the outputs recorded in `tests/data/json/` (README there).
//! Only the images' folder, which names a path on this machine, is replaced by `<images>`.

use std::path::Path;

use crate::support::{bin, images};

/// Every real test image, as committed.
const IMAGES: [&str; 11] = [
    "app-base.docker.tar",
    "app-base.oci.tar",
    "app-pr.docker25.tar",
    "app-pr.oci.tar",
    "chmod-split.oci.tar",
    "cleanup-merged.oci.tar",
    "cleanup-split.oci.tar",
    "download.oci.tar",
    "multiarch.oci.tar",
    "whiteouts-opaque.oci.tar",
    "whiteouts.oci.tar",
];

/// Runs the binary in `dir` (an empty folder, so no policy file is discovered and the
/// default policy applies), asserts exit 0 and returns standard output with the images'
/// folder replaced.
fn json_of(dir: &Path, args: &[&str]) -> String {
    // `merge` reads no image, so it has no progress to quieten.
    let quiet: &[&str] = if args[0] == "merge" {
        &[]
    } else {
        &["--quiet"]
    };
    let out = bin()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json", "--comment", "none"])
        .args(quiet)
        .output()
        .expect("run layergate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("JSON is UTF-8");
    text.replace(&images().display().to_string(), "<images>")
}

fn recorded(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/json")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stem(image: &str) -> &str {
    image.strip_suffix(".tar").expect("an archive")
}

fn path_of(image: &str) -> String {
    images().join(image).display().to_string()
}

/// `analyze` takes no `--comment`; the other commands do.
fn analyze_json(dir: &Path, image: &str) -> String {
    let out = bin()
        .current_dir(dir)
        .args(["analyze", &path_of(image), "--platform", "linux/amd64"])
        .args(["--format", "json", "--quiet"])
        .output()
        .expect("run layergate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("JSON is UTF-8")
        .replace(&images().display().to_string(), "<images>")
}

#[test]
fn analyze_json_is_unchanged_on_every_image() {
    let dir = tempfile::tempdir().unwrap();
    for image in IMAGES {
        let got = analyze_json(dir.path(), image);
        assert_eq!(
            got,
            recorded(&format!("analyze.{}.json", stem(image))),
            "analyze {image}"
        );
    }
}

#[test]
fn check_json_is_unchanged_on_every_image() {
    let dir = tempfile::tempdir().unwrap();
    for image in IMAGES {
        let got = json_of(
            dir.path(),
            &["check", &path_of(image), "--platform", "linux/amd64"],
        );
        assert_eq!(
            got,
            recorded(&format!("check.{}.json", stem(image))),
            "check {image}"
        );
    }
}

#[test]
fn diff_json_is_unchanged_on_every_image() {
    let dir = tempfile::tempdir().unwrap();
    let base = path_of("app-base.oci.tar");
    for image in IMAGES {
        let got = json_of(
            dir.path(),
            &["diff", &base, &path_of(image), "--platform", "linux/amd64"],
        );
        assert_eq!(
            got,
            recorded(&format!("diff.{}.json", stem(image))),
            "diff app-base {image}"
        );
    }
}

#[test]
fn platforms_json_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let image = path_of("multiarch.oci.tar");
    let got = json_of(dir.path(), &["platforms", &image]);
    assert_eq!(got, recorded("platforms.multiarch.oci.json"));
    let got = json_of(dir.path(), &["platforms", &image, "--base", &image]);
    assert_eq!(got, recorded("platforms-base.multiarch.oci.json"));
}

#[test]
fn merge_json_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let diff = json_of(
        dir.path(),
        &[
            "diff",
            &path_of("app-base.oci.tar"),
            &path_of("app-pr.oci.tar"),
            "--label",
            "app",
        ],
    );
    let check = json_of(
        dir.path(),
        &[
            "check",
            &path_of("cleanup-split.oci.tar"),
            "--label",
            "cleanup",
        ],
    );
    std::fs::write(dir.path().join("v1.json"), diff).unwrap();
    std::fs::write(dir.path().join("v2.json"), check).unwrap();
    let got = json_of(dir.path(), &["merge", "v1.json", "v2.json"]);
    assert_eq!(got, recorded("merge.json"));
}
