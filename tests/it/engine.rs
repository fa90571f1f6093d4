//! Images read straight from a local engine (`docker-daemon:`, `podman:`, bare names):
//! a real dockerd (Debian's, legacy export shape), a real Docker 26 (containerd image
//! store, the Docker 25+ OCI export shape) and a real podman service, each on its own
//! socket, give the same figures as the archives the images were loaded from. A fake
//! engine on a unix socket plays only what a real one cannot be made to do: exports that
//! break half-way. Every failure is one line and exit 2.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex, OnceLock};

use crate::support::dockerd::Dockerd;
use crate::support::engine_proxy::EngineProxy;
use crate::support::podman::Podman;
use crate::support::run::assert_code;
use crate::support::sys::privileged;
use crate::support::{bin, image, stderr};

/// The legacy `docker save` archives dockerd 20.10 can load, with the name each holds.
const DOCKER_IMAGES: &[(&str, &str)] = &[
    ("app-base.docker.tar", "app-base:latest"),
    ("app-pr.docker.tar", "app-pr:latest"),
    ("chmod-split.docker.tar", "chmod-split:latest"),
    ("cleanup-merged.docker.tar", "cleanup-merged:latest"),
    ("cleanup-split.docker.tar", "cleanup-split:latest"),
    ("download.docker.tar", "download:latest"),
    ("whiteouts.docker.tar", "whiteouts:latest"),
    ("whiteouts-opaque.docker.tar", "whiteouts-opaque:latest"),
];

/// One dockerd for the module, holding every real test image (started once: loading
/// eight images takes a few seconds; stopped when the test binary exits).
fn dockerd() -> &'static Dockerd {
    static D: OnceLock<Dockerd> = OnceLock::new();
    D.get_or_init(|| {
        let d = Dockerd::start();
        for (file, _) in DOCKER_IMAGES {
            d.load(Path::new(&image(file)));
        }
        d
    })
}

/// One Docker 26 engine (containerd image store) for the module, holding every real
/// test image, loaded from the same legacy archives.
fn docker25() -> &'static Dockerd {
    static D: OnceLock<Dockerd> = OnceLock::new();
    D.get_or_init(|| {
        let d = Dockerd::start_docker25();
        for (file, _) in DOCKER_IMAGES {
            d.load(Path::new(&image(file)));
        }
        d
    })
}

fn run_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("CONTAINER_HOST")
        .env("DOCKER_CONFIG", "/nonexistent");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run layergate")
}

fn json_with(env: &[(&str, &str)], reference: &str) -> serde_json::Value {
    let out = run_with(env, &["analyze", reference, "--format", "json"]);
    assert_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The report without what legitimately names the source.
fn figures(mut report: serde_json::Value) -> serde_json::Value {
    let info = report["image"].as_object_mut().unwrap();
    for k in ["reference", "format", "name", "repo_digests"] {
        info.remove(k);
    }
    report
}

fn assert_one_line_exit_2(out: &Output, want: &str) {
    let err = stderr(out);
    assert_code(out, 2);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(want), "{want:?} not in {err}");
}

/// Every real image read from dockerd gives exactly the figures of its archive.
#[test]
fn docker_engine_figures_equal_the_archives() {
    let d = dockerd();
    let env = [("DOCKER_HOST", d.host())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for (file, name) in DOCKER_IMAGES {
        let archive = figures(json_with(&[], &image(file)));
        let engine = json_with(&env, &format!("docker-daemon:{name}"));
        assert_eq!(engine["image"]["format"], "docker-daemon", "{name}");
        assert_eq!(figures(engine), archive, "{name}: engine vs archive");
    }
}

/// A bare NAME:TAG that is not a file is read from the engine that holds it, and the
/// report says so.
#[test]
fn bare_name_resolves_to_the_local_engine() {
    let d = dockerd();
    let host = d.host();
    let report = json_with(&[("DOCKER_HOST", &host)], "app-pr:latest");
    assert_eq!(report["image"]["format"], "docker-daemon");
    assert_eq!(report["image"]["reference"], "app-pr:latest");
}

/// diff with the base in the engine and the head from an archive.
#[test]
fn diff_engine_base_against_archive_head() {
    let d = dockerd();
    let host = d.host();
    let out = run_with(
        &[("DOCKER_HOST", &host)],
        &[
            "diff",
            "docker-daemon:app-base:latest",
            &image("app-pr.docker.tar"),
        ],
    );
    // app-pr passes the default policy (warnings only): exit 0 from every source.
    assert_code(&out, 0);
    let from_archives = bin()
        .args([
            "diff",
            &image("app-base.docker.tar"),
            &image("app-pr.docker.tar"),
        ])
        .code(0);
    assert!(
        String::from_utf8_lossy(&from_archives.stdout).contains("app-pr"),
        "a real comparison was printed: {}",
        String::from_utf8_lossy(&from_archives.stdout)
    );
    // Names differ by spelling only (the archives were saved as docker.io/library/…).
    let norm = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .replace("docker.io/library/", "")
            .replace("docker-daemon:app-base:latest", "BASE")
            .replace(&image("app-base.docker.tar"), "BASE")
    };
    assert_eq!(norm(&out), norm(&from_archives));
    // Both sides in the engine.
    let both = run_with(
        &[("DOCKER_HOST", &host)],
        &[
            "diff",
            "docker-daemon:app-base:latest",
            "docker-daemon:app-pr:latest",
        ],
    );
    assert_code(&both, 0);
    let both = String::from_utf8_lossy(&both.stdout)
        .replace("docker.io/library/", "")
        .replace("docker-daemon:app-base:latest", "BASE")
        .replace("docker-daemon:app-pr:latest", &image("app-pr.docker.tar"));
    assert_eq!(both, norm(&from_archives));
}

/// A gzip-stored archive against an engine image (plain layers, scanned while the
/// export streams): the engine side gets the gzip estimate the same image saved as a
/// plain archive gets, so the compressed delta stays comparable, figure for figure.
#[test]
fn gzip_archive_against_engine_head_keeps_a_comparable_compressed_delta() {
    let d = dockerd();
    let host = d.host();
    let base = image("app-base.oci.tar");
    let from_engine = run_with(
        &[("DOCKER_HOST", &host)],
        &[
            "diff",
            &base,
            "docker-daemon:app-pr:latest",
            "--format",
            "json",
        ],
    );
    assert_code(&from_engine, 0);
    let from_archive = bin()
        .args([
            "diff",
            &base,
            &image("app-pr.docker.tar"),
            "--format",
            "json",
        ])
        .code(0);
    let totals = |o: &Output| {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("diff JSON");
        let t = &v["comparison"]["totals"];
        (t["compressed_basis"].clone(), t["compressed"].clone())
    };
    let (basis, compressed) = totals(&from_engine);
    assert_eq!(basis, "gzip-estimated", "{}", stderr(&from_engine));
    assert!(
        compressed["delta"].is_i64(),
        "a compressed delta: {compressed}"
    );
    assert_eq!((basis, compressed), totals(&from_archive));
}

/// The figures of a diff's JSON, without what names the sources (references, formats,
/// names and registry digests of both images).
fn diff_figures(out: &Output) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("config_digest") {
                    for k in ["reference", "format", "name", "repo_digests"] {
                        map.remove(k);
                    }
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    strip(&mut v);
    v
}

/// Both sides of a diff in one engine: one export request for the two images (the
/// layers they share cross the socket and are scanned once), counted by a pass-through
/// proxy in front of the real engine, and the figures of the same diff from saved
/// archives. Docker 20.10 (legacy export) and Docker 26 (containerd image store, whose
/// image IDs are not config digests, so the images are told apart by their tags).
#[test]
fn both_engine_sides_of_a_diff_are_exported_once() {
    let tmp = tempfile::tempdir().unwrap();
    for (d, api) in [(dockerd(), "1.41"), (docker25(), "1.45")] {
        let proxy = EngineProxy::start(d.socket());
        let diff = |extra: &[&str]| {
            let mut args = vec![
                "diff",
                "docker-daemon:app-base:latest",
                "docker-daemon:app-pr:latest",
                "--format",
                "json",
            ];
            args.extend_from_slice(extra);
            run_with(&[("DOCKER_HOST", proxy.host())], &args)
        };
        // What this engine's own `docker save` writes of each side.
        let saved = |name: &str| {
            let path = tmp.path().join(format!("{api}-{name}.tar"));
            std::fs::write(&path, d.save(&format!("{name}:latest"))).unwrap();
            path.display().to_string()
        };
        let from_archives = bin()
            .args([
                "diff",
                &saved("app-base"),
                &saved("app-pr"),
                "--format",
                "json",
            ])
            .code(0);
        let out = diff(&[]);
        assert_code(&out, 0);
        assert_eq!(
            proxy.exports(),
            [format!(
                "/v{api}/images/get?names=app-base:latest&names=app-pr:latest"
            )],
            "every request: {:?}",
            proxy.paths()
        );
        assert_eq!(
            diff_figures(&out),
            diff_figures(&from_archives),
            "API {api}"
        );
        // The platform the engine holds, asked for by name: the same diff, one export.
        proxy.clear();
        let out = diff(&["--platform", "linux/amd64"]);
        assert_code(&out, 0);
        assert_eq!(proxy.exports().len(), 1, "{:?}", proxy.paths());
        assert_eq!(
            diff_figures(&out),
            diff_figures(&from_archives),
            "API {api}"
        );
    }
}

/// An image named by its ID (which has no tag in the export) in a diff of two engine
/// images is told apart in the shared export by its config: the ID is the config's
/// digest in the legacy store, and in Docker 26's containerd store the digest of the
/// manifest the export holds, which names the config.
#[test]
fn image_named_by_id_is_found_in_the_shared_export() {
    for d in [dockerd(), docker25()] {
        let id = d.run(&["image", "inspect", "--format", "{{.Id}}", "app-pr:latest"]);
        let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
        let short = &id.trim_start_matches("sha256:")[..12];
        let proxy = EngineProxy::start(d.socket());
        let diff = |head: &str| {
            let out = run_with(
                &[("DOCKER_HOST", proxy.host())],
                &[
                    "diff",
                    "docker-daemon:app-base:latest",
                    head,
                    "--format",
                    "json",
                ],
            );
            assert_code(&out, 0);
            diff_figures(&out)
        };
        let by_name = diff("docker-daemon:app-pr:latest");
        proxy.clear();
        let by_id = diff(&format!("docker-daemon:{short}"));
        assert_eq!(proxy.exports().len(), 1, "{:?}", proxy.paths());
        assert_eq!(by_id, by_name, "{id}");
    }
}

/// podman's API service exports several names in one archive too (podman 4.3 here):
/// a diff of two podman images is one export, with the archives' figures.
#[test]
fn both_podman_sides_of_a_diff_are_exported_once() {
    let p = Podman::start();
    for file in ["app-base.oci.tar", "app-pr.oci.tar"] {
        p.load(Path::new(&image(file)));
    }
    let socket = p.host().trim_start_matches("unix://").to_string();
    let proxy = EngineProxy::start(Path::new(&socket));
    let out = run_with(
        &[("CONTAINER_HOST", proxy.host())],
        &[
            "diff",
            "podman:localhost/app-base:latest",
            "podman:localhost/app-pr:latest",
            "--format",
            "json",
        ],
    );
    assert_code(&out, 0);
    let exports = proxy.exports();
    assert_eq!(exports.len(), 1, "every request: {:?}", proxy.paths());
    assert!(
        exports[0]
            .ends_with("/images/get?names=localhost/app-base:latest&names=localhost/app-pr:latest"),
        "{exports:?}"
    );
    // podman exports plain layers: the figures of the legacy saves.
    let from_archives = bin()
        .args([
            "diff",
            &image("app-base.docker.tar"),
            &image("app-pr.docker.tar"),
            "--format",
            "json",
        ])
        .code(0);
    assert_eq!(diff_figures(&out), diff_figures(&from_archives));
}

/// An engine keeps one platform under a name: `--platform` naming another is one line
/// and exit 2 before anything is exported, never the held platform's figures; `--platform
/// all` judges the one platform it holds, from one export.
#[test]
fn engine_images_honour_the_platform_asked_for() {
    let d = dockerd();
    let proxy = EngineProxy::start(d.socket());
    let env = [("DOCKER_HOST", proxy.host())];
    let out = run_with(
        &env,
        &[
            "analyze",
            "docker-daemon:app-pr:latest",
            "--platform",
            "linux/arm64",
        ],
    );
    assert_one_line_exit_2(
        &out,
        "docker-daemon:app-pr:latest: no image for platform linux/arm64; present: linux/amd64",
    );
    // Both sides held by the engine, compared on one platform (or all of them).
    let diff = |platform: &str, more: &[&str]| {
        let sides = [
            "docker-daemon:app-base:latest",
            "docker-daemon:app-pr:latest",
        ];
        let args = [&["diff"][..], &sides, &["--platform", platform], more].concat();
        run_with(&env, &args)
    };
    let out = diff("linux/amd64/v2", &[]);
    assert_one_line_exit_2(
        &out,
        "no image for platform linux/amd64/v2; present: linux/amd64",
    );
    assert_eq!(proxy.exports(), Vec::<String>::new(), "nothing exported");
    let out = diff("all", &["--format", "json"]);
    assert_code(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    let platforms: Vec<&str> = v["platforms"]
        .as_array()
        .expect("a row per platform")
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64"]);
    assert_eq!(proxy.exports().len(), 1, "{:?}", proxy.paths());
}

/// A name the engine does not hold: one line naming it and the registry alternative.
#[test]
fn image_missing_from_the_engine_is_one_line() {
    let d = dockerd();
    let host = d.host();
    let out = run_with(
        &[("DOCKER_HOST", &host)],
        &["analyze", "docker-daemon:app:pr"],
    );
    assert_one_line_exit_2(&out, "image app:pr not in the local engine at unix://");
    assert!(stderr(&out).contains("did you mean docker://docker.io/library/app:pr?"));
}

/// No engine where DOCKER_HOST points: one line saying where we looked.
#[test]
fn no_engine_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/none.sock", dir.path().display());
    let out = run_with(
        &[("DOCKER_HOST", &host)],
        &["analyze", "docker-daemon:app:pr"],
    );
    assert_one_line_exit_2(&out, &format!("no engine at {host} (set DOCKER_HOST)"));
    let out = run_with(&[("CONTAINER_HOST", &host)], &["analyze", "podman:app:pr"]);
    assert_one_line_exit_2(&out, &format!("no engine at {host} (set CONTAINER_HOST)"));
}

/// A socket the user may not open (run as `nobody`, which needs root or password-less
/// sudo): one line, not a hang or a panic.
#[test]
fn socket_without_permission_is_one_line() {
    let d = dockerd();
    // The binary must be reachable by nobody: copy it out of the (maybe private) tree.
    let tmp = tempfile::Builder::new()
        .prefix("lgperm")
        .tempdir_in("/tmp")
        .unwrap();
    let exe = tmp.path().join("layergate");
    std::fs::copy(env!("CARGO_BIN_EXE_layergate"), &exe).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Only the socket's owner (root, or the test's user it was handed to) may open it.
    crate::support::sys::privileged_ok("chmod", &["0600", &d.socket().display().to_string()]);
    let out = privileged("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["analyze", "docker-daemon:app-pr:latest"])
        .env("DOCKER_HOST", d.host())
        .env("HOME", "/nonexistent")
        .env("LAYERGATE_NO_CACHE", "1")
        .output()
        .expect("setpriv (util-linux)");
    assert_one_line_exit_2(&out, &format!("permission denied on {}", d.host()));
}

/// podman's Docker-compatible API gives the archive's figures too.
#[test]
fn podman_figures_equal_the_archives() {
    let p = Podman::start();
    for file in [
        "app-pr.oci.tar",
        "whiteouts.docker.tar",
        "cleanup-split.oci.tar",
    ] {
        p.load(Path::new(&image(file)));
    }
    let host = p.host();
    let env = [("CONTAINER_HOST", host.as_str())];
    // podman exports plain layers: the figures are those of the legacy save (the OCI
    // archives hold gzip layers, so only their compressed sizes and digests differ).
    for (file, name) in [
        ("app-pr.docker.tar", "localhost/app-pr:latest"),
        ("whiteouts.docker.tar", "whiteouts:latest"),
        ("cleanup-split.docker.tar", "localhost/cleanup-split:latest"),
    ] {
        let archive = figures(json_with(&[], &image(file)));
        let engine = json_with(&env, &format!("podman:{name}"));
        assert_eq!(engine["image"]["format"], "podman", "{name}");
        assert!(
            engine["image"]["repo_digests"]
                .as_array()
                .is_some_and(|d| !d.is_empty()),
            "{name}: podman knows a repo digest: {}",
            engine["image"]
        );
        assert_eq!(figures(engine), archive, "{name}: podman vs archive");
    }
}

/// Every real image read from Docker 26 (containerd image store, Docker 25+ export
/// shape) gives exactly the figures of what that engine's own `docker save` wrote, and
/// the same live files and wasted bytes as the legacy archive it was loaded from.
#[test]
fn docker25_engine_figures_equal_its_own_save() {
    let d = docker25();
    let env = [("DOCKER_HOST", d.host())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let version = d.run(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), "1.45");
    let tmp = tempfile::tempdir().unwrap();
    for (file, name) in DOCKER_IMAGES {
        let saved = tmp.path().join(format!("{name}.tar"));
        std::fs::write(&saved, d.save(name)).unwrap();
        let saved = saved.display().to_string();
        let save = json_with(&[], &saved);
        assert_eq!(save["image"]["format"], "docker-archive", "{name}");
        let engine = json_with(&env, &format!("docker-daemon:{name}"));
        assert_eq!(engine["image"]["format"], "docker-daemon", "{name}");
        assert_eq!(
            figures(engine),
            figures(save.clone()),
            "{name}: engine vs its save"
        );
        let legacy = json_with(&[], &image(file));
        for k in ["totals", "files"] {
            assert_eq!(
                save[k], legacy[k],
                "{name}: {k} of the Docker 26 save vs {file}"
            );
        }
    }
}

/// The committed `app-pr.docker25.tar` was laid out by a script, not by Docker: it must
/// read exactly as what Docker 26 really saves for app-pr (layers by diffID, totals,
/// every live file), so the script's shape is checked against the real one.
#[test]
fn scripted_docker25_file_reads_as_docker26_save() {
    let d = docker25();
    let tmp = tempfile::tempdir().unwrap();
    let saved = tmp.path().join("app-pr.tar");
    std::fs::write(&saved, d.save("app-pr:latest")).unwrap();
    let real = json_with(&[], &saved.display().to_string());
    let scripted = json_with(&[], &image("app-pr.docker25.tar"));
    let diff_ids = |r: &serde_json::Value| -> Vec<serde_json::Value> {
        r["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["diff_id"].clone())
            .collect()
    };
    assert_eq!(diff_ids(&scripted), diff_ids(&real));
    assert_eq!(diff_ids(&real).len(), 6);
    for k in ["totals", "files"] {
        assert_eq!(
            scripted[k], real[k],
            "{k}: scripted file vs Docker 26's save"
        );
    }
}

// ---------------------------------------------------------------------------
// A fake engine: the failures a real one cannot be made to give on demand.

#[derive(Clone, Copy)]
enum Export {
    /// Chunked, half the archive, then a clean terminating chunk.
    CleanCut,
    /// Chunked, half the archive, then the connection closes.
    Abrupt,
    /// What a failed export looks like: tar so far, the engine's error JSON, clean end.
    ErrorInside,
}

struct FakeEngine {
    _dir: tempfile::TempDir,
    host: String,
    /// The request paths it answered, checked by the test (an assertion in the server's
    /// thread would not fail the test).
    paths: Arc<Mutex<Vec<String>>>,
}

fn fake_engine(archive: PathBuf, mode: Export) -> FakeEngine {
    let dir = tempfile::Builder::new()
        .prefix("lgf")
        .tempdir_in("/tmp")
        .unwrap();
    let sock = dir.path().join("f.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    std::thread::spawn(move || {
        let body = std::fs::read(&archive).unwrap();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().push(path.clone());
            let head = |status: &str, extra: &str| {
                format!("HTTP/1.1 {status}\r\nApi-Version: 1.44\r\nContent-Type: application/json\r\n{extra}")
            };
            if path == "/_ping" {
                let _ = conn.write_all(
                    format!(
                        "{}Content-Length: 2\r\nConnection: close\r\n\r\nOK",
                        head("200 OK", "")
                    )
                    .as_bytes(),
                );
            } else if path.ends_with("/json") {
                let j = br#"{"Id":"sha256:2a8563b8cfdbe9875cc7b7f3e953eb210f85a1a80bf5e044e947e3610a7dc09e","RepoTags":["app-pr:latest"],"RepoDigests":["registry.example/app-pr@sha256:210f684b6e36a8cab87e4065c30ff2369f274a164059ef56e0fcc675e3666513"]}"#;
                let _ = conn.write_all(
                    format!(
                        "{}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        head("200 OK", ""),
                        j.len()
                    )
                    .as_bytes(),
                );
                let _ = conn.write_all(j);
            } else if path.ends_with("/get") {
                let half = &body[..body.len() / 2];
                let chunk = |c: &mut std::os::unix::net::UnixStream, b: &[u8]| {
                    let _ = c.write_all(format!("{:x}\r\n", b.len()).as_bytes());
                    let _ = c.write_all(b);
                    let _ = c.write_all(b"\r\n");
                };
                let _ = conn.write_all(
                    format!("{}Transfer-Encoding: chunked\r\n\r\n", head("200 OK", "")).as_bytes(),
                );
                chunk(&mut conn, half);
                if matches!(mode, Export::ErrorInside) {
                    chunk(
                        &mut conn,
                        br#"{"message":"write /var/lib/docker/tmp: no space left on device"}"#,
                    );
                }
                if !matches!(mode, Export::Abrupt) {
                    let _ = conn.write_all(b"0\r\n\r\n");
                }
            } else {
                let msg = br#"{"message":"page not found"}"#;
                let _ = conn.write_all(
                    format!(
                        "{}Content-Length: {}\r\n\r\n",
                        head("404 Not Found", ""),
                        msg.len()
                    )
                    .as_bytes(),
                );
                let _ = conn.write_all(msg);
            }
            let _ = conn.flush();
            // Close both directions: the reader half is a clone of the same socket.
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
    });
    FakeEngine {
        host: format!("unix://{}", sock.display()),
        _dir: dir,
        paths,
    }
}

/// An export that stops half-way is an error, never a smaller image: cut with a clean
/// HTTP end, cut by a closed connection, or broken by the engine's error JSON.
#[test]
fn export_cut_half_way_is_an_error() {
    for mode in [Export::CleanCut, Export::Abrupt, Export::ErrorInside] {
        for file in ["app-pr.docker25.tar", "app-pr.docker.tar"] {
            let f = fake_engine(image(file).into(), mode);
            let out = run_with(
                &[("DOCKER_HOST", &f.host)],
                &["analyze", "docker-daemon:app-pr:latest"],
            );
            assert_one_line_exit_2(
                &out,
                "export of app-pr:latest is truncated or failed half-way",
            );
            // The export was asked for at the version the engine's ping negotiated.
            let paths = f.paths.lock().unwrap().clone();
            assert!(
                paths.iter().any(|p| p == "/v1.44/images/app-pr:latest/get"),
                "{paths:?}"
            );
        }
    }
}
