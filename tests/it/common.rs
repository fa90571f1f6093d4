//! Shared helpers: where the binary and the shared test images are, and how to run it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `../shared/images` beside the repository.
pub fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/images")
}

pub fn image(name: &str) -> String {
    images().join(name).display().to_string()
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_layergate"))
}

/// Runs the binary with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run layergate")
}

/// Runs `layergate analyze IMAGE --format json` and parses the report.
pub fn analyze_json(image: &str) -> serde_json::Value {
    let out = run(&["analyze", image, "--format", "json"]);
    assert!(
        out.status.success(),
        "analyze {image} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("analyze prints JSON")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
