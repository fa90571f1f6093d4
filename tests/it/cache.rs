//! The layer analysis cache end to end: a warm run gives the same figures without
//! reading the cached blobs, `diff` uses it for both sides, a registry pulls only
//! the blobs it does not hold, and no broken cache directory (read-only, full,
//! a file in its place, garbage or future entries) ever changes a figure: the run
//! goes on without it and says so once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use layergate_testkit::{oci_archive, Compression, Entry, Image, ImageBuilder, Layer};
use serde_json::Value;

use crate::support::{bin, stderr};

/// BASE: two layers; HEAD: BASE plus one more.
fn images(dir: &Path) -> (String, String, Image, Image) {
    // Enough distinct files that an entry is a few KiB.
    let mut files = vec![
        Entry::dir("etc"),
        Entry::file("etc/os-release", "ID=test\n"),
        Entry::file("usr/lib/libc.so", vec![7u8; 300_000]),
    ];
    files.extend((0..200).map(|i| Entry::file(format!("usr/share/doc/{i}"), format!("doc {i}"))));
    let l0 = Layer::build(&files, Compression::Gzip).unwrap();
    let l1 = Layer::build(
        &[
            Entry::file("app/app.bin", vec![1u8; 100_000]),
            Entry::file("usr/lib/libc.so", vec![8u8; 1000]),
        ],
        Compression::Zstd,
    )
    .unwrap();
    let l2 = Layer::build(
        &[Entry::file("app/new.txt", "new in the pull request\n")],
        Compression::Gzip,
    )
    .unwrap();
    let base = ImageBuilder::new("app:main")
        .layer(l0.clone(), "ADD rootfs /")
        .layer(l1.clone(), "COPY app /app")
        .build()
        .unwrap();
    let head = ImageBuilder::new("app:pr")
        .layer(l0, "ADD rootfs /")
        .layer(l1, "COPY app /app")
        .layer(l2, "COPY new.txt /app/")
        .build()
        .unwrap();
    let write = |name: &str, image: &Image| {
        let path = dir.join(name);
        oci_archive(image, std::fs::File::create(&path).unwrap()).unwrap();
        format!("oci-archive:{}", path.display())
    };
    (
        write("base.tar", &base),
        write("head.tar", &head),
        base,
        head,
    )
}

/// The binary with the cache in `cache` (and no cache settings from outside).
fn cached(cache: &Path) -> crate::support::Layergate {
    let mut cmd = bin();
    cmd.env_remove("LAYERGATE_NO_CACHE")
        .env("LAYERGATE_CACHE_DIR", cache);
    cmd
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn analyze(cache: &Path, image: &str) -> Output {
    cached(cache)
        .args(["analyze", image, "--format", "json", "--progress"])
        .output()
        .unwrap()
}

fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.contains("warning"))
        .map(str::to_string)
        .collect()
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let dir = cache.join(format!("v{}/sha256", layergate::CACHE_FORMAT));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'));
    v.sort();
    v
}

#[test]
fn warm_run_gives_the_same_figures_without_reading_the_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, _, image, _) = images(tmp.path());
    let cache = tmp.path().join("cache");
    let cold = analyze(&cache, &base);
    assert!(warnings(&cold).is_empty(), "{}", stderr(&cold));
    assert_eq!(
        stderr(&cold).matches("read").count(),
        2,
        "{}",
        stderr(&cold)
    );
    assert_eq!(entries(&cache).len(), 2);
    let warm = analyze(&cache, &base);
    assert_eq!(json(&warm), json(&cold));
    assert_eq!(
        stderr(&warm).matches("from cache, not read").count(),
        2,
        "{}",
        stderr(&warm)
    );
    // Entries are named by the stored blob's digest.
    let names: Vec<String> = entries(&cache)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for l in &image.layers {
        assert!(
            names.contains(&l.info.digest.hex().to_string()),
            "{names:?}"
        );
    }
    // --no-cache reads everything again.
    let off = cached(&cache)
        .args([
            "analyze",
            &base,
            "--format",
            "json",
            "--progress",
            "--no-cache",
        ])
        .output()
        .unwrap();
    assert_eq!(json(&off), json(&cold));
    assert!(!stderr(&off).contains("from cache"));
}

#[test]
fn diff_reads_only_the_layer_the_cache_lacks() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head, _, _) = images(tmp.path());
    let cache = tmp.path().join("cache");
    let nocache = bin()
        .args(["diff", &base, &head, "--format", "json"])
        .output()
        .unwrap();
    analyze(&cache, &base);
    let out = cached(&cache)
        .args(["diff", &base, &head, "--format", "json", "--progress"])
        .output()
        .unwrap();
    assert_eq!(json(&out), json(&nocache));
    let err = stderr(&out);
    assert_eq!(err.matches("from cache, not read").count(), 2, "{err}");
    assert_eq!(err.matches("B read").count(), 1, "{err}");
}

/// A tmpfs mounted for one test (as root, or through password-less sudo), owned by the
/// test's user, and unmounted even when the test fails.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, opts: &str) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let (uid, gid) = crate::support::sys::ids();
        crate::support::sys::privileged_ok(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("{opts},uid={uid},gid={gid}"),
                "tmpfs",
                &at.display().to_string(),
            ],
        );
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = crate::support::sys::privileged("umount")
            .arg(&self.0)
            .status();
    }
}

/// Runs analyze and diff with `cache` and checks the figures equal those of a
/// run without a cache, with exactly one cache warning per run.
fn figures_unchanged_and_one_warning(cache: &Path, wrap: Option<&str>, expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head, _, _) = images(tmp.path());
    let plain = bin()
        .args(["diff", &base, &head, "--format", "json"])
        .output()
        .unwrap();
    let out = match wrap {
        // A shell that limits the size of files it may write (ulimit -f), with
        // SIGXFSZ ignored so a write past it fails with EFBIG, as on a full disk.
        Some(limit) => {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "trap '' XFSZ; ulimit -f {limit}; exec \"$0\" \"$@\""
                ))
                .arg(env!("CARGO_BIN_EXE_layergate"))
                .args(["diff", &base, &head, "--format", "json"])
                .env("LAYERGATE_CACHE_DIR", cache)
                .env_remove("LAYERGATE_NO_CACHE")
                .output()
                .unwrap();
            crate::support::run::assert_clean_exit(&out);
            out
        }
        None => cached(cache)
            .args(["diff", &base, &head, "--format", "json"])
            .output()
            .unwrap(),
    };
    assert_eq!(json(&out), json(&plain));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{}", stderr(&out));
    assert!(w[0].contains(expect), "{}", w[0]);
}

#[test]
fn a_file_where_the_cache_directory_should_be() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    std::fs::write(&cache, "not a directory").unwrap();
    figures_unchanged_and_one_warning(&cache, None, "continuing without it");
}

#[test]
fn a_read_only_cache_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // root writes through permission bits: a read-only mount stops everyone.
    let _mount = Mount::tmpfs(&cache, "ro,size=1m");
    figures_unchanged_and_one_warning(&cache, None, "continuing without it");
}

#[test]
fn a_full_cache_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // Writes past 1 KiB fail as on a full disk; entries here are larger.
    figures_unchanged_and_one_warning(&cache, Some("1"), "continuing without it");
    // And a real full filesystem: a tmpfs of one page, already used up.
    let full = tmp.path().join("full");
    let _mount = Mount::tmpfs(&full, "size=4k");
    std::fs::write(full.join("filler"), vec![0u8; 4096]).unwrap();
    figures_unchanged_and_one_warning(&full, None, "continuing without it");
}

#[test]
fn a_cache_on_another_filesystem_works() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, _, _, _) = images(tmp.path());
    let cache = tmp.path().join("other");
    let _mount = Mount::tmpfs(&cache, "size=16m");
    let cold = analyze(&cache, &base);
    let warm = analyze(&cache, &base);
    assert_eq!(json(&warm), json(&cold));
    assert!(stderr(&warm).contains("from cache"));
    assert!(warnings(&warm).is_empty());
}

#[test]
fn garbage_truncated_and_future_entries_are_ignored_and_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, _, _, _) = images(tmp.path());
    let cache = tmp.path().join("cache");
    let cold = json(&analyze(&cache, &base));
    let [a, b] = &entries(&cache)[..] else {
        panic!("two entries")
    };
    let good_a = std::fs::read(a).unwrap();
    let good_b = std::fs::read(b).unwrap();
    type Damage = fn(&[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 4] = [
        ("random bytes", |g| {
            (0..g.len()).map(|i| (i * 7919 % 251) as u8).collect()
        }),
        ("truncated", |g| g[..g.len() / 2].to_vec()),
        ("flipped bit", |g| {
            let mut v = g.to_vec();
            let n = v.len() - 3;
            v[n] ^= 0x10;
            v
        }),
        ("future format", |g| {
            let mut v = g.to_vec();
            v[8] = 0xff;
            v
        }),
    ];
    for (what, damage) in damages {
        std::fs::write(a, damage(&good_a)).unwrap();
        std::fs::write(b, damage(&good_b)).unwrap();
        let out = analyze(&cache, &base);
        assert_eq!(json(&out), cold, "{what}");
        let w = warnings(&out);
        assert_eq!(w.len(), 1, "{what}: {}", stderr(&out));
        assert!(w[0].contains("ignored entry"), "{what}: {}", w[0]);
        // Rewritten: the next run is clean and reads nothing.
        let again = analyze(&cache, &base);
        assert!(warnings(&again).is_empty(), "{what}: {}", stderr(&again));
        assert_eq!(stderr(&again).matches("from cache").count(), 2, "{what}");
    }
}

#[test]
fn the_size_bound_evicts_old_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, _, _, _) = images(tmp.path());
    let cache = tmp.path().join("cache");
    let out = cached(&cache)
        .args(["analyze", &base, "--format", "json", "--cache-max", "1B"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(entries(&cache).is_empty(), "{:?}", entries(&cache));
    let bad = cached(&cache)
        .args(["analyze", &base, "--cache-max", "lots"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// With a warm cache, `diff docker://…:main docker://…:pr` pulls only the blob of
/// the layer the pull request added: the registry's access log says so.
/// Manifests and configs are still fetched (and verified) every time.
#[test]
fn registry_diff_with_a_warm_cache_pulls_only_the_new_layer() {
    let reg = crate::support::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (base, head, base_img, head_img) = images(tmp.path());
    for (archive, tag) in [(&base, "main"), (&head, "pr")] {
        let dest = format!("docker://{}/app:{tag}", reg.host());
        let out = reg
            .skopeo()
            .args(["copy", "-q", "--dest-tls-verify=false", archive, &dest])
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo copy: {}", stderr(&out));
    }
    let (base_ref, head_ref) = (
        format!("docker://{}/app:main", reg.host()),
        format!("docker://{}/app:pr", reg.host()),
    );
    let cache = tmp.path().join("cache");
    let home = reg.clean_home();
    let run = |args: &[&str]| {
        let mut cmd = crate::support::registry::isolated(&home);
        cmd.env_remove("LAYERGATE_NO_CACHE")
            .env("LAYERGATE_CACHE_DIR", &cache)
            .args(args);
        json(&cmd.output().unwrap())
    };
    let layer_gets = |reg: &crate::support::registry::Registry| -> Vec<String> {
        let layers: Vec<String> = head_img
            .layers
            .iter()
            .map(|l| l.info.digest.to_string())
            .collect();
        let mut gets = reg.blob_gets();
        gets.retain(|d| layers.contains(d));
        gets
    };
    // The base branch's run fills the cache (every base layer pulled once).
    run(&["analyze", &base_ref, "--format", "json"]);
    assert_eq!(layer_gets(&reg).len(), base_img.layers.len());
    let before = reg.blob_gets().len();
    let warm = run(&["diff", &base_ref, &head_ref, "--format", "json"]);
    let new_layer = head_img.layers[2].info.digest.to_string();
    let gets = reg.blob_gets()[before..].to_vec();
    let layers_now: Vec<&String> = gets
        .iter()
        .filter(|d| {
            head_img
                .layers
                .iter()
                .any(|l| &l.info.digest.to_string() == *d)
        })
        .collect();
    assert_eq!(layers_now, [&new_layer], "blob GETs of this run: {gets:?}");
    // Both configs were fetched again and verified.
    assert_eq!(gets.len(), 3, "two configs and one layer: {gets:?}");
    // The same comparison as without any cache.
    let mut cold = crate::support::registry::isolated(&home);
    cold.args(["diff", &base_ref, &head_ref, "--format", "json"]);
    assert_eq!(json(&cold.output().unwrap()), warm);
}

/// Pull cost: what a client holding BASE downloads to get HEAD (the one new
/// layer's compressed bytes), in the JSON, the text and the comment; a policy
/// limits it with `growth.pull`.
#[test]
fn pull_cost_is_the_new_layers_compressed_bytes_and_a_policy_limits_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, head, _, head_img) = images(tmp.path());
    let new = head_img.layers[2].info.size;
    let out = bin()
        .args(["diff", &base, &head, "--format", "json"])
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["comparison"]["layers"]["pull_bytes"], new, "{v:#}");
    assert_eq!(v["comparison"]["layers"]["pull_layers"], 1);
    let shown = format!("pull cost {} (1 layer)", layergate::human_bytes(new));
    for format in ["text", "markdown"] {
        let out = bin()
            .args(["diff", &base, &head, "--format", format])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&shown),
            "{format}"
        );
    }
    let policy = tmp.path().join("p.yml");
    for (rule, code) in [
        ("growth:\n  pull: 10B\n", Some(1)),
        ("growth:\n  pull: {max: 1MB}\n", Some(0)),
    ] {
        std::fs::write(&policy, rule).unwrap();
        let out = bin()
            .args(["diff", &base, &head, "--policy"])
            .arg(&policy)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), code, "{rule}: {}", stderr(&out));
        if code == Some(1) {
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("pull cost is"),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}
