//! Private Docker Engines for tests, each on its own socket in its own directory, no
//! networking, never touching an engine the machine already runs (every `docker` call goes
//! through `-H unix://SOCKET`):
//!
//! - [`Dockerd::start`]: the machine's `dockerd` (Debian's `docker.io`), vfs storage, which
//!   saves and exports the legacy archive shape;
//! - [`Dockerd::start_docker25`]: Docker 26 from Debian trixie in a cached chroot
//!   ([`trixie_root`]), with the containerd image store, which saves and exports the Docker
//!   25+ shape (an OCI layout with a docker `manifest.json`). It runs in its own mount
//!   namespace, so the chroot's `/proc`, `/sys` and `/dev` binds exist only for it and are
//!   gone when it stops.
//!
//! Both run as root (directly, or through password-less sudo; the socket is then handed to
//! the test's user) in their own process group, which is stopped when the engine is dropped
//! or, for an engine kept in a static, when the test binary exits ([`super::reaper`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::reaper::{self, AtExit};
use super::sys::{self, privileged};

/// A running test engine. Dropping it stops the daemon's process group and removes its
/// directory.
pub struct Dockerd {
    /// The engine's directory as the test sees it (socket, log, data).
    dir: PathBuf,
    socket: PathBuf,
    child: Child,
    /// For the chroot engine: the chroot and the directory's path inside it.
    chroot: Option<(PathBuf, PathBuf)>,
    /// The daemon's log, beside its directory (the test user's, so a failed start can show it).
    log: PathBuf,
    _cleanup: AtExit,
}

/// The engine's configuration for the Docker 25+ shape: the containerd image store on the
/// `native` snapshotter (plain directories, no overlay mounts), no networking.
const DOCKER25_CONFIG: &str = r#"{"storage-driver": "native", "features": {"containerd-snapshotter": true}, "bridge": "none", "iptables": false, "ip6tables": false}"#;

impl Dockerd {
    /// Starts the machine's dockerd (installed with apt-get when missing) and waits until it
    /// answers `/_ping`.
    pub fn start() -> Dockerd {
        sys::install(&["dockerd", "docker"], &["docker.io"]);
        // Unix socket paths must stay under ~100 bytes: keep the directory short and in /tmp
        // whatever TMPDIR says.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}dockerd-", reaper::MARKER))
            .tempdir_in("/tmp")
            .expect("create dockerd temp dir")
            .keep();
        let mut cmd = privileged("dockerd");
        cmd.args(daemon_args(&dir)).args([
            "--storage-driver",
            "vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
        ]);
        Dockerd::spawn(cmd, dir.clone(), dir, None)
    }

    /// Starts Docker 26 (API 1.45) from the cached trixie chroot with the containerd image
    /// store, and waits until it answers `/_ping`.
    pub fn start_docker25() -> Dockerd {
        let root = trixie_root();
        sys::install(&["unshare"], &["util-linux"]);
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let inside = PathBuf::from(format!(
            "/run/{}docker25-{}-{n}",
            reaper::MARKER,
            std::process::id()
        ));
        let dir = root.join(inside.strip_prefix("/").expect("absolute"));
        sys::privileged_ok("mkdir", &["-p", &dir.display().to_string()]);
        let config = inside.join("daemon.json");
        sys::privileged_ok(
            "sh",
            &[
                "-c",
                "printf '%s\\n' \"$1\" > \"$2\"",
                "sh",
                DOCKER25_CONFIG,
                &dir.join("daemon.json").display().to_string(),
            ],
        );
        // A private mount namespace: the binds below vanish with the engine's last process
        // and never propagate to the machine's own /dev or /sys.
        let script = format!(
            "set -e; r=\"$0\"; mount --rbind /proc \"$r/proc\"; mount --rbind /sys \"$r/sys\"; \
             mount --rbind /dev \"$r/dev\"; exec chroot \"$r\" /usr/sbin/dockerd --config-file {} \"$@\"",
            config.display()
        );
        let mut cmd = privileged("unshare");
        cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .arg(&root)
            .args(daemon_args(&inside));
        Dockerd::spawn(cmd, dir, inside, Some(root))
    }

    /// Spawns `cmd` (the daemon, run as root) in its own process group, registers its stop,
    /// and waits for its socket. `inside` is the directory as the daemon sees it.
    fn spawn(mut cmd: Command, dir: PathBuf, inside: PathBuf, root: Option<PathBuf>) -> Dockerd {
        use std::os::unix::process::CommandExt;
        let log_path = std::env::temp_dir().join(format!(
            "{}.log",
            dir.file_name().expect("dir name").to_string_lossy()
        ));
        let log = std::fs::File::create(&log_path).expect("dockerd log");
        let child = cmd
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dockerd log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn dockerd");
        let sudo = if sys::is_root() { "" } else { "sudo -n " };
        // dockerd bind-mounts its data root onto itself; a daemon killed before its own
        // shutdown leaves that mount behind.
        let cleanup = reaper::at_exit(&format!(
            "{}; {sudo}umount {}/data 2>/dev/null; {sudo}rm -rf {} {}",
            reaper::stop_group_command(child.id(), true),
            dir.display(),
            dir.display(),
            log_path.display()
        ));
        let socket = dir.join("d.sock");
        let mut engine = Dockerd {
            dir,
            socket,
            child,
            chroot: root.map(|r| (r, inside)),
            log: log_path.clone(),
            _cleanup: cleanup,
        };
        engine.wait_ready(&log_path);
        if !sys::is_root() {
            let (uid, gid) = sys::ids();
            sys::privileged_ok(
                "chown",
                &[
                    &format!("{uid}:{gid}"),
                    &engine.socket.display().to_string(),
                ],
            );
        }
        engine
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The engine's directory, for test files that should go away with it (the machine's
    /// engine's is the test user's; the chroot engine's is root's).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `unix:///…/d.sock`, the value for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// A `docker` command bound to this engine only: the machine's CLI, or the chroot's own
    /// for the Docker 25+ engine.
    pub fn docker(&self) -> Command {
        let mut cmd = match &self.chroot {
            None => {
                let mut c = Command::new("docker");
                c.arg("-H").arg(self.host());
                c
            }
            Some((root, inside)) => {
                let mut c = privileged("chroot");
                c.arg(root)
                    .arg("/usr/bin/docker")
                    .arg("-H")
                    .arg(format!("unix://{}", inside.join("d.sock").display()));
                c
            }
        };
        cmd.env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", self.dir.join("cli"));
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
        let path = match &self.chroot {
            None => archive.to_path_buf(),
            // The chroot's CLI sees only the chroot: copy the archive into the engine's dir.
            Some((_, inside)) => {
                let name = archive.file_name().expect("archive name");
                sys::privileged_ok(
                    "cp",
                    &[
                        &archive.display().to_string(),
                        &self.dir.join(name).display().to_string(),
                    ],
                );
                inside.join(name)
            }
        };
        let out = self.run(&["load", "-i", &path.display().to_string()]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                l.strip_prefix("Loaded image: ")
                    .or_else(|| l.strip_prefix("Loaded image ID: "))
            })
            .map(str::to_owned)
            .collect()
    }

    /// `docker save NAME` as the engine writes it.
    pub fn save(&self, name: &str) -> Vec<u8> {
        self.run(&["save", name]).stdout
    }

    fn wait_ready(&mut self, log: &Path) {
        // Generous: only a hung start reaches it, never a slow one.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("dockerd exited early ({status}): {}", tail(&log));
            }
            if ping(&self.socket) {
                return;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                panic!("dockerd did not answer /_ping in 300 s: {}", tail(&log));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        reaper::stop_group(self.child.id(), true);
        let _ = self.child.wait();
        let _ = privileged("umount")
            .arg(self.dir.join("data"))
            .stderr(Stdio::null())
            .status();
        let _ = privileged("rm")
            .arg("-rf")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The daemon flags that keep every path in `dir` (as the daemon sees it).
fn daemon_args(dir: &Path) -> Vec<String> {
    let p = |name: &str| dir.join(name).display().to_string();
    vec![
        "--data-root".into(),
        p("data"),
        "--exec-root".into(),
        p("exec"),
        "--pidfile".into(),
        p("d.pid"),
        "-H".into(),
        format!("unix://{}", p("d.sock")),
    ]
}

/// Debian trixie (`debootstrap --variant=minbase`) with `docker.io`, `docker-cli`,
/// `containerd`, `runc` and `iptables`, built once per machine under
/// `/var/cache/layergate-tests` and reused: built in a temporary directory and renamed into
/// place, so an interrupted or concurrent build never leaves a half chroot behind.
pub fn trixie_root() -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let root = PathBuf::from("/var/cache/layergate-tests/trixie-docker");
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if root.join("usr/sbin/dockerd").exists() && root.join("usr/bin/docker").exists() {
        return root;
    }
    sys::install(&["debootstrap"], &["debootstrap"]);
    let tmp = format!("{}.tmp-{}", root.display(), std::process::id());
    let mirror = "http://deb.debian.org/debian";
    sys::privileged_ok("rm", &["-rf", &tmp]);
    sys::privileged_ok("mkdir", &["-p", "/var/cache/layergate-tests"]);
    sys::privileged_ok(
        "debootstrap",
        &["--variant=minbase", "trixie", &tmp, mirror],
    );
    sys::privileged_ok(
        "chroot",
        &[
            &tmp,
            "sh",
            "-c",
            "apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y install \
             --no-install-recommends docker.io docker-cli containerd runc iptables && apt-get clean",
        ],
    );
    // Another run may have finished first: keep whichever is in place.
    let _ = privileged("mv")
        .args(["-T", &tmp, &root.display().to_string()])
        .status();
    sys::privileged_ok("rm", &["-rf", &tmp]);
    assert!(
        root.join("usr/sbin/dockerd").exists(),
        "the trixie chroot at {} has no dockerd",
        root.display()
    );
    root
}

/// `GET /_ping` over the unix socket with a hand-written request: the harness needs no HTTP
/// client. Works before the socket is handed to us as root only if we are root, so callers
/// running through sudo ping as root ([`ping_privileged`]).
fn ping(socket: &Path) -> bool {
    if !sys::is_root() {
        return ping_privileged(socket);
    }
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

/// The same ping, as root through sudo with curl (the socket is root's until handed over).
fn ping_privileged(socket: &Path) -> bool {
    sys::install(&["curl"], &["curl"]);
    privileged("curl")
        .args(["-sf", "--max-time", "2", "--unix-socket"])
        .arg(socket)
        .arg("http://docker/_ping")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(crate) fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}
