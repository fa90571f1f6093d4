//! Images built in code with the testkit, written to a temporary directory in
//! every form layergate reads.

use std::path::{Path, PathBuf};

use layergate_testkit::{
    docker25, docker_legacy, oci_archive, oci_dir, Compression, Entry, Image, ImageBuilder, Layer,
};

/// A layer of `entries`, compressed as asked.
pub fn layer(entries: &[Entry], c: Compression) -> Layer {
    Layer::build(entries, c).expect("build layer")
}

/// An image of gzip layers, each with its command.
pub fn image(name: &str, layers: &[(&str, Vec<Entry>)]) -> Image {
    image_with(name, layers, Compression::Gzip)
}

pub fn image_with(name: &str, layers: &[(&str, Vec<Entry>)], c: Compression) -> Image {
    let mut b = ImageBuilder::new(name);
    for (cmd, entries) in layers {
        b = b.layer(layer(entries, c), cmd);
    }
    b.build().expect("build image")
}

pub fn write(
    path: &Path,
    f: impl FnOnce(std::fs::File) -> layergate_testkit::Result<std::fs::File>,
) -> String {
    let file = std::fs::File::create(path).expect("create archive");
    f(file).expect("write archive");
    path.display().to_string()
}

/// Writes `image` as a legacy save, a Docker 25 save, an OCI archive and an OCI
/// layout directory under `dir`; returns the references to analyse.
pub fn every_format(image: &Image, dir: &Path) -> Vec<String> {
    let p = |n: &str| -> PathBuf { dir.join(n) };
    let layout = p("layout");
    oci_dir(image, &layout).expect("layout dir");
    vec![
        write(&p("legacy.tar"), |f| docker_legacy(image, f)),
        write(&p("docker25.tar"), |f| docker25(image, f)),
        write(&p("oci.tar"), |f| oci_archive(image, f)),
        format!("docker-archive:{}", p("legacy.tar").display()),
        format!("oci-archive:{}", p("oci.tar").display()),
        format!("oci:{}", layout.display()),
        layout.display().to_string(),
    ]
}

/// Writes `image` as an OCI archive in a temporary directory and analyses it.
pub fn analyze(image: &Image) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir.path().join("image.tar"), |f| oci_archive(image, f));
    crate::support::analyze_json(&path)
}

/// The live file at `path` in a report, if any.
pub fn live<'a>(report: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == path)
}

/// The duplicate rows for `path`.
pub fn dups<'a>(report: &'a serde_json::Value, path: &str) -> Vec<&'a serde_json::Value> {
    report["duplicates"]
        .as_array()
        .expect("duplicates")
        .iter()
        .filter(|d| d["path"] == path)
        .collect()
}
