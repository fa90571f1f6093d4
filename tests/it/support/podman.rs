//! A private podman API service for tests: `podman system service` on its own socket
//! in a temporary directory, vfs storage, every podman call with the same
//! `--root`/`--runroot`/`--tmpdir` (and cgroupfs/file events, as there is no systemd),
//! stopped by its PID when dropped. It never touches the user's own podman storage.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::dockerd::{require, stop};

pub struct Podman {
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Podman {
    /// Starts the service and waits until it answers `/_ping`.
    pub fn start() -> Podman {
        require("podman", "podman");
        // Short: unix socket paths must stay under ~100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("lgp")
            .tempdir_in("/tmp")
            .expect("create podman temp dir");
        for sub in ["root", "run", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("podman dirs");
        }
        let socket = dir.path().join("p.sock");
        let log = std::fs::File::create(dir.path().join("podman.log")).expect("podman log");
        let child = base(dir.path())
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("podman log"))
            .stderr(log)
            .spawn()
            .expect("spawn podman system service");
        let mut p = Podman { dir, socket, child };
        p.wait_ready();
        p
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `unix:///…/p.sock`, the value for `CONTAINER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// A `podman` command on this service's storage.
    pub fn podman(&self) -> Command {
        base(self.dir.path())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.podman().args(args).output().expect("run podman");
        assert!(
            out.status.success(),
            "podman {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `podman load -i ARCHIVE` (docker-archive or oci-archive).
    pub fn load(&self, archive: &Path) {
        self.run(&["load", "-i", &archive.display().to_string()]);
    }

    pub fn tag(&self, src: &str, dst: &str) {
        self.run(&["tag", src, dst]);
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.path().join("podman.log")).unwrap_or_default();
                panic!("podman service exited early ({status}): {log}");
            }
            if self.socket.exists() && std::os::unix::net::UnixStream::connect(&self.socket).is_ok()
            {
                return;
            }
            if Instant::now() > deadline {
                panic!("podman service did not open its socket in 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        stop(&mut self.child);
        // vfs layers are plain directories owned by root; TempDir removes them.
    }
}

/// podman with this test's storage, its temp dir for staging exports, no systemd.
fn base(dir: &Path) -> Command {
    let mut cmd = Command::new("podman");
    cmd.arg("--root")
        .arg(dir.join("root"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .arg("--tmpdir")
        .arg(dir.join("tmp"))
        .args([
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
        ])
        .env("TMPDIR", dir.join("tmp"))
        .env_remove("CONTAINER_HOST");
    cmd
}
