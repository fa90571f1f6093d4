//! The GitHub Action's shell steps (`scripts/action-run.sh`, which `action.yml`
//! calls) run one by one: using a binary already on the runner, installing a
//! "released" archive served from a file:// URL with its checksum verified (and
//! refused when the checksum is wrong), reusing the cached binary, building from
//! source only when asked or when no release matches (loudly), and building the
//! `layergate` command line from the action's inputs. `action.rs` runs them all
//! together through action.yml.

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

/// layergate-path short-cuts the download: its directory lands on $GITHUB_PATH.
#[test]
fn install_uses_the_binary_already_on_the_runner() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let gh_path = tmp.path().join("path");
    let gh_out = tmp.path().join("out");
    let out = step(
        "install",
        &[
            ("INPUT_LAYERGATE_PATH", layergate()),
            ("LAYERGATE_INSTALL_DIR", dir.to_str().unwrap()),
            ("GITHUB_PATH", gh_path.to_str().unwrap()),
            ("GITHUB_OUTPUT", gh_out.to_str().unwrap()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bin_dir = Path::new(layergate()).parent().unwrap();
    assert_eq!(
        std::fs::read_to_string(&gh_path).unwrap(),
        format!("{}\n", bin_dir.display())
    );
    assert_eq!(
        std::fs::read_to_string(&gh_out).unwrap(),
        format!(
            "bin={}\nversion={}\n",
            layergate(),
            env!("CARGO_PKG_VERSION")
        )
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
        ("0.1.0", "Linux", "ARM64", "aarch64-unknown-linux-musl"),
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

/// A stand-in `cargo` on PATH that "builds" by writing a stand-in binary into
/// `--root DIR/bin` and records its arguments, so building from source is checked
/// without minutes of compiling.
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("cargo-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$CARGO_ARGS\"\nroot=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho \"layergate 0.1.0 (source stand-in)\"\\n' > \"$root/bin/layergate\"\nchmod +x \"$root/bin/layergate\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// No release matches (nothing at the URL): the action's checkout is built, with a
/// warning annotation saying why and that it takes minutes; `install: source` builds
/// without trying the download. The build lands in the cached directory, so the next
/// run reuses it.
#[test]
fn source_builds_happen_when_asked_or_when_no_release_matches_and_are_loud() {
    let tmp = tempfile::tempdir().unwrap();
    let cargo_bin = fake_cargo(tmp.path());
    let path = format!(
        "{}:{}",
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (install, why) in [
        ("release", "no layergate release 0.1.0 for this runner"),
        ("source", "install: source"),
    ] {
        let dir = tmp.path().join(install);
        let args_file = tmp.path().join(format!("{install}.args"));
        let url = format!("file://{}", tmp.path().join("no-releases").display());
        let env = [
            ("PATH", path.as_str()),
            ("CARGO_ARGS", args_file.to_str().unwrap()),
            ("GITHUB_ACTION_PATH", root.to_str().unwrap()),
            ("INPUT_INSTALL", install),
            ("LAYERGATE_RELEASE_URL", &url),
            ("LAYERGATE_VERSION", "0.1.0"),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "X64"),
            ("LAYERGATE_INSTALL_DIR", dir.to_str().unwrap()),
        ];
        let out = step("install", &env);
        assert!(out.status.success(), "{install}: {}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!(
                "::warning title=layergate::{why}: building layergate from the action's checkout; this takes minutes"
            )),
            "{stdout}"
        );
        assert_eq!(
            std::fs::read_to_string(&args_file).unwrap(),
            format!(
                "install\n--locked\n--quiet\n--root\n{}\n--path\n{}\n",
                dir.display(),
                root.display()
            )
        );
        assert_eq!(
            installed_version(&dir),
            "layergate 0.1.0 (source stand-in)\n"
        );
        // Next run: the cached build, no cargo.
        std::fs::remove_file(&args_file).unwrap();
        let out = step("install", &env);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("using the cached"),
            "{}",
            stderr(&out)
        );
        assert!(!args_file.exists());
    }
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
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\nprintf 'token=%s user=%s\\n' \"$GITHUB_TOKEN\" \"$LAYERGATE_REGISTRY_USER\" >> \"$ARGS_FILE\"\nexit \"${SHIM_EXIT:-0}\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The inputs become flags; empty inputs add no flag; the policy verdict (exit 1)
/// is the step's exit code; bad inputs are one clear line and exit 2.
#[test]
fn run_builds_the_command_from_the_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = shim(tmp.path());
    let args_file = tmp.path().join("args");
    let temp = tmp.path().join("temp");
    let bin = bin.to_str().unwrap();
    let args = args_file.to_str().unwrap();
    let temp_s = temp.to_str().unwrap();
    let out = step(
        "run",
        &[
            ("LAYERGATE_BIN_PATH", bin),
            ("ARGS_FILE", args),
            ("SHIM_EXIT", "1"),
            ("LAYERGATE_TEMP", temp_s),
            ("INPUT_BASE", "docker://registry.example/app:main"),
            ("INPUT_HEAD", "docker-archive:pr image.tar"),
            ("INPUT_POLICY", ".layergate.yml"),
            ("INPUT_PLATFORM", "linux/arm64"),
            ("INPUT_MANIFEST_ONLY", "true"),
            ("INPUT_WARN_ONLY", "true"),
            ("INPUT_COMMENT", "true"),
            ("INPUT_COMMENT_REQUIRED", "true"),
            ("INPUT_PR_NUMBER", "42"),
            ("INPUT_COMMENT_KEY", "web"),
            ("INPUT_TEMPLATE", ""),
            ("LAYERGATE_REGISTRY_USER", "octocat"),
            ("GITHUB_TOKEN", "ghs_passed_through_env"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap(),
        format!("diff\ndocker://registry.example/app:main\ndocker-archive:pr image.tar\n--platform\nlinux/arm64\n--manifest-only\n--progress\n--format\njson\n--output\n{temp_s}/layergate-web.json\n--policy\n.layergate.yml\n--warn-only\n--markdown\n{temp_s}/layergate-web.md\n--comment\nauto\n--pr\n42\n--comment-required\n--comment-key\nweb\ntoken=ghs_passed_through_env user=octocat\n")
    );

    for (command, image, want) in [
        ("check", "oci:dir", "check\noci:dir\n--progress\n--format\njson\n--output\nR\n--markdown\nM\n--comment\nnone\n--comment-key\ndefault\n"),
        ("analyze", "oci:dir", "analyze\noci:dir\n--progress\n--format\njson\n--output\nR\n"),
    ] {
        let out = step(
            "run",
            &[
                ("LAYERGATE_BIN_PATH", bin),
                ("ARGS_FILE", args),
                ("LAYERGATE_TEMP", temp_s),
                ("INPUT_COMMAND", command),
                ("INPUT_IMAGE", image),
                ("INPUT_COMMENT", "false"),
                ("INPUT_REPORT", "R"),
                ("INPUT_MARKDOWN", "M"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&args_file).unwrap(),
            format!("{want}token= user=\n")
        );
    }

    // `fix: true`: the comment's "Fix it" section, from the Dockerfile input.
    let dockerfile = tmp.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM scratch\n").unwrap();
    let df = dockerfile.to_str().unwrap();
    let out = step(
        "run",
        &[
            ("LAYERGATE_BIN_PATH", bin),
            ("ARGS_FILE", args),
            ("LAYERGATE_TEMP", temp_s),
            ("INPUT_COMMAND", "check"),
            ("INPUT_IMAGE", "oci:dir"),
            ("INPUT_COMMENT", "false"),
            ("INPUT_REPORT", "R"),
            ("INPUT_MARKDOWN", "M"),
            ("INPUT_FIX", "true"),
            ("INPUT_DOCKERFILE", df),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap(),
        format!("check\noci:dir\n--progress\n--format\njson\n--output\nR\n--dockerfile\n{df}\n--markdown\nM\n--comment\nnone\n--comment-key\ndefault\ntoken= user=\n")
    );

    for (env, message) in [
        (
            vec![
                ("INPUT_BASE", "a"),
                ("INPUT_HEAD", "b"),
                ("INPUT_COMMENT", "yes"),
            ],
            "input 'comment' must be true or false, not 'yes'",
        ),
        (
            vec![("INPUT_HEAD", "b")],
            "input 'base' is required for command: diff",
        ),
        (
            vec![
                ("INPUT_COMMAND", "check"),
                ("INPUT_IMAGE", "b"),
                ("INPUT_FIX", "true"),
                ("INPUT_DOCKERFILE", "/nonexistent/Dockerfile"),
            ],
            "input 'dockerfile': /nonexistent/Dockerfile does not exist (input 'fix' reads it)",
        ),
        (
            vec![
                ("INPUT_BASE", "a"),
                ("INPUT_HEAD", "b"),
                ("INPUT_PR_NUMBER", "7; rm"),
            ],
            "input 'pr-number' must be a pull request number",
        ),
        (
            vec![("INPUT_COMMAND", "scan"), ("INPUT_HEAD", "b")],
            "input 'command' must be diff, check, analyze, merge, comment or cache-key",
        ),
    ] {
        let mut env = env;
        env.push(("LAYERGATE_BIN_PATH", bin));
        env.push(("ARGS_FILE", args));
        let out = step("run", &env);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout)
            .contains(&format!("::error title=layergate::{message}")),);
    }
}

/// Every input is used by a step, every output comes from a step that writes it,
/// and the run step gives every one of its outputs a value on every path.
#[test]
fn action_yml_wires_every_input_and_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let action: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    // Only the script's code counts: an output named in a comment gets no value.
    let script = shell_code(&std::fs::read_to_string(script()).unwrap());
    for input in action["inputs"].as_object().unwrap().keys() {
        assert!(
            text.contains(&format!("${{{{ inputs.{input} }}}}")),
            "input {input} is not used"
        );
    }
    for (name, spec) in action["outputs"].as_object().unwrap() {
        let value = spec["value"].as_str().unwrap();
        if value == format!("${{{{ steps.run.outputs.{name} }}}}") {
            assert!(
                [" ", ";", "\n"]
                    .iter()
                    .any(|end| script.contains(&format!(" {name}{end}"))),
                "the run step does not give output {name} a value up front"
            );
        } else {
            assert_eq!(value, format!("${{{{ steps.install.outputs.{name} }}}}"));
        }
    }
}

/// A shell script without its comments: every `#` that starts a word, to the end of its
/// line (the script has no `#` inside a quoted word that starts one).
fn shell_code(script: &str) -> String {
    script
        .lines()
        .map(|line| {
            let mut prev = ' ';
            for (i, c) in line.char_indices() {
                if c == '#' && prev.is_whitespace() {
                    return &line[..i];
                }
                prev = c;
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shell_code_drops_comments_only() {
    assert_eq!(
        shell_code("a # verdict\n# headline\necho \"x\"#y\n  output z"),
        "a \n\necho \"x\"#y\n  output z"
    );
}
