//! The duplicate-file report: dead copies grouped by path and cause, and one
//! content stored at several live paths.

use std::collections::{BTreeMap, HashMap};

use crate::overlay::{Cause, NodeKind, Overlay, PathId};
use crate::scan::{display_path, ContentHash};

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

/// A live path and the layer its copy came from.
type PathLayer = (PathId, usize);

/// Live regular files that hold the same bytes at several paths. Hardlinks share
/// one inode and are not copies; empty files are not counted.
pub(super) fn same_content(overlay: &Overlay<'_>) -> Vec<Duplicate> {
    let mut by_hash: HashMap<(ContentHash, u64), Vec<PathLayer>> = HashMap::new();
    for (id, node) in overlay.live() {
        if let NodeKind::File { size, hash } = node.kind {
            if size > 0 {
                by_hash
                    .entry((hash, size))
                    .or_default()
                    .push((id, node.layer));
            }
        }
    }
    let shown = |id: PathId| display_path(&overlay.paths().path(id));
    by_hash
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|((_, size), paths)| {
            // Path order makes the first path the lexically smallest: stable output.
            let mut layers: Vec<usize> = paths.iter().map(|p| p.1).collect();
            layers.sort_unstable();
            layers.dedup();
            Duplicate {
                path: shown(paths[0].0),
                kind: DuplicateKind::SameContent,
                layers,
                by_layers: vec![],
                wasted_bytes: size * (paths.len() as u64 - 1),
                paths: paths.iter().map(|p| shown(p.0)).collect(),
                bytes: size,
            }
        })
        .collect()
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
