//! Archives built byte by byte, for hostile inputs: a tar written header by header
//! (any byte anywhere), layer blobs in any compression, OCI layouts and legacy saves as
//! plain file lists that a test may tweak or break before they are written. The
//! well-formed images come from `layergate_testkit`; this is the level below it.

use std::io::Write;

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

// ---------------------------------------------------------------- raw tar bytes

/// A tar stream written header by header, so a test can put any byte anywhere.
#[derive(Default, Clone)]
pub struct Tar(pub Vec<u8>);

pub const REG: u8 = b'0';
pub const LNK: u8 = b'1';
pub const SYM: u8 = b'2';
pub const CHR: u8 = b'3';
pub const BLK: u8 = b'4';
pub const DIR: u8 = b'5';
pub const FIFO: u8 = b'6';

/// A ustar header with `name` stored as raw bytes (up to 100) and a valid checksum.
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(if typeflag == DIR { 0o755 } else { 0o644 });
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::new(typeflag));
    let bytes = h.as_mut_bytes();
    assert!(
        name.len() <= 100 && link.len() <= 100,
        "use a long-name entry"
    );
    bytes[..name.len()].copy_from_slice(name);
    bytes[157..157 + link.len()].copy_from_slice(link);
    h.set_cksum();
    *h.as_bytes()
}

impl Tar {
    pub fn new() -> Tar {
        Tar::default()
    }

    /// Appends a header and `data`, padded to a block.
    pub fn raw(&mut self, header: &[u8; 512], data: &[u8]) -> &mut Tar {
        self.0.extend_from_slice(header);
        self.0.extend_from_slice(data);
        self.pad();
        self
    }

    pub fn pad(&mut self) {
        let rem = self.0.len() % 512;
        if rem != 0 {
            self.0.resize(self.0.len() + 512 - rem, 0);
        }
    }

    pub fn entry(&mut self, name: &[u8], typeflag: u8, data: &[u8], link: &[u8]) -> &mut Tar {
        let h = header(name, typeflag, data.len() as u64, link);
        self.raw(&h, data)
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Tar {
        self.entry(name.as_bytes(), REG, data, b"")
    }

    pub fn dir(&mut self, name: &str) -> &mut Tar {
        self.entry(name.as_bytes(), DIR, b"", b"")
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.entry(name.as_bytes(), SYM, b"", target.as_bytes())
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.entry(name.as_bytes(), LNK, b"", target.as_bytes())
    }

    /// `.wh.NAME` beside NAME: deletes NAME from the layers below.
    pub fn whiteout(&mut self, path: &str) -> &mut Tar {
        let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&wh, b"")
    }

    /// A PAX extended header (`x`) whose records apply to the next member.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Tar {
        let mut body = Vec::new();
        for (k, v) in records {
            body.extend_from_slice(&pax_record(k, v));
        }
        let h = header(b"PaxHeaders/x", b'x', body.len() as u64, b"");
        self.raw(&h, &body)
    }

    /// A GNU long-name member (`L`) naming the next member.
    pub fn gnu_long_name(&mut self, name: &[u8]) -> &mut Tar {
        let mut data = name.to_vec();
        data.push(0);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_entry_type(tar::EntryType::GNULongName);
        h.as_mut_bytes()[..13].copy_from_slice(b"././@LongLink");
        h.set_cksum();
        self.raw(h.as_bytes(), &data)
    }

    /// The end-of-archive marker: two zero blocks.
    pub fn end(&mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0.clone()
    }
}

/// One PAX record: `LEN KEY=VALUE\n`, where LEN counts itself.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

// ---------------------------------------------------------------- compression

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    Plain,
    Gzip,
    Zstd,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn hex_of(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

// ---------------------------------------------------------------- images

/// One layer as stored: the blob, its media type and the diffID of its tar.
#[derive(Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub diff_id: String,
}

impl Blob {
    pub fn digest(&self) -> String {
        sha256(&self.bytes)
    }
}

pub fn layer(tar: &[u8], comp: Comp) -> Blob {
    let (bytes, suffix) = match comp {
        Comp::Plain => (tar.to_vec(), ""),
        Comp::Gzip => (gzip(tar), "+gzip"),
        Comp::Zstd => (zstd(tar), "+zstd"),
    };
    Blob {
        bytes,
        media_type: format!("application/vnd.oci.image.layer.v1.tar{suffix}"),
        diff_id: sha256(tar),
    }
}

/// A blob whose bytes were made elsewhere (e.g. hand-assembled gzip members).
pub fn blob(bytes: Vec<u8>, diff_id: String, comp: Comp) -> Blob {
    let suffix = match comp {
        Comp::Plain => "",
        Comp::Gzip => "+gzip",
        Comp::Zstd => "+zstd",
    };
    Blob {
        bytes,
        media_type: format!("application/vnd.oci.image.layer.v1.tar{suffix}"),
        diff_id,
    }
}

/// The files of an archive or layout, in the order they are written.
pub type Files = Vec<(String, Vec<u8>)>;

pub fn config_for(blobs: &[Blob]) -> Value {
    json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": blobs.iter().map(|b| b.diff_id.clone()).collect::<Vec<_>>()},
        "history": blobs.iter().enumerate().map(|(i, _)| json!({"created_by": format!("step {i}")})).collect::<Vec<_>>(),
    })
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// An OCI layout of one image. `tweak` may change the config and manifest
/// documents before they are hashed (so they stay self-consistent).
pub fn oci_with(blobs: &[Blob], tweak: impl FnOnce(&mut Value, &mut Value)) -> Files {
    let mut config = config_for(blobs);
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "", "size": 0},
        "layers": blobs.iter().map(|b| json!({"mediaType": b.media_type, "digest": b.digest(), "size": b.bytes.len()})).collect::<Vec<_>>(),
    });
    // Fill the config descriptor first so a tweak may break it on purpose.
    let config_bytes = json_bytes(&config);
    manifest["config"]["digest"] = json!(sha256(&config_bytes));
    manifest["config"]["size"] = json!(config_bytes.len());
    let before = config.clone();
    tweak(&mut config, &mut manifest);
    if config != before {
        let config_bytes = json_bytes(&config);
        manifest["config"]["digest"] = json!(sha256(&config_bytes));
        manifest["config"]["size"] = json!(config_bytes.len());
    }
    let config_bytes = json_bytes(&config);
    let manifest_bytes = json_bytes(&manifest);
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": sha256(&manifest_bytes), "size": manifest_bytes.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "test"}}],
    });
    let mut files: Files = vec![
        (
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ),
        ("index.json".into(), json_bytes(&index)),
        (blob_path(&sha256(&manifest_bytes)), manifest_bytes),
        (blob_path(&sha256(&config_bytes)), config_bytes),
    ];
    for b in blobs {
        let p = blob_path(&b.digest());
        if !files.iter().any(|(n, _)| n == &p) {
            files.push((p, b.bytes.clone()));
        }
    }
    files
}

pub fn oci(blobs: &[Blob]) -> Files {
    oci_with(blobs, |_, _| {})
}

pub fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", hex_of(digest))
}

/// A legacy `docker save` archive: `manifest.json`, `<hex>.json`, `<n>/layer.tar`.
/// Layers must be plain tars (legacy saves are never compressed).
pub fn docker_save(tars: &[Vec<u8>]) -> Files {
    let blobs: Vec<Blob> = tars.iter().map(|t| layer(t, Comp::Plain)).collect();
    let config = json_bytes(&config_for(&blobs));
    let config_name = format!("{}.json", hex_of(&sha256(&config)));
    let layer_names: Vec<String> = (0..tars.len()).map(|i| format!("l{i}/layer.tar")).collect();
    let manifest =
        json!([{"Config": config_name, "RepoTags": ["hardening:test"], "Layers": layer_names}]);
    let mut files: Files = vec![
        ("manifest.json".into(), json_bytes(&manifest)),
        (config_name, config),
    ];
    for (name, t) in layer_names.into_iter().zip(tars) {
        files.push((name, t.clone()));
    }
    files
}

/// Replaces the bytes of the file named `name`.
pub fn set(files: &mut Files, name: &str, bytes: Vec<u8>) {
    let f = files
        .iter_mut()
        .find(|(n, _)| n == name)
        .expect("file present");
    f.1 = bytes;
}

pub fn remove(files: &mut Files, name: &str) {
    files.retain(|(n, _)| n != name);
}

/// The files as a tar archive (ordinary, valid outer tar).
pub fn archive(files: &Files) -> Vec<u8> {
    let mut t = Tar::new();
    for (name, bytes) in files {
        if name.len() <= 100 {
            t.file(name, bytes);
        } else {
            t.gnu_long_name(name.as_bytes());
            t.file(&name[..100], bytes);
        }
    }
    t.end()
}
