//! A private podman API service for tests: `podman system service` on its own socket
//! in a temporary directory, vfs storage, every podman call with the same
//! `--root`/`--runroot`/`--tmpdir` (and cgroupfs/file events, as there is no systemd),
//! run as root (directly or through password-less sudo) in its own process group, stopped
//! when dropped or when the test binary exits ([`super::reaper`]). It never touches the
//! user's own podman storage.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::reaper::{self, AtExit};
use super::sys::{self, privileged};

pub struct Podman {
    dir: PathBuf,
    socket: PathBuf,
    child: Child,
    _cleanup: AtExit,
}

impl Podman {
    /// Starts the service and waits until it answers `/_ping`.
    pub fn start() -> Podman {
        use std::os::unix::process::CommandExt;
        sys::install(&["podman"], &["podman"]);
        // Short: unix socket paths must stay under ~100 bytes.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}podman-", reaper::MARKER))
            .tempdir_in("/tmp")
            .expect("create podman temp dir")
            .keep();
        for sub in ["root", "run", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).expect("podman dirs");
        }
        let socket = dir.join("p.sock");
        let log = std::fs::File::create(dir.join("podman.log")).expect("podman log");
        let child = base(&dir)
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("podman log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn podman system service");
        let cleanup = reaper::at_exit(&format!(
            "{}; {}rm -rf {}",
            reaper::stop_group_command(child.id(), true),
            if sys::is_root() { "" } else { "sudo -n " },
            dir.display()
        ));
        let mut p = Podman {
            dir,
            socket,
            child,
            _cleanup: cleanup,
        };
        p.wait_ready();
        if !sys::is_root() {
            let (uid, gid) = sys::ids();
            sys::privileged_ok(
                "chown",
                &[&format!("{uid}:{gid}"), &p.socket.display().to_string()],
            );
        }
        p
    }

    /// `unix:///…/p.sock`, the value for `CONTAINER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = base(&self.dir).args(args).output().expect("run podman");
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

    fn wait_ready(&mut self) {
        // Generous: only a hung start reaches it, never a slow one.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("podman.log")).unwrap_or_default();
                panic!("podman service exited early ({status}): {log}");
            }
            if socket_open(&self.socket) {
                return;
            }
            if Instant::now() > deadline {
                panic!("podman service did not open its socket in 300 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        reaper::stop_group(self.child.id(), true);
        let _ = self.child.wait();
        // vfs layers are plain directories owned by root.
        let _ = privileged("rm")
            .arg("-rf")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether the service listens on `socket` (as root: it is root's until handed over).
fn socket_open(socket: &Path) -> bool {
    if sys::is_root() {
        return std::os::unix::net::UnixStream::connect(socket).is_ok();
    }
    privileged("test")
        .arg("-S")
        .arg(socket)
        .status()
        .is_ok_and(|s| s.success())
}

/// podman (as root) with this test's storage, its temp dir for staging exports, no systemd.
fn base(dir: &Path) -> Command {
    let mut cmd = privileged("podman");
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
