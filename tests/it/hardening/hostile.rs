//! A hostile or careless user: outputs aimed at devices, FIFOs and symlinks, policies
//! that are not policies, inputs that never end, servers that echo credentials,
//! commands that fail half-way, settings that are empty or malformed, a cache
//! directory full of someone else's files. Each case runs the real binary in a temp
//! dir (servers on 127.0.0.1) and asserts exact exit codes and what is left on disk.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::process::{Command, Output};

use super::*;
use crate::support::http::{Reply, Server};
use crate::support::{bin, image, stderr};

const APP: &str = "app-pr.oci.tar";

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The binary run by `sh` under `umask`, in `dir`.
fn under_umask(umask: &str, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_layergate"))
        .args(args)
        .current_dir(dir)
        .env("LAYERGATE_NO_CACHE", "1");
    cmd.output().unwrap()
}

/// One `layergate: ` line on standard error, exit 2, holding every needle.
#[track_caller]
fn assert_one_line_exit_2(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(code(out), 2, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("layergate: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} not in {err}");
    }
}

fn mknod_null(path: &Path) {
    let ok = Command::new("mknod")
        .arg(path)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(ok.success(), "mknod needs root");
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect()
}

// ---- 1, 8: one writer ----

/// `-o` a character device writes through it: it stays a device.
#[test]
fn output_to_a_device_is_written_through() {
    let dir = scratch();
    let null = dir.path().join("null");
    mknod_null(&null);
    let out = bin()
        .args(["analyze", &image(APP), "--format", "json", "-o"])
        .arg(&null)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::metadata(&null)
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(temp_files(dir.path()).is_empty());
}

/// `-o /dev/stdout` prints the report on standard output.
#[test]
fn output_to_dev_stdout_prints() {
    let out = bin()
        .args([
            "analyze",
            &image(APP),
            "--format",
            "json",
            "-o",
            "/dev/stdout",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], 2);
}

/// `--html` into a FIFO: a reader gets the page, the FIFO stays a FIFO.
#[test]
fn output_to_a_fifo_is_written_through() {
    let dir = scratch();
    let fifo = dir.path().join("page.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = bin()
        .args(["analyze", &image(APP), "--format", "html", "-o"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = reader.join().unwrap();
    assert!(page.starts_with(b"<!DOCTYPE html>") || page.starts_with(b"<!doctype html>"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// A symlinked target: the file it points to is replaced with its mode kept, the
/// link stays; a new file follows the umask.
#[test]
fn symlinks_are_followed_modes_kept_and_new_files_follow_the_umask() {
    let dir = scratch();
    let real = dir.path().join("real.json");
    std::fs::write(&real, b"old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink("real.json", dir.path().join("link.json")).unwrap();
    let img = image(APP);
    let out = under_umask(
        "077",
        dir.path(),
        &["analyze", &img, "--format", "json", "-o", "link.json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.path().join("link.json")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(std::fs::metadata(&real).unwrap().mode() & 0o777, 0o644);
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("\"schema\""));

    let out = under_umask(
        "022",
        dir.path(),
        &["analyze", &img, "--format", "json", "-o", "new.json"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mode = std::fs::metadata(dir.path().join("new.json"))
        .unwrap()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);
    assert!(temp_files(dir.path()).is_empty());
}

// ---- 4: policies ----

/// A policy of NUL bytes, and an empty discovered policy, are errors (exit 2,
/// `FILE: why`), never "no rules".
#[test]
fn a_broken_or_empty_policy_is_an_error() {
    let dir = scratch();
    let mut nul = vec![0u8; 100];
    nul.extend_from_slice(b"limits: {layers: 1}\n");
    std::fs::write(dir.path().join("nul.yml"), &nul).unwrap();
    let img = image(APP);
    let out = bin()
        .current_dir(dir.path())
        .args(["check", &img, "--policy", "nul.yml", "--comment", "none"])
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["nul.yml: not YAML text"]);

    std::fs::write(dir.path().join(".layergate.yml"), b"").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", &img, "--comment", "none"])
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &[".layergate.yml: the policy file is empty"]);
}

/// `init` replaces an empty file (what a full disk left) and never a real one.
#[test]
fn init_replaces_an_empty_file_only() {
    let dir = scratch();
    std::fs::write(dir.path().join(".layergate.yml"), b"").unwrap();
    let out = bin().current_dir(dir.path()).arg("init").output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join(".layergate.yml")).unwrap();
    assert!(text.contains("version"), "{text}");
    let out = bin().current_dir(dir.path()).arg("init").output().unwrap();
    assert_one_line_exit_2(&out, &["init never overwrites a file"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".layergate.yml")).unwrap(),
        text
    );
}

/// On a full disk `init` fails and leaves no file to be discovered as a policy.
#[test]
fn init_on_a_full_disk_leaves_nothing() {
    let mnt = TinyFs::mount(4096);
    std::fs::write(mnt.path().join("filler"), vec![1u8; 4096]).ok();
    let out = bin().current_dir(mnt.path()).arg("init").output().unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(!mnt.path().join(".layergate.yml").exists());
    assert!(temp_files(mnt.path()).is_empty());
}

// ---- 9: bounded inputs ----

/// `--policy /dev/zero` and a FIFO policy are refused at once (no endless read, no hang).
#[test]
fn policies_that_never_end_are_refused() {
    let dir = scratch();
    let fifo = dir.path().join("policy.fifo");
    mkfifo(&fifo);
    let img = image(APP);
    for (policy, why) in [
        ("/dev/zero".to_string(), "not a regular file (a device)"),
        (fifo.display().to_string(), "not a regular file (a FIFO)"),
    ] {
        let out = bin()
            .args(["check", &img, "--comment", "none", "--policy", &policy])
            .output()
            .unwrap();
        assert_one_line_exit_2(&out, &[&policy, why]);
    }
}

/// `GITHUB_EVENT_PATH=/dev/zero` is refused, not read until memory runs out.
#[test]
fn an_endless_event_payload_is_refused() {
    let out = bin()
        .args([
            "check",
            &image(APP),
            "--comment",
            "github",
            "--policy",
            "none",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", "/dev/zero")
        .env("GITHUB_REPOSITORY", "o/r")
        .env("GITHUB_TOKEN", "t0ken-value")
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["/dev/zero", "not a regular file"]);
}

/// A template of nested hundred-thousand loops stops with an error.
#[test]
fn an_endless_template_is_stopped() {
    let dir = scratch();
    let t = write(
        dir.path(),
        "endless.md.j2",
        b"{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
    );
    let out = bin()
        .args([
            "check",
            &image(APP),
            "--comment",
            "none",
            "--policy",
            "none",
            "--template",
            &t,
        ])
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["template", "endless.md.j2"]);
}

// ---- 5: depth ----

/// A layer of a few hundred bytes holding one 20,000-level path: the HTML page is
/// made (the tree is folded below a fixed depth), no stack overflow.
#[test]
fn a_twenty_thousand_level_path_renders_as_html() {
    let deep = vec!["d"; 20_000].join("/") + "/f";
    let mut t = Tar::new();
    t.gnu_long_name(deep.as_bytes());
    t.file("placeholder", b"x");
    let b = layer(&t.end(), Comp::Gzip);
    let dir = scratch();
    let path = write(dir.path(), "deep.tar", &archive(&oci(&[b])));
    let html = dir.path().join("deep.html");
    let out = bin()
        .args(["analyze", &path, "--format", "html", "-o"])
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::metadata(&html).unwrap().len() > 1000);
}

// ---- 6: secrets ----

/// An API that echoes the request headers in its 401: the token never reaches
/// standard error (GitHub and GitLab).
#[test]
fn a_token_echoed_by_the_server_is_never_printed() {
    let server = Server::start(|req, _| {
        let echoed: Vec<String> = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        Reply::json(
            401,
            json!({ "message": format!("echo: {}", echoed.join(", ")) }),
        )
    });
    let img = image(APP);
    let gh = "ghp_SECRETsecretSECRET0123456789";
    let out = bin()
        .args([
            "check",
            &img,
            "--policy",
            "none",
            "--comment",
            "github",
            "--comment-required",
        ])
        .args(["--pr", "1", "--repo", "o/r", "--api-url", &server.url])
        .env("GITHUB_TOKEN", gh)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains(gh), "{err}");
    assert!(!server.requests().is_empty());

    let gl = "glpat-SECRETsecretSECRET";
    let out = bin()
        .args([
            "check",
            &img,
            "--policy",
            "none",
            "--comment",
            "gitlab",
            "--comment-required",
        ])
        .args(["--pr", "1", "--repo", "5", "--api-url", &server.url])
        .env("LAYERGATE_GITLAB_TOKEN", gl)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains(gl), "{err}");
}

/// API URLs: no scheme, ftp:// and plain http:// to another host are refused
/// before any request (no panic); the message never shows a URL's password.
#[test]
fn api_urls_must_be_https_or_loopback() {
    let img = image(APP);
    for (url, why) in [
        ("api.github.com", "not a URL"),
        ("ftp://api.example/", "scheme ftp"),
        ("http://api.example/", "plain http://"),
        (
            "https://bob:hunter22@api.example/",
            "credentials in the URL",
        ),
    ] {
        let out = bin()
            .args(["check", &img, "--policy", "none", "--comment", "github"])
            .args(["--pr", "1", "--repo", "o/r", "--api-url", url])
            .env("GITHUB_TOKEN", "t0ken-value")
            .output()
            .unwrap();
        assert_one_line_exit_2(&out, &["--api-url", why]);
        assert!(!stderr(&out).contains("hunter22"));
    }
    let out = bin()
        .args([
            "check",
            &img,
            "--policy",
            "none",
            "--comment",
            "github",
            "--pr",
            "1",
        ])
        .args(["--repo", "o/r"])
        .env("GITHUB_API_URL", "api.github.com")
        .env("GITHUB_TOKEN", "t0ken-value")
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["GITHUB_API_URL", "not a URL"]);
}

/// `cache-key http://alice:PASSWORD@host/f`: the password is neither printed nor
/// written into the key file (its name still hashes the whole URL).
#[test]
fn cache_key_never_shows_or_writes_userinfo() {
    let server = Server::start(|_, _| Reply::ok(b"tool".to_vec()).with_header("etag", "\"v1\""));
    let dir = scratch();
    let url = server.url.replace("http://", "http://alice:PASSWORD9@") + "/tool.tgz";
    let keys = dir.path().join("keys");
    let out = bin()
        .args(["cache-key", &url, "--dir"])
        .arg(&keys)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(!printed.contains("PASSWORD9"), "{printed}");
    let files: Vec<_> = std::fs::read_dir(&keys).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let key = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(!key.contains("PASSWORD9") && key.contains("***@"), "{key}");
}

// ---- 7: nothing changed on failure ----

/// `cache-key --dockerfile --write` with an unreachable URL exits 2 and leaves the
/// Dockerfile as it was; a successful rewrite keeps the Dockerfile's mode.
#[test]
fn cache_key_rewrites_the_dockerfile_only_when_every_key_was_written() {
    let dir = scratch();
    let server = Server::start(|_, _| Reply::ok(b"tool".to_vec()).with_header("etag", "\"v1\""));
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = format!(
        "FROM debian:12\nRUN wget -q {}/good.tgz && wget -q http://127.0.0.1:{dead}/gone.tgz\n",
        server.url
    );
    let df = dir.path().join("Dockerfile");
    std::fs::write(&df, &text).unwrap();
    std::fs::set_permissions(&df, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = bin()
        .args(["cache-key", "--dockerfile"])
        .arg(&df)
        .args(["--write", "--timeout", "2"])
        .env("LAYERGATE_HTTP_BACKOFF_MS", "1")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&df).unwrap(), text);

    let good = format!("FROM debian:12\nRUN wget -q {}/good.tgz\n", server.url);
    std::fs::write(&df, &good).unwrap();
    let out = bin()
        .args(["cache-key", "--dockerfile"])
        .arg(&df)
        .arg("--write")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::read_to_string(&df)
        .unwrap()
        .contains("COPY .cache-keys/"));
    assert_eq!(std::fs::metadata(&df).unwrap().mode() & 0o777, 0o644);
}

/// A `.cache-keys` that is a symlink would put key files outside the build context.
#[test]
fn a_symlinked_key_folder_is_refused() {
    let dir = scratch();
    let outside = scratch();
    std::os::unix::fs::symlink(outside.path(), dir.path().join(".cache-keys")).unwrap();
    let df = dir.path().join("Dockerfile");
    std::fs::write(
        &df,
        "FROM debian:12\nRUN wget -q http://127.0.0.1:9/x.tgz\n",
    )
    .unwrap();
    let out = bin()
        .args(["cache-key", "--dockerfile"])
        .arg(&df)
        .arg("--write")
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &[".cache-keys", "is a symlink"]);
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

fn verdict(dir: &Path, name: &str) -> String {
    let out = bin()
        .args([
            "check",
            &image(APP),
            "--policy",
            "none",
            "--comment",
            "none",
        ])
        .args(["--format", "json", "--label", name, "-o"])
        .arg(dir.join(format!("{name}.json")))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    dir.join(format!("{name}.json")).display().to_string()
}

/// `history append VERDICT OTHER` (arguments swapped) is refused and changes
/// nothing; `--keep` on a symlinked history keeps the link.
#[test]
fn history_append_refuses_a_file_that_is_not_a_history() {
    let dir = scratch();
    let a = verdict(dir.path(), "api");
    let b = verdict(dir.path(), "web");
    let before = std::fs::read(&a).unwrap();
    let out = bin()
        .args([
            "history", "append", &a, &b, "--commit", "c1", "--ref", "main",
        ])
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["not a layergate history file"]);
    assert_eq!(std::fs::read(&a).unwrap(), before);

    let real = dir.path().join("history.jsonl");
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    for commit in ["c1", "c2", "c3"] {
        let out = bin()
            .args(["history", "append"])
            .arg(&link)
            .args([&b, "--commit", commit, "--ref", "main", "--keep", "2"])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap().lines().count(), 2);

    let out = bin()
        .args(["history", "append"])
        .arg(&real)
        .args([&b, "--commit", "c4", "--ref", "main", "--time", "yesterday"])
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["--time", "RFC 3339"]);
}

/// A full disk: the job summary is left whole (no half line), and the outputs are
/// still written.
#[test]
fn a_full_disk_leaves_no_half_summary_and_writes_the_outputs() {
    let mnt = TinyFs::mount(8192);
    let summary = mnt.path().join("summary.md");
    // A whole page, so the append needs a new one.
    let previous = "x".repeat(4095) + "\n";
    std::fs::write(&summary, &previous).unwrap();
    // Fill the rest of the file system.
    let _ = std::fs::write(mnt.path().join("filler"), vec![1u8; 64 << 10]);
    let dir = scratch();
    let outputs = dir.path().join("outputs");
    std::fs::write(&outputs, "").unwrap();
    let out = bin()
        .args([
            "check",
            &image(APP),
            "--policy",
            "none",
            "--comment",
            "none",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("job summary not written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), previous);
    assert!(std::fs::read_to_string(&outputs)
        .unwrap()
        .contains("verdict=pass"));
}

// ---- 10: settings ----

/// Empty means unset; a bad number or request id is one line and exit 2; `--pr 0`
/// is refused before anything is posted.
#[test]
fn settings_are_validated_in_one_place() {
    let img = image(APP);
    let out = bin()
        .args(["analyze", &img, "--format", "json"])
        .env("LAYERGATE_CACHE_DIR", "")
        .env("LAYERGATE_HTML_URL", "")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for (var, value) in [
        ("LAYERGATE_HTTP_BACKOFF_MS", "abc"),
        ("CI_MERGE_REQUEST_IID", "abc"),
        ("CI_MERGE_REQUEST_IID", "-1"),
        ("CI_MERGE_REQUEST_IID", " 7"),
    ] {
        let out = bin()
            .args(["check", &img, "--policy", "none", "--comment", "none"])
            .env(var, value)
            .output()
            .unwrap();
        assert_one_line_exit_2(&out, &[var, "bad value"]);
    }
    let out = bin()
        .args([
            "check",
            &img,
            "--policy",
            "none",
            "--comment",
            "github",
            "--pr",
            "0",
        ])
        .args(["--repo", "o/r", "--api-url", "http://127.0.0.1:9"])
        .env("GITHUB_TOKEN", "t0ken-value")
        .output()
        .unwrap();
    assert_one_line_exit_2(&out, &["--pr", "0 is not"]);
}

// ---- 2, 3: the cache ----

/// `--cache-dir .` with a 1 kB bound in a project folder deletes nothing of the
/// project's; under umask 000 the cache folders are still private.
#[test]
fn the_cache_touches_only_its_own_files_and_stays_private() {
    let dir = scratch();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    let img = image(APP);
    for _ in 0..2 {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("umask 000; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_layergate"))
            .args([
                "analyze",
                &img,
                "--format",
                "json",
                "--cache-dir",
                ".",
                "--cache-max",
                "1kB",
            ])
            .current_dir(dir.path())
            .env_remove("LAYERGATE_NO_CACHE");
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    assert!(dir.path().join("Cargo.toml").exists());
    assert!(dir.path().join("src/main.rs").exists());
    // The folder the user named keeps its mode.
    assert_eq!(std::fs::metadata(dir.path()).unwrap().mode() & 0o777, 0o755);
    let v = dir.path().join(format!("v{}", layergate::CACHE_FORMAT));
    for d in [v.clone(), v.join("sha256")] {
        assert_eq!(
            std::fs::metadata(&d).unwrap().mode() & 0o777,
            0o700,
            "{d:?}"
        );
    }
    assert_eq!(
        std::fs::metadata(dir.path().join("secret")).unwrap().mode() & 0o777,
        0o600
    );
}

/// An entry that belongs to another user (uid 65534) is never used.
#[test]
fn another_users_cache_entry_is_skipped() {
    let dir = scratch();
    let cache = dir.path().join("cache");
    let img = image(APP);
    let run = || {
        bin()
            .env_remove("LAYERGATE_NO_CACHE")
            .env("LAYERGATE_CACHE_DIR", &cache)
            .args(["analyze", &img, "--format", "json"])
            .output()
            .unwrap()
    };
    let cold = run();
    assert_eq!(code(&cold), 0, "{}", stderr(&cold));
    let entries = cache.join(format!("v{}/sha256", layergate::CACHE_FORMAT));
    for e in std::fs::read_dir(&entries).unwrap().flatten() {
        std::os::unix::fs::chown(e.path(), Some(65534), Some(65534)).unwrap();
    }
    let warm = run();
    assert_eq!(code(&warm), 0, "{}", stderr(&warm));
    assert!(
        stderr(&warm).contains("owned by uid 65534"),
        "{}",
        stderr(&warm)
    );
    assert_eq!(warm.stdout, cold.stdout);
}

/// A small tmpfs for full-disk cases, unmounted on drop.
struct TinyFs {
    dir: tempfile::TempDir,
}

impl TinyFs {
    fn mount(bytes: u64) -> TinyFs {
        let dir = scratch();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(ok.success(), "mounting a tmpfs needs root");
        TinyFs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// SIGTERM while a temporary file is open (here the spool of `analyze -`, held open
/// while standard input is still coming) removes it: nothing is left in TMPDIR, and
/// the process dies of the signal.
#[test]
fn sigterm_leaves_no_temporary_file() {
    let tmp = scratch();
    let mut child = Command::new(env!("CARGO_BIN_EXE_layergate"))
        .env("LAYERGATE_NO_CACHE", "1")
        .args(["analyze", "-", "--format", "json"])
        .env("TMPDIR", tmp.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&[0u8; 4096]).unwrap();
    // Wait for the spool to hold the bytes given (a condition, not a time limit).
    let spooling = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .any(|e| e.metadata().is_ok_and(|m| m.len() >= 4096))
    };
    while !spooling() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    drop(stdin);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A bind-mounted output file cannot be renamed over (EBUSY): it is written in place.
#[test]
fn a_bind_mounted_output_is_written_in_place() {
    let dir = scratch();
    let source = dir.path().join("source.json");
    let target = dir.path().join("target.json");
    std::fs::write(&source, b"old").unwrap();
    std::fs::write(&target, b"").unwrap();
    let ok = Command::new("mount")
        .arg("--bind")
        .arg(&source)
        .arg(&target)
        .status()
        .unwrap();
    assert!(ok.success(), "bind mounts need root");
    let out = bin()
        .args(["analyze", &image(APP), "--format", "json", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    let _ = Command::new("umount").arg(&target).status();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::read_to_string(&source)
        .unwrap()
        .contains("\"schema\""));
    assert!(temp_files(dir.path()).is_empty());
}

/// A redirect to another host or port never carries the token there (GitHub and GitLab).
#[test]
fn redirects_never_carry_the_token_elsewhere() {
    let elsewhere = Server::start(|_, _| Reply::json(200, json!([])));
    let target = elsewhere.url.clone();
    let api = Server::start(move |req, _| {
        Reply::status(302).with_header("location", &format!("{target}{}", req.path))
    });
    let img = image(APP);
    let gh = "ghp_REDIRECTsecret0123456789";
    let out = bin()
        .args(["check", &img, "--policy", "none", "--comment", "github"])
        .args(["--pr", "1", "--repo", "o/r", "--api-url", &api.url])
        .env("GITHUB_TOKEN", gh)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let gl = "glpat-REDIRECTsecret0123";
    let out = bin()
        .args(["check", &img, "--policy", "none", "--comment", "gitlab"])
        .args(["--pr", "1", "--repo", "5", "--api-url", &api.url])
        .env("LAYERGATE_GITLAB_TOKEN", gl)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!api.requests().is_empty());
    for r in elsewhere.requests() {
        for (k, v) in &r.headers {
            assert!(
                !v.contains(gh) && !v.contains(gl),
                "{k}: {v} reached {}",
                r.path
            );
        }
    }
}
