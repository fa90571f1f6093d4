//! Running the binary: the [`Layergate`] command every test uses (no run of it may panic
//! unnoticed), scratch directories, measured runs (peak RSS, measured by GNU time), and the
//! assertions every hostile input shares (refused with one line, no panic).

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::bin;
use super::raw::*;

/// The `layergate` binary as a command. It has no way to run that skips the panic check:
/// [`Layergate::output`] fails the test when the binary panicked (exit 101 or `panicked at`
/// on stderr) or was killed by a signal, and [`Layergate::code`] also asserts the exact
/// exit code.
pub struct Layergate {
    cmd: Command,
}

impl Layergate {
    pub fn new() -> Layergate {
        Layergate {
            cmd: Command::new(env!("CARGO_BIN_EXE_layergate")),
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env(key, val);
        self
    }

    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.cmd.envs(vars);
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn env_clear(&mut self) -> &mut Self {
        self.cmd.env_clear();
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }

    /// The command as configured, for running it under another program (GNU time); such a
    /// caller checks the run with [`assert_clean_exit`] itself.
    pub fn command(&self) -> &Command {
        &self.cmd
    }

    /// Runs the binary to completion and fails the test if it panicked, was killed, or
    /// hung (ran past a bound no real run comes near); the caller asserts the exit code
    /// (or uses [`Layergate::code`]).
    pub fn output(&mut self) -> std::io::Result<Output> {
        let child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let pid = child.id().to_string();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let hang = std::thread::spawn(move || {
            let hung = done_rx.recv_timeout(HANG).is_err();
            if hung {
                // Not reaped yet (wait_with_output has not returned), so the PID is ours.
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
            hung
        });
        let out = child.wait_with_output()?;
        let _ = done_tx.send(());
        assert!(
            !hang.join().unwrap(),
            "layergate {:?} did not finish in {HANG:?}: a hang",
            self.cmd.get_args().collect::<Vec<_>>()
        );
        assert_clean_exit(&out);
        Ok(out)
    }

    /// Runs the binary with `input` on its standard input; like [`Layergate::output`].
    pub fn output_with_stdin(&mut self, input: Vec<u8>) -> std::io::Result<Output> {
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Written from a thread: the binary may answer before it has read everything.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output()?;
        writer.join().expect("stdin writer");
        assert_clean_exit(&out);
        Ok(out)
    }

    /// Runs the binary and asserts it exited with exactly `expected` (and did not panic).
    #[track_caller]
    pub fn code(&mut self, expected: i32) -> Output {
        let out = self.output().expect("run layergate");
        assert_code(&out, expected);
        out
    }
}

impl Default for Layergate {
    fn default() -> Self {
        Layergate::new()
    }
}

/// Fails the test, loudly, when a run of the binary panicked (exit 101, or `panicked at`
/// on stderr: a panic on another thread can end in any exit code) or was killed by a
/// signal.
#[track_caller]
pub fn assert_clean_exit(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked at") && out.status.code() != Some(101),
        "layergate PANICKED ({}): {err}",
        out.status
    );
    assert!(
        out.status.code().is_some(),
        "layergate was killed ({}): {err}",
        out.status
    );
}

/// Asserts a run exited with exactly `expected` and did not panic.
#[track_caller]
pub fn assert_code(out: &Output, expected: i32) {
    assert_clean_exit(out);
    assert_eq!(
        out.status.code(),
        Some(expected),
        "expected exit {expected}; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

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

/// How long a measured run may take before it counts as hung.
const HANG: std::time::Duration = std::time::Duration::from_secs(900);

/// Runs the binary under GNU time, which reports its peak resident memory.
pub fn run_measured(args: &[&str]) -> Run {
    assert!(
        Path::new(GNU_TIME).is_file(),
        "{GNU_TIME} is missing: install the Debian package `time` (apt-get install time)"
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let bin = bin();
    let layergate = bin.command();
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
    // Only a hang reaches this: no run here needs a tenth of it, even on a loaded machine.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let pid = child.id();
    let hang = std::thread::spawn(move || {
        let hung = done_rx.recv_timeout(HANG).is_err();
        if hung {
            // GNU time's child goes with it: kill the whole run by its parent's PID first.
            let _ = Command::new("pkill")
                .args(["-KILL", "-P", &pid.to_string()])
                .status();
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        hung
    });
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    assert!(
        !hang.join().unwrap(),
        "layergate {} did not finish in {HANG:?}: a hang",
        args.join(" ")
    );
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
    let run = Run {
        code,
        stdout: out_t.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
        max_rss_kib,
    };
    assert_no_panic(&run);
    run
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
    eprintln!("measured: peak {} KiB", run.max_rss_kib);
    assert!(run.max_rss_kib > 0, "peak memory was not measured");
    assert!(
        run.max_rss_kib < mib * 1024,
        "peak memory {} KiB, bound {mib} MiB",
        run.max_rss_kib
    );
}

#[track_caller]
pub fn assert_no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked at"), "panic: {}", run.stderr);
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
