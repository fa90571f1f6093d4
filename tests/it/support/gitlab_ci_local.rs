//! Pipelines run by a real GitLab CI runner implementation: gitlab-ci-local (pinned in
//! `.ci/run`, npm), shell executor, against a stand-in GitLab API on 127.0.0.1.
//!
//! What stands in for what, and why:
//! - the project includes the component with `include: local: templates/layergate.yml`
//!   and `inputs:`, as a GitLab mirror's `component: …/layergate@X.Y.Z` would (resolving a
//!   component needs a GitLab server; the file and its inputs are the same);
//! - the job runs on this host (shell executor) with the cargo-built binary first on
//!   PATH, instead of in the component's image (the release's); gitlab-ci-local decides
//!   by `image:`, so the test's pipeline sets the job's `image: null`, which GitLab's
//!   schema refuses: that one run skips schema validation (`.ci/run` validates the
//!   component itself);
//! - the predefined variables of a merge-request pipeline come from `--variable`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::forge::{Reply, Server};

/// The gitlab-ci-local release `.ci/run` installs (the newest that runs on Node 20).
pub const GITLAB_CI_LOCAL_VERSION: &str = "4.55.0";
pub const TOKEN: &str = "glpat-ComponentT0ken";

/// Notes of merge requests of one project, as GitLab's API v4 serves them.
pub struct FakeGitLab {
    pub notes: Mutex<Vec<(u64, Value)>>,
    next_id: AtomicU64,
}

impl FakeGitLab {
    pub fn notes_on(&self, mr: u64) -> Vec<String> {
        self.notes
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| *m == mr)
            .map(|(_, n)| n["body"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Project `project` (an id); the API root is `URL/api/v4`.
pub fn start(project: u64) -> (Server, Arc<FakeGitLab>) {
    let state = Arc::new(FakeGitLab {
        notes: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(900),
    });
    let s = state.clone();
    let server = Server::start(move |req, _| {
        if req.header("private-token") != Some(TOKEN) {
            return Reply::json(401, json!({"message": "401 Unauthorized"}));
        }
        let path = req.path_only().to_string();
        if path == "/api/v4/user" {
            return Reply::json(200, json!({"username": "layergate_bot"}));
        }
        let prefix = format!("/api/v4/projects/{project}/merge_requests/");
        let Some(rest) = path.strip_prefix(&prefix) else {
            return Reply::json(404, json!({"message": "404 Not found"}));
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let mr: u64 = parts[0].parse().unwrap_or(0);
        match (req.method.as_str(), &parts[1..]) {
            ("GET", ["notes"]) => {
                let all: Vec<Value> = s
                    .notes
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(m, _)| *m == mr)
                    .map(|(_, n)| n.clone())
                    .collect();
                Reply::json(200, Value::Array(all))
            }
            ("POST", ["notes"]) => {
                let id = s.next_id.fetch_add(1, Ordering::SeqCst);
                let note = json!({"id": id, "body": req.json()["body"], "system": false,
                    "author": {"username": "layergate_bot"}});
                s.notes.lock().unwrap().push((mr, note.clone()));
                Reply::json(201, note)
            }
            ("PUT", ["notes", id]) => {
                let id: u64 = id.parse().unwrap();
                let mut all = s.notes.lock().unwrap();
                let Some((_, n)) = all.iter_mut().find(|(_, n)| n["id"] == id) else {
                    return Reply::json(404, json!({"message": "404 Not found"}));
                };
                n["body"] = req.json()["body"].clone();
                Reply::json(200, n.clone())
            }
            _ => Reply::json(404, json!({"message": "404 Not found"})),
        }
    });
    (server, state)
}

/// A project repository (git) with the component under `templates/`.
pub struct Project {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

pub struct Pipeline {
    pub code: i32,
    pub log: String,
}

impl Default for Project {
    fn default() -> Self {
        Project::new()
    }
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("project");
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::copy(
            super::act::repo_root().join("templates/layergate.yml"),
            root.join("templates/layergate.yml"),
        )
        .unwrap();
        let project = Project { _dir: dir, root };
        project.git(&["init", "-q", "-b", "main"]);
        project.git(&[
            "remote",
            "add",
            "origin",
            "https://gitlab.example.org/acme/app.git",
        ]);
        project
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Project {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn copy(&self, from: &Path, rel: &str) -> &Project {
        self.write(rel, std::fs::read(from).unwrap())
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env("GIT_AUTHOR_NAME", "dev")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "dev")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    }

    pub fn commit(&self) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", "pipeline"]);
    }

    /// Runs the merge-request pipeline of `!mr` in project `project` against `api`.
    pub fn merge_request_pipeline(&self, api: &str, project: u64, mr: u64) -> Pipeline {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_layergate")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // gitlab-ci-local says GITLAB_CI=false (a local run); a runner says true.
        let vars = [
            "GITLAB_CI=true".to_string(),
            "CI_PIPELINE_SOURCE=merge_request_event".to_string(),
            format!("CI_MERGE_REQUEST_IID={mr}"),
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main".to_string(),
            format!("CI_PROJECT_ID={project}"),
            format!("CI_API_V4_URL={api}/api/v4"),
            format!("CI_SERVER_URL={api}"),
            format!("LAYERGATE_GITLAB_TOKEN={TOKEN}"),
        ];
        let mut cmd = Command::new("gitlab-ci-local");
        cmd.arg("--json-schema-validation=false");
        for v in &vars {
            cmd.arg("--variable").arg(v);
        }
        let out = cmd
            .current_dir(&self.root)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self._dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!("gitlab-ci-local {GITLAB_CI_LOCAL_VERSION} is not installed (.ci/run installs it): {e}")
            });
        let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        Pipeline {
            code: out.status.code().unwrap_or(-1),
            log,
        }
    }
}
