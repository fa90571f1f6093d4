//! Cacheful layering advice, computed from a report alone (no Dockerfile needed):
//! which steps to merge because merging pays, which to keep apart because merging
//! would only cost build cache, and which commands need a cache key.
//!
//! Pure: `advise(&Report) -> Vec<Advice>`. Each item has a stable kebab-case code.
//! The advice types are part of the report schema (`report::advice`); the pipeline
//! driver (`analyze`) calls `advise` after `report::build`, so data flows one way.
//! One file per idea:
//! - `command`: reading `created_by` back into a RUN/COPY/ADD step and its programs;
//! - `pairs`: each merge saving split by cause (deleted, same bytes, new bytes);
//! - `cleanup`: `cleanup-in-later-layer`, `attribute-only-copy`, `rewrites-earlier-layer`;
//! - `merge`: `merge-pays` and `keep-separate`;
//! - `caches`: `cache-left-behind`;
//! - `same_content`: `same-content`;
//! - `download`: `download-without-cache-key`;
//! - `dockerfile`: `--dockerfile` line numbers for the layers advice names;
//! - `db_churn`: `package-db-churn` (a package database stored again by every
//!   installing layer);
//! - `build_tools`: `build-tools-in-final-stage` (compilers and -dev packages the
//!   package attribution finds in the final image);
//! - `hygiene`: hadolint rules (DL3009, DL3015, DL3019, DL3042, DL3060), only where
//!   bytes in the image confirm them.

mod build_tools;
pub(crate) mod caches;
mod cleanup;
mod command;
mod db_churn;
pub(crate) mod dockerfile;
mod download;
mod hygiene;
mod merge;
mod pairs;
mod same_content;

pub(crate) use command::{parse as parse_command, programs, Command, Step};
pub(crate) use download::{add_download, run_download};

pub(crate) use crate::report::advice::{Advice, AdviceLayer, Severity};
use crate::report::{AdviceCode, Report};

/// One mebibyte: the unit every threshold here is expressed in.
pub(crate) const MIB: u64 = 1 << 20;

/// Severity of an item whose weight is its bytes: what it costs every pull of the
/// image. 10 MiB and up is high, 1 MiB and up medium, anything else low.
pub(crate) fn severity_for(bytes: u64) -> Severity {
    if bytes >= 10 * MIB {
        Severity::High
    } else if bytes >= MIB {
        Severity::Medium
    } else if bytes > 0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// All advice for one image, ranked by bytes (largest first).
pub(crate) fn advise(report: &Report) -> Vec<Advice> {
    let cmds = Commands::of(report);
    let parts = pairs::split(report);
    let mut out = Vec::new();
    out.extend(cleanup::advise(&cmds, &parts));
    out.extend(merge::advise(report, &cmds, &parts));
    out.extend(caches::advise(report, &cmds));
    out.extend(same_content::advise(report, &cmds));
    out.extend(download::advise(&cmds));
    out.extend(db_churn::advise(report, &cmds));
    out.extend(build_tools::advise(report, &cmds));
    hygiene::annotate(&cmds, &mut out);
    out.extend(hygiene::advise(report, &cmds));
    rank(&mut out);
    out
}

/// Largest saving first; then the more severe; then by code and first layer, so the
/// order never depends on how the items were found.
fn rank(items: &mut [Advice]) {
    items.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| {
                let first = |x: &Advice| x.layers.first().map(|l| l.index);
                first(a).cmp(&first(b))
            })
            .then_with(|| a.paths.cmp(&b.paths))
    });
}

/// Every layer's command, parsed once.
pub(crate) struct Commands {
    cmds: Vec<Command>,
    raw: Vec<Option<String>>,
}

impl Commands {
    pub(crate) fn of(report: &Report) -> Self {
        Commands {
            cmds: report
                .layers
                .iter()
                .map(|l| parse_command(l.created_by.as_deref().unwrap_or("")))
                .collect(),
            raw: report.layers.iter().map(|l| l.created_by.clone()).collect(),
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&Command> {
        self.cmds.get(index)
    }

    pub(crate) fn step(&self, index: usize) -> Step {
        self.get(index).map(|c| c.step).unwrap_or(Step::Other)
    }

    /// The layer as an advice item names it.
    pub(crate) fn layer(&self, index: usize) -> AdviceLayer {
        AdviceLayer {
            index,
            created_by: self.raw.get(index).cloned().flatten(),
            line: None,
        }
    }

    /// An item on `layers` that saves `bytes` in `files`, as severe as its bytes
    /// make it; its title, suggestion and paths are the caller's to fill in.
    pub(crate) fn item(
        &self,
        code: AdviceCode,
        layers: &[usize],
        bytes: u64,
        files: u64,
    ) -> Advice {
        Advice {
            code,
            severity: severity_for(bytes),
            title: String::new(),
            layers: layers.iter().map(|&l| self.layer(l)).collect(),
            paths: Vec::new(),
            bytes,
            files,
            suggestion: String::new(),
            hadolint: None,
        }
    }

    /// `L3 (RUN rm -rf /var/lib/apt/lists/*)` for titles and suggestions.
    pub(crate) fn label(&self, index: usize) -> String {
        match self.get(index) {
            Some(c) if !c.body.is_empty() => format!("L{index} ({})", c.label(60)),
            _ => format!("L{index}"),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.cmds.len()
    }
}

/// Advice in `head` that `base` does not have (same code and same paths, or the
/// same code and command for path-less items): what a pull request introduced.
pub(crate) fn new_in<'a>(head: &'a [Advice], base: &[Advice]) -> Vec<&'a Advice> {
    head.iter()
        .filter(|h| {
            !base.iter().any(|b| {
                b.code == h.code
                    && if h.paths.is_empty() {
                        b.layers
                            .iter()
                            .map(|l| &l.created_by)
                            .eq(h.layers.iter().map(|l| &l.created_by))
                    } else {
                        b.paths == h.paths
                    }
            })
        })
        .collect()
}

/// Synthetic reports for the unit tests of this module.
#[cfg(test)]
pub(crate) mod testing {
    use crate::image::{Compression, Digest, MediaType};
    use crate::report::{
        Duplicate, DuplicateKind, FileKind, ImageInfo, LayerReport, LiveFile, MergeSaving,
        PathBytes, Report, Totals, SCHEMA,
    };

    /// A report with one layer per command (layer 0 first), 1 KiB stored in each.
    pub(crate) fn report(commands: &[&str]) -> Report {
        Report {
            schema: SCHEMA,
            image: ImageInfo::new("r".into(), "oci", Digest::sha256_of(b"")),
            totals: Totals::default(),
            layers: commands
                .iter()
                .enumerate()
                .map(|(index, c)| LayerReport {
                    index,
                    digest: Digest::sha256_of(b""),
                    diff_id: Digest::sha256_of(b""),
                    media_type: MediaType::OciLayer,
                    compression: Compression::None,
                    created_by: Some(c.to_string()),
                    compressed_bytes: 1024,
                    estimated_gzip_bytes: None,
                    uncompressed_bytes: Some(1024),
                    tar_bytes: Some(2048),
                    entries: Some(1),
                    files: Some(1),
                    dirs: Some(0),
                    symlinks: Some(0),
                    hardlinks: Some(0),
                    whiteouts: Some(0),
                    opaque_dirs: Some(0),
                    added: Some(1),
                    modified: Some(0),
                    deleted: Some(0),
                    wasted_bytes: Some(0),
                })
                .collect(),
            history: vec![],
            duplicates: vec![],
            merge_savings: vec![],
            advice: vec![],
            files: Default::default(),
            packages: vec![],
            package_totals: None,
            owners: Default::default(),
            warnings: vec![],
        }
    }

    pub(crate) fn file(path: &str, bytes: u64, layer: usize) -> LiveFile {
        LiveFile {
            path: path.to_string(),
            bytes,
            layer,
            kind: FileKind::File,
        }
    }

    pub(crate) fn dup(
        path: &str,
        kind: DuplicateKind,
        layers: &[usize],
        by: &[usize],
        bytes: u64,
    ) -> Duplicate {
        Duplicate {
            path: path.to_string(),
            kind,
            layers: layers.to_vec(),
            by_layers: by.to_vec(),
            wasted_bytes: bytes,
            paths: vec![],
            bytes,
        }
    }

    pub(crate) fn saving(
        lower: usize,
        upper: usize,
        top: &[(&str, u64)],
        files: u64,
        bytes: u64,
    ) -> MergeSaving {
        MergeSaving {
            lower,
            upper,
            files,
            bytes,
            top_files: top
                .iter()
                .map(|(p, b)| PathBytes {
                    path: p.to_string(),
                    bytes: *b,
                })
                .collect(),
        }
    }
}
