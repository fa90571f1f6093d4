//! `docker://` references against a real registry (Debian's docker-registry on
//! 127.0.0.1, see `registry_server`): figures equal the archive's, indexes resolve per
//! platform, basic auth takes credentials from every documented place, shared layers
//! are pulled once per run, and `--manifest-only` pulls no layer at all.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::registry::{isolated, Registry, PASSWORD, USER};
use crate::support::{analyze_json, image, stderr};

/// The report minus what legitimately names the source.
fn figures(mut report: Value) -> Value {
    let img = report["image"].as_object_mut().unwrap();
    for k in ["reference", "format", "name", "manifest_digest"] {
        img.remove(k);
    }
    report
}

fn run_json(cmd: &mut crate::support::Layergate) -> Value {
    serde_json::from_slice(&cmd.code(0).stdout).unwrap()
}

/// The invariant of the whole tool: where an image comes from never changes its figures.
#[test]
fn registry_image_reports_exactly_what_the_archive_does() {
    let reg = Registry::start();
    reg.push("app-pr.oci.tar", "app-pr", false);
    let from_registry = analyze_json(&reg.reference("app-pr"));
    let from_archive = analyze_json(&format!("oci-archive:{}", image("app-pr.oci.tar")));
    assert_eq!(from_registry["image"]["format"], "registry");
    assert_eq!(
        from_registry["image"]["name"],
        format!("{}/app-pr:latest", reg.host())
    );
    // skopeo keeps the manifest bytes, so even the manifest digest survives the push.
    assert_eq!(
        from_registry["image"]["manifest_digest"],
        from_archive["image"]["manifest_digest"]
    );
    assert_eq!(from_registry["totals"]["live_bytes"], 3_551_206);
    // Pinned by digest, the same image again.
    let digest = from_registry["image"]["manifest_digest"].as_str().unwrap();
    let pinned = analyze_json(&format!("docker://{}/app-pr@{digest}", reg.host()));
    assert_eq!(pinned["image"]["manifest_digest"], digest);
    assert_eq!(figures(pinned), figures(from_archive.clone()));
    assert_eq!(figures(from_registry), figures(from_archive));
}

/// A multi-arch tag must give the image of the platform asked for, and a platform
/// that is not there must say which ones are.
#[test]
fn multiarch_index_resolves_each_platform_and_lists_them_when_none_matches() {
    let reg = Registry::start();
    reg.push("multiarch.oci.tar", "multiarch", true);
    let archive = format!("oci-archive:{}", image("multiarch.oci.tar"));
    for platform in ["linux/amd64", "linux/arm64"] {
        let got = run_json(crate::support::bin().args([
            "analyze",
            &reg.reference("multiarch"),
            "--platform",
            platform,
            "--format",
            "json",
        ]));
        let want = run_json(crate::support::bin().args([
            "analyze",
            &archive,
            "--platform",
            platform,
            "--format",
            "json",
        ]));
        assert_eq!(
            got["image"]["architecture"],
            platform.rsplit('/').next().unwrap()
        );
        assert_eq!(
            got["image"]["config_digest"],
            want["image"]["config_digest"]
        );
        assert_eq!(figures(got), figures(want), "{platform}");
    }
    let out = crate::support::run(&[
        "analyze",
        &reg.reference("multiarch"),
        "--platform",
        "linux/s390x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no image for platform linux/s390x; present: linux/amd64, linux/arm64"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// `diff --platform all` and `platforms` list a registry tag's platforms from its
/// index, and each platform pulled is paired with the archive's same platform and
/// measures exactly what it does.
#[test]
fn every_platform_of_a_registry_index_is_listed_paired_and_equal() {
    let reg = Registry::start();
    reg.push("multiarch.oci.tar", "multiarch", true);
    let archive = format!("oci-archive:{}", image("multiarch.oci.tar"));
    let j = run_json(crate::support::bin().args([
        "diff",
        &archive,
        &reg.reference("multiarch"),
        "--platform",
        "all",
        "--policy",
        "none",
        "--format",
        "json",
        "--comment",
        "none",
    ]));
    let names: Vec<&str> = j["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);
    for p in j["platforms"].as_array().unwrap() {
        let totals = &p["comparison"]["totals"];
        assert_eq!(totals["compressed"]["delta"], 0, "{p}");
        assert_eq!(totals["uncompressed"]["delta"], 0, "{p}");
        assert_eq!(totals["uncompressed"]["after"], 131_072, "{p}");
    }
    assert_eq!(j["only_base"], serde_json::json!([]));
    assert_eq!(j["only_head"], serde_json::json!([]));
    let p = run_json(crate::support::bin().args([
        "platforms",
        &reg.reference("multiarch"),
        "--format",
        "json",
        "--comment",
        "none",
    ]));
    let names: Vec<&str> = p["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Private registries are the common case in CI: every documented way of passing
/// credentials must work, and a refusal must say how to pass them.
#[test]
fn basic_auth_takes_credentials_from_flag_env_docker_and_podman_configs() {
    let reg = Registry::start_with_auth();
    reg.push("app-base.oci.tar", "app-base", false);
    let home = reg.clean_home();
    let r = reg.reference("app-base");
    let good = format!("{USER}:{PASSWORD}");
    let live = |v: Value| v["totals"]["live_bytes"].as_u64().unwrap();

    let flag =
        run_json(isolated(&home).args(["analyze", &r, "--format", "json", "--creds", &good]));
    assert_eq!(live(flag), 2_506_726);

    let env = run_json(
        isolated(&home)
            .args(["analyze", &r, "--format", "json"])
            .env("LAYERGATE_REGISTRY_USER", USER)
            .env("LAYERGATE_REGISTRY_PASSWORD", PASSWORD),
    );
    assert_eq!(live(env), 2_506_726);

    let auths = format!(
        r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
        reg.host(),
        base64(good.as_bytes())
    );
    let docker_home = home.join("docker-home");
    std::fs::create_dir_all(docker_home.join(".docker")).unwrap();
    std::fs::write(docker_home.join(".docker/config.json"), &auths).unwrap();
    let docker = run_json(isolated(&docker_home).args(["analyze", &r, "--format", "json"]));
    assert_eq!(live(docker), 2_506_726);

    let podman_file = home.join("podman-auth.json");
    std::fs::write(&podman_file, &auths).unwrap();
    let podman = run_json(
        isolated(&home)
            .args(["analyze", &r, "--format", "json"])
            .env("REGISTRY_AUTH_FILE", &podman_file),
    );
    assert_eq!(live(podman), 2_506_726);

    for args in [
        vec!["analyze", &r, "--creds", "ci-bot:wrong"],
        vec!["analyze", &r],
    ] {
        let out = isolated(&home).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}/app-base: manifest latest: HTTP 401: authentication required — pass --creds USER:PASS", reg.host())),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

/// base and head share their lower layers: a run must pull each shared blob once,
/// or comparing against a registry base doubles the traffic for nothing.
#[test]
fn shared_layers_are_pulled_once_when_images_are_analysed_together() {
    let reg = Registry::start();
    reg.push("app-base.oci.tar", "app-base", false);
    reg.push("app-pr.oci.tar", "app-pr", false);
    let base = reg.reference("app-base");
    let pr = reg.reference("app-pr");
    let opts = layergate::OpenOptions::default();
    let reports =
        layergate::load_reports(&[base.as_str(), pr.as_str()], &opts, &Default::default()).unwrap();
    assert_eq!(reports[0].totals.uncompressed_bytes, Some(2_506_726));
    assert_eq!(reports[1].totals.uncompressed_bytes, Some(3_878_886));

    let layer_digests: Vec<String> = reports
        .iter()
        .flat_map(|r| r.layers.iter().map(|l| l.digest.to_string()))
        .collect();
    let shared: Vec<String> = reports[0]
        .layers
        .iter()
        .map(|l| l.digest.to_string())
        .collect();
    assert_eq!(
        shared[..],
        layer_digests[3..6],
        "app-pr starts with app-base's layers"
    );

    let mut gets: BTreeMap<String, usize> = BTreeMap::new();
    for d in reg.blob_gets() {
        *gets.entry(d).or_default() += 1;
    }
    for d in &layer_digests {
        assert_eq!(
            gets.get(d),
            Some(&1),
            "layer {d} pulled {:?} times",
            gets.get(d)
        );
    }
    let layer_gets: usize = layer_digests
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .iter()
        .map(|d| gets[*d])
        .sum();
    assert_eq!(layer_gets, 6, "3 shared + 3 of app-pr's own");
}

/// The fast path: sizes and layer identity come from manifests and configs, so a
/// size-only check costs a few KiB instead of the whole image.
#[test]
fn manifest_only_reads_sizes_from_manifests_and_pulls_no_layer() {
    let reg = Registry::start();
    reg.push("app-pr.oci.tar", "app-pr", false);
    let r = reg.reference("app-pr");
    let partial = run_json(crate::support::bin().args([
        "analyze",
        &r,
        "--manifest-only",
        "--format",
        "json",
    ]));
    assert!(
        reg.blob_gets().len() == 1,
        "only the config: {:?}",
        reg.blob_gets()
    );
    assert_eq!(partial["image"]["partial"], true);
    assert_eq!(partial["image"]["config_digest"], reg.blob_gets()[0]);
    assert!(
        partial["totals"]["uncompressed_bytes"].is_null(),
        "not measured"
    );

    let full = analyze_json(&format!("oci-archive:{}", image("app-pr.oci.tar")));
    assert!(full["image"].get("partial").is_none());
    assert_eq!(
        partial["totals"]["compressed_bytes"],
        full["totals"]["compressed_bytes"]
    );
    let ids = |v: &Value| -> Vec<(Value, Value, Value)> {
        v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["digest"].clone(),
                    l["diff_id"].clone(),
                    l["compressed_bytes"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(ids(&partial), ids(&full));

    let text = crate::support::run(&["analyze", &r, "--manifest-only"]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("Partial report (--manifest-only): no layer was pulled"));
}
