//! Running the binary on a case: scratch directories, measured runs (wall time and
//! peak RSS), and the assertions every hostile input shares (refused with one line,
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
    /// Peak resident memory of the child, in KiB, as last sampled.
    pub max_rss_kib: i64,
}

impl Run {
    pub fn json(&self) -> Value {
        assert_eq!(self.code, 0, "expected success, stderr: {}", self.stderr);
        serde_json::from_slice(&self.stdout).expect("JSON report")
    }
}

/// Runs the binary, sampling its peak resident memory (`VmHWM`, a high-water
/// mark) from /proc while it runs. The crate forbids `unsafe`, so `wait4` is out;
/// a high-water mark read every few milliseconds misses at most the last instant.
pub fn run_measured(args: &[&str]) -> Run {
    let start = Instant::now();
    // Same environment as `bin()`: never the user's layer cache, which other
    // builds of other layouts share.
    let mut child = Command::new(bin().get_program())
        .env("LAYERGATE_NO_CACHE", "1")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn layergate");
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
    let status_file = format!("/proc/{}/status", child.id());
    let mut max_rss_kib = 0;
    let status = loop {
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            max_rss_kib = max_rss_kib.max(hwm);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| -status.signal().unwrap_or(1));
    Run {
        code,
        stdout: out_t.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        elapsed,
        max_rss_kib,
    }
}

fn vm_hwm_kib(status: &str) -> Option<i64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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

/// Asserts the child's sampled peak memory stayed under `mib` (and was sampled).
#[track_caller]
pub fn assert_rss_below(run: &Run, mib: i64) {
    eprintln!("measured: {:?}, peak {} KiB", run.elapsed, run.max_rss_kib);
    // A child that exits before the first sample had no time to touch much memory.
    assert!(
        run.max_rss_kib > 0 || run.elapsed < Duration::from_millis(200),
        "peak memory was not sampled"
    );
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
