//! The report of one image: its layers, totals, duplicate files and merge savings.
//! This is the public JSON schema (`"schema": 2`); it is also what `diff` reads back
//! as a saved base report, so every field round-trips through serde.
//!
//! A figure that needs the layer contents is an `Option`: `None` (JSON `null`) means
//! "not measured" (a report built from manifests only), never 0. Schema 2 made
//! that explicit; schema 1 wrote 0 and `efficiency: 1.0` (see `upgrade_from_schema_1`).

pub(crate) mod advice;
mod build;
pub(crate) mod codes;
mod duplicates;
mod files;
mod merge;
mod partial;

pub(crate) use crate::image::ImageInfo;
pub(crate) use advice::Advice;
pub(crate) use build::{build, LayerInput};
#[cfg(test)]
pub(crate) use codes::assert_names;
pub(crate) use codes::code_names;
pub(crate) use codes::AdviceCode;
pub(crate) use files::Files;
pub(crate) use partial::{manifest_only, DescribedLayer};

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Digest, History, MediaType};

pub(crate) const SCHEMA: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub(crate) schema: u32,
    pub image: ImageInfo,
    pub totals: Totals,
    pub layers: Vec<LayerReport>,
    pub(crate) history: Vec<History>,
    pub(crate) duplicates: Vec<Duplicate>,
    pub(crate) merge_savings: Vec<MergeSaving>,
    /// Cacheful-layering advice (computed by `advice::advise` after `build`), ranked by bytes.
    #[serde(default)]
    pub(crate) advice: Vec<Advice>,
    /// Every non-directory entry of the final filesystem, by path (held
    /// compactly, see `files.rs`; written as a list of [`LiveFile`]).
    pub(crate) files: Files,
    /// Installed packages and the live bytes each owns (see `packages`), largest first.
    #[serde(default)]
    pub(crate) packages: Vec<crate::packages::Package>,
    /// Per-ecosystem totals and unowned bytes; `None` when the layers were not
    /// read (a manifest-only report) or the report predates package attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) package_totals: Option<crate::packages::PackageTotals>,
    /// Which package owns each of `files`: for the HTML report, never in the JSON
    /// (see `packages::FileOwners`).
    #[serde(skip)]
    pub(crate) owners: crate::packages::FileOwners,
    /// Oddities met while reading that did not stop the analysis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Totals {
    pub(crate) layers: u64,
    pub(crate) compressed_bytes: u64,
    /// Stored: regular-file bytes summed over all layers. `None`: not measured.
    pub uncompressed_bytes: Option<u64>,
    /// Regular-file bytes visible in the final filesystem. `None`: not measured.
    pub(crate) live_bytes: Option<u64>,
    /// `None`: not measured.
    pub(crate) wasted_bytes: Option<u64>,
    /// live / uncompressed; 1.0 for an empty image. `None`: not measured.
    pub(crate) efficiency: Option<f64>,
    /// Non-directory entries of the final filesystem. `None`: not measured.
    pub(crate) files: Option<u64>,
    /// Bytes held by extra copies of one content at several live paths. `None`: not measured.
    pub(crate) same_content_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerReport {
    pub(crate) index: usize,
    /// Digest of the blob as stored in the source.
    pub digest: Digest,
    pub(crate) diff_id: Digest,
    pub(crate) media_type: MediaType,
    /// How the source stores the blob.
    pub(crate) compression: Compression,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_by: Option<String>,
    pub(crate) compressed_bytes: u64,
    /// For a layer not stored gzip, when a comparison needed it: its size once
    /// gzip-compressed at the default level, as a registry push would store it.
    /// An estimate; absent when not computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) estimated_gzip_bytes: Option<u64>,
    // Every figure below needs the layer's contents: `None` (null) = not measured.
    /// Regular-file bytes in the layer (as dive counts layer size).
    pub(crate) uncompressed_bytes: Option<u64>,
    /// Length of the uncompressed tar stream.
    pub(crate) tar_bytes: Option<u64>,
    pub(crate) entries: Option<u64>,
    pub(crate) files: Option<u64>,
    pub(crate) dirs: Option<u64>,
    pub(crate) symlinks: Option<u64>,
    pub(crate) hardlinks: Option<u64>,
    pub(crate) whiteouts: Option<u64>,
    pub(crate) opaque_dirs: Option<u64>,
    pub(crate) added: Option<u64>,
    pub(crate) modified: Option<u64>,
    pub(crate) deleted: Option<u64>,
    /// Bytes this layer stored that are not in the final filesystem.
    pub(crate) wasted_bytes: Option<u64>,
}

impl LayerReport {
    /// A layer known only from its manifest and config: every figure that needs its
    /// contents is not measured.
    pub(crate) fn described(index: usize, layer: DescribedLayer) -> LayerReport {
        LayerReport {
            index,
            digest: layer.digest,
            diff_id: layer.diff_id,
            media_type: layer.media_type,
            compression: layer.compression,
            created_by: layer.created_by,
            compressed_bytes: layer.compressed_bytes,
            estimated_gzip_bytes: None,
            uncompressed_bytes: None,
            tar_bytes: None,
            entries: None,
            files: None,
            dirs: None,
            symlinks: None,
            hardlinks: None,
            whiteouts: None,
            opaque_dirs: None,
            added: None,
            modified: None,
            deleted: None,
            wasted_bytes: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DuplicateKind {
    Overwritten,
    UnchangedCopy,
    Deleted,
    SameContent,
}

impl DuplicateKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DuplicateKind::Overwritten => "overwritten",
            DuplicateKind::UnchangedCopy => "unchanged-copy",
            DuplicateKind::Deleted => "deleted",
            DuplicateKind::SameContent => "same-content",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Duplicate {
    pub path: String,
    pub kind: DuplicateKind,
    /// Layers that wrote this path (for `same-content`: the layers of `paths`).
    pub layers: Vec<usize>,
    /// Layers whose entries made the copies dead (empty for `same-content`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_layers: Vec<usize>,
    /// Copies that are gone; the kept one is never counted.
    pub wasted_bytes: u64,
    /// For `same-content`: every live path holding the content, `path` first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Size of one copy.
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct MergeSaving {
    /// The layer whose files are made dead.
    pub lower: usize,
    /// The layer that overwrites, deletes or hides them.
    pub upper: usize,
    pub files: u64,
    pub bytes: u64,
    pub top_files: Vec<PathBytes>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct PathBytes {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileKind {
    File,
    Symlink,
    Hardlink,
    Special,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct LiveFile {
    pub path: String,
    pub bytes: u64,
    pub layer: usize,
    pub kind: FileKind,
}

impl Report {
    /// The layers by diffID, the key layers are matched by across images.
    pub(crate) fn layers_by_diff_id(&self) -> std::collections::HashMap<&Digest, &LayerReport> {
        self.layers.iter().map(|l| (&l.diff_id, l)).collect()
    }

    /// Whether the layers were read: when false, content figures are `None` and
    /// the file, duplicate, merge-saving and advice lists say nothing.
    pub(crate) fn measured(&self) -> bool {
        !self.image.partial
    }

    /// A schema 1 report read back: its partial reports wrote unmeasured figures as
    /// 0 (and `efficiency: 1.0`); here they become `None`, so a saved partial report
    /// can never pass a rule on figures nobody measured.
    pub(crate) fn upgrade_from_schema_1(&mut self) {
        self.schema = SCHEMA;
        if self.measured() {
            return;
        }
        let t = &mut self.totals;
        t.uncompressed_bytes = None;
        t.live_bytes = None;
        t.wasted_bytes = None;
        t.efficiency = None;
        t.files = None;
        t.same_content_bytes = None;
        for l in &mut self.layers {
            // Only what the manifest and config say is kept; every figure read from
            // the contents goes back to "not measured".
            let layer = DescribedLayer {
                digest: l.digest.clone(),
                diff_id: l.diff_id.clone(),
                media_type: l.media_type.clone(),
                compression: l.compression,
                created_by: l.created_by.take(),
                compressed_bytes: l.compressed_bytes,
            };
            *l = LayerReport::described(l.index, layer);
        }
    }
}

/// `part / whole`, with an empty whole counting as fully efficient.
pub(crate) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}
