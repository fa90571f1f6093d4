//! The machine the tests run on: who we are, what is installed, and the one way a test gets
//! a missing Debian package or a privileged step (root, or password-less `sudo`). A test that
//! cannot have what it needs fails with one line saying what to do; it never passes quietly.

use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Whether the tests run as root (uid 0).
pub fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The numeric uid and gid of the test process (for mount options and socket groups).
pub fn ids() -> (String, String) {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().expect("run id");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (id("-u"), id("-g"))
}

/// Whether `tool` is a command on PATH (or an absolute path that exists).
pub fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", "command -v \"$0\""])
        .arg(tool)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `program` run with root's rights: as is when we are root, through `sudo -n` otherwise.
/// Fails the test with one line when neither is possible (sudo missing or asking for a
/// password), so a privileged step is never skipped.
pub fn privileged(program: &str) -> Command {
    if is_root() {
        return Command::new(program);
    }
    let sudo_works = Command::new("sudo")
        .args(["-n", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        sudo_works,
        "this test needs root: run the suite as root or give this user password-less sudo"
    );
    let mut cmd = Command::new("sudo");
    // -E keeps the test's environment (DOCKER_HOST, TMPDIR, ...) for the command.
    cmd.args(["-n", "-E", "--", program]);
    cmd
}

/// Runs a privileged command to completion and fails the test with its stderr when it fails.
#[track_caller]
pub fn privileged_ok(program: &str, args: &[&str]) {
    let out = privileged(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Serialises installs inside the test binary (apt-get takes the dpkg lock anyway). Never
/// poisoned for good: a failed install fails its own test, and the next caller tries again.
static INSTALL: Mutex<()> = Mutex::new(());

/// Makes every tool in `tools` available, installing the Debian `packages` that provide them
/// with apt-get (as root or through password-less sudo) when one is missing. Waits for the
/// dpkg lock another install holds, refreshes the package lists once if the first attempt
/// fails, and fails the test with one line naming the packages when the tools are still
/// missing. Every call checks afresh, so one failed install never turns later tests into a
/// generic error.
#[track_caller]
pub fn install(tools: &[&str], packages: &[&str]) {
    if tools.iter().all(|t| on_path(t)) {
        return;
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if tools.iter().all(|t| on_path(t)) {
        return;
    }
    let apt = |args: &[&str]| -> Result<(), String> {
        let out = privileged("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=900", "-q", "-y"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(err.lines().last().unwrap_or("").to_string())
        }
    };
    let mut install_args = vec!["install", "--no-install-recommends"];
    install_args.extend_from_slice(packages);
    let result = apt(&install_args).or_else(|_| {
        apt(&["update"])?;
        apt(&install_args)
    });
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    assert!(
        missing.is_empty(),
        "{} missing and `apt-get install {}` did not provide it ({}): install it, or run the \
         tests as root or with password-less sudo",
        missing.join(", "),
        packages.join(" "),
        result.err().unwrap_or_else(|| "it succeeded".into())
    );
}
