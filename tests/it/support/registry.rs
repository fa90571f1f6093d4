//! A real registry for tests: Debian's `docker-registry` (the CNCF distribution
//! registry) on 127.0.0.1 with a random free port, its own temporary storage, config
//! and access log, killed on drop. Images are pushed into it with skopeo.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Installs docker-registry, skopeo and htpasswd with apt-get when missing (CI runs
/// `.ci/run`, which does the same; this keeps a bare `cargo test` working as root).
pub fn ensure_tools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let have = |t: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if ["docker-registry", "skopeo", "htpasswd"]
            .iter()
            .all(|t| have(t))
        {
            return;
        }
        let install = || {
            Command::new("apt-get")
                .args([
                    "install",
                    "-y",
                    "docker-registry",
                    "skopeo",
                    "apache2-utils",
                ])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get").arg("update").status();
            assert!(
                install(),
                "apt-get install docker-registry skopeo apache2-utils failed"
            );
        }
    });
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
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
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n",
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
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start docker-registry");
        let reg = Registry { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "registry did not start: {}",
                reg.log("registry.log")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        reg
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
        let mut cmd = Command::new("skopeo");
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

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// Every `GET /v2/REPO/blobs/DIGEST` the registry answered, as the digests.
    pub fn blob_gets(&self) -> Vec<String> {
        // The access log line is written once the response has gone out.
        std::thread::sleep(Duration::from_millis(300));
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `layergate` binary with no credentials from the machine: HOME, DOCKER_CONFIG
/// and the podman auth file all point into `home`.
pub fn isolated(home: &std::path::Path) -> Command {
    let mut cmd = crate::support::bin();
    cmd.env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env("REGISTRY_AUTH_FILE", home.join("auth.json"))
        .env("XDG_RUNTIME_DIR", home)
        .env_remove("LAYERGATE_REGISTRY_USER")
        .env_remove("LAYERGATE_REGISTRY_PASSWORD");
    cmd
}
