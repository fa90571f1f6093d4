//! A real registry for tests: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1, bound to port 0 (the port it got is read back from its log), its
//! own temporary storage, config and access log, stopped on drop or when the test binary
//! exits. Images are pushed into it with skopeo.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::reaper::{self, AtExit};

/// docker-registry, skopeo and htpasswd, installed with apt-get when missing (as `.ci/run`
/// does; this keeps a bare `cargo test` working).
pub fn ensure_tools() {
    super::sys::install(
        &["docker-registry", "skopeo", "htpasswd"],
        &["docker-registry", "skopeo", "apache2-utils"],
    );
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
    _cleanup: AtExit,
    /// Sentinel requests made so far (see [`Registry::blob_gets`]).
    sentinels: std::sync::atomic::AtomicU32,
}

pub const USER: &str = "ci-bot";
pub const PASSWORD: &str = "s3cret:with-colon";

impl Registry {
    /// Starts an open registry.
    pub fn start() -> Registry {
        Registry::start_with(false)
    }

    /// Starts a registry behind htpasswd basic auth ([`USER`] / [`PASSWORD`], bcrypt).
    pub fn start_with_auth() -> Registry {
        Registry::start_with(true)
    }

    fn start_with(auth: bool) -> Registry {
        ensure_tools();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}registry-", reaper::MARKER))
            .tempdir()
            .unwrap();
        // Port 0: the kernel picks a free port when the registry binds, so no other
        // process can take it in between; the registry logs the address it got.
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        if auth {
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .unwrap();
            assert!(out.status.success());
            std::fs::write(&htpasswd, &out.stdout).unwrap();
            config += &format!(
                "auth:\n  htpasswd:\n    realm: layergate-test\n    path: {}\n",
                htpasswd.display()
            );
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("access.log")).unwrap();
        let err = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start docker-registry");
        let cleanup = reaper::at_exit(&format!("kill -KILL {} 2>/dev/null; true", child.id()));
        // Generous: only a hung start reaches it, never a slow one.
        let deadline = Instant::now() + Duration::from_secs(120);
        let port = loop {
            let log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default();
            if let Some(port) = listening_port(&log) {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("docker-registry exited ({status}): {log}");
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry logged no listening address in 120 s: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Registry {
            port,
            dir,
            child,
            _cleanup: cleanup,
            sentinels: Default::default(),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `docker://127.0.0.1:PORT/REPO:latest`
    pub fn reference(&self, repo: &str) -> String {
        format!("docker://{}/{repo}:latest", self.host())
    }

    /// Pushes the real test image `ARCHIVE` (an OCI archive) as `REPO:latest`; `all` keeps
    /// every platform of an index.
    pub fn push(&self, archive: &str, repo: &str, all: bool) {
        let src = format!("oci-archive:{}", crate::support::image(archive));
        let dest = format!("docker://{}/{repo}:latest", self.host());
        let mut cmd = self.skopeo();
        cmd.args(["copy", "-q", "--dest-tls-verify=false"]);
        if all {
            cmd.arg("--all");
        }
        if self.dir.path().join("htpasswd").exists() {
            cmd.arg(format!("--dest-creds={USER}:{PASSWORD}"));
        }
        let out = cmd.arg(&src).arg(&dest).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo copy {src} {dest}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// skopeo with an empty credentials file of its own: the machine's (or the user's
    /// `/run/containers/UID/auth.json`, which may not even be readable) never count. Run as
    /// root (or through password-less sudo): unpacking an OCI archive of root-owned entries
    /// needs chown.
    pub fn skopeo(&self) -> Command {
        let auth = self.dir.path().join("skopeo-auth.json");
        std::fs::write(&auth, "{}").unwrap();
        let mut cmd = super::sys::privileged("skopeo");
        cmd.env("REGISTRY_AUTH_FILE", &auth);
        cmd
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// Every `GET /v2/REPO/blobs/DIGEST` the registry answered before this call, as the
    /// digests. The registry writes an access-log line once a response has gone out, so
    /// this sends a sentinel request of its own and waits until its line is in the log:
    /// every request answered before it is then logged too.
    pub fn blob_gets(&self) -> Vec<String> {
        let n = self
            .sentinels
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sentinel = format!("/v2/?layergate-sentinel={n}");
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to registry");
        write!(
            s,
            "GET {sentinel} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        )
        .expect("sentinel request");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("sentinel answer");
        // Generous: only a registry that never logs reaches it.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.log("access.log").contains(&sentinel) {
            assert!(
                Instant::now() < deadline,
                "the registry did not log the sentinel {sentinel} in 60 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.log("access.log")
            .lines()
            .filter_map(|l| {
                let req = l.split('"').nth(1)?;
                let path = req.strip_prefix("GET /v2/")?.split(' ').next()?;
                let (_, digest) = path.split_once("/blobs/")?;
                Some(digest.to_string())
            })
            .collect()
    }

    /// An empty config directory, so no credentials of the machine leak into a test.
    pub fn clean_home(&self) -> PathBuf {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in the registry's `listening on 127.0.0.1:PORT` log line.
fn listening_port(log: &str) -> Option<u16> {
    log.lines().find_map(|l| {
        let at = l.find("listening on 127.0.0.1:")? + "listening on 127.0.0.1:".len();
        let digits: String = l[at..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok().filter(|&p| p != 0)
    })
}

/// The `layergate` binary with no credentials from the machine: HOME, DOCKER_CONFIG
/// and the podman auth file all point into `home`.
pub fn isolated(home: &std::path::Path) -> super::Layergate {
    let mut cmd = crate::support::bin();
    cmd.env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .env("XDG_RUNTIME_DIR", home)
        .env_remove("LAYERGATE_REGISTRY_USER")
        .env_remove("LAYERGATE_REGISTRY_PASSWORD");
    cmd
}
