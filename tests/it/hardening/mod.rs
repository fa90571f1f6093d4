//! Hardening: broken, hostile and extreme inputs, every one generated here byte
//! by byte (no committed binaries). Each case runs the real binary and asserts
//! either exact figures or exit 2 with one `layergate: ` line naming the culprit,
//! and never a panic. Cases are grouped by theme; the helpers below build tars,
//! layers and images with the byte-level control a hostile input needs.

// `&[x.clone()]` reads better than `slice::from_ref(&x)` in one-layer images.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod descriptors;
mod documents;
mod names;
mod properties;
mod scale;
mod tar_oddities;
mod truncation;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::support::bin;

// ---------------------------------------------------------------- raw tar bytes

/// A tar stream written header by header, so a test can put any byte anywhere.
#[derive(Default, Clone)]
pub struct Tar(pub Vec<u8>);

pub const REG: u8 = b'0';
pub const LNK: u8 = b'1';
pub const SYM: u8 = b'2';
pub const CHR: u8 = b'3';
pub const BLK: u8 = b'4';
pub const DIR: u8 = b'5';
pub const FIFO: u8 = b'6';

/// A ustar header with `name` stored as raw bytes (up to 100) and a valid checksum.
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(if typeflag == DIR { 0o755 } else { 0o644 });
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::new(typeflag));
    let bytes = h.as_mut_bytes();
    assert!(
        name.len() <= 100 && link.len() <= 100,
        "use a long-name entry"
    );
    bytes[..name.len()].copy_from_slice(name);
    bytes[157..157 + link.len()].copy_from_slice(link);
    h.set_cksum();
    *h.as_bytes()
}

impl Tar {
    pub fn new() -> Tar {
        Tar::default()
    }

    /// Appends a header and `data`, padded to a block.
    pub fn raw(&mut self, header: &[u8; 512], data: &[u8]) -> &mut Tar {
        self.0.extend_from_slice(header);
        self.0.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn pad(&mut self) {
        let rem = self.0.len() % 512;
        if rem != 0 {
            self.0.resize(self.0.len() + 512 - rem, 0);
        }
    }

    pub fn entry(&mut self, name: &[u8], typeflag: u8, data: &[u8], link: &[u8]) -> &mut Tar {
        let h = header(name, typeflag, data.len() as u64, link);
        self.raw(&h, data)
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Tar {
        self.entry(name.as_bytes(), REG, data, b"")
    }

    pub fn dir(&mut self, name: &str) -> &mut Tar {
        self.entry(name.as_bytes(), DIR, b"", b"")
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.entry(name.as_bytes(), SYM, b"", target.as_bytes())
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.entry(name.as_bytes(), LNK, b"", target.as_bytes())
    }

    /// `.wh.NAME` beside NAME: deletes NAME from the layers below.
    pub fn whiteout(&mut self, path: &str) -> &mut Tar {
        let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }

    /// A PAX extended header (`x`) whose records apply to the next member.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Tar {
        let mut body = Vec::new();
        for (k, v) in records {
            body.extend_from_slice(&pax_record(k, v));
        }
        let h = header(b"PaxHeaders/x", b'x', body.len() as u64, b"");
        self.raw(&h, &body)
    }

    /// A GNU long-name member (`L`) naming the next member.
    pub fn gnu_long_name(&mut self, name: &[u8]) -> &mut Tar {
        let mut data = name.to_vec();
        data.push(0);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::GNULongName);
        h.as_mut_bytes()[..13].copy_from_slice(b"././@LongLink");
        h.set_cksum();
        self.raw(h.as_bytes(), &data)
    }

    /// The end-of-archive marker: two zero blocks.
    pub fn end(&mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0.clone()
    }
}

/// One PAX record: `LEN KEY=VALUE\n`, where LEN counts itself.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

// ---------------------------------------------------------------- compression

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    Plain,
    Gzip,
    Zstd,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn hex_of(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

// ---------------------------------------------------------------- images

/// One layer as stored: the blob, its media type and the diffID of its tar.
#[derive(Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub diff_id: String,
}

impl Blob {
    pub fn digest(&self) -> String {
        sha256(&self.bytes)
    }
}

pub fn layer(tar: &[u8], comp: Comp) -> Blob {
    let (bytes, suffix) = match comp {
        Comp::Plain => (tar.to_vec(), ""),
        Comp::Gzip => (gzip(tar), "+gzip"),
        Comp::Zstd => (zstd(tar), "+zstd"),
    };
    Blob {
        bytes,
        media_type: format!("application/vnd.oci.image.layer.v1.tar{suffix}"),
        diff_id: sha256(tar),
    }
}

/// A blob whose bytes were made elsewhere (e.g. hand-assembled gzip members).
pub fn blob(bytes: Vec<u8>, diff_id: String, comp: Comp) -> Blob {
    let suffix = match comp {
        Comp::Plain => "",
        Comp::Gzip => "+gzip",
        Comp::Zstd => "+zstd",
    };
    Blob {
        bytes,
        media_type: format!("application/vnd.oci.image.layer.v1.tar{suffix}"),
        diff_id,
    }
}

/// The files of an archive or layout, in the order they are written.
pub type Files = Vec<(String, Vec<u8>)>;

pub fn config_for(blobs: &[Blob]) -> Value {
    json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": blobs.iter().map(|b| b.diff_id.clone()).collect::<Vec<_>>()},
        "history": blobs.iter().enumerate().map(|(i, _)| json!({"created_by": format!("step {i}")})).collect::<Vec<_>>(),
    })
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// An OCI layout of one image. `tweak` may change the config and manifest
/// documents before they are hashed (so they stay self-consistent).
pub fn oci_with(blobs: &[Blob], tweak: impl FnOnce(&mut Value, &mut Value)) -> Files {
    let mut config = config_for(blobs);
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "", "size": 0},
        "layers": blobs.iter().map(|b| json!({"mediaType": b.media_type, "digest": b.digest(), "size": b.bytes.len()})).collect::<Vec<_>>(),
    });
    // Fill the config descriptor first so a tweak may break it on purpose.
    let config_bytes = json_bytes(&config);
    manifest["config"]["digest"] = json!(sha256(&config_bytes));
    manifest["config"]["size"] = json!(config_bytes.len());
    let before = config.clone();
    tweak(&mut config, &mut manifest);
    if config != before {
        let config_bytes = json_bytes(&config);
        manifest["config"]["digest"] = json!(sha256(&config_bytes));
        manifest["config"]["size"] = json!(config_bytes.len());
    }
    let config_bytes = json_bytes(&config);
    let manifest_bytes = json_bytes(&manifest);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": sha256(&manifest_bytes), "size": manifest_bytes.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "test"}}],
    });
    let mut files: Files = vec![
        (
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".into(), json_bytes(&index)),
        (blob_path(&sha256(&manifest_bytes)), manifest_bytes),
        (blob_path(&sha256(&config_bytes)), config_bytes),
    ];
    for b in blobs {
        let p = blob_path(&b.digest());
        if !files.iter().any(|(n, _)| n == &p) {
            files.push((p, b.bytes.clone()));
        }
    }
    files
}

pub fn oci(blobs: &[Blob]) -> Files {
    oci_with(blobs, |_, _| {})
}

pub fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", hex_of(digest))
}

/// A legacy `docker save` archive: `manifest.json`, `<hex>.json`, `<n>/layer.tar`.
/// Layers must be plain tars (legacy saves are never compressed).
pub fn docker_save(tars: &[Vec<u8>]) -> Files {
    let blobs: Vec<Blob> = tars.iter().map(|t| layer(t, Comp::Plain)).collect();
    let config = json_bytes(&config_for(&blobs));
    let config_name = format!("{}.json", hex_of(&sha256(&config)));
    let layer_names: Vec<String> = (0..tars.len()).map(|i| format!("l{i}/layer.tar")).collect();
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["hardening:test"], "Layers": layer_names}]);
    let mut files: Files = vec![
        ("manifest.json".into(), json_bytes(&manifest)),
        (config_name, config),
    ];
    for (name, t) in layer_names.into_iter().zip(tars) {
        files.push((name, t.clone()));
    }
    files
}

/// Replaces the bytes of the file named `name`.
pub fn set(files: &mut Files, name: &str, bytes: Vec<u8>) {
    let f = files
        .iter_mut()
        .find(|(n, _)| n == name)
        .expect("file present");
    f.1 = bytes;
}

pub fn remove(files: &mut Files, name: &str) {
    files.retain(|(n, _)| n != name);
}

/// The files as a tar archive (ordinary, valid outer tar).
pub fn archive(files: &Files) -> Vec<u8> {
    let mut t = Tar::new();
    for (name, bytes) in files {
        if name.len() <= 100 {
            t.file(name, bytes);
        } else {
            t.gnu_long_name(name.as_bytes());
            t.file(&name[..100], bytes);
        }
    }
    t.end()
}

// ---------------------------------------------------------------- running

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
    let mut child = Command::new(bin().get_program())
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
