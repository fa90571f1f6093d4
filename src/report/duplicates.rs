//! The duplicate-file report: dead copies grouped by path and cause, and one
//! content stored at several live paths.

use std::collections::BTreeMap;

use crate::overlay::{Cause, NodeKind, Overlay, PathId};
use crate::scan::display_path;

use super::{Duplicate, DuplicateKind};

fn kind_of(cause: Cause) -> DuplicateKind {
    match cause {
        Cause::Overwritten => DuplicateKind::Overwritten,
        Cause::UnchangedCopy => DuplicateKind::UnchangedCopy,
        Cause::Deleted | Cause::Hidden => DuplicateKind::Deleted,
    }
}

/// One row per (path, kind) with the bytes of its dead copies. Empty files waste
/// nothing and are left out. Grouped by path id in path order (the rank), so no
/// path is compared, and each row's path is spelt out once.
pub(super) fn dead_copies(overlay: &Overlay<'_>) -> Vec<Duplicate> {
    let mut groups: BTreeMap<(u32, DuplicateKind), (PathId, Duplicate)> = BTreeMap::new();
    for d in overlay.dead.iter().filter(|d| d.size > 0) {
        let kind = kind_of(d.cause);
        let (_, row) = groups
            .entry((overlay.rank(d.path), kind))
            .or_insert_with(|| {
                (
                    d.path,
                    Duplicate {
                        path: display_path(&overlay.paths().path(d.path)),
                        kind,
                        layers: vec![],
                        by_layers: vec![],
                        wasted_bytes: 0,
                        paths: vec![],
                        bytes: d.size,
                    },
                )
            });
        row.wasted_bytes += d.size;
        row.bytes = row.bytes.max(d.size);
        push_unique(&mut row.layers, d.layer);
        push_unique(&mut row.by_layers, d.by);
    }
    // The layers that wrote a path include the one holding the live copy.
    for (id, row) in groups.values_mut() {
        if let Some(node) = overlay.node(*id) {
            push_unique(&mut row.layers, node.layer);
        }
        row.layers.sort_unstable();
        row.by_layers.sort_unstable();
    }
    groups.into_values().map(|(_, row)| row).collect()
}

/// Live regular files that hold the same bytes at several paths. Hardlinks share
/// one inode and are not copies; empty files are not counted.
///
/// Grouped by sorting, not hashing: every live file costs 16 bytes (its size and
/// id) here, where a map of groups cost about 100 with a list per file; only
/// files that share their size with another are then told apart by content.
pub(super) fn same_content(overlay: &Overlay<'_>) -> Vec<Duplicate> {
    let mut by_size: Vec<(u64, PathId)> = overlay
        .live()
        .filter_map(|(id, node)| match node.kind {
            NodeKind::File { size, .. } if size > 0 => Some((size, id)),
            _ => None,
        })
        .collect();
    by_size.sort_unstable();
    let shown = |id: PathId| display_path(&overlay.paths().path(id));
    let mut rows = Vec::new();
    for same_size in by_size.chunk_by(|a, b| a.0 == b.0) {
        if same_size.len() < 2 {
            continue;
        }
        let size = same_size[0].0;
        // (content, path order, id, layer): path order makes each group's first
        // path the lexically smallest, so the output is stable.
        let mut files: Vec<_> = same_size
            .iter()
            .filter_map(|&(_, id)| {
                let node = overlay.node(id)?;
                let NodeKind::File { hash, .. } = node.kind else {
                    return None;
                };
                Some((hash, overlay.rank(id), id, node.layer))
            })
            .collect();
        files.sort_unstable();
        for copies in files.chunk_by(|a, b| a.0 == b.0) {
            if copies.len() < 2 {
                continue;
            }
            let mut layers: Vec<usize> = copies.iter().map(|c| c.3).collect();
            layers.sort_unstable();
            layers.dedup();
            rows.push(Duplicate {
                path: shown(copies[0].2),
                kind: DuplicateKind::SameContent,
                layers,
                by_layers: vec![],
                wasted_bytes: size * (copies.len() as u64 - 1),
                paths: copies.iter().map(|c| shown(c.2)).collect(),
                bytes: size,
            });
        }
    }
    rows
}

/// Largest waste first; ties by path, then kind, so the order never depends on hashing.
pub(super) fn sort(rows: &mut [Duplicate]) {
    rows.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then_with(|| a.path.cmp(&b.path))
            .then(a.kind.cmp(&b.kind))
    });
}

fn push_unique(v: &mut Vec<usize>, x: usize) {
    if !v.contains(&x) {
        v.push(x);
    }
}
