//! Running the binary on a case: scratch directories, measured runs (wall time and
//! peak RSS, measured by GNU time), and the assertions every hostile input shares (refused with one line,
//! no panic).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bin;
use super::raw::*;

/// A scratch directory for one case.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// Writes `files` as a layout directory under `dir/name`.
pub fn write_layout(dir: &Path, name: &str, files: &Files) -> PathBuf {
    let root = dir.join(name);
    for (n, bytes) in files {
        let p = root.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    root
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident memory of the child, in KiB, as the kernel counted it.
    pub max_rss_kib: i64,
}

impl Run {
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "expected success, stderr: {}", self.stderr);
        serde_json::from_slice(&self.stdout).expect("JSON report")
    }
}

/// GNU time waits for the child with `wait4` and prints the kernel's peak RSS
/// (`ru_maxrss`), so even a run of a millisecond is measured. The crate forbids
/// `unsafe`, so the test cannot call `wait4` itself.
const GNU_TIME: &str = "/usr/bin/time";

/// Runs the binary under GNU time, which reports its peak resident memory.
pub fn run_measured(args: &[&str]) -> Run {
    assert!(
        Path::new(GNU_TIME).is_file(),
        "{GNU_TIME} is missing: install the Debian package `time` (apt-get install time)"
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let start = Instant::now();
    let layergate = bin();
    let mut time = Command::new(GNU_TIME);
    // What `bin()` sets for every run (no analysis cache) holds under GNU time too.
    for (k, v) in layergate.get_envs() {
        match v {
            Some(v) => time.env(k, v),
            None => time.env_remove(k),
        };
    }
    let mut child = time
        .arg("-f")
        .arg("layergate-max-rss-kib=%M")
        .arg("-o")
        .arg(report.path())
        .arg(layergate.get_program())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn layergate under GNU time");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let status = child.wait().unwrap();
    let elapsed = start.elapsed();
    let timing = std::fs::read_to_string(report.path()).unwrap();
    let max_rss_kib = timing
        .lines()
        .find_map(|l| l.strip_prefix("layergate-max-rss-kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time reported no peak memory: {timing:?}"));
    // GNU time exits with the child's status, and says so when a signal killed it.
    let code = match timing
        .lines()
        .find_map(|l| l.strip_prefix("Command terminated by signal "))
    {
        Some(sig) => -sig.trim().parse::<i32>().unwrap(),
        None => status.code().unwrap(),
    };
    Run {
        code,
        stdout: out_t.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        elapsed,
        max_rss_kib,
    }
}

pub fn analyze(image: &str) -> Run {
    run_measured(&["analyze", image, "--format", "json"])
}

/// Asserts a clean refusal: exit 2, exactly one stderr line starting with
/// `layergate: `, no panic, and every `needle` in it.
#[track_caller]
pub fn assert_refused(run: &Run, needles: &[&str]) {
    assert_no_panic(run);
    assert_eq!(run.code, 2, "expected exit 2, stderr: {}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line: {:?}", run.stderr);
    assert!(lines[0].starts_with("layergate: "), "{}", lines[0]);
    eprintln!("refused as expected: {}", lines[0]);
    for n in needles {
        assert!(lines[0].contains(n), "{:?} not in {:?}", n, lines[0]);
    }
    assert!(run.stdout.is_empty(), "no partial report on refusal");
}

/// Asserts the child's peak memory, as the kernel measured it, stayed under `mib`.
#[track_caller]
pub fn assert_rss_below(run: &Run, mib: i64) {
    eprintln!("measured: {:?}, peak {} KiB", run.elapsed, run.max_rss_kib);
    assert!(run.max_rss_kib > 0, "peak memory was not measured");
    assert!(
        run.max_rss_kib < mib * 1024,
        "peak memory {} KiB, bound {mib} MiB",
        run.max_rss_kib
    );
}

#[track_caller]
pub fn assert_no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
    assert_ne!(run.code, 101, "panic exit: {}", run.stderr);
    assert!(
        run.code >= 0,
        "killed by signal {}: {}",
        -run.code,
        run.stderr
    );
}

/// Writes an OCI archive of `files` and analyses it.
pub fn analyze_oci_archive(files: &Files) -> (Run, String, tempfile::TempDir) {
    let dir = scratch();
    let path = write(dir.path(), "image.tar", &archive(files));
    (analyze(&path), path, dir)
}

/// The totals of a successful report: (stored, live, wasted, files).
pub fn totals(report: &Value) -> (u64, u64, u64, u64) {
    let t = &report["totals"];
    (
        t["uncompressed_bytes"].as_u64().unwrap(),
        t["live_bytes"].as_u64().unwrap(),
        t["wasted_bytes"].as_u64().unwrap(),
        t["files"].as_u64().unwrap(),
    )
}

/// The live paths of a successful report.
pub fn live_paths(report: &Value) -> Vec<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

/// `n` MiB of zeros as concatenated gzip members (64 MiB each, compressed once),
/// so a multi-GiB stream costs the test almost nothing to build.
pub fn gzip_zeros_mib(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(&vec![0u8; 64 << 20]).unwrap();
    let chunk = e.finish().unwrap();
    let mut out = Vec::new();
    for _ in 0..n / 64 {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&gzip(&vec![0u8; (n % 64) << 20]));
    out
}

/// The same as zstd frames (a zstd stream may hold several frames).
pub fn zstd_zeros_mib(n: usize) -> Vec<u8> {
    let chunk = zstd(&vec![0u8; 64 << 20]);
    let mut out = Vec::new();
    for _ in 0..n / 64 {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&zstd(&vec![0u8; (n % 64) << 20]));
    out
}
