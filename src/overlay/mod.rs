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
//! Paths are interned once (`paths.rs`) and everything here is keyed by their ids:
//! the live set is one small slot per path pointing back at the record that wrote
//! it, and each path counts its live descendants, so deleting a subtree costs its
//! live entries, not the size of the image. Nothing is compared by full path: the
//! byte order of paths is computed once, at the end, as a rank per id.

mod paths;

pub(crate) use paths::{PathId, Paths};

use crate::scan::{ContentHash, Kind, LayerScan};

/// A live entry of the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub layer: usize,
    pub(crate) kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    File { size: u64, hash: ContentHash },
    Dir,
    Symlink,
    Hardlink,
    Special,
}

impl NodeKind {
    fn from_kind(kind: Kind<'_>) -> Option<NodeKind> {
        Some(match kind {
            Kind::File { size, hash, .. } => NodeKind::File { size, hash },
            Kind::Dir => NodeKind::Dir,
            Kind::Symlink { .. } => NodeKind::Symlink,
            Kind::Hardlink { .. } => NodeKind::Hardlink,
            Kind::Special => NodeKind::Special,
            Kind::Whiteout | Kind::Opaque => return None,
        })
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self, NodeKind::Dir)
    }
}

/// Why a stored copy of a regular file is not in the final filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Cause {
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
    pub(crate) path: PathId,
    pub(crate) layer: usize,
    pub size: u64,
    pub(crate) cause: Cause,
    /// The layer whose entry killed it (may equal `layer` for a path stored twice).
    pub(crate) by: usize,
}

/// What one layer did to the filesystem below it (non-directory paths, plus
/// directories that did not exist before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub added: u64,
    pub modified: u64,
    pub deleted: u64,
}

/// Which record holds a live path: 8 bytes per path instead of a copy of its kind.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// `u32::MAX`: not live.
    layer: u32,
    record: u32,
}

const DEAD: Slot = Slot {
    layer: u32::MAX,
    record: 0,
};

#[derive(Debug, Default)]
pub struct Overlay<'a> {
    layers: Vec<&'a LayerScan>,
    paths: Paths,
    slots: Vec<Slot>,
    /// Live paths strictly below each path: a subtree with none is skipped whole.
    live_below: Vec<u32>,
    /// Every id in path byte order (filled when the last layer is applied).
    order: Vec<PathId>,
    /// The position of each id in `order`.
    rank: Vec<u32>,
    pub dead: Vec<Dead>,
    pub(crate) changes: Vec<Changes>,
}

impl<'a> Overlay<'a> {
    /// Applies `layers` bottom-up.
    pub fn apply(layers: impl IntoIterator<Item = &'a LayerScan>) -> Overlay<'a> {
        let mut overlay = Overlay::default();
        for (index, layer) in layers.into_iter().enumerate() {
            overlay.layers.push(layer);
            overlay.apply_layer(index, layer);
        }
        overlay.order = overlay.paths.in_path_order();
        overlay.rank = vec![0; overlay.order.len()];
        for (i, id) in overlay.order.iter().enumerate() {
            overlay.rank[id.index()] = i as u32;
        }
        overlay
    }

    fn apply_layer(&mut self, index: usize, layer: &LayerScan) {
        let mut changes = Changes::default();
        // Deletions first: they see only the lower layers, wherever they sit in the tar.
        let mut members = layer.records.cursor();
        while let Some(rec) = members.next() {
            match rec.kind {
                Kind::Whiteout => {
                    if let Some(id) = self.paths.find(rec.path) {
                        if self.is_live(id) {
                            self.remove(id, index, Cause::Deleted, &mut changes);
                        }
                        self.remove_subtree(id, index, Cause::Deleted, &mut changes);
                    }
                }
                Kind::Opaque => {
                    if let Some(id) = self.paths.find(rec.path) {
                        self.remove_subtree(id, index, Cause::Hidden, &mut changes);
                    }
                }
                _ => {}
            }
        }
        self.paths.reserve(layer.records.len());
        let mut interner = Interner::default();
        // The prefix every path since the last interned one shares with it.
        let mut shared = usize::MAX;
        let mut members = layer.records.cursor();
        while let Some(rec) = members.next() {
            shared = shared.min(rec.shared);
            let record = rec.index;
            let Some(kind) = NodeKind::from_kind(rec.kind) else {
                continue;
            };
            if rec.path.is_empty() {
                // The root directory entry itself: nothing to add or replace.
                continue;
            }
            let id = interner.intern(&mut self.paths, rec.path, shared);
            shared = usize::MAX;
            self.slots.resize(self.paths.len(), DEAD);
            self.live_below.resize(self.paths.len(), 0);
            self.replace_non_dir_ancestors(id, index, &mut changes);
            match self.node(id) {
                Some(old) if old.kind.is_dir() && kind.is_dir() => {}
                Some(old) if old.kind.is_dir() => {
                    self.remove_subtree(id, index, Cause::Deleted, &mut changes);
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
                    self.bury(id, index, cause);
                }
                None => {
                    // The path may be a directory only implied by its children
                    // (`a/x` with no `a/` entry): a non-directory replaces it whole.
                    if !kind.is_dir() {
                        self.remove_subtree(id, index, Cause::Deleted, &mut changes);
                    }
                    changes.added += 1;
                }
            }
            self.set_live(
                id,
                Slot {
                    layer: index as u32,
                    record: record as u32,
                },
            );
        }
        self.changes.push(changes);
    }

    fn is_live(&self, id: PathId) -> bool {
        self.slots
            .get(id.index())
            .is_some_and(|s| s.layer != u32::MAX)
    }

    /// Marks `id` live (or rewritten), keeping the live counts of its ancestors.
    fn set_live(&mut self, id: PathId, slot: Slot) {
        let was = self.is_live(id);
        self.slots[id.index()] = slot;
        if !was {
            self.count_ancestors(id, true);
        }
    }

    fn count_ancestors(&mut self, id: PathId, up: bool) {
        let mut at = self.paths.parent(id);
        while let Some(p) = at {
            let c = &mut self.live_below[p.index()];
            *c = if up { *c + 1 } else { c.saturating_sub(1) };
            at = self.paths.parent(p);
        }
    }

    /// The live entry at `id`, if any.
    pub(crate) fn node(&self, id: PathId) -> Option<Node> {
        let slot = self.slots.get(id.index())?;
        let scan = self.layers.get(slot.layer as usize)?;
        Some(Node {
            layer: slot.layer as usize,
            kind: NodeKind::from_kind(scan.records.kind(slot.record as usize)?)?,
        })
    }

    /// The target of the live symlink or hardlink at `id`, as stored.
    pub(crate) fn link_target(&self, id: PathId) -> Option<&'a [u8]> {
        let slot = self.slots.get(id.index())?;
        let scan: &'a LayerScan = self.layers.get(slot.layer as usize)?;
        match scan.records.kind(slot.record as usize)? {
            Kind::Symlink { target } | Kind::Hardlink { target } => Some(target),
            _ => None,
        }
    }

    /// The live entry at `path`, with its id.
    pub(crate) fn get(&self, path: &[u8]) -> Option<(PathId, Node)> {
        let id = self.paths.find(path)?;
        Some((id, self.node(id)?))
    }

    /// Every live entry, in the byte order of the paths.
    pub fn live(&self) -> impl Iterator<Item = (PathId, Node)> + '_ {
        self.order
            .iter()
            .filter_map(|&id| Some((id, self.node(id)?)))
    }

    /// The live entries strictly below `dir`, in no particular order.
    pub(crate) fn live_below(&self, dir: &[u8]) -> Vec<(PathId, Node)> {
        let Some(dir) = self.paths.find(dir) else {
            return Vec::new();
        };
        self.live_ids_below(dir)
            .into_iter()
            .filter_map(|id| Some((id, self.node(id)?)))
            .collect()
    }

    /// The paths every id stands for.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Gives up the overlay for its tree of paths (the report's file list keeps it).
    pub(crate) fn into_paths(self) -> Paths {
        self.paths
    }

    /// Frees the path lookup table once nothing will look a path up (`get`,
    /// `live_below`) again: what is live and its order stay readable.
    pub(crate) fn drop_lookup(&mut self) {
        self.paths.drop_lookup();
    }

    /// The position of `id` in the byte order of the paths: ordering by rank is
    /// ordering by path, without reading the paths.
    pub(crate) fn rank(&self, id: PathId) -> u32 {
        self.rank.get(id.index()).copied().unwrap_or(u32::MAX)
    }

    /// Records the live copy at `id` (if a regular file) as dead.
    fn bury(&mut self, id: PathId, by: usize, cause: Cause) {
        if let Some(Node {
            layer,
            kind: NodeKind::File { size, .. },
        }) = self.node(id)
        {
            self.dead.push(Dead {
                path: id,
                layer,
                size,
                cause,
                by,
            });
        }
    }

    fn remove(&mut self, id: PathId, by: usize, cause: Cause, changes: &mut Changes) {
        self.bury(id, by, cause);
        if self.is_live(id) {
            self.slots[id.index()] = DEAD;
            self.count_ancestors(id, false);
            changes.deleted += 1;
        }
    }

    /// Live ids strictly below `dir`, skipping every subtree with none.
    fn live_ids_below(&self, dir: PathId) -> Vec<PathId> {
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(at) = stack.pop() {
            for child in self.paths.children(at) {
                if self.is_live(child) {
                    out.push(child);
                }
                if self.live_below.get(child.index()).is_some_and(|&n| n > 0) {
                    stack.push(child);
                }
            }
        }
        out
    }

    /// Removes everything strictly below `dir` (the whole tree when `dir` is the root).
    fn remove_subtree(&mut self, dir: PathId, by: usize, cause: Cause, changes: &mut Changes) {
        if self.live_below.get(dir.index()).is_none_or(|&n| n == 0) {
            return;
        }
        for id in self.live_ids_below(dir) {
            self.remove(id, by, cause, changes);
        }
    }

    /// A path under a file, symlink or other non-directory turns that ancestor into a
    /// directory, as extracting the tar would.
    fn replace_non_dir_ancestors(&mut self, id: PathId, by: usize, changes: &mut Changes) {
        let mut at = self.paths.parent(id);
        while let Some(a) = at {
            if matches!(self.node(a), Some(n) if !n.kind.is_dir()) {
                self.remove(a, by, Cause::Overwritten, changes);
            }
            at = self.paths.parent(a);
        }
    }

    /// Bytes of the regular files in the final filesystem.
    pub fn live_bytes(&self) -> u64 {
        self.live()
            .map(|(_, n)| match n.kind {
                NodeKind::File { size, .. } => size,
                _ => 0,
            })
            .sum()
    }

    /// Non-directory entries of the final filesystem.
    pub(crate) fn live_files(&self) -> u64 {
        self.live().filter(|(_, n)| !n.kind.is_dir()).count() as u64
    }
}

/// Interns the paths of one layer in tar order, each from the ancestors it
/// shares with the previous one (tar lists a directory's members together), so
/// a path costs the lookups of its new components, not of all of them.
#[derive(Debug, Default)]
struct Interner {
    /// The previous path's ancestors and itself: where each ends in it, and its id.
    stack: Vec<(usize, PathId)>,
}

impl Interner {
    /// The id of `path`, whose first `shared` bytes equal the previous path's.
    fn intern(&mut self, paths: &mut Paths, path: &[u8], shared: usize) -> PathId {
        // An ancestor ending inside the shared part is followed by `/` in both
        // paths; one ending exactly there is shared when `path` ends or has `/` there.
        while let Some(&(end, _)) = self.stack.last() {
            if end < shared || (end == shared && path.get(end).is_none_or(|&b| b == b'/')) {
                break;
            }
            self.stack.pop();
        }
        let (mut at, mut start) = match self.stack.last() {
            Some(&(end, id)) => (id, end + 1),
            None => (PathId::ROOT, 0),
        };
        while start <= path.len() {
            let end = path[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(path.len(), |i| start + i);
            at = paths.child_or_add(at, &path[start..end]);
            self.stack.push((end, at));
            start = end + 1;
        }
        at
    }
}

#[cfg(test)]
mod tests;
