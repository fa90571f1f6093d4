//! A private Docker Engine for tests: `dockerd` on its own socket in a temporary directory,
//! vfs storage, no networking, stopped by its PID when dropped. It never talks to (or touches)
//! an engine the machine already runs: every path it uses is under its own temp dir and every
//! `docker` call goes through `-H unix://SOCKET`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running test engine. Dropping it stops the daemon (SIGTERM, then SIGKILL) and removes its
/// directory.
pub struct Dockerd {
    /// Short temp dir (under /tmp) holding socket, pidfile, data and exec roots.
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Dockerd {
    /// Starts a fresh engine and waits until it answers `/_ping`. Panics with one line saying
    /// what is missing when `dockerd` is not installed and cannot be installed.
    pub fn start() -> Dockerd {
        ensure_installed();
        // Unix socket paths must stay under ~100 bytes: keep the directory short and in /tmp
        // whatever TMPDIR says.
        let dir = tempfile::Builder::new()
            .prefix("lgd")
            .tempdir_in("/tmp")
            .expect("create dockerd temp dir");
        let socket = dir.path().join("d.sock");
        let data = dir.path().join("data");
        let exec = dir.path().join("exec");
        let log = std::fs::File::create(dir.path().join("dockerd.log")).expect("dockerd log");
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(&data)
            .arg("--exec-root")
            .arg(&exec)
            .arg("--pidfile")
            .arg(dir.path().join("d.pid"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args([
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
            ])
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dockerd log"))
            .stderr(log)
            .spawn()
            .expect("spawn dockerd");
        let mut engine = Dockerd { dir, socket, child };
        engine.wait_ready();
        engine
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `unix:///…/d.sock`, the value for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The engine's temp dir (for test files that should go away with it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A `docker` command bound to this engine only.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new("docker");
        cmd.arg("-H")
            .arg(self.host())
            .env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", self.dir.path().join("cli"));
        cmd
    }

    /// Runs `docker ARGS` against this engine; panics with its stderr when it fails.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.docker().args(args).output().expect("run docker");
        assert!(
            out.status.success(),
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `docker load -i ARCHIVE`; returns the names docker reports ("Loaded image: …").
    pub fn load(&self, archive: &Path) -> Vec<String> {
        let out = self.run(&["load", "-i", &archive.display().to_string()]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                l.strip_prefix("Loaded image: ")
                    .or_else(|| l.strip_prefix("Loaded image ID: "))
            })
            .map(str::to_owned)
            .collect()
    }

    /// `docker tag SRC DST`.
    pub fn tag(&self, src: &str, dst: &str) {
        self.run(&["tag", src, dst]);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dockerd exited early ({status}): {}", tail(&self.log()));
            }
            if self.socket.exists() && ping(&self.socket) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "dockerd did not answer /_ping in 60 s: {}",
                    tail(&self.log())
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// SIGTERM by PID, wait up to 15 s, then SIGKILL. Only this child, never by name.
pub(crate) fn stop(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `GET /_ping` over the unix socket with a hand-written request: the harness needs no HTTP client.
fn ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.starts_with("HTTP/1.") && text.contains(" 200 ") && text.ends_with("OK")
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

pub(crate) fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Installs the Debian package `package` when `tool` is missing and we are root; otherwise
/// fails with one line naming what to install.
pub(crate) fn require(tool: &str, package: &str) {
    if on_path(tool) {
        return;
    }
    if is_root() {
        // The dpkg lock may be held by another install on a shared machine: retry a few times.
        for _ in 0..5 {
            let ok = Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", package])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok && on_path(tool) {
                return;
            }
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    panic!("{tool} is not installed: install the Debian package `{package}` (apt-get install {package})");
}

fn ensure_installed() {
    require("dockerd", "docker.io");
    require("docker", "docker.io");
}
