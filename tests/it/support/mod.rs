//! Test support, shared by every topic module: where the real test images are, the
//! storage forms derived from them, and how to run the binary. Topic modules hold
//! tests only.

pub mod act;
pub mod action_runner;
pub mod derive;
pub mod dockerd;
pub mod engine_proxy;
pub mod fixtures;
pub mod forge;
pub mod github_api;
pub mod gitlab_ci_local;
pub mod hostile_registry;
pub mod http;
pub mod podman;
pub mod raw;
pub mod reaper;
pub mod registry;
pub mod run;
pub mod sys;

use std::path::{Path, PathBuf};
use std::process::Output;

pub use run::Layergate;

/// The real test images committed with the code (`tests/data/images`, provenance in its
/// README). Tests never read anything outside the repository.
pub fn images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/images")
}

/// The path of a real test image by file name: a committed archive, or a storage form
/// derived from one (see [`derive`]) the first time a test asks for it.
pub fn image(name: &str) -> String {
    let committed = images().join(name);
    if committed.exists() {
        return committed.display().to_string();
    }
    derive::form(name).display().to_string()
}

/// The binary, with the layer cache off: a test that wants it sets it up itself
/// (tests/it/cache.rs), so no test sees another's entries or the user's. Every run of it
/// fails the test if the binary panicked or was killed ([`Layergate::output`]).
pub fn bin() -> Layergate {
    let mut cmd = Layergate::new();
    cmd.env("LAYERGATE_NO_CACHE", "1");
    cmd
}

/// Runs the binary with `args`, returning its output (no panic, see [`bin`]); the caller
/// asserts the exit code.
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
pub mod browser;
