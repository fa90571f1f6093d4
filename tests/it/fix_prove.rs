//! `layergate fix --prove` against the real engines the suite starts (tests/it/support):
//! dockerd through BuildKit (Debian's 20.10 CLI with DOCKER_BUILDKIT=1) and through the
//! legacy builder, podman, and buildah (daemonless, on its own storage in a temp dir). The base image is the real test images' busybox layer,
//! imported into each engine, so nothing needs the internet. The predicted saving must
//! be the measured one, the final filesystems equal, and no built image left behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::dockerd::Dockerd;
use crate::support::podman::Podman;
use crate::support::{bin, images, stderr};

/// The busybox base layer (L0 of every test image) as a gzip tarball.
fn base_layer(dir: &Path) -> PathBuf {
    let archive = images().join("cleanup-split.oci.tar");
    let mut files = std::collections::BTreeMap::new();
    let mut tar = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        files.insert(name, bytes);
    }
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap();
        files
            .iter()
            .find(|(k, _)| k.ends_with(&format!("blobs/sha256/{hex}")))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let index: Value = serde_json::from_slice(
        files
            .iter()
            .find(|(k, _)| k.ends_with("index.json"))
            .unwrap()
            .1,
    )
    .unwrap();
    let manifest: Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    let layer = blob(manifest["layers"][0]["digest"].as_str().unwrap());
    let path = dir.join("rootfs.tar.gz");
    std::fs::write(&path, layer).unwrap();
    path
}

/// A build context holding the test image's Dockerfile (and its 1 MiB payload).
fn context(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        images().join("dockerfiles").join(name).join("Dockerfile"),
        dir.path().join("Dockerfile"),
    )
    .unwrap();
    let payload: Vec<u8> = (0..1_048_576u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(dir.path().join("payload.bin"), payload).unwrap();
    dir
}

fn prove(env: &[(&str, String)], image: &str, ctx: &Path, engine: &str) -> Output {
    let mut cmd = bin();
    cmd.env_remove("DOCKER_HOST")
        .env_remove("CONTAINER_HOST")
        .env_remove("DOCKER_BUILDKIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.arg("fix")
        .arg(format!("oci-archive:{}", images().join(image).display()))
        .arg("--dockerfile")
        .arg(ctx.join("Dockerfile"))
        .args(["--prove", "--engine", engine, "--format", "json"])
        .output()
        .unwrap()
}

/// The files cleanup-split's steps fill from /dev/urandom that both builds keep.
const RANDOM: [&str; 2] = ["/usr/local/bin/tool", "/usr/local/lib/app/libdemo.so"];

fn proof(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["prove"].clone()
}

fn docker_env(d: &Dockerd) -> Vec<(&'static str, String)> {
    vec![
        ("DOCKER_HOST", d.host()),
        ("DOCKER_CONFIG", d.dir().join("cli").display().to_string()),
    ]
}

fn leftovers(listing: &Output) -> Vec<String> {
    String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| l.contains("layergate-prove"))
        .map(str::to_owned)
        .collect()
}

/// dockerd: BuildKit builds COPY --chmod and measures exactly the predicted bytes; the
/// legacy builder proves the cleanup move and refuses the --chmod rewrite in one line.
#[test]
fn prove_with_dockerd_buildkit_and_legacy() {
    let d = Dockerd::start();
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = base_layer(tmp.path());
    d.run(&[
        "import",
        &rootfs.display().to_string(),
        "localhost/busybox-base:latest",
    ]);
    let env = docker_env(&d);

    let ctx = context("cleanup-split");
    let p = proof(&prove(&env, "cleanup-split.oci.tar", ctx.path(), "docker"));
    assert_eq!(p["builder"], "docker (BuildKit)");
    assert_eq!(p["predicted_bytes"], 1_572_864);
    assert_eq!(p["measured_bytes"], 1_572_864);
    assert_eq!(p["equal"], true, "{p}");
    // Contents compared too: the steps writing /dev/urandom differ on every build, the
    // rest (busybox, the `yes` output) is byte for byte the same.
    assert_eq!(p["content_differences"], serde_json::json!(RANDOM), "{p}");
    assert_eq!(p["content_differing"], 2);
    assert_eq!(p["original_layers"], 4);
    assert_eq!(p["rewritten_layers"], 3);

    let ctx = context("chmod-split");
    let p = proof(&prove(&env, "chmod-split.oci.tar", ctx.path(), "docker"));
    assert_eq!(p["builder"], "docker (BuildKit)");
    assert_eq!(p["predicted_bytes"], 1_048_576);
    assert_eq!(p["measured_bytes"], 1_048_576);
    assert_eq!(p["equal"], true, "{p}");
    assert_eq!(p["content_differing"], 0, "{p}");

    let ctx = context("cleanup-split");
    let p = proof(&prove(
        &env,
        "cleanup-split.oci.tar",
        ctx.path(),
        "docker-legacy",
    ));
    assert_eq!(p["builder"], "docker (legacy builder)");
    assert_eq!(p["measured_bytes"], 1_572_864);
    assert_eq!(p["equal"], true, "{p}");

    let ctx = context("chmod-split");
    let out = prove(&env, "chmod-split.oci.tar", ctx.path(), "docker-legacy");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("legacy builder rejects it"), "{err}");

    assert_eq!(leftovers(&d.run(&["images"])), Vec::<String>::new());
}

/// podman: the same proof through `podman --remote` and the service's socket.
#[test]
fn prove_with_podman() {
    let p = Podman::start();
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = base_layer(tmp.path());
    p.run(&[
        "import",
        &rootfs.display().to_string(),
        "localhost/busybox-base:latest",
    ]);
    let env = vec![("CONTAINER_HOST", p.host())];
    let ctx = context("cleanup-split");
    let proof = proof(&prove(&env, "cleanup-split.oci.tar", ctx.path(), "podman"));
    assert_eq!(proof["builder"], "podman");
    assert_eq!(proof["predicted_bytes"], 1_572_864);
    assert_eq!(proof["measured_bytes"], 1_572_864);
    assert_eq!(proof["equal"], true, "{proof}");
    assert_eq!(leftovers(&p.run(&["images"])), Vec::<String>::new());
}

/// buildah: `buildah bud` on a private vfs storage (never the machine's), read back from
/// the OCI archive it pushes; the cleanup move and `COPY --chmod` proved exactly.
#[test]
fn prove_with_buildah() {
    let tmp = tempfile::tempdir().unwrap();
    let env = buildah_store(tmp.path());

    let ctx = context("cleanup-split");
    let p = proof(&prove(&env, "cleanup-split.oci.tar", ctx.path(), "buildah"));
    assert_eq!(p["builder"], "buildah");
    assert_eq!(p["predicted_bytes"], 1_572_864);
    assert_eq!(p["measured_bytes"], 1_572_864);
    assert_eq!(p["equal"], true, "{p}");
    assert_eq!(p["content_differences"], serde_json::json!(RANDOM), "{p}");
    assert_eq!(p["original_layers"], 4);
    assert_eq!(p["rewritten_layers"], 3);

    let ctx = context("chmod-split");
    let p = proof(&prove(&env, "chmod-split.oci.tar", ctx.path(), "buildah"));
    assert_eq!(p["predicted_bytes"], 1_048_576);
    assert_eq!(p["measured_bytes"], 1_048_576);
    assert_eq!(p["equal"], true, "{p}");
    assert_eq!(p["content_differing"], 0, "{p}");

    let images = std::process::Command::new("buildah")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["images", "-a"])
        .output()
        .unwrap();
    assert_eq!(images.status.code(), Some(0));
    assert_eq!(leftovers(&images), Vec::<String>::new());
}

/// A buildah of its own: vfs storage under `root` (never the machine's), chroot
/// isolation, the busybox base imported as `localhost/busybox-base:latest`. The
/// variables that select it, for buildah and for layergate.
fn buildah_store(root: &Path) -> Vec<(&'static str, String)> {
    let conf = root.join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\nrunroot = \"{}\"\ngraphroot = \"{}\"\n",
            root.join("run").display(),
            root.join("graph").display()
        ),
    )
    .unwrap();
    let env = vec![
        ("CONTAINERS_STORAGE_CONF", conf.display().to_string()),
        ("BUILDAH_ISOLATION", "chroot".to_string()),
    ];
    let rootfs = base_layer(root);
    let ctr = buildah(&env, &["from", "scratch"]);
    let ctr = ctr.trim();
    buildah(&env, &["add", ctr, &rootfs.display().to_string(), "/"]);
    buildah(
        &env,
        &["commit", "-q", ctr, "localhost/busybox-base:latest"],
    );
    buildah(&env, &["rm", ctr]);
    env
}

fn buildah(env: &[(&str, String)], args: &[&str]) -> String {
    let out = std::process::Command::new("buildah")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(args)
        .output()
        .expect("buildah (apt-get install buildah)");
    assert_eq!(
        out.status.code(),
        Some(0),
        "buildah {args:?}: {}",
        stderr(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Dockerfiles the fixtures never saw, with planted waste: a pip cache, a chown after
/// COPY, a late cleanup, a chmod in a later RUN (case 0); a 2 MiB rewrite that merging
/// saves (case 1); package lists left behind (case 2). Each is built with buildah, fixed
/// and proved: the rewrite builds, saves at least 90 % of the planted bytes (exactly the
/// predicted ones), and every file both images hold has the same bytes. A control with
/// nothing to fix comes back unchanged.
/// Builds the Dockerfile in `ctx` with buildah as `tag` and pushes it to `archive`
/// (an OCI archive), as a user's pipeline would hand the image to layergate.
fn build_to_archive(env: &[(&str, String)], ctx: &Path, tag: &str, archive: &Path) {
    let ctx = ctx.display().to_string();
    let bud = [
        "bud",
        "-q",
        "--layers",
        "--network",
        "host",
        "-t",
        tag,
        &ctx,
    ];
    buildah(env, &bud);
    let dest = format!("oci-archive:{}", archive.display());
    buildah(env, &["push", "-q", tag, &dest]);
}

#[test]
fn prove_planted_waste_with_buildah() {
    let tmp = tempfile::tempdir().unwrap();
    let env = buildah_store(tmp.path());
    let cases: [(&str, u64); 3] = [
        (
            "FROM localhost/busybox-base:latest\n\
             # a pip cache left behind\n\
             RUN mkdir -p /root/.cache/pip/http /app \\\n \
             && head -c 1048576 /dev/urandom > /root/.cache/pip/http/blob \\\n \
             && echo hi > /app/x\n\
             COPY payload.bin /opt/p.bin\n\
             RUN chown 1000:1000 /opt/p.bin\n\
             RUN mkdir -p /tmp/build && head -c 524288 /dev/urandom > /tmp/build/obj.o\n\
             RUN rm -rf /tmp/build && echo done > /app/done\n\
             RUN head -c 300000 /dev/zero > /app/big.txt\n\
             RUN chmod 600 /app/big.txt\n",
            1_048_576 + 1_048_576 + 524_288 + 300_000,
        ),
        (
            "FROM localhost/busybox-base:latest\n\
             WORKDIR /srv\n\
             RUN mkdir -p /srv/data \\\n    && head -c 2097152 /dev/zero > /srv/data/a.bin\n\
             # regenerate the data\n\
             RUN head -c 2097152 /dev/zero | tr '\\0' 'a' > /srv/data/a.bin && echo v2 > /srv/VERSION\n\
             RUN echo ok > /srv/ok\n",
            2_097_152,
        ),
        (
            "FROM localhost/busybox-base:latest\n\
             RUN mkdir -p /var/lib/apt/lists && head -c 300000 /dev/zero > /var/lib/apt/lists/main_Packages && echo installed > /pkg\n\
             RUN echo ok > /ok\n",
            300_000,
        ),
    ];
    for (i, (text, planted)) in cases.iter().enumerate() {
        let ctx = context("cleanup-split");
        std::fs::write(ctx.path().join("Dockerfile"), text).unwrap();
        let tag = format!("localhost/planted-{i}:latest");
        let archive = tmp.path().join(format!("planted-{i}.tar"));
        build_to_archive(&env, ctx.path(), &tag, &archive);
        let p = proof(&prove(
            &env,
            archive.to_str().unwrap(),
            ctx.path(),
            "buildah",
        ));
        let measured = p["measured_bytes"].as_u64().unwrap();
        assert!(measured * 10 >= planted * 9, "case {i}: {p}");
        assert_eq!(p["measured_bytes"], p["predicted_bytes"], "case {i}: {p}");
        assert_eq!(p["equal"], true, "case {i}: {p}");
        assert_eq!(p["content_differing"], 0, "case {i}: {p}");
        buildah(&env, &["rmi", &tag]);
    }

    let ctx = context("cleanup-split");
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM localhost/busybox-base:latest\nCOPY payload.bin /opt/p.bin\nRUN echo hi > /hi\n",
    )
    .unwrap();
    let archive = tmp.path().join("control.tar");
    build_to_archive(&env, ctx.path(), "localhost/control:latest", &archive);
    let out = bin()
        .arg("fix")
        .arg(&archive)
        .arg("--dockerfile")
        .arg(ctx.path().join("Dockerfile"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
