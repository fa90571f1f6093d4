//! Documents and indexes: index.json, nested indexes, manifests, configs and the
//! docker-save `manifest.json`. Broken, absurd or hostile documents are refused
//! before any layer is read, naming the document.

use super::*;

fn one_layer() -> Blob {
    let mut t = Tar::new();
    t.file("hello", b"world");
    layer(&t.end(), Comp::Gzip)
}

/// Wraps the manifest `files` index.json names in `n` nested indexes.
fn nest_indexes(files: &mut Files, n: usize) {
    let index: Value = serde_json::from_slice(&files[1].1).unwrap();
    let mut desc = index["manifests"][0].clone();
    for _ in 0..n {
        let nested = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": desc["mediaType"], "digest": desc["digest"], "size": desc["size"],
                           "platform": {"os": "linux", "architecture": "amd64"}}],
        });
        let bytes = serde_json::to_vec(&nested).unwrap();
        desc = json!({"mediaType": "application/vnd.oci.image.index.v1+json",
                      "digest": sha256(&bytes), "size": bytes.len()});
        files.push((blob_path(&sha256(&bytes)), bytes));
    }
    let top = json!({"schemaVersion": 2, "manifests": [desc]});
    set(files, "index.json", serde_json::to_vec(&top).unwrap());
}

fn run_layout(files: &Files) -> (Run, PathBuf, tempfile::TempDir) {
    let dir = scratch();
    let root = write_layout(dir.path(), "layout", files);
    let run = analyze(&format!("oci:{}", root.display()));
    (run, root, dir)
}

/// One nested index (as BuildKit writes) is followed to the image.
#[test]
fn nested_index_is_followed() {
    let mut files = oci(&[one_layer()]);
    nest_indexes(&mut files, 2);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_eq!(totals(&run.json()), (5, 5, 0, 1));
}

/// Indexes nested absurdly deep are refused (a chain of digests cannot loop, so
/// depth is what bounds the walk).
#[test]
fn indexes_nested_too_deep_are_refused() {
    let mut files = oci(&[one_layer()]);
    nest_indexes(&mut files, 12);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &["index sha256:", "nest too deep"]);
}

/// A nested index naming a manifest the archive does not hold.
#[test]
fn index_pointing_at_missing_manifest_is_refused() {
    let mut files = oci(&[one_layer()]);
    let manifest = files[2].0.clone();
    nest_indexes(&mut files, 1);
    remove(&mut files, &manifest);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "manifest blob",
            hex_of(&manifest.replace("blobs/sha256/", "")),
            "not found",
        ],
    );
}

/// JSON nested 100,000 deep would overflow serde's stack; it is refused first.
#[test]
fn absurdly_deep_json_is_refused() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let files = oci_with(&[one_layer()], |config, _| {
        config["history"] = json!([{"comment": "x"}])
    });
    let mut files = files;
    set(&mut files, "index.json", deep.into_bytes());
    let (run, path, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&path, "index.json", "nested deeper than 64"]);
}

/// A config over the 16 MiB document limit is refused before it is parsed.
#[test]
fn absurdly_large_config_is_refused() {
    let files = oci_with(&[one_layer()], |config, _| {
        config["padding"] = json!("x".repeat(17 * 1024 * 1024));
    });
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &["larger than the 16777216-byte limit", "blobs/sha256/"],
    );
    assert_rss_below(&run, 200);
}

/// index.json that is not JSON names index.json.
#[test]
fn index_not_json_is_refused() {
    let mut files = oci(&[one_layer()]);
    set(&mut files, "index.json", b"<html>404</html>".to_vec());
    let (run, path, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&path, "index.json", "invalid JSON"]);
}

/// A manifest blob that is not JSON (its digest is right: only the content is wrong).
#[test]
fn manifest_not_json_is_refused() {
    let mut files = oci(&[one_layer()]);
    let garbage = b"\x00\x01 not json".to_vec();
    let digest = sha256(&garbage);
    files[2] = (blob_path(&digest), garbage.clone());
    let index = json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": garbage.len()}]});
    set(
        &mut files,
        "index.json",
        serde_json::to_vec(&index).unwrap(),
    );
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&format!("manifest {digest}"), "invalid JSON"]);
}

/// A config that is not JSON, in a docker-save archive.
#[test]
fn config_not_json_is_refused() {
    let mut t = Tar::new();
    t.file("a", b"a");
    let mut files = docker_save(&[t.end()]);
    let config = files[1].0.clone();
    let text = b"not: json".to_vec();
    let name = format!("{}.json", hex_of(&sha256(&text)));
    files[1] = (name.clone(), text);
    let manifest = String::from_utf8(files[0].1.clone())
        .unwrap()
        .replace(&config, &name);
    set(&mut files, "manifest.json", manifest.into_bytes());
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&format!("config {name}"), "invalid JSON"]);
}

/// A manifest listing two layers for a config with one diffID (OCI).
#[test]
fn oci_layer_count_disagreement_is_refused() {
    let a = one_layer();
    let files = oci_with(&[a.clone(), a], |config, _| {
        config["rootfs"]["diff_ids"].as_array_mut().unwrap().pop();
    });
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "manifest sha256:",
            "lists 2 layers but the config has 1 diffIDs",
        ],
    );
}

/// A docker-save manifest.json listing more layers than the config has diffIDs.
#[test]
fn docker_save_layer_count_disagreement_is_refused() {
    let mut t = Tar::new();
    t.file("a", b"a");
    let tar = t.end();
    let mut files = docker_save(&[tar.clone()]);
    let m = String::from_utf8(files[0].1.clone()).unwrap().replace(
        r#""Layers":["l0/layer.tar"]"#,
        r#""Layers":["l0/layer.tar","l0/layer.tar"]"#,
    );
    set(&mut files, "manifest.json", m.into_bytes());
    let (run, path, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            &path,
            "manifest.json",
            "lists 2 layers but the config has 1 diffIDs",
        ],
    );
}

/// `../` in a legacy manifest.json path is refused naming the path; nothing
/// outside the archive is ever read.
#[test]
fn docker_save_path_climbing_out_is_refused() {
    let mut t = Tar::new();
    t.file("a", b"a");
    let mut files = docker_save(&[t.end()]);
    let m = String::from_utf8(files[0].1.clone())
        .unwrap()
        .replace("l0/layer.tar", "../../etc/passwd");
    set(&mut files, "manifest.json", m.into_bytes());
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "manifest.json",
            "\"../../etc/passwd\"",
            "outside the archive",
        ],
    );
}

/// An absolute config path in manifest.json is refused the same way.
#[test]
fn docker_save_absolute_path_is_refused() {
    let mut t = Tar::new();
    t.file("a", b"a");
    let mut files = docker_save(&[t.end()]);
    let config = files[1].0.clone();
    let m = String::from_utf8(files[0].1.clone())
        .unwrap()
        .replace(&config, "/etc/hostname");
    set(&mut files, "manifest.json", m.into_bytes());
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &["\"/etc/hostname\"", "outside the archive"]);
}

/// A layout whose layer blob is a symlink to itself: an error naming it, no hang.
#[test]
fn layout_blob_symlink_loop_is_refused() {
    let b = one_layer();
    let mut files = oci(&[b.clone()]);
    remove(&mut files, &blob_path(&b.digest()));
    let dir = scratch();
    let root = write_layout(dir.path(), "layout", &files);
    let blob = root.join(blob_path(&b.digest()));
    std::os::unix::fs::symlink(&blob, &blob).unwrap();
    let run = analyze(&format!("oci:{}", root.display()));
    assert_refused(&run, &[&b.digest(), "not found"]);
}

/// A layout whose `blobs/sha256` directory loops back on itself.
#[test]
fn layout_directory_symlink_loop_is_refused() {
    let b = one_layer();
    let files: Files = oci(&[b])
        .into_iter()
        .filter(|(n, _)| !n.starts_with("blobs/"))
        .collect();
    let dir = scratch();
    let root = write_layout(dir.path(), "layout", &files);
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    std::os::unix::fs::symlink("sha256", root.join("blobs/sha256")).unwrap();
    let run = analyze(&format!("oci:{}", root.display()));
    assert_refused(&run, &["manifest blob", "not found"]);
}

/// A layout index.json listing no image.
#[test]
fn index_listing_no_image_is_refused() {
    let mut files = oci(&[one_layer()]);
    set(
        &mut files,
        "index.json",
        br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
    );
    let (run, root, _d) = run_layout(&files);
    assert_refused(
        &run,
        &[&root.display().to_string(), "index.json lists no image"],
    );
}

/// A docker-save manifest.json that is an empty list.
#[test]
fn docker_save_listing_no_image_is_refused() {
    let mut t = Tar::new();
    t.file("a", b"a");
    let mut files = docker_save(&[t.end()]);
    set(&mut files, "manifest.json", b"[]".to_vec());
    let (run, path, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&path, "manifest.json lists no image"]);
}

/// An image with no layers at all is valid: every figure is zero.
#[test]
fn zero_layer_image_reads_as_empty() {
    let (run, _, _d) = analyze_oci_archive(&oci(&[]));
    let report = run.json();
    assert_eq!(totals(&report), (0, 0, 0, 0));
    assert_eq!(report["layers"].as_array().unwrap().len(), 0);
    assert_eq!(report["totals"]["efficiency"], 1.0);
}

/// More layers than the documented limit (4096) are refused before any is read.
#[test]
fn more_layers_than_the_limit_are_refused() {
    let b = one_layer();
    let many = vec![b; 4097];
    let (run, _, _d) = analyze_oci_archive(&oci(&many));
    assert_refused(
        &run,
        &[
            "manifest sha256:",
            "4097 layers, more than the limit of 4096",
        ],
    );
}
