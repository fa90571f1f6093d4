//! Merge savings: for each pair of layers (lower, upper) where upper makes files of
//! lower dead, what merging the two steps would save. This is the evidence the
//! cacheful advice stands on: a pair that kills nothing saves nothing by merging.

use std::collections::BTreeMap;

use crate::overlay::{Overlay, PathId};
use crate::scan::display_path;

use super::{MergeSaving, PathBytes};

/// How many files each saving lists.
pub(super) const TOP_FILES: usize = 10;

/// A dead copy's path (by rank, i.e. in path order) and size.
type PathSize = (u32, PathId, u64);

pub(super) fn savings(overlay: &Overlay<'_>) -> Vec<MergeSaving> {
    let mut pairs: BTreeMap<(usize, usize), Vec<PathSize>> = BTreeMap::new();
    for d in overlay.dead.iter().filter(|d| d.by > d.layer) {
        pairs
            .entry((d.layer, d.by))
            .or_default()
            .push((overlay.rank(d.path), d.path, d.size));
    }
    let mut out: Vec<MergeSaving> = pairs
        .into_iter()
        .map(|((lower, upper), mut files)| {
            files.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            MergeSaving {
                lower,
                upper,
                files: files.len() as u64,
                bytes: files.iter().map(|f| f.2).sum(),
                top_files: files
                    .iter()
                    .take(TOP_FILES)
                    .map(|&(_, id, bytes)| PathBytes {
                        path: display_path(&overlay.paths().path(id)),
                        bytes,
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(a.lower.cmp(&b.lower))
            .then(a.upper.cmp(&b.upper))
    });
    out
}
