//! Digests and descriptors: every byte the documents promise is checked, and a
//! promise broken is refused naming the blob or document it was about.

use super::*;

fn two_files() -> Vec<u8> {
    let mut t = Tar::new();
    t.file("a", &[1u8; 1000]).file("b", &[2u8; 2000]);
    t.end()
}

/// A layer blob whose bytes do not hash to the digest it is stored under.
#[test]
fn layer_blob_digest_mismatch_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let mut files = oci(&[b.clone()]);
    let mut other = b.bytes.clone();
    other.extend_from_slice(&gzip(&[0u8; 1024])); // still a valid multi-member layer
    set(&mut files, &blob_path(&b.digest()), other);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &["layer 0", "blob digest mismatch", &b.digest()]);
}

/// A config whose bytes do not hash to the manifest's config digest.
#[test]
fn config_digest_mismatch_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let mut files = oci(&[b]);
    let (name, bytes) = files[3].clone();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    v["os"] = json!("plan9");
    set(&mut files, &name, serde_json::to_vec(&v).unwrap());
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "digest mismatch",
            hex_of(&name.replace("blobs/sha256/", "")),
        ],
    );
}

/// Config diffIDs that do not match the layer's tar.
#[test]
fn diff_id_mismatch_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let wrong = sha256(b"another tar");
    let files = oci_with(&[b.clone()], |config, _| {
        config["rootfs"]["diff_ids"][0] = json!(wrong.clone());
    });
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &["layer 0", "diffID mismatch", &wrong, &b.diff_id]);
}

/// A layer descriptor whose size lies about the blob.
#[test]
fn layer_descriptor_size_lie_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let real = b.bytes.len();
    let files = oci_with(&[b], |_, m| m["layers"][0]["size"] = json!(real + 1));
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "blob size mismatch",
            &format!("expected {}, got {real}", real + 1),
        ],
    );
}

/// A config descriptor whose size lies about the config.
#[test]
fn config_descriptor_size_lie_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let files = oci_with(&[b], |_, m| m["config"]["size"] = json!(3));
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &["config sha256:", "size mismatch", "descriptor says 3 bytes"],
    );
}

/// A layer the manifest lists but the archive does not hold.
#[test]
fn missing_layer_blob_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let mut files = oci(&[b.clone()]);
    remove(&mut files, &blob_path(&b.digest()));
    let (run, path, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&path, "layer blob", &b.digest(), "not found"]);
}

/// A config the manifest names but the archive does not hold.
#[test]
fn missing_config_blob_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let mut files = oci(&[b]);
    let name = files[3].0.clone();
    remove(&mut files, &name);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &[&name, "not found"]);
}

/// A manifest index.json names but the archive does not hold.
#[test]
fn missing_manifest_blob_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let mut files = oci(&[b]);
    let name = files[2].0.clone();
    remove(&mut files, &name);
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            "manifest blob",
            hex_of(&name.replace("blobs/sha256/", "")),
            "not found",
        ],
    );
}

/// bzip2 layers are a media type we know and cannot read: refused by name.
#[test]
fn bzip2_layer_media_type_is_refused() {
    let mut b = layer(&two_files(), Comp::Plain);
    b.media_type = "application/vnd.oci.image.layer.v1.tar+bzip2".into();
    let (run, _, _d) = analyze_oci_archive(&oci(&[b]));
    assert_refused(
        &run,
        &["layer 0", "unsupported layer media type", "tar+bzip2"],
    );
}

/// An unknown layer media type is refused, not sniffed into something else.
#[test]
fn unknown_layer_media_type_is_refused() {
    let mut b = layer(&two_files(), Comp::Gzip);
    b.media_type = "application/vnd.example.weird".into();
    let (run, _, _d) = analyze_oci_archive(&oci(&[b]));
    assert_refused(
        &run,
        &[
            "unsupported layer media type",
            "application/vnd.example.weird",
        ],
    );
}

/// A blob that says gzip but holds zstd is refused rather than guessed.
#[test]
fn media_type_disagreeing_with_magic_bytes_is_refused() {
    let mut b = layer(&two_files(), Comp::Zstd);
    b.media_type = "application/vnd.oci.image.layer.v1.tar+gzip".into();
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "compression says Gzip", "Zstd"]);
}

/// A bzip2 blob in a legacy save (no media types) is sniffed and refused by its magic.
#[test]
fn bzip2_blob_in_docker_save_is_refused() {
    let mut files = docker_save(&[two_files()]);
    set(
        &mut files,
        "l0/layer.tar",
        b"BZh91AY&SY\x00\x00\x00\x00more".to_vec(),
    );
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &["layer 0", "cannot tell the compression", "425a6839"],
    );
}

/// A zstd frame asking for a 2 GiB window is refused before any allocation.
#[test]
fn zstd_gigantic_window_is_refused() {
    // Frame header: magic, descriptor (no single-segment, no checksum, no dict id),
    // window descriptor with exponent 21 → 2^(10+21) = 2 GiB; then a raw last block.
    let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3];
    bytes.extend_from_slice(&[0x01 | (512 << 3) as u8, ((512u32 << 3) >> 8) as u8, 0]);
    bytes.extend_from_slice(&[0u8; 512]);
    let b = blob(bytes, sha256(&[0u8; 512]), Comp::Zstd);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "corrupt"]);
    assert_rss_below(&run, 200);
}

/// Stores the single layer of `b` under a sha512 digest of `named` (its own bytes
/// or others), as an OCI layout may.
fn sha512_named(b: &Blob, named: &[u8]) -> (Run, String, tempfile::TempDir) {
    use sha2::Sha512;
    let hex = hex::encode(Sha512::digest(named));
    let digest = format!("sha512:{hex}");
    let d2 = digest.clone();
    let mut files = oci_with(std::slice::from_ref(b), |_, m| {
        m["layers"][0]["digest"] = json!(d2);
    });
    remove(&mut files, &blob_path(&b.digest()));
    files.push((format!("blobs/sha512/{hex}"), b.bytes.clone()));
    let (run, _, dir) = analyze_oci_archive(&files);
    (run, digest, dir)
}

/// A blob named by a sha512 digest is verified with sha512, not waved through.
#[test]
fn sha512_blob_digest_is_verified() {
    let b = layer(&two_files(), Comp::Gzip);
    let (run, _, _d) = sha512_named(&b, &b.bytes);
    assert_eq!(totals(&run.json()), (3000, 3000, 0, 2));
    let (run, digest, _d) = sha512_named(&b, b"other bytes");
    assert_refused(&run, &["layer 0", "blob digest mismatch", &digest]);
}

/// A diffID in an algorithm the scan cannot compute is refused, not trusted.
#[test]
fn non_sha256_diff_id_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let fake = format!("sha512:{}", "ab".repeat(64));
    let f2 = fake.clone();
    let files = oci_with(&[b], |config, _| {
        config["rootfs"]["diff_ids"][0] = json!(f2)
    });
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(&run, &["layer 0", "diffID algorithm mismatch", &fake]);
}

/// A negative descriptor size is a lie, not "size not given".
#[test]
fn negative_descriptor_size_is_refused() {
    let b = layer(&two_files(), Comp::Gzip);
    let files = oci_with(&[b.clone()], |_, m| m["layers"][0]["size"] = json!(-1));
    let (run, _, _d) = analyze_oci_archive(&files);
    assert_refused(
        &run,
        &[
            &format!("layer {}", b.digest()),
            "descriptor size -1 is negative",
        ],
    );
}
