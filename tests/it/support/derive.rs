//! Storage forms derived from the committed OCI archives, so the repository keeps one
//! real form per image and the tests still read every form a tool writes.
//!
//! A derived form changes only how layers are stored, never what they hold: layers are
//! decompressed byte for byte (and recompressed with zstd for the zstd form), the config
//! bytes are kept, so diffIDs, image IDs and every figure are those of the real image.
//! Forms are written under `target/tmp`, keyed by a hash of everything that makes their
//! bytes (the archives they come from and the code that derives them), atomically
//! (concurrent tests may ask for the same form), and reused while that key holds: a changed
//! archive or deriver gets a fresh copy, never a stale one.
//!
//! - `NAME.docker.tar`: a legacy `docker save` (config `<hex>.json`, `<diffID>.tar` layers,
//!   `manifest.json`, `repositories`), from `NAME.oci.tar`;
//! - `NAME.oci-plain.tar` / `NAME.oci-zstd.tar`: the OCI archive with uncompressed or zstd
//!   layers (new layer digests, new manifest);
//! - `layout`: one OCI layout directory holding every committed image as a tag (its
//!   `org.opencontainers.image.ref.name`), blobs stored once.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::raw::{archive, blob_path, hex_of, sha256, Files};

/// The code that writes derived forms: part of every form's key.
const DERIVER: [&str; 2] = [include_str!("derive.rs"), include_str!("raw.rs")];

/// Serialises derivation inside the test binary (the rename keeps other processes safe)
/// and remembers each form's path once its key is known.
static FORMS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());

/// The committed archives a form is made from.
fn inputs(name: &str) -> Vec<PathBuf> {
    if name == "layout" {
        let mut archives: Vec<PathBuf> = std::fs::read_dir(super::images())
            .expect("images dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".oci.tar"))
            .collect();
        archives.sort();
        return archives;
    }
    let stem = name
        .strip_suffix(".tar")
        .and_then(|s| s.rsplit_once('.'))
        .map(|(stem, _)| stem)
        .unwrap_or_else(|| panic!("no real test image or derived form named {name}"));
    vec![super::images().join(format!("{stem}.oci.tar"))]
}

/// sha256 over the deriving code, the form's name and its input archives' bytes.
fn key(name: &str) -> String {
    let mut all = Vec::new();
    for code in DERIVER {
        all.extend_from_slice(code.as_bytes());
    }
    all.extend_from_slice(name.as_bytes());
    for input in inputs(name) {
        let bytes =
            std::fs::read(&input).unwrap_or_else(|e| panic!("read {}: {e}", input.display()));
        all.extend_from_slice(input.to_string_lossy().as_bytes());
        all.extend_from_slice(&bytes);
    }
    hex_of(&sha256(&all))[..16].to_string()
}

/// The path of the derived form `name`, written when no copy with its current key exists.
pub fn form(name: &str) -> PathBuf {
    let mut forms = FORMS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = forms.get(name) {
        return path.clone();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("test-images")
        .join(key(name));
    let path = dir.join(name);
    if path.exists() {
        forms.insert(name.to_string(), path.clone());
        return path;
    }
    std::fs::create_dir_all(&dir).expect("create derived image dir");
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let _ = std::fs::remove_file(&tmp);
    if name == "layout" {
        write_layout(&tmp);
    } else {
        let (stem, kind) = name
            .strip_suffix(".tar")
            .and_then(|s| s.rsplit_once('.'))
            .unwrap_or_else(|| panic!("no real test image or derived form named {name}"));
        let source = OciArchive::read(&super::images().join(format!("{stem}.oci.tar")));
        let bytes = match kind {
            "docker" => source.docker_legacy(stem),
            "oci-plain" => source.recompressed(Codec::Plain),
            "oci-zstd" => source.recompressed(Codec::Zstd),
            _ => panic!("no derived form {kind} (asked for {name})"),
        };
        std::fs::write(&tmp, bytes).expect("write derived image");
    }
    if let Err(e) = std::fs::rename(&tmp, &path) {
        // Another test binary published the same key first (a directory cannot be
        // renamed over): theirs has the same bytes.
        assert!(
            path.exists(),
            "publish derived image {}: {e}",
            path.display()
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }
    forms.insert(name.to_string(), path.clone());
    path
}

/// The blobs and index of an OCI archive, in memory (the test images are small).
struct OciArchive {
    index: serde_json::Value,
    blobs: BTreeMap<String, Vec<u8>>,
}

#[derive(Clone, Copy)]
enum Codec {
    Plain,
    Zstd,
}

impl OciArchive {
    fn read(path: &Path) -> OciArchive {
        let file =
            std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut archive = tar::Archive::new(file);
        let mut index = None;
        let mut blobs = BTreeMap::new();
        for entry in archive.entries().expect("archive entries") {
            let mut entry = entry.expect("archive entry");
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().expect("entry path").display().to_string();
            let name = name.trim_start_matches("./").to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read entry");
            if name == "index.json" {
                index = Some(serde_json::from_slice(&bytes).expect("index.json"));
            } else if let Some(hex) = name.strip_prefix("blobs/sha256/") {
                blobs.insert(format!("sha256:{hex}"), bytes);
            }
        }
        OciArchive {
            index: index.expect("index.json in OCI archive"),
            blobs,
        }
    }

    fn blob(&self, digest: &str) -> &[u8] {
        self.blobs
            .get(digest)
            .unwrap_or_else(|| panic!("blob {digest} missing"))
    }

    fn json(&self, digest: &str) -> serde_json::Value {
        serde_json::from_slice(self.blob(digest)).expect("JSON blob")
    }

    /// The single image manifest this archive's index names.
    fn manifest(&self) -> (String, serde_json::Value) {
        let digest = self.index["manifests"][0]["digest"]
            .as_str()
            .expect("manifest digest")
            .to_string();
        let manifest = self.json(&digest);
        (digest, manifest)
    }

    fn docker_legacy(&self, name: &str) -> Vec<u8> {
        let (_, manifest) = self.manifest();
        let config_digest = manifest["config"]["digest"].as_str().expect("config");
        let config_hex = hex_of(config_digest);
        let mut out = TarOut::default();
        let mut layers = Vec::new();
        for layer in manifest["layers"].as_array().expect("layers") {
            let tar = decompress(self.blob(layer["digest"].as_str().expect("digest")));
            let file = format!("{}.tar", hex_of(&sha256(&tar)));
            out.file(&file, &tar);
            layers.push(file);
        }
        out.file(&format!("{config_hex}.json"), self.blob(config_digest));
        let tag = format!("docker.io/library/{name}:latest");
        let docker_manifest = serde_json::json!([{
            "Config": format!("{config_hex}.json"),
            "RepoTags": [tag],
            "Layers": layers,
        }]);
        out.file("manifest.json", docker_manifest.to_string().as_bytes());
        let repositories = serde_json::json!({
            format!("docker.io/library/{name}"): {"latest": layers.last().map(|l| l.trim_end_matches(".tar"))}
        });
        out.file("repositories", repositories.to_string().as_bytes());
        out.finish()
    }

    fn recompressed(&self, codec: Codec) -> Vec<u8> {
        let (_, mut manifest) = self.manifest();
        let mut out = TarOut::default();
        out.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        let config_digest = manifest["config"]["digest"]
            .as_str()
            .expect("config")
            .to_string();
        out.blob(self.blob(&config_digest));
        for layer in manifest["layers"].as_array_mut().expect("layers") {
            let tar = decompress(self.blob(layer["digest"].as_str().expect("digest")));
            let (bytes, media_type) = match codec {
                Codec::Plain => (tar, "application/vnd.oci.image.layer.v1.tar"),
                Codec::Zstd => (
                    zstd::encode_all(&tar[..], 3).expect("zstd"),
                    "application/vnd.oci.image.layer.v1.tar+zstd",
                ),
            };
            layer["mediaType"] = media_type.into();
            layer["size"] = bytes.len().into();
            layer["digest"] = out.blob(&bytes).into();
        }
        let manifest_bytes = serde_json::to_vec(&manifest).expect("manifest JSON");
        let mut index = self.index.clone();
        index["manifests"][0]["digest"] = out.blob(&manifest_bytes).into();
        index["manifests"][0]["size"] = manifest_bytes.len().into();
        out.file("index.json", index.to_string().as_bytes());
        out.finish()
    }
}

/// Every committed OCI archive in one layout directory, each image under its ref name.
fn write_layout(dir: &Path) {
    let blobs_dir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs_dir).expect("layout dir");
    let mut manifests = Vec::new();
    let mut archives: Vec<PathBuf> = std::fs::read_dir(super::images())
        .expect("images dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".oci.tar"))
        .collect();
    archives.sort();
    for path in archives {
        let archive = OciArchive::read(&path);
        for (digest, bytes) in &archive.blobs {
            std::fs::write(blobs_dir.join(hex_of(digest)), bytes).expect("write blob");
        }
        manifests.extend(
            archive.index["manifests"]
                .as_array()
                .expect("index manifests")
                .iter()
                .cloned(),
        );
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
}

/// A gzip or zstd layer blob, decompressed (by magic bytes: the test images are known).
fn decompress(blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if blob.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(blob)
            .read_to_end(&mut out)
            .expect("gunzip layer");
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        out = zstd::decode_all(blob).expect("unzstd layer");
    } else {
        out = blob.to_vec();
    }
    out
}

/// An archive's files in the order they are written, each name once.
#[derive(Default)]
struct TarOut(Files);

impl TarOut {
    fn file(&mut self, name: &str, bytes: &[u8]) {
        if !self.0.iter().any(|(n, _)| n == name) {
            self.0.push((name.to_string(), bytes.to_vec()));
        }
    }

    /// Stores `bytes` under `blobs/sha256/` and returns its digest.
    fn blob(&mut self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        self.file(&blob_path(&digest), bytes);
        digest
    }

    fn finish(self) -> Vec<u8> {
        archive(&self.0)
    }
}
