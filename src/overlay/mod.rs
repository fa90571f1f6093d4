//! Applying layers in order, with OCI changeset semantics, to find what is live in
//! the final filesystem and what every dead copy died of.
//!
//! Rules (OCI image spec, "Applying Changesets"; Docker image spec v1.2):
//! - whiteouts (`.wh.NAME`) and opaque markers (`.wh..wh..opq`) of a layer apply to
//!   the layers *below* it only, whatever their position inside the layer;
//! - a later entry for the same path in the same layer wins;
//! - a non-directory replacing a directory drops the directory's subtree, and a
//!   path under a non-directory replaces that non-directory with a directory.
//!
//! The live set is a `BTreeMap` keyed by path, so a subtree is one contiguous range
//! and deleting it costs its size, not the size of the image.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::scan::{ContentHash, Kind, LayerScan};

/// A live entry of the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub layer: usize,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    File { size: u64, hash: ContentHash },
    Dir,
    Symlink,
    Hardlink,
    Special,
}

impl NodeKind {
    fn from_kind(kind: &Kind) -> Option<NodeKind> {
        Some(match kind {
            Kind::File { size, hash, .. } => NodeKind::File {
                size: *size,
                hash: *hash,
            },
            Kind::Dir => NodeKind::Dir,
            Kind::Symlink { .. } => NodeKind::Symlink,
            Kind::Hardlink { .. } => NodeKind::Hardlink,
            Kind::Special => NodeKind::Special,
            Kind::Whiteout | Kind::Opaque => return None,
        })
    }

    pub fn is_dir(&self) -> bool {
        matches!(self, NodeKind::Dir)
    }
}

/// Why a stored copy of a regular file is not in the final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// A later entry wrote the path with different content.
    Overwritten,
    /// A later entry wrote the same content again (chmod, chown, touch).
    UnchangedCopy,
    /// A whiteout removed it, or a non-directory replaced a directory above it.
    Deleted,
    /// An opaque directory marker hid it.
    Hidden,
}

/// A regular-file copy that a layer stored and a later entry made invisible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dead {
    pub path: Box<[u8]>,
    pub layer: usize,
    pub size: u64,
    pub cause: Cause,
    /// The layer whose entry killed it (may equal `layer` for a path stored twice).
    pub by: usize,
}

/// What one layer did to the filesystem below it (non-directory paths, plus
/// directories that did not exist before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: u64,
    pub modified: u64,
    pub deleted: u64,
}

#[derive(Debug, Default)]
pub struct Overlay {
    pub live: BTreeMap<Box<[u8]>, Node>,
    pub dead: Vec<Dead>,
    pub changes: Vec<Changes>,
}

impl Overlay {
    /// Applies `layers` bottom-up.
    pub fn apply<'a>(layers: impl IntoIterator<Item = &'a LayerScan>) -> Overlay {
        let mut overlay = Overlay::default();
        for (index, layer) in layers.into_iter().enumerate() {
            overlay.apply_layer(index, layer);
        }
        overlay
    }

    fn apply_layer(&mut self, index: usize, layer: &LayerScan) {
        let mut changes = Changes::default();
        // Deletions first: they see only the lower layers, wherever they sit in the tar.
        for rec in &layer.records {
            match rec.kind {
                Kind::Whiteout => {
                    if self.live.contains_key(&rec.path) {
                        self.remove(&rec.path, index, Cause::Deleted, &mut changes);
                    }
                    self.remove_subtree(&rec.path, index, Cause::Deleted, &mut changes);
                }
                Kind::Opaque => self.remove_subtree(&rec.path, index, Cause::Hidden, &mut changes),
                _ => {}
            }
        }
        for rec in &layer.records {
            let Some(kind) = NodeKind::from_kind(&rec.kind) else {
                continue;
            };
            if rec.path.is_empty() {
                // The root directory entry itself: nothing to add or replace.
                continue;
            }
            self.replace_non_dir_ancestors(&rec.path, index, &mut changes);
            match self.live.get(&rec.path) {
                Some(old) if old.kind.is_dir() && kind.is_dir() => {}
                Some(old) if old.kind.is_dir() => {
                    self.remove_subtree(&rec.path, index, Cause::Deleted, &mut changes);
                    changes.modified += 1;
                }
                Some(old) => {
                    let cause = match (&old.kind, &kind) {
                        (
                            NodeKind::File { hash: a, size: sa },
                            NodeKind::File { hash: b, size: sb },
                        ) if a == b && sa == sb => Cause::UnchangedCopy,
                        _ => Cause::Overwritten,
                    };
                    if old.layer < index {
                        changes.modified += 1;
                    }
                    self.bury(&rec.path, index, cause);
                }
                None => {
                    // The path may be a directory only implied by its children
                    // (`a/x` with no `a/` entry): a non-directory replaces it whole.
                    if !kind.is_dir() {
                        self.remove_subtree(&rec.path, index, Cause::Deleted, &mut changes);
                    }
                    changes.added += 1;
                }
            }
            self.live
                .insert(rec.path.clone(), Node { layer: index, kind });
        }
        self.changes.push(changes);
    }

    /// Records the live copy at `path` (if a regular file) as dead.
    fn bury(&mut self, path: &[u8], by: usize, cause: Cause) {
        if let Some(Node {
            layer,
            kind: NodeKind::File { size, .. },
        }) = self.live.get(path)
        {
            self.dead.push(Dead {
                path: path.into(),
                layer: *layer,
                size: *size,
                cause,
                by,
            });
        }
    }

    fn remove(&mut self, path: &[u8], by: usize, cause: Cause, changes: &mut Changes) {
        self.bury(path, by, cause);
        if self.live.remove(path).is_some() {
            changes.deleted += 1;
        }
    }

    /// Removes everything strictly below `dir` (the whole tree when `dir` is the root).
    fn remove_subtree(&mut self, dir: &[u8], by: usize, cause: Cause, changes: &mut Changes) {
        let keys: Vec<Box<[u8]>> = if dir.is_empty() {
            self.live.keys().cloned().collect()
        } else {
            let mut prefix = dir.to_vec();
            prefix.push(b'/');
            self.live
                .range::<[u8], _>((Bound::Included(prefix.as_slice()), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for key in keys {
            self.remove(&key, by, cause, changes);
        }
    }

    /// A path under a file, symlink or other non-directory turns that ancestor into a
    /// directory, as extracting the tar would.
    fn replace_non_dir_ancestors(&mut self, path: &[u8], by: usize, changes: &mut Changes) {
        for (i, &b) in path.iter().enumerate() {
            if b != b'/' {
                continue;
            }
            let ancestor = &path[..i];
            if matches!(self.live.get(ancestor), Some(n) if !n.kind.is_dir()) {
                self.remove(ancestor, by, Cause::Overwritten, changes);
            }
        }
    }

    /// Bytes of the regular files in the final filesystem.
    pub fn live_bytes(&self) -> u64 {
        self.live
            .values()
            .map(|n| match n.kind {
                NodeKind::File { size, .. } => size,
                _ => 0,
            })
            .sum()
    }

    /// Non-directory entries of the final filesystem.
    pub fn live_files(&self) -> u64 {
        self.live.values().filter(|n| !n.kind.is_dir()).count() as u64
    }
}

#[cfg(test)]
mod tests;
