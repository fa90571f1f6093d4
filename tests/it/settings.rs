//! Numbers from the environment: a value that is not a usable number is one clear
//! line and exit 2, before anything is fetched; never a panic
//! (`Duration::from_secs_f64(1e20)` used to panic) and never a silent default.

use crate::support::{bin, stderr};

/// Runs the binary with `vars` set, asserting a clean refusal whose one line is `want`.
#[track_caller]
fn refused(vars: &[(&str, &str)], args: &[&str], want: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .envs(vars.iter().copied())
        .args(args)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err, format!("{want}\n"));
}

/// `LAYERGATE_REGISTRY_TIMEOUT` must be seconds between 1 ms and an hour.
#[test]
fn registry_timeout_out_of_range_is_refused() {
    for bad in ["1e20", "inf", "NaN", "-5", "0", "ten", "3601"] {
        refused(
            &[("LAYERGATE_REGISTRY_TIMEOUT", bad)],
            &["analyze", "docker://127.0.0.1:9/none/such:tag"],
            &format!("layergate: LAYERGATE_REGISTRY_TIMEOUT: bad value `{bad}`: expected a number of seconds from 0.001 to 3600"),
        );
    }
}
