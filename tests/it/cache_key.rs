//! `cache-key`: key files from real HTTP answers (a local server on 127.0.0.1), every error
//! path as one line and exit 2 with the previous key untouched, and the proof that matters:
//! a real `docker build` (Docker Engine started by the test) re-runs a download exactly
//! when its key changed, while the same Dockerfile without the key keeps a stale file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::support::http::{Reply, Request, Server};
use crate::support::{run, stderr};

/// What the local server serves at `/tool.txt`: content and ETag, changeable mid-test.
#[derive(Clone)]
struct Served(Arc<Mutex<(String, Option<String>)>>);

impl Served {
    fn new(body: &str, etag: Option<&str>) -> Served {
        Served(Arc::new(Mutex::new((body.into(), etag.map(str::to_owned)))))
    }

    fn set(&self, body: &str, etag: Option<&str>) {
        *self.0.lock().unwrap() = (body.into(), etag.map(str::to_owned));
    }

    fn start(&self) -> Server {
        let served = self.clone();
        Server::start(move |req: &Request, _| {
            let (body, etag) = served.0.lock().unwrap().clone();
            if req.path_only() != "/tool.txt" {
                return Reply::status(404);
            }
            // The server answers HEAD with the same head (its length and ETag), no body.
            let mut reply = Reply::ok(body.into_bytes());
            if let Some(tag) = etag {
                reply = reply.with_header("etag", &tag);
            }
            reply
        })
    }
}

fn key_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// New, unchanged (file and mtime untouched), changed (old → new): one line per URL.
#[test]
fn keys_are_written_once_and_replaced_only_when_the_etag_changes() {
    let served = Served::new("v1", Some("\"v1\""));
    let server = served.start();
    let url = format!("{}/tool.txt", server.url);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let keys_arg = keys.display().to_string();

    let out = run(&["cache-key", &url, "--dir", &keys_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.starts_with("new "), "{stdout}");
    let files = key_files(&keys);
    assert_eq!(files.len(), 1);
    assert!(
        stdout.contains(&files[0].display().to_string()),
        "the line names the file"
    );
    assert_eq!(
        std::fs::read_to_string(&files[0]).unwrap(),
        format!("# {url}\netag \"v1\"\n")
    );
    let mtime = std::fs::metadata(&files[0]).unwrap().modified().unwrap();

    std::thread::sleep(std::time::Duration::from_millis(50));
    let out = run(&["cache-key", &url, "--dir", &keys_arg]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("unchanged "));
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().modified().unwrap(),
        mtime
    );

    served.set("v2", Some("\"v2\""));
    let out = run(&["cache-key", &url, "--dir", &keys_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.starts_with("changed "), "{stdout}");
    assert!(stdout.contains("(etag \"v1\" → etag \"v2\")"), "{stdout}");
    assert_eq!(key_files(&keys), files, "the same file, replaced");
}

/// Errors: one line each, exit 2, and the previous key file left exactly as it was.
#[test]
fn a_failing_url_is_one_line_exit_2_and_keeps_the_old_key() {
    let served = Served::new("v1", Some("\"v1\""));
    let server = served.start();
    let url = format!("{}/tool.txt", server.url);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().display().to_string();
    assert!(run(&["cache-key", &url, "--dir", &keys]).status.success());
    let before = std::fs::read_to_string(&key_files(dir.path())[0]).unwrap();

    // No validator at all: the server dropped its ETag.
    served.set("v2", None);
    let out = run(&["cache-key", &url, "--dir", &keys]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("no ETag and no Last-Modified") && err.contains("--hash"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&key_files(dir.path())[0]).unwrap(),
        before
    );

    // A 404 names the status; a good URL in the same run is still keyed.
    let missing = format!("{}/gone.txt", server.url);
    served.set("v1", Some("\"v1\""));
    let out = run(&["cache-key", &missing, &url, "--dir", &keys]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("gone.txt: the server answered 404"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("unchanged "));

    // Nothing listening, and a URL that is not http(s).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = run(&[
        "cache-key",
        &format!("http://127.0.0.1:{port}/x"),
        "--dir",
        &keys,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let out = run(&["cache-key", "ftp://h/x", "--dir", &keys]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not an http(s) URL"));

    // A timeout that is not a sane number of seconds is a usage error, not a panic.
    let out = run(&["cache-key", &url, "--timeout", "1e20"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("panicked"));
}

/// `--hash` keys on the body's sha256, for servers that give no validator.
#[test]
fn hash_keys_on_the_body() {
    let served = Served::new("payload", None);
    let server = served.start();
    let url = format!("{}/tool.txt", server.url);
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "cache-key",
        &url,
        "--hash",
        "--dir",
        &dir.path().display().to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let content = std::fs::read_to_string(&key_files(dir.path())[0]).unwrap();
    let want = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"payload"));
    assert_eq!(content, format!("# {url}\nsha256 {want}\n"));
}

/// The `docker build` log, step by step: the instruction and whether it came from the cache.
fn steps(log: &str) -> Vec<(String, bool)> {
    let mut steps: Vec<(String, bool)> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("Step ") {
            let instruction = rest.split_once(" : ").map_or(rest, |(_, i)| i);
            steps.push((instruction.to_string(), false));
        } else if line.contains("Using cache") {
            if let Some(last) = steps.last_mut() {
                last.1 = true;
            }
        }
    }
    steps
}

fn cached(steps: &[(String, bool)], starts_with: &str) -> bool {
    steps
        .iter()
        .find(|(i, _)| i.starts_with(starts_with))
        .unwrap_or_else(|| panic!("no step {starts_with} in {steps:?}"))
        .1
}

/// The proof: with the key file COPY'd before it, the download re-runs exactly when the
/// ETag changed and every step before the key stays cached; without it (the control), the
/// same change leaves the stale download in the image.
#[test]
fn a_real_build_redownloads_exactly_when_the_key_changed() {
    let served = Served::new("tool v1\n", Some("\"v1\""));
    let server = served.start();
    let engine = crate::support::dockerd::Dockerd::start();
    engine.load(&crate::support::images().join("app-base.docker.tar"));
    let host = server.url.trim_start_matches("http://").to_string();
    let dockerfile = format!(
        "FROM app-base:latest\nARG TOOL_HOST={host}\nRUN echo prepared > /prepared.txt\nRUN wget -q -O /tool.txt \\\n    http://${{TOOL_HOST}}/tool.txt\n"
    );
    let keyed = tempfile::tempdir().unwrap();
    let control = tempfile::tempdir().unwrap();
    for ctx in [&keyed, &control] {
        std::fs::write(ctx.path().join("Dockerfile"), &dockerfile).unwrap();
    }
    let df = keyed.path().join("Dockerfile").display().to_string();

    // Print first (a diff, nothing applied), then --write.
    let out = run(&["cache-key", "--dockerfile", &df]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(printed.contains("+COPY .cache-keys/tool.txt-"), "{printed}");
    assert_eq!(
        std::fs::read_to_string(&df).unwrap(),
        dockerfile,
        "printing changes nothing"
    );
    let out = run(&["cache-key", "--dockerfile", &df, "--write"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rewritten = std::fs::read_to_string(&df).unwrap();
    let lines: Vec<&str> = rewritten.lines().collect();
    assert!(
        lines[3].starts_with("COPY .cache-keys/tool.txt-")
            && lines[3].ends_with(" /tmp/cache-keys/"),
        "{rewritten}"
    );
    assert!(
        lines[4].starts_with("RUN wget"),
        "the COPY sits right before the download"
    );

    let build = |ctx: &Path, tag: &str| -> Vec<(String, bool)> {
        let out = engine
            .docker()
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "--network", "host", "-t", tag])
            .arg(ctx)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "docker build: {log}{}", stderr(&out));
        steps(&log)
    };
    let content = |tag: &str| -> String {
        let out = engine.run(&["run", "--rm", "--network", "none", tag, "cat", "/tool.txt"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let first = build(keyed.path(), "keyed:1");
    assert!(!cached(&first, "RUN wget"));
    build(control.path(), "control:1");
    assert_eq!(content("keyed:1"), "tool v1\n");

    // Nothing changed: every step comes from the cache, the key file included.
    let again = build(keyed.path(), "keyed:2");
    for step in ["RUN echo prepared", "COPY .cache-keys", "RUN wget"] {
        assert!(cached(&again, step), "{step} from the cache: {again:?}");
    }

    // The file and its ETag change upstream; cache-key notices, the rebuild re-downloads.
    served.set("tool v2\n", Some("\"v2\""));
    let out = run(&["cache-key", "--dockerfile", &df, "--write"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.starts_with("changed "), "{said}");
    assert_eq!(
        std::fs::read_to_string(&df).unwrap(),
        rewritten,
        "the rewrite is idempotent"
    );
    let after = build(keyed.path(), "keyed:3");
    assert!(
        cached(&after, "RUN echo prepared"),
        "steps before the key stay cached: {after:?}"
    );
    assert!(!cached(&after, "COPY .cache-keys"), "{after:?}");
    assert!(
        !cached(&after, "RUN wget"),
        "the download runs again: {after:?}"
    );
    assert_eq!(content("keyed:3"), "tool v2\n");

    // The control: no key, so the same change is invisible to the cache.
    let stale = build(control.path(), "control:2");
    assert!(cached(&stale, "RUN wget"), "{stale:?}");
    assert_eq!(
        content("control:2"),
        "tool v1\n",
        "the stale download stays in the image"
    );
}
