//! The GitHub Action's shell steps (`scripts/action-run.sh`, which `action.yml`
//! calls) run as a script: installing a local binary, installing a "released"
//! archive served from a file:// URL with its checksum verified (and refused when
//! the checksum is wrong), and building the `layergate diff` command line from the
//! action's inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-run.sh")
}

fn layergate() -> &'static str {
    env!("CARGO_BIN_EXE_layergate")
}

/// The script with a clean environment: only what a runner step would see.
fn step(step: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .arg(step)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn installed_version(dir: &Path) -> String {
    let out = Command::new(dir.join("bin/layergate"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// LAYERGATE_BIN short-cuts the download: the binary lands on $GITHUB_PATH.
#[test]
fn install_uses_the_local_binary_and_extends_github_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let gh_path = tmp.path().join("path");
    let gh_out = tmp.path().join("out");
    let out = step(
        "install",
        &[
            ("LAYERGATE_BIN", layergate()),
            ("LAYERGATE_INSTALL_DIR", dir.to_str().unwrap()),
            ("GITHUB_PATH", gh_path.to_str().unwrap()),
            ("GITHUB_OUTPUT", gh_out.to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&gh_path).unwrap(),
        format!("{}\n", dir.join("bin").display())
    );
    assert_eq!(
        std::fs::read_to_string(&gh_out).unwrap(),
        format!("bin={}\n", dir.join("bin/layergate").display())
    );
    assert_eq!(
        installed_version(&dir),
        format!("layergate {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Lays out a release the way GitHub serves release.yml's assets:
/// DIR/download/vX/ASSET (or DIR/latest/download/ASSET) with ASSET.sha256 in
/// `shasum` format. The archived "binary" is a small stand-in printing a version
/// (the debug build is 160 MB: gzipping it would dominate the test's time).
fn fake_release(root: &Path, version: &str, asset: &str, checksum: Option<&str>) {
    let stage = root.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    let stand_in = stage.join("layergate");
    std::fs::write(
        &stand_in,
        "#!/bin/sh\necho \"layergate 0.1.0 (release stand-in)\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = if version == "latest" {
        root.join("latest/download")
    } else {
        root.join("download").join(format!("v{version}"))
    };
    {
        std::fs::create_dir_all(&dir).unwrap();
        let archive = dir.join(asset);
        let ok = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&stage)
            .arg("layergate")
            .status()
            .unwrap();
        assert!(ok.success());
        let sum = match checksum {
            Some(s) => s.to_string(),
            None => {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(std::fs::read(&archive).unwrap()))
            }
        };
        std::fs::write(
            dir.join(format!("{asset}.sha256")),
            format!("{sum}  {asset}\n"),
        )
        .unwrap();
    }
}

/// The released archive for the runner's OS/arch is downloaded, verified and used.
#[test]
fn install_downloads_a_release_and_verifies_its_checksum() {
    for (version, runner_os, arch, triple) in [
        ("0.1.0", "Linux", "X64", "x86_64-unknown-linux-musl"),
        ("latest", "Linux", "ARM64", "aarch64-unknown-linux-musl"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let rel = tmp.path().join("releases");
        fake_release(&rel, version, &format!("layergate-{triple}.tar.gz"), None);
        let dir = tmp.path().join("inst");
        let url = format!("file://{}", rel.display());
        let out = step(
            "install",
            &[
                ("LAYERGATE_RELEASE_URL", &url),
                ("LAYERGATE_VERSION", version),
                ("RUNNER_OS", runner_os),
                ("RUNNER_ARCH", arch),
                ("LAYERGATE_INSTALL_DIR", dir.to_str().unwrap()),
            ],
        );
        assert!(out.status.success(), "{version}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(
                "installed layergate-{triple}.tar.gz ({version}), sha256 "
            )),
            "{}",
            stderr(&out)
        );
        assert_eq!(
            installed_version(&dir),
            "layergate 0.1.0 (release stand-in)\n"
        );
    }
}

/// A tampered archive is refused outright: no binary, no fallback build.
#[test]
fn install_refuses_an_archive_with_a_wrong_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let rel = tmp.path().join("releases");
    let wrong = "0".repeat(64);
    fake_release(
        &rel,
        "0.1.0",
        "layergate-x86_64-unknown-linux-musl.tar.gz",
        Some(&wrong),
    );
    let dir = tmp.path().join("inst");
    let url = format!("file://{}", rel.display());
    let out = step(
        "install",
        &[
            ("LAYERGATE_RELEASE_URL", &url),
            ("LAYERGATE_VERSION", "0.1.0"),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("LAYERGATE_INSTALL_DIR", dir.to_str().unwrap()),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("checksum mismatch for layergate-x86_64-unknown-linux-musl.tar.gz: expected {wrong}, got ")),
        "{err}"
    );
    assert!(!dir.join("bin/layergate").exists());
    assert!(!err.contains("building from"), "{err}");
}

/// A stand-in binary that records its arguments and exits with $SHIM_EXIT, to
/// check the command line the run step builds and that the verdict's exit code
/// passes through.
fn shim(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.join("layergate");
    std::fs::write(
        &path,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\nprintf 'token=%s\\n' \"$GITHUB_TOKEN\" >> \"$ARGS_FILE\"\nexit \"${SHIM_EXIT:-0}\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The inputs become `layergate diff` flags; empty inputs add no flag; the policy
/// verdict (exit 1) is the step's exit code.
#[test]
fn run_builds_the_diff_command_from_the_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    shim(tmp.path());
    let args_file = tmp.path().join("args");
    let dir = tmp.path().to_str().unwrap();
    let args = args_file.to_str().unwrap();
    let out = step(
        "run",
        &[
            ("LAYERGATE_INSTALL_DIR", dir),
            ("ARGS_FILE", args),
            ("SHIM_EXIT", "1"),
            ("INPUT_BASE", "docker-archive:base.tar"),
            ("INPUT_HEAD", "docker-archive:pr image.tar"),
            ("INPUT_POLICY", ".layergate.yml"),
            ("INPUT_COMMENT", "true"),
            ("INPUT_COMMENT_KEY", "web"),
            ("INPUT_TEMPLATE", ""),
            ("GITHUB_TOKEN", "ghs_passed_through_env"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap(),
        "diff\ndocker-archive:base.tar\ndocker-archive:pr image.tar\n--policy\n.layergate.yml\n--comment\nauto\n--comment-key\nweb\ntoken=ghs_passed_through_env\n"
    );

    let out = step(
        "run",
        &[
            ("LAYERGATE_INSTALL_DIR", dir),
            ("ARGS_FILE", args),
            ("INPUT_BASE", "a.json"),
            ("INPUT_HEAD", "b.tar"),
            ("INPUT_COMMENT", "false"),
            ("INPUT_TEMPLATE", "comment.md.j2"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap(),
        "diff\na.json\nb.tar\n--template\ncomment.md.j2\n--comment\nnone\n--comment-key\ndefault\ntoken=\n"
    );

    let out = step(
        "run",
        &[
            ("LAYERGATE_INSTALL_DIR", dir),
            ("ARGS_FILE", args),
            ("INPUT_BASE", "a"),
            ("INPUT_HEAD", "b"),
            ("INPUT_COMMENT", "yes"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("input 'comment' must be true or false"));
}

/// action.yml passes every input the script reads, under the names it reads.
#[test]
fn action_yml_wires_every_input_into_the_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let script = std::fs::read_to_string(script()).unwrap();
    for input in [
        "base",
        "head",
        "policy",
        "comment",
        "comment-key",
        "template",
    ] {
        let var = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            script.contains(&format!("${{{var}")),
            "script does not read {var}"
        );
        assert!(
            action.contains(&format!("{var}: ${{{{ inputs.{input} }}}}")),
            "action.yml does not pass {var}"
        );
    }
    assert!(action.contains("GITHUB_TOKEN: ${{ inputs.github-token }}"));
    assert!(action.contains("LAYERGATE_VERSION: ${{ inputs.version }}"));
    assert!(action.contains("\"$GITHUB_ACTION_PATH/scripts/action-run.sh\" install"));
    assert!(action.contains("\"$GITHUB_ACTION_PATH/scripts/action-run.sh\" run"));
}

/// The whole action path with the real binary: install from LAYERGATE_BIN, then the
/// run step compares the shared app images without commenting; the exit code is the
/// verdict and the outputs file carries it.
#[test]
fn install_then_run_compares_the_shared_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let gh_out = tmp.path().join("out");
    let summary = tmp.path().join("summary.md");
    let dir_s = dir.to_str().unwrap();
    let out = step(
        "install",
        &[
            ("LAYERGATE_BIN", layergate()),
            ("LAYERGATE_INSTALL_DIR", dir_s),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let base = format!(
        "docker-archive:{}",
        crate::support::image("app-base.docker.tar")
    );
    let head = format!("oci-archive:{}", crate::support::image("app-pr.oci.tar"));
    let out = step(
        "run",
        &[
            ("LAYERGATE_INSTALL_DIR", dir_s),
            ("INPUT_BASE", &base),
            ("INPUT_HEAD", &head),
            ("INPUT_COMMENT", "false"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", gh_out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "exit {code}: {}", stderr(&out));
    let outputs = std::fs::read_to_string(&gh_out).unwrap();
    let verdict = if code == 0 {
        "verdict=pass\n"
    } else {
        "verdict=fail\n"
    };
    assert!(outputs.contains(verdict), "{outputs}");
    assert!(outputs.contains("size-before="), "{outputs}");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("<!-- layergate:default -->"));
}
