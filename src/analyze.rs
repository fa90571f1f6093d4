//! The analysis pipeline: scan every distinct layer once (in parallel, across
//! all images of a run), verify each against the digests its source promised, then
//! hand the scans to the pure core to build each image's report.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::cache::LayerCache;

use crate::image::{Algorithm, Compression, Digest, Hasher};
use crate::report::{self, LayerInput, Report};
use crate::scan::{scan_layer_estimating, LayerScan, Limits, ScanError};
use crate::source::{BlobSource, LayerSource, Opened, ResolvedImage, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("{image}: layer {index} ({digest}): {source}")]
    Scan {
        image: String,
        index: usize,
        digest: String,
        source: ScanError,
    },
    #[error("{image}: layer {index}: {source}")]
    Source {
        image: String,
        index: usize,
        source: SourceError,
    },
    #[error("{image}: layer {index}: {what} mismatch: expected {expected}, got {actual}")]
    Mismatch {
        image: String,
        index: usize,
        what: &'static str,
        expected: String,
        actual: String,
    },
}

/// One image to analyse: its resolved documents and where its blobs are.
pub struct Job<'a> {
    pub(crate) image: &'a ResolvedImage,
    pub(crate) blobs: &'a dyn BlobSource,
}

impl<'a> Job<'a> {
    /// The job of an image `source::open_image`/`open_local` opened.
    pub fn of(opened: &'a Opened) -> Job<'a> {
        Job {
            image: &opened.image,
            blobs: opened.blobs.as_ref(),
        }
    }
}

/// What a run may use besides the blobs: the layer cache (asked for a blob's
/// scan before the blob is opened) and an observer of the work.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub cache: Option<Arc<LayerCache>>,
    pub progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field(
                "cache",
                &self.cache.as_ref().map(|c| c.root().to_path_buf()),
            )
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl RunOptions {
    /// The first problem the cache met this run, taken once.
    pub(crate) fn take_cache_warning(&self) -> Option<String> {
        self.cache.as_ref()?.take_warning()
    }
}

/// Told what the scan is doing, for a progress display. `layer` numbers the
/// distinct blobs of the run, 0-based, in the order `started` announced them.
pub trait Progress: Send + Sync {
    /// The run will look at `layers` distinct blobs.
    fn started(&self, layers: usize);
    /// Blob `layer` is being read; `bytes` is its stored size when known.
    fn layer_started(&self, layer: usize, label: &str, bytes: Option<u64>);
    /// `bytes` more of blob `layer` were read.
    fn layer_read(&self, layer: usize, bytes: u64);
    /// Blob `layer` is done; `cached` when its scan came from the cache unread.
    fn layer_done(&self, layer: usize, cached: bool);
}

/// Analyses several images together. A blob two images share is scanned once.
/// Blobs are keyed by the digest of the stored form, not the diffID: the same
/// layer stored gzip in one source and plain in another has different compressed
/// figures, so each form is read from its own source.
pub fn analyze(jobs: &[Job<'_>], limits: &Limits) -> Result<Vec<Report>, AnalyzeError> {
    analyze_with(jobs, limits, &RunOptions::default())
}

/// The storage form of a layer as its documents say, before reading it: the media
/// type's, or plain when the blob is the tar itself (docker save); `None` unknown.
pub(crate) fn storage(layer: &LayerSource) -> Option<Compression> {
    match layer.declared_compression() {
        Ok(Some(c)) => Some(c),
        _ if layer.digest.as_ref().is_none_or(|d| d == &layer.diff_id) => Some(Compression::None),
        _ => None,
    }
}

/// What reading a run needs so its compressed sizes compare (see `compare::compressed`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EstimatePlan {
    /// The layers of the run (images and saved reports) are not all stored one way.
    pub mixed: bool,
    /// The blobs (by blob key) whose gzip size must be estimated: every layer not
    /// stored gzip whose diffID no image or report of the run stores gzip.
    pub blobs: HashSet<Digest>,
}

/// Decides, from the documents alone and before any layer is read, which blobs
/// need a gzip estimate: none when every layer of the run has one storage form.
pub(crate) fn plan_estimates(images: &[&ResolvedImage], reports: &[&Report]) -> EstimatePlan {
    let forms: HashSet<Option<Compression>> = images
        .iter()
        .flat_map(|i| i.layers.iter().map(storage))
        .chain(
            reports
                .iter()
                .flat_map(|r| r.layers.iter().map(|l| Some(l.compression))),
        )
        .collect();
    if forms.len() <= 1 {
        return EstimatePlan::default();
    }
    let gzip: HashSet<&Digest> = images
        .iter()
        .flat_map(|i| i.layers.iter())
        .filter(|l| storage(l) == Some(Compression::Gzip))
        .map(|l| &l.diff_id)
        .chain(reports.iter().flat_map(|r| {
            r.layers
                .iter()
                .filter(|l| l.compression == Compression::Gzip)
                .map(|l| &l.diff_id)
        }))
        .collect();
    let blobs = images
        .iter()
        .flat_map(|i| i.layers.iter())
        .filter(|l| storage(l) != Some(Compression::Gzip) && !gzip.contains(&l.diff_id))
        .map(|l| blob_key(l).clone())
        .collect();
    EstimatePlan { mixed: true, blobs }
}

/// [`analyze`] with a cache and a progress observer.
///
/// The blobs in `estimate` (by blob key) also get their gzip size estimated (a
/// cached scan without that estimate is not used for them).
///
/// A blob whose scan the cache holds is not opened at all: from a registry it is
/// never pulled (its digest came from a verified manifest); from a local archive
/// or layout only the member's length is compared, its bytes are not read. The
/// entry itself was written from a scan that verified those same bytes against
/// the same digest, and it must still agree with the descriptor (diffID, size,
/// compression), else the blob is scanned as if nothing were cached.
pub(crate) fn analyze_with(
    jobs: &[Job<'_>],
    limits: &Limits,
    run: &RunOptions,
) -> Result<Vec<Report>, AnalyzeError> {
    analyze_estimating(jobs, limits, run, &HashSet::new())
}

/// [`analyze_with`], estimating the gzip size of the blobs in `estimate`.
pub(crate) fn analyze_estimating(
    jobs: &[Job<'_>],
    limits: &Limits,
    run: &RunOptions,
    estimate: &HashSet<Digest>,
) -> Result<Vec<Report>, AnalyzeError> {
    let mut unique: Vec<(usize, usize)> = Vec::new();
    let mut first: HashMap<&Digest, usize> = HashMap::new();
    for (j, job) in jobs.iter().enumerate() {
        for (i, layer) in job.image.layers.iter().enumerate() {
            first.entry(blob_key(layer)).or_insert_with(|| {
                unique.push((j, i));
                unique.len() - 1
            });
        }
    }
    if let Some(p) = &run.progress {
        p.started(unique.len());
    }
    // Largest first, each worker taking the next: the longest scan sets the wall
    // time, so it starts at once, not after whatever small layers a worker was
    // handed before it (the largest of six layers second: a fifth more wall time).
    let mut order: Vec<usize> = (0..unique.len()).collect();
    // Cached: a layout's stored size is a stat of its blob file, asked once a layer.
    order.sort_by_cached_key(|&n| {
        let (j, i) = unique[n];
        let layer = &jobs[j].image.layers[i];
        std::cmp::Reverse(layer.size.or_else(|| jobs[j].blobs.stored_size(layer)))
    });
    let mut scans: Vec<(usize, LayerScan)> = order
        .into_iter()
        .par_bridge()
        .map(|n| {
            let (j, i) = unique[n];
            let (image, blobs) = (jobs[j].image, jobs[j].blobs);
            let layer = &image.layers[i];
            let key = blob_key(layer);
            let wanted = estimate.contains(key);
            let progress = run.progress.as_deref();
            if let Some(p) = progress {
                p.layer_started(n, &short(key), layer.size);
            }
            let cached = run
                .cache
                .as_deref()
                .and_then(|c| c.get(key))
                .filter(|scan| agrees(layer, blobs, scan))
                .filter(|scan| {
                    !wanted || scan.compression == Compression::Gzip || scan.gzip_estimate.is_some()
                });
            if let Some(mut scan) = cached {
                // An estimate cached by an earlier run is reported only when this
                // run asked for it: a report never depends on what the cache holds.
                if !wanted {
                    scan.gzip_estimate = None;
                }
                if let Some(p) = progress {
                    p.layer_done(n, true);
                }
                return Ok((n, scan));
            }
            let scan = scan_one(image, blobs, i, limits, progress.map(|p| (p, n)), wanted)?;
            // Only a verified scan reaches here: scan_one checked it against the
            // digests and size the source promised.
            if let Some(c) = &run.cache {
                c.put(key, &scan);
            }
            if let Some(p) = progress {
                p.layer_done(n, false);
            }
            Ok((n, scan))
        })
        .collect::<Result<_, _>>()?;
    scans.sort_unstable_by_key(|&(n, _)| n);
    let scans: Vec<LayerScan> = scans.into_iter().map(|(_, scan)| scan).collect();

    Ok(jobs
        .iter()
        .map(|job| {
            let commands = job.image.config.layer_commands(job.image.layers.len());
            let inputs: Vec<LayerInput<'_>> = job
                .image
                .layers
                .iter()
                .zip(commands)
                .map(|(layer, created_by)| LayerInput {
                    // Legacy docker-save names no blob digest; the blob is the tar.
                    digest: blob_key(layer),
                    media_type: &layer.media_type,
                    created_by,
                    scan: &scans[first[blob_key(layer)]],
                })
                .collect();
            let mut report = report::build(job.image.info.clone(), job.image.history(), &inputs);
            // Advice reads the finished report; the report never calls advice.
            report.advice = crate::advice::advise(&report);
            report
        })
        .collect())
}

/// The identity of a stored blob: its digest, or for a legacy docker-save layer
/// (stored as the plain tar, with no blob digest) its diffID, which is the same thing.
fn blob_key(layer: &LayerSource) -> &Digest {
    layer.digest.as_ref().unwrap_or(&layer.diff_id)
}

/// Whether a cached scan fits what the source says of the blob; one that does
/// not is not used (the blob is scanned, and the real check decides).
fn agrees(layer: &LayerSource, blobs: &dyn BlobSource, scan: &LayerScan) -> bool {
    let declared = layer.declared_compression().ok().flatten();
    scan.diff_id == layer.diff_id
        && layer.size.is_none_or(|s| s == scan.compressed_bytes)
        && blobs
            .stored_size(layer)
            .is_none_or(|s| s == scan.compressed_bytes)
        && declared.is_none_or(|c| c == scan.compression)
}

/// `sha256:0123456789ab`, enough to tell layers apart on a progress line.
fn short(d: &Digest) -> String {
    let s = d.to_string();
    s.chars().take(s.find(':').map_or(12, |i| i + 13)).collect()
}

fn scan_one(
    image: &ResolvedImage,
    blobs: &dyn BlobSource,
    index: usize,
    limits: &Limits,
    progress: Option<(&dyn Progress, usize)>,
    estimate_gzip: bool,
) -> Result<LayerScan, AnalyzeError> {
    let layer: &LayerSource = &image.layers[index];
    let name = &image.info.reference;
    let src_err = |source| AnalyzeError::Source {
        image: name.clone(),
        index,
        source,
    };
    let declared = layer.declared_compression().map_err(src_err)?;
    let mismatch = |what, expected: String, actual: String| AnalyzeError::Mismatch {
        image: name.clone(),
        index,
        what,
        expected,
        actual,
    };
    // The scan computes sha256 diffIDs; a config naming another algorithm could
    // never be checked, so it is refused rather than trusted.
    if layer.diff_id.algorithm() != Algorithm::Sha256 {
        return Err(mismatch(
            "diffID algorithm",
            "sha256".into(),
            layer.diff_id.to_string(),
        ));
    }
    let shown = layer.digest.as_ref().unwrap_or(&layer.diff_id).to_string();
    let scan_err = |source| AnalyzeError::Scan {
        image: name.clone(),
        index,
        digest: shown.clone(),
        source,
    };
    let mut other = None;
    let scan = match blobs.scanned(layer) {
        // Scanned as it streamed by (an engine export): verified below all the same.
        // Its gzip estimate, made when the run compares it with gzip-stored layers,
        // is reported only where the plan asks for it, as for a cached scan.
        Some(done) => {
            let mut scan = done.map_err(scan_err)?;
            if !estimate_gzip {
                scan.gzip_estimate = None;
            }
            scan
        }
        None => {
            let reader = blobs.open_layer(layer).map_err(src_err)?;
            let reader: Box<dyn Read + Send + '_> = match progress {
                Some((p, n)) => Box::new(Counted {
                    inner: reader,
                    progress: p,
                    layer: n,
                    pending: 0,
                }),
                None => reader,
            };
            // The scan hashes the blob with sha256; a blob named by another digest
            // algorithm is hashed with that one on the way, so it is verified too.
            other = layer
                .digest
                .as_ref()
                .filter(|d| d.algorithm() != Algorithm::Sha256)
                .map(|d| Arc::new(Mutex::new(Some(d.hasher()))));
            let reader: Box<dyn Read + Send + '_> = match &other {
                Some(h) => Box::new(AlsoHash(reader, Arc::clone(h))),
                None => Box::new(reader),
            };
            scan_layer_estimating(reader, declared, limits, estimate_gzip).map_err(scan_err)?
        }
    };
    if let Some(want) = &layer.digest {
        let got = match other.and_then(|h| h.lock().ok().and_then(|mut h| h.take())) {
            Some(h) => h.finish(),
            None => scan.blob_digest.clone(),
        };
        if want != &got {
            return Err(mismatch("blob digest", want.to_string(), got.to_string()));
        }
    }
    if let Some(size) = layer.size {
        if size != scan.compressed_bytes {
            return Err(mismatch(
                "blob size",
                size.to_string(),
                scan.compressed_bytes.to_string(),
            ));
        }
    }
    if layer.diff_id != scan.diff_id {
        return Err(mismatch(
            "diffID",
            layer.diff_id.to_string(),
            scan.diff_id.to_string(),
        ));
    }
    Ok(scan)
}

/// The report of an image from its documents alone (`--manifest-only`): no layer is
/// opened, so a registry image costs its manifests and config, nothing more.
pub(crate) fn manifest_only(image: &ResolvedImage) -> Report {
    let commands = image.config.layer_commands(image.layers.len());
    let layers: Vec<report::DescribedLayer> = image
        .layers
        .iter()
        .zip(commands)
        .map(|(l, created_by)| report::DescribedLayer {
            digest: blob_key(l).clone(),
            diff_id: l.diff_id.clone(),
            media_type: l.media_type.clone(),
            compression: storage(l).unwrap_or(Compression::None),
            created_by,
            compressed_bytes: l.size.unwrap_or(0),
        })
        .collect();
    report::manifest_only(image.info.clone(), image.history(), layers)
}

/// Tells the progress observer how much of a blob was read, in steps of at
/// least 1 MiB so the observer is not called per buffer.
struct Counted<'a, R> {
    inner: R,
    progress: &'a dyn Progress,
    layer: usize,
    pending: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        if self.pending >= 1 << 20 || (n == 0 && self.pending > 0) {
            self.progress.layer_read(self.layer, self.pending);
            self.pending = 0;
        }
        Ok(n)
    }
}

/// Feeds every byte read into a second hasher (for non-sha256 blob digests).
struct AlsoHash<R>(R, Arc<Mutex<Option<Hasher>>>);

impl<R: Read> Read for AlsoHash<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        if let Some(h) = self.1.lock().ok().as_mut().and_then(|h| h.as_mut()) {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{open_local, ImageRef, OpenOptions};
    use layergate_testkit::{docker25, Compression as Comp, Entry, ImageBuilder, Layer};

    /// Records the order layers are started in.
    #[derive(Default)]
    struct Started(Mutex<Vec<Option<u64>>>);

    impl Progress for Started {
        fn started(&self, _: usize) {}
        fn layer_started(&self, _: usize, _: &str, bytes: Option<u64>) {
            self.0.lock().unwrap().push(bytes);
        }
        fn layer_read(&self, _: usize, _: u64) {}
        fn layer_done(&self, _: usize, _: bool) {}
    }

    /// The longest scan sets the wall time: with one worker, layers start from
    /// the largest down, wherever they sit in the image.
    #[test]
    fn layers_are_scanned_largest_first() {
        let layer = |kib: usize| {
            let file = Entry::file("f", vec![7u8; kib * 1024]);
            Layer::build(&[file], Comp::None).unwrap()
        };
        let img = ImageBuilder::new("order:1")
            .layer(layer(20), "small")
            .layer(layer(300), "largest")
            .layer(layer(5), "smallest")
            .layer(layer(100), "middle")
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.tar");
        std::fs::write(&path, docker25(&img, Vec::new()).unwrap()).unwrap();
        let reference = ImageRef::DockerArchive { path, name: None };
        let opened = open_local(&reference, &OpenOptions::default()).unwrap();
        let started = Arc::new(Started::default());
        let run = RunOptions {
            cache: None,
            progress: Some(started.clone()),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let reports = pool
            .install(|| analyze_with(&[Job::of(&opened)], &Limits::default(), &run))
            .unwrap();
        let sizes = started.0.lock().unwrap().clone();
        assert_eq!(sizes.len(), 4);
        let mut want = sizes.clone();
        want.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(sizes, want);
        assert!(sizes.iter().all(Option::is_some));
        // The report keeps the image's own order.
        let files: Vec<Option<u64>> = reports[0]
            .layers
            .iter()
            .map(|l| l.uncompressed_bytes)
            .collect();
        let kib = |k: u64| Some(k * 1024);
        assert_eq!(files, [kib(20), kib(300), kib(5), kib(100)]);
    }
}
