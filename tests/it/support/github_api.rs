//! A stand-in of the GitHub REST API for one repository on the test server of
//! `support::http`: issue comments per pull request (create, list, edit), pull
//! requests' head commits, `GET /user` answering 403 as it does for the workflow's
//! GITHUB_TOKEN, and a switch that makes every call answer 500. Shared by the Action
//! tests run by the runner stand-in (`action.rs`) and by act (`runners.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::forge::{Reply, Server};

pub const TOKEN: &str = "ghs_ActionsT0ken";

pub struct FakeGitHub {
    pub repo: String,
    pub comments: Mutex<Vec<(u64, Value)>>,
    /// Pull request number → head commit (`GET /repos/R/pulls/N`).
    pub heads: Mutex<Vec<(u64, String)>>,
    next_id: AtomicU64,
    pub down: AtomicBool,
}

impl FakeGitHub {
    pub fn comments_on(&self, pr: u64) -> Vec<Value> {
        self.comments
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| *n == pr)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The body of the only comment on `pr`; fails the test when there is not exactly one.
    pub fn only_comment(&self, pr: u64) -> String {
        let all = self.comments_on(pr);
        assert_eq!(all.len(), 1, "comments on #{pr}: {all:#?}");
        all[0]["body"].as_str().unwrap().to_string()
    }
}

/// Serves the API for `repo` (OWNER/NAME) until the server is dropped.
pub fn start(repo: &str) -> (Server, Arc<FakeGitHub>) {
    let state = Arc::new(FakeGitHub {
        repo: repo.to_string(),
        comments: Mutex::new(Vec::new()),
        heads: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(100),
        down: AtomicBool::new(false),
    });
    let s = state.clone();
    let server = Server::start(move |req, _base| answer(&s, req));
    (server, state)
}

fn answer(s: &FakeGitHub, req: &super::http::Request) -> Reply {
    let not_found = || Reply::json(404, json!({"message": "Not Found"}));
    if s.down.load(Ordering::SeqCst) {
        return Reply::json(500, json!({"message": "Server Error"}));
    }
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}"))
        && req.header("authorization") != Some(&format!("token {TOKEN}"))
    {
        return Reply::json(401, json!({"message": "Bad credentials"}));
    }
    let path = req.path_only().to_string();
    if path == "/user" {
        return Reply::json(
            403,
            json!({"message": "Resource not accessible by integration"}),
        );
    }
    let repo = &s.repo;
    if let Some(n) = path.strip_prefix(&format!("/repos/{repo}/pulls/")) {
        let n: u64 = n.parse().unwrap_or(0);
        let heads = s.heads.lock().unwrap();
        return match heads.iter().find(|(pr, _)| *pr == n) {
            Some((_, sha)) => Reply::json(200, json!({"number": n, "head": {"sha": sha}})),
            None => not_found(),
        };
    }
    let Some(rest) = path.strip_prefix(&format!("/repos/{repo}/issues/")) else {
        return not_found();
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", [pr, "comments"]) => {
            let pr: u64 = pr.parse().unwrap();
            Reply::json(200, Value::Array(s.comments_on(pr)))
        }
        ("POST", [pr, "comments"]) => {
            let pr: u64 = pr.parse().unwrap();
            let id = s.next_id.fetch_add(1, Ordering::SeqCst);
            let c = json!({
                "id": id,
                "body": req.json()["body"],
                "user": {"login": "github-actions[bot]"},
                "html_url": format!("https://github.com/{repo}/pull/{pr}#issuecomment-{id}"),
            });
            s.comments.lock().unwrap().push((pr, c.clone()));
            Reply::json(201, c)
        }
        ("PATCH", ["comments", id]) => {
            let id: u64 = id.parse().unwrap();
            let mut all = s.comments.lock().unwrap();
            let Some((_, c)) = all.iter_mut().find(|(_, c)| c["id"] == id) else {
                return not_found();
            };
            c["body"] = req.json()["body"].clone();
            Reply::json(200, c.clone())
        }
        ("DELETE", ["comments", id]) => {
            let id: u64 = id.parse().unwrap();
            s.comments.lock().unwrap().retain(|(_, c)| c["id"] != id);
            Reply::status(204)
        }
        _ => not_found(),
    }
}
