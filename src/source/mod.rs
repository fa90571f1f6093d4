//! Sources: where image bytes come from. Each reader turns its input into a
//! [`ResolvedImage`] (config, history, layer descriptors) plus a [`BlobSource`]
//! that streams each layer blob. Everything after this edge is format-blind:
//! the figures of an image never depend on the source it came from.

mod docker_archive;
pub(crate) mod engine;
pub(crate) mod error;
mod oci_layout;
pub(crate) mod reference;
pub(crate) mod registry;
mod store;

pub(crate) use error::SourceError;
pub(crate) use reference::ImageRef;
pub(crate) use registry::RegistryOptions;
pub(crate) use store::{DirStore, Store, TarStore};

use std::io::Read;

use crate::image::ImageInfo;
use crate::image::{
    Compression, Descriptor, Digest, History, ImageConfig, Manifest, MediaType, Platform,
};

/// One layer as the source describes it.
#[derive(Debug, Clone)]
pub(crate) struct LayerSource {
    /// The blob digest, when the source names one (OCI layouts, registries, Docker 25).
    pub digest: Option<Digest>,
    pub media_type: MediaType,
    /// The size the descriptor declares, if any.
    pub size: Option<u64>,
    /// The diffID the config records for this layer.
    pub diff_id: Digest,
    /// Where the blob lives inside the source (a path in an archive or layout).
    pub(crate) locator: String,
}

impl LayerSource {
    /// The compression the media type declares; `Ok(None)` means sniff it.
    pub(crate) fn declared_compression(&self) -> Result<Option<Compression>, SourceError> {
        self.media_type
            .layer_compression()
            .map_err(|_| SourceError::UnsupportedMediaType(self.media_type.as_str().to_string()))
    }
}

/// An image whose documents have been read and verified, layers not yet scanned.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedImage {
    pub info: ImageInfo,
    pub config: ImageConfig,
    pub layers: Vec<LayerSource>,
}

impl ResolvedImage {
    pub(crate) fn history(&self) -> Vec<History> {
        self.config.history.clone()
    }

    /// Completes `info` from the parsed config (platform, creation time).
    fn new(mut info: ImageInfo, config: ImageConfig, layers: Vec<LayerSource>) -> Self {
        info.os = config.os.clone();
        info.architecture = config.architecture.clone();
        info.variant = config.variant.clone();
        info.created = config.created.clone();
        ResolvedImage {
            info,
            config,
            layers,
        }
    }

    /// An image from a verified manifest and its verified config bytes, as OCI
    /// layouts and registries both describe one: the config parsed once, the layer
    /// count checked against the limit and against the diffIDs, each descriptor
    /// paired with its diffID. `locate` says where a blob lives, or refuses it.
    fn from_manifest(
        info: ImageInfo,
        manifest: &Manifest,
        names: &DocumentNames,
        config_bytes: &[u8],
        locate: impl Fn(&Descriptor) -> Result<String, SourceError>,
    ) -> Result<Self, SourceError> {
        let config: ImageConfig =
            crate::image::parse_json(config_bytes).map_err(|msg| SourceError::BadDocument {
                what: names.config.clone(),
                msg,
            })?;
        let count = manifest.layers.len();
        if count > crate::image::MAX_LAYERS {
            return Err(SourceError::TooManyLayers {
                what: names.manifest.clone(),
                count,
                limit: crate::image::MAX_LAYERS,
            });
        }
        if config.rootfs.diff_ids.len() != count {
            return Err(SourceError::BadDocument {
                what: names.manifest.clone(),
                msg: format!(
                    "lists {count} layers but the config has {} diffIDs",
                    config.rootfs.diff_ids.len()
                ),
            });
        }
        let layers = manifest
            .layers
            .iter()
            .zip(&config.rootfs.diff_ids)
            .map(|(d, diff_id)| {
                Ok(LayerSource {
                    digest: Some(d.digest.clone()),
                    media_type: d.media_type.clone(),
                    size: d.declared_size(),
                    diff_id: diff_id.clone(),
                    locator: locate(d)?,
                })
            })
            .collect::<Result<Vec<_>, SourceError>>()?;
        Ok(ResolvedImage::new(info, config, layers))
    }
}

/// How errors name the manifest and the config of one image.
struct DocumentNames {
    manifest: String,
    config: String,
}

/// Streams layer blobs of one resolved image.
pub(crate) trait BlobSource: Sync {
    fn open_layer(&self, layer: &LayerSource) -> Result<Box<dyn Read + Send + '_>, SourceError>;
    /// The stored blob's length, when the source knows it without reading the
    /// blob (an archive member, a layout file); checked against a cached scan.
    fn stored_size(&self, _layer: &LayerSource) -> Option<u64> {
        None
    }

    /// A layer this source already scanned because its bytes could not be read
    /// twice (an engine's export streams by once, in its own order). `analyze`
    /// verifies it like a scan of its own; `None` means open and scan it.
    fn scanned(
        &self,
        _layer: &LayerSource,
    ) -> Option<Result<crate::scan::LayerScan, crate::scan::ScanError>> {
        None
    }
}

/// Options every source honours.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub platform: Option<Platform>,
    /// Credentials and plain-HTTP hosts for `docker://` references.
    pub registry: RegistryOptions,
    /// Read manifests and configs only: no layer is read (see `analyze::manifest_only`).
    pub manifest_only: bool,
}

/// An opened local image: resolved documents and the store its blobs live in.
pub struct Opened {
    pub(crate) image: ResolvedImage,
    pub(crate) blobs: Box<dyn BlobSource + Send>,
}

/// Opens any image reference except a saved report: registries through the
/// registry edge, everything else from local files.
pub(crate) fn open_image(reference: &ImageRef, opts: &OpenOptions) -> Result<Opened, SourceError> {
    open_image_scanning(reference, opts, &StreamScan::default())
}

/// How a source that can be read only once, as it streams (an engine's export),
/// scans its layers at open time: with the run's limits, and with a gzip estimate
/// when the run compares it with gzip-stored layers (see `analyze::plan_estimates`;
/// `analyze` drops an estimate the plan did not ask for).
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamScan {
    pub(crate) limits: crate::scan::Limits,
    pub(crate) estimate_gzip: bool,
}

/// [`open_image`], scanning a streamed export as `scan` says.
pub(crate) fn open_image_scanning(
    reference: &ImageRef,
    opts: &OpenOptions,
    scan: &StreamScan,
) -> Result<Opened, SourceError> {
    open_images_scanning(&[(reference, opts)], scan)?
        .pop()
        .ok_or_else(|| SourceError::Unsupported(format!("{reference}: nothing opened")))
}

/// Opens several references, in their order, scanning streamed exports as `scan`
/// says. The images one local engine holds (`docker-daemon:`/`podman:`, and bare
/// names the Docker engine holds) come out of one export, so a layer base and head
/// share crosses the socket and is scanned once; every other reference is opened
/// on its own.
pub(crate) fn open_images_scanning(
    refs: &[(&ImageRef, &OpenOptions)],
    scan: &StreamScan,
) -> Result<Vec<Opened>, SourceError> {
    use engine::{EngineError, EngineKind, Wanted};
    let mut slots: Vec<Option<Opened>> = refs.iter().map(|_| None).collect();
    let mut engines: Vec<EngineRun<'_>> = Vec::new();
    for (slot, (reference, opts)) in refs.iter().enumerate() {
        let (at, name) = match reference {
            ImageRef::Engine { kind, name } => (engine_at(&mut engines, *kind)?, name),
            // A bare `NAME:TAG` that is not a file: the local Docker engine when one
            // answers and holds the image, else the registry, the user's next guess.
            ImageRef::Name(name) => match engine_at(&mut engines, EngineKind::Docker) {
                Ok(at) if engines[at].0.has(name)? => (at, name),
                Ok(_) | Err(EngineError::NotRunning { .. }) => {
                    slots[slot] = Some(registry::open(name, opts)?);
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
            ImageRef::Registry(rest) => {
                slots[slot] = Some(registry::open(rest, opts)?);
                continue;
            }
            other => {
                slots[slot] = Some(open_local(other, opts)?);
                continue;
            }
        };
        engines[at].1.push((
            slot,
            Wanted {
                name,
                shown: reference.to_string(),
                platform: opts.platform.as_ref(),
            },
        ));
    }
    for (engine, wanted) in engines {
        if wanted.is_empty() {
            continue;
        }
        let (at, wanted): (Vec<usize>, Vec<Wanted<'_>>) = wanted.into_iter().unzip();
        for (slot, opened) in at.into_iter().zip(engine.open_all(&wanted, scan)?) {
            slots[slot] = Some(opened);
        }
    }
    slots
        .into_iter()
        .zip(refs)
        .map(|(o, (r, _))| o.ok_or_else(|| SourceError::Unsupported(format!("{r}: not opened"))))
        .collect()
}

/// An engine a run reads from, with the images (by slot) it is asked for.
type EngineRun<'a> = (engine::Engine, Vec<(usize, engine::Wanted<'a>)>);

/// Where `kind` sits in a run's list of engines, connected on first use.
fn engine_at(
    engines: &mut Vec<EngineRun<'_>>,
    kind: engine::EngineKind,
) -> Result<usize, engine::EngineError> {
    if let Some(i) = engines.iter().position(|(e, _)| e.kind() == kind) {
        return Ok(i);
    }
    engines.push((engine::Engine::connect(kind)?, Vec::new()));
    Ok(engines.len() - 1)
}

/// The platforms an image offers, in the source's order, once each, architectures
/// in OCI spelling: the entries of its index (BuildKit's attestations are not
/// platforms), or the one platform the config of an image without an index names.
/// Asked of the documents, never of the layers; a saved report is not an image.
pub(crate) fn platforms(
    reference: &ImageRef,
    opts: &OpenOptions,
) -> Result<Vec<Platform>, SourceError> {
    let listed = match reference {
        ImageRef::Registry(rest) => registry::platforms(rest, opts)?,
        ImageRef::OciArchive { path, name } => {
            oci_layout::platforms(&TarStore::open(path)?, name.as_deref())?
        }
        ImageRef::OciLayout { dir, name } => {
            oci_layout::platforms(&DirStore::open(dir)?, name.as_deref())?
        }
        ImageRef::Path(path) if path.is_dir() => {
            oci_layout::platforms(&DirStore::open(path)?, None)?
        }
        ImageRef::Path(path) => {
            // Docker 25 writes both documents; `open_archive` reads such a save
            // through manifest.json, one image.
            let store = TarStore::open(path)?;
            if !store.exists("manifest.json") && store.exists("index.json") {
                oci_layout::platforms(&store, None)?
            } else {
                None
            }
        }
        ImageRef::Report(path) => {
            return Err(SourceError::Unsupported(format!(
                "{}: a saved report is not an image; it has no platforms to list",
                path.display()
            )))
        }
        // Listing reads it, and opening each platform would read it again.
        ImageRef::Stdin => {
            return Err(SourceError::Unsupported(
                "-: standard input can be read only once, so its platforms cannot be listed \
                 and then read: save the image to a file"
                    .into(),
            ))
        }
        // An engine holds one platform under a name, which its inspect says: no export.
        ImageRef::Engine { kind, name } => engine::Engine::connect(*kind)?
            .platform(name)?
            .map(|p| vec![p]),
        ImageRef::Name(name) => match engine::Engine::connect(engine::EngineKind::Docker) {
            Ok(e) if e.has(name)? => e.platform(name)?.map(|p| vec![p]),
            Ok(_) | Err(engine::EngineError::NotRunning { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        // docker-save archives hold one image.
        ImageRef::DockerArchive { .. } => None,
    };
    match listed {
        // An index of attestations only: nothing to judge, never an empty pass.
        Some(platforms) if platforms.is_empty() => Err(SourceError::NotAnImage(format!(
            "{reference}: its index lists no platform (only attestations)"
        ))),
        Some(platforms) => Ok(platforms),
        None => {
            let mut one = opts.clone();
            one.manifest_only = true;
            let info = open_image(reference, &one)?.image.info;
            Ok(vec![Platform {
                os: info.os,
                architecture: info.architecture,
                variant: info.variant,
            }
            .normalized()])
        }
    }
}

/// Opens a local image reference (archive, layout, stdin). Registry references are
/// handled by the registry edge; `report:` references never reach here.
pub fn open_local(reference: &ImageRef, opts: &OpenOptions) -> Result<Opened, SourceError> {
    let shown = reference.to_string();
    match reference {
        ImageRef::DockerArchive { path, name } => {
            let store = TarStore::open(path)?;
            docker_archive::open(store, name.as_deref(), &shown)
        }
        ImageRef::OciArchive { path, name } => {
            let store = TarStore::open(path)?;
            oci_layout::open(store, name.as_deref(), opts, &shown, "oci-archive")
        }
        ImageRef::OciLayout { dir, name } => {
            let store = DirStore::open(dir)?;
            oci_layout::open(store, name.as_deref(), opts, &shown, "oci")
        }
        ImageRef::Stdin => {
            let store = TarStore::from_stdin()?;
            open_archive(store, opts, &shown)
        }
        ImageRef::Path(path) => {
            if path.is_dir() {
                let store = DirStore::open(path)?;
                oci_layout::open(store, None, opts, &shown, "oci")
            } else {
                let store = TarStore::open(path)?;
                open_archive(store, opts, &shown)
            }
        }
        ImageRef::Registry(_)
        | ImageRef::Report(_)
        | ImageRef::Engine { .. }
        | ImageRef::Name(_) => Err(SourceError::Unsupported(format!(
            "{shown} is not a local image"
        ))),
    }
}

/// An archive of unknown kind: docker-save if it has `manifest.json` (Docker 25
/// writes both; they agree), else an OCI archive.
fn open_archive(store: TarStore, opts: &OpenOptions, shown: &str) -> Result<Opened, SourceError> {
    if store.exists("manifest.json") {
        docker_archive::open(store, None, shown)
    } else if store.exists("index.json") {
        oci_layout::open(store, None, opts, shown, "oci-archive")
    } else {
        Err(SourceError::NotAnImage(format!(
            "{}: a tar with neither manifest.json (docker save) nor index.json (OCI layout)",
            store.describe()
        )))
    }
}

/// Serves blobs from a [`Store`] by their locator.
struct StoreBlobs<S>(S);

impl<S: Store> BlobSource for StoreBlobs<S> {
    fn open_layer(&self, layer: &LayerSource) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.0.open(&layer.locator)
    }

    fn stored_size(&self, layer: &LayerSource) -> Option<u64> {
        self.0.size(&layer.locator)
    }
}

/// Reads a small JSON document from a store, verifying its digest when known.
fn read_document(
    store: &dyn Store,
    path: &str,
    what: &str,
    expected: Option<&Digest>,
) -> Result<Vec<u8>, SourceError> {
    let bytes = store.read_small(path, crate::image::MAX_JSON_BYTES)?;
    if let Some(want) = expected {
        let mut h = want.hasher();
        h.update(&bytes);
        let got = h.finish();
        if &got != want {
            return Err(SourceError::DigestMismatch {
                what: format!("{what} {path}"),
                expected: want.to_string(),
                actual: got.to_string(),
            });
        }
    }
    Ok(bytes)
}

fn blob_path(d: &Digest) -> String {
    format!(
        "blobs/{}/{}",
        match d.algorithm() {
            crate::image::Algorithm::Sha256 => "sha256",
            crate::image::Algorithm::Sha512 => "sha512",
        },
        d.hex()
    )
}

/// A member name inside an archive or layout, normalised like a layer path.
pub(crate) fn scan_path(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&crate::scan::normalize(bytes).path).into_owned()
}
