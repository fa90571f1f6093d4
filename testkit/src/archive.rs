//! Writing images in the forms tools produce them: a legacy `docker save` tar, a
//! Docker 25 save, an OCI archive, an OCI layout directory, and layouts holding
//! several images or a multi-arch index.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{sha256_of, Blob, Image, Result, TestkitError, MTIME};
use layergate::Digest;

const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Where archive members go: a tar stream or a directory.
trait Sink {
    fn file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()>;
    fn symlink(&mut self, path: &str, target: &str) -> Result<()>;

    fn bytes(&mut self, path: &str, data: &[u8]) -> Result<()> {
        let mut d = data;
        self.file(path, data.len() as u64, &mut d)
    }

    fn blob(&mut self, path: &str, blob: &Blob) -> Result<()> {
        let size = match blob {
            Blob::Memory(b) => b.len() as u64,
            Blob::File(p) => std::fs::metadata(p)
                .map_err(TestkitError::io(p.display().to_string()))?
                .len(),
        };
        let mut r = blob.open()?;
        self.file(path, size, &mut r)
    }
}

struct TarSink<W: Write>(tar::Builder<W>);

impl<W: Write> TarSink<W> {
    fn new(out: W) -> Self {
        TarSink(tar::Builder::new(out))
    }

    fn header(size: u64, etype: tar::EntryType, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_entry_type(etype);
        h.set_mode(mode);
        h.set_mtime(MTIME);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    fn finish(self) -> Result<W> {
        self.0
            .into_inner()
            .map_err(TestkitError::io("end of archive"))
    }
}

impl<W: Write> Sink for TarSink<W> {
    fn file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        let mut h = Self::header(size, tar::EntryType::Regular, 0o644);
        self.0
            .append_data(&mut h, path, data.take(size))
            .map_err(TestkitError::io(path))
    }

    fn symlink(&mut self, path: &str, target: &str) -> Result<()> {
        let mut h = Self::header(0, tar::EntryType::Symlink, 0o777);
        self.0
            .append_link(&mut h, path, target)
            .map_err(TestkitError::io(path))
    }
}

struct DirSink(PathBuf);

impl Sink for DirSink {
    fn file(&mut self, path: &str, _size: u64, data: &mut dyn Read) -> Result<()> {
        let full = self.0.join(path);
        let shown = full.display().to_string();
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(TestkitError::io(shown.clone()))?;
        }
        let mut f = std::fs::File::create(&full).map_err(TestkitError::io(shown.clone()))?;
        std::io::copy(data, &mut f).map_err(TestkitError::io(shown))?;
        Ok(())
    }

    fn symlink(&mut self, path: &str, _target: &str) -> Result<()> {
        Err(TestkitError::Invalid(format!(
            "{path}: a layout directory holds no symlinks"
        )))
    }
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

/// Writes each blob once, however many images share it.
struct Blobs<'s> {
    sink: &'s mut dyn Sink,
    written: BTreeSet<String>,
}

impl Blobs<'_> {
    fn doc(&mut self, digest: &Digest, bytes: &[u8]) -> Result<()> {
        let path = blob_path(digest);
        if self.written.insert(path.clone()) {
            self.sink.bytes(&path, bytes)?;
        }
        Ok(())
    }

    fn image(&mut self, image: &Image) -> Result<()> {
        for l in &image.layers {
            let path = blob_path(&l.info.digest);
            if self.written.insert(path.clone()) {
                self.sink.blob(&path, &l.blob)?;
            }
        }
        self.doc(&image.config_digest, &image.config)?;
        self.doc(&image.manifest_digest, &image.manifest)
    }
}

/// How a multi-arch entry is recorded in `index.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStyle {
    /// `index.json` names one index blob that lists the platforms (BuildKit,
    /// `docker buildx --output type=oci`).
    Nested,
    /// `index.json` itself lists one manifest per platform (skopeo, crane).
    Flat,
}

enum Top<'a> {
    Image(&'a Image, Option<String>),
    Index(Vec<&'a Image>, Option<String>, IndexStyle),
}

/// An OCI image layout with any number of images and indexes.
#[derive(Default)]
pub struct Layout<'a> {
    tops: Vec<Top<'a>>,
}

impl<'a> Layout<'a> {
    pub fn new() -> Self {
        Layout { tops: Vec::new() }
    }

    /// Adds an image, named by the `org.opencontainers.image.ref.name` annotation
    /// when `ref_name` is given.
    pub fn image(mut self, image: &'a Image, ref_name: Option<&str>) -> Self {
        self.tops
            .push(Top::Image(image, ref_name.map(str::to_string)));
        self
    }

    /// Adds a multi-arch image: one manifest per platform.
    pub fn index(
        mut self,
        images: &[&'a Image],
        ref_name: Option<&str>,
        style: IndexStyle,
    ) -> Self {
        self.tops.push(Top::Index(
            images.to_vec(),
            ref_name.map(str::to_string),
            style,
        ));
        self
    }

    pub fn write_tar<W: Write>(&self, out: W) -> Result<W> {
        let mut sink = TarSink::new(out);
        self.write(&mut sink)?;
        sink.finish()
    }

    /// Writes the layout into `dir` (created if missing).
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(TestkitError::io(dir.display().to_string()))?;
        self.write(&mut DirSink(dir.to_path_buf()))
    }

    fn write(&self, sink: &mut dyn Sink) -> Result<()> {
        let index = self.write_blobs(sink)?;
        sink.bytes("oci-layout", OCI_LAYOUT)?;
        sink.bytes("index.json", &to_bytes(&index)?)
    }

    /// Writes every blob and returns the top-level `index.json`.
    fn write_blobs(&self, sink: &mut dyn Sink) -> Result<Value> {
        let mut blobs = Blobs {
            sink,
            written: BTreeSet::new(),
        };
        let mut manifests = Vec::new();
        for top in &self.tops {
            match top {
                Top::Image(image, name) => {
                    blobs.image(image)?;
                    let mut d = image.manifest_descriptor();
                    d["platform"] = image.platform_json();
                    if let Some(n) = name {
                        d["annotations"] = json!({ REF_NAME: n });
                    }
                    manifests.push(d);
                }
                Top::Index(images, name, style) => {
                    let mut entries = Vec::new();
                    for image in images {
                        blobs.image(image)?;
                        let mut d = image.manifest_descriptor();
                        d["platform"] = image.platform_json();
                        entries.push(d);
                    }
                    match style {
                        IndexStyle::Flat => manifests.extend(entries),
                        IndexStyle::Nested => {
                            let index = to_bytes(&json!({
                                "schemaVersion": 2,
                                "mediaType": MT_INDEX,
                                "manifests": entries,
                            }))?;
                            let digest = sha256_of(&index)?;
                            blobs.doc(&digest, &index)?;
                            let mut d = json!({
                                "mediaType": MT_INDEX,
                                "digest": digest.to_string(),
                                "size": index.len(),
                            });
                            if let Some(n) = name {
                                d["annotations"] = json!({ REF_NAME: n });
                            }
                            manifests.push(d);
                        }
                    }
                }
            }
        }
        Ok(json!({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}))
    }
}

fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| TestkitError::Invalid(format!("JSON: {e}")))
}

/// An OCI archive holding one image, its ref name the image's name (as
/// `skopeo copy … oci-archive:FILE:NAME` writes it).
pub fn oci_archive<W: Write>(image: &Image, out: W) -> Result<W> {
    Layout::new().image(image, Some(&image.name)).write_tar(out)
}

/// An OCI layout directory holding one image, named like [`oci_archive`].
pub fn oci_dir(image: &Image, dir: &Path) -> Result<()> {
    Layout::new().image(image, Some(&image.name)).write_dir(dir)
}

/// Docker 25+ `docker save`: an OCI layout plus a `manifest.json` whose paths
/// point into `blobs/`.
pub fn docker25<W: Write>(image: &Image, out: W) -> Result<W> {
    let mut sink = TarSink::new(out);
    let layout = Layout::new().image(image, Some("latest"));
    let mut index = layout.write_blobs(&mut sink)?;
    if let Some(m) = index["manifests"].get_mut(0) {
        m["annotations"]["io.containerd.image.name"] = json!(qualified(&image.name));
    }
    sink.bytes("index.json", &to_bytes(&index)?)?;
    let manifest = json!([{
        "Config": blob_path(&image.config_digest),
        "RepoTags": [image.name],
        "Layers": image.layers.iter().map(|l| blob_path(&l.info.digest)).collect::<Vec<_>>(),
    }]);
    sink.bytes("manifest.json", &to_bytes(&manifest)?)?;
    sink.bytes("oci-layout", OCI_LAYOUT)?;
    sink.finish()
}

/// Legacy `docker save` (Docker ≤ 24): `<config-hex>.json`, each layer as
/// `<diffid-hex>.tar` with a `<v1-id>/layer.tar` symlink to it, `manifest.json`
/// listing the symlinks, and `repositories`.
pub fn docker_legacy<W: Write>(image: &Image, out: W) -> Result<W> {
    let mut sink = TarSink::new(out);
    let mut written = BTreeSet::new();
    let mut parent = String::new();
    let mut layer_paths = Vec::new();
    for layer in &image.layers {
        let file = format!("{}.tar", layer.info.diff_id.hex());
        if written.insert(file.clone()) {
            sink.blob(&file, &layer.blob)?;
        }
        // Docker's v1 ids chain the parent id into each layer's id.
        let id = sha256_of(format!("{parent}{}", layer.info.diff_id).as_bytes())?
            .hex()
            .to_string();
        if written.insert(id.clone()) {
            sink.symlink(&format!("{id}/layer.tar"), &format!("../{file}"))?;
            sink.bytes(&format!("{id}/VERSION"), b"1.0")?;
            let mut v1 = json!({"id": id});
            if !parent.is_empty() {
                v1["parent"] = json!(parent);
            }
            sink.bytes(&format!("{id}/json"), &to_bytes(&v1)?)?;
        }
        layer_paths.push(format!("{id}/layer.tar"));
        parent = id;
    }
    let config_file = format!("{}.json", image.config_digest.hex());
    sink.bytes(&config_file, &image.config)?;
    let manifest = json!([{
        "Config": config_file,
        "RepoTags": [image.name],
        "Layers": layer_paths,
    }]);
    sink.bytes("manifest.json", &to_bytes(&manifest)?)?;
    let (repo, tag) = image
        .name
        .rsplit_once(':')
        .unwrap_or((&image.name, "latest"));
    sink.bytes(
        "repositories",
        &to_bytes(&json!({ repo: { tag: parent } }))?,
    )?;
    sink.finish()
}

/// `app:1` → `docker.io/library/app:1`, as containerd records names.
fn qualified(name: &str) -> String {
    if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    }
}
