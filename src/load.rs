//! Loading what a command compares: image references and saved reports, turned
//! into reports. Every image of one call is analysed together, so a layer two
//! images share is scanned once. An edge: it opens sources and reads report files;
//! it returns typed errors and never prints.

use std::path::{Path, PathBuf};

use crate::analyze::{analyze_estimating, plan_estimates, AnalyzeError, Job, RunOptions};
use crate::image::Platform;
use crate::report::Report;
use crate::scan::Limits;
use crate::source::{
    open_image_scanning, open_images_scanning, ImageRef, OpenOptions, SourceError, StreamScan,
};

/// Largest saved report read back. A report of 200 000 files is about 30 MB; a
/// file far beyond that is not one of ours.
pub(crate) const MAX_REPORT_BYTES: u64 = 1 << 30;

/// Report schemas this version reads (1 is upgraded on the way in, see [`read_report`]).
pub(crate) const READABLE_SCHEMAS: [u32; 2] = [1, crate::report::SCHEMA];

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: {size} bytes is larger than the {MAX_REPORT_BYTES}-byte limit for a saved report"
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{path}: not a layergate report: {message}")]
    NotAReport { path: PathBuf, message: String },
    #[error(
        "{path}: report schema {found} (this layergate reads schemas 1 and {})",
        crate::report::SCHEMA
    )]
    Schema { path: PathBuf, found: u32 },
    #[error("internal: {0} reports for {1} references")]
    Count(usize, usize),
}

/// What one reference turned out to be.
enum Loaded {
    Image(Box<crate::source::Opened>),
    Report(Box<Report>),
}

/// Whether an opened side stores a layer gzip, as `analyze::plan_estimates` reads it.
fn stores_gzip(loaded: &Loaded) -> bool {
    match loaded {
        Loaded::Image(o) => o
            .image
            .layers
            .iter()
            .any(|l| crate::analyze::storage(l) == Some(crate::image::Compression::Gzip)),
        Loaded::Report(r) => r
            .layers
            .iter()
            .any(|l| l.compression == crate::image::Compression::Gzip),
    }
}

/// When the layers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadLayers {
    Always,
    /// Manifests and configs only (`--manifest-only`).
    Never,
    /// Only when the images' storage forms differ, so that the compressed sizes
    /// can be made comparable (gzip estimates); else manifests only. For a policy
    /// that needs nothing but compressed sizes and layer counts.
    WhenFormsDiffer,
}

/// Reads every reference (images or saved reports) and analyses the images
/// together, so layers they share are scanned once. Reports come back in the
/// order of `refs`. `opts.manifest_only` reads no layer.
pub fn load_reports(
    refs: &[&str],
    opts: &OpenOptions,
    run: &RunOptions,
) -> Result<Vec<Report>, LoadError> {
    let read = if opts.manifest_only {
        ReadLayers::Never
    } else {
        ReadLayers::Always
    };
    let parsed: Vec<ImageRef> = refs
        .iter()
        .map(|r| ImageRef::parse(r))
        .collect::<Result<_, _>>()?;
    let parsed: Vec<&ImageRef> = parsed.iter().collect();
    load(&parsed, opts, run, read)
}

/// [`load_reports`] with the choice of when to read the layers. When the storage
/// forms of the run differ (gzip beside plain or zstd), layers read for it also
/// get their gzip size estimated, decided from the documents before scanning.
pub(crate) fn load(
    refs: &[&ImageRef],
    opts: &OpenOptions,
    run: &RunOptions,
    read: ReadLayers,
) -> Result<Vec<Report>, LoadError> {
    let items: Vec<(&ImageRef, Option<&Platform>)> =
        refs.iter().map(|r| (*r, opts.platform.as_ref())).collect();
    load_items(&items, opts, run, read)
}

/// The platforms to read of one reference, as [`load_platforms`] takes them.
pub(crate) type Wanted<'a> = (&'a ImageRef, Vec<Platform>);

/// The platforms `reference` offers ([`source::platforms`](crate::source::platforms));
/// a saved report offers the one its image was read for.
pub(crate) fn platforms_of(
    reference: &ImageRef,
    opts: &OpenOptions,
) -> Result<Vec<Platform>, LoadError> {
    match reference {
        ImageRef::Report(path) => Ok(vec![platform_of(&read_report(path)?)]),
        _ => Ok(crate::source::platforms(reference, opts)?),
    }
}

/// The platform a report was read for.
pub(crate) fn platform_of(report: &Report) -> Platform {
    let i = &report.image;
    Platform {
        os: i.os.clone(),
        architecture: i.architecture.clone(),
        variant: i.variant.clone(),
    }
    .normalized()
}

/// Reads the given platforms of each reference and analyses them all in one run, so
/// a layer blob several platforms (or base and head) share is read once. Returns,
/// per reference, each platform with its report, in the order asked. A saved
/// report is read as it is, whatever platform is asked of it.
pub(crate) fn load_platforms(
    wanted: &[Wanted<'_>],
    opts: &OpenOptions,
    run: &RunOptions,
    read: ReadLayers,
) -> Result<Vec<Vec<(Platform, Report)>>, LoadError> {
    let items: Vec<(&ImageRef, Option<&Platform>)> = wanted
        .iter()
        .flat_map(|(r, platforms)| platforms.iter().map(move |p| (*r, Some(p))))
        .collect();
    let mut reports = load_items(&items, opts, run, read)?.into_iter();
    let mut out = Vec::new();
    for (_, platforms) in wanted {
        let mut side = Vec::new();
        for p in platforms {
            let report = reports
                .next()
                .ok_or(LoadError::Count(side.len(), items.len()))?;
            side.push((p.clone(), report));
        }
        out.push(side);
    }
    Ok(out)
}

/// Opens each (reference, platform) and analyses every image of them together.
fn load_items(
    items: &[(&ImageRef, Option<&Platform>)],
    opts: &OpenOptions,
    run: &RunOptions,
    read: ReadLayers,
) -> Result<Vec<Report>, LoadError> {
    // An engine's export is scanned while it streams, at open time, so it is
    // opened last: by then the other sides' documents say whether its layers need
    // the gzip estimate that makes their compressed sizes comparable.
    let streamed = |r: &ImageRef| matches!(r, ImageRef::Engine { .. } | ImageRef::Name(_));
    let mut slots: Vec<Option<Loaded>> = items.iter().map(|_| None).collect();
    for pass_streamed in [false, true] {
        let scan = StreamScan {
            limits: Limits::default(),
            estimate_gzip: pass_streamed && slots.iter().flatten().any(stores_gzip),
        };
        // The streamed images are opened together: one engine's images come out of
        // one export.
        let mut streams = Vec::new();
        for (n, (r, platform)) in items.iter().enumerate() {
            if streamed(r) != pass_streamed {
                continue;
            }
            let mut one = opts.clone();
            one.platform = platform.cloned();
            if pass_streamed {
                streams.push((n, *r, one));
                continue;
            }
            slots[n] = Some(if let ImageRef::Report(path) = r {
                Loaded::Report(Box::new(read_report(path)?))
            } else {
                Loaded::Image(Box::new(open_image_scanning(r, &one, &scan)?))
            });
        }
        let refs: Vec<(&ImageRef, &OpenOptions)> =
            streams.iter().map(|(_, r, one)| (*r, one)).collect();
        for ((n, _, _), opened) in streams.iter().zip(open_images_scanning(&refs, &scan)?) {
            slots[*n] = Some(Loaded::Image(Box::new(opened)));
        }
    }
    let opened: Vec<Loaded> = slots.into_iter().flatten().collect();
    let jobs: Vec<Job<'_>> = opened
        .iter()
        .filter_map(|o| match o {
            Loaded::Image(o) => Some(Job {
                image: &o.image,
                blobs: o.blobs.as_ref(),
            }),
            Loaded::Report(_) => None,
        })
        .collect();
    let images: Vec<_> = jobs.iter().map(|j| j.image).collect();
    let saved: Vec<&Report> = opened
        .iter()
        .filter_map(|o| match o {
            Loaded::Report(r) => Some(r.as_ref()),
            Loaded::Image(_) => None,
        })
        .collect();
    let plan = plan_estimates(&images, &saved);
    let read = match read {
        ReadLayers::Always => true,
        ReadLayers::Never => false,
        // Mixed forms: read to estimate gzip sizes, or, where none can be made
        // (a saved report without estimates), to measure the uncompressed sizes
        // the growth rules then fall back to.
        ReadLayers::WhenFormsDiffer => plan.mixed,
    };
    let scanned = if read {
        analyze_estimating(&jobs, &Limits::default(), run, &plan.blobs)?
    } else {
        jobs.iter()
            .map(|j| crate::analyze::manifest_only(j.image))
            .collect::<Vec<_>>()
    };
    let n_scanned = scanned.len();
    let mut scanned = scanned.into_iter();
    let mut out = Vec::new();
    for o in opened {
        match o {
            Loaded::Image(_) => out.push(
                scanned
                    .next()
                    .ok_or(LoadError::Count(n_scanned, items.len()))?,
            ),
            Loaded::Report(report) => out.push(*report),
        }
    }
    Ok(out)
}

/// Reads a saved report, refusing files too large or of another schema. Schema 1
/// reports are upgraded: there a partial report (`--manifest-only`) wrote its
/// unmeasured figures as 0, which schema 2 says with `null`, so those zeros become
/// "not measured" here and never reach a rule.
pub(crate) fn read_report(path: &Path) -> Result<Report, LoadError> {
    let read = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = match crate::read::read_capped(path, MAX_REPORT_BYTES) {
        Ok(b) => b,
        Err(crate::read::InputError::TooLarge { .. }) => {
            return Err(LoadError::TooLarge {
                path: path.to_path_buf(),
                size: std::fs::metadata(path).map_or(MAX_REPORT_BYTES + 1, |m| m.len()),
            })
        }
        Err(crate::read::InputError::Io(e)) => return Err(read(e)),
        Err(e) => return Err(read(std::io::Error::other(e.to_string()))),
    };
    let not_report = |message: String| LoadError::NotAReport {
        path: path.to_path_buf(),
        message,
    };
    let value: serde_json::Value = crate::image::parse_json(&bytes).map_err(not_report)?;
    let found = value
        .get("schema")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| not_report("no \"schema\" number".into()))?;
    let found = u32::try_from(found).unwrap_or(u32::MAX);
    if !READABLE_SCHEMAS.contains(&found) {
        return Err(LoadError::Schema {
            path: path.to_path_buf(),
            found,
        });
    }
    let mut report: Report =
        serde_json::from_value(value).map_err(|e| not_report(e.to_string()))?;
    if found == 1 {
        report.upgrade_from_schema_1();
    }
    Ok(report)
}
