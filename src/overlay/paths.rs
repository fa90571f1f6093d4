//! Every path of an image interned once, as a tree of components: a path is a
//! [`PathId`], its bytes are its components' bytes, each stored once however many
//! paths share them. Looking a path up costs its own length, not the length of the
//! paths it is compared with, so 2,000 names of 200 KB that share a long prefix
//! cost their 200 KB prefix once instead of 2,000 × log(n) comparisons of it.
//!
//! Per path: 16 bytes of node, 8 of tree links, a slot (about 5 bytes) of the
//! lookup table and the bytes of its last component.

use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::fast::SeedableRandomState;
use foldhash::SharedSeed;
use hashbrown::HashTable;

/// foldhash's shared key, drawn once per process from std's random keys (foldhash
/// is built without its own `std` source of randomness here).
fn random_hasher() -> SeedableRandomState {
    static SHARED: OnceLock<SharedSeed> = OnceLock::new();
    let std_keys = std::collections::hash_map::RandomState::new();
    let shared = SHARED.get_or_init(|| SharedSeed::from_u64(std_keys.hash_one(1u8)));
    SeedableRandomState::with_seed(std_keys.hash_one(2u8), shared)
}

/// A path interned in [`Paths`]; the root (the empty path) is `PathId::ROOT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathId(u32);

impl PathId {
    pub(crate) const ROOT: PathId = PathId(0);

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Where this component's bytes start in `names` (usize: the names of a
    /// hostile layer may pass 4 GiB together).
    start: usize,
    len: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
}

/// The tree of every path interned so far.
#[derive(Debug, Clone)]
pub struct Paths {
    names: Vec<u8>,
    nodes: Vec<Node>,
    /// (parent, component) → node, hashed by the caller-side key so that no
    /// component is stored twice (in the table and in `names`).
    table: HashTable<u32>,
    /// foldhash with random keys: several times SipHash's speed on short names,
    /// and a hostile layer still cannot aim collisions at it.
    hasher: SeedableRandomState,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            names: Vec::new(),
            nodes: vec![Node {
                start: 0,
                len: 0,
                parent: NONE,
                first_child: NONE,
                next_sibling: NONE,
            }],
            table: HashTable::new(),
            hasher: random_hasher(),
        }
    }
}

impl Paths {
    /// Makes room for `more` paths, so the table grows once instead of rehashing
    /// every name at each doubling.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.nodes.reserve(more);
        let (nodes, names, hasher) = (&self.nodes, &self.names, &self.hasher);
        self.table.reserve(more, |&other| {
            let n = &nodes[other as usize];
            hasher.hash_one((n.parent, &names[n.start..n.start + n.len as usize]))
        });
    }

    /// How many paths are interned, the root included: ids are below this.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn hash(&self, parent: u32, name: &[u8]) -> u64 {
        self.hasher.hash_one((parent, name))
    }

    fn name_of(&self, id: u32) -> &[u8] {
        let n = &self.nodes[id as usize];
        &self.names[n.start..n.start + n.len as usize]
    }

    fn child(&self, parent: u32, name: &[u8]) -> Option<u32> {
        let h = self.hash(parent, name);
        self.table
            .find(h, |&id| {
                self.nodes[id as usize].parent == parent && self.name_of(id) == name
            })
            .copied()
    }

    /// The id of a normalised path (components separated by single `/`, no
    /// leading or trailing one), creating it and its missing ancestors.
    pub(crate) fn intern(&mut self, path: &[u8]) -> PathId {
        let mut at = PathId::ROOT.0;
        if path.is_empty() {
            return PathId::ROOT;
        }
        for name in path.split(|&b| b == b'/') {
            at = match self.child(at, name) {
                Some(id) => id,
                None => self.add(at, name),
            };
        }
        PathId(at)
    }

    /// The id of the child `name` of `parent`, created when missing.
    pub(crate) fn child_or_add(&mut self, parent: PathId, name: &[u8]) -> PathId {
        PathId(match self.child(parent.0, name) {
            Some(id) => id,
            None => self.add(parent.0, name),
        })
    }

    fn add(&mut self, parent: u32, name: &[u8]) -> u32 {
        // Ids are u32: `Limits::max_entries` keeps a layer far below, and an image
        // of more than 4 billion distinct paths could not be held in memory anyway.
        let id = u32::try_from(self.nodes.len()).unwrap_or(NONE - 1);
        let start = self.names.len();
        self.names.extend_from_slice(name);
        let p = &mut self.nodes[parent as usize];
        let next_sibling = std::mem::replace(&mut p.first_child, id);
        self.nodes.push(Node {
            start,
            len: name.len() as u32,
            parent,
            first_child: NONE,
            next_sibling,
        });
        let h = self.hash(parent, name);
        let (nodes, names, hasher) = (&self.nodes, &self.names, &self.hasher);
        self.table.insert_unique(h, id, |&other| {
            let n = &nodes[other as usize];
            hasher.hash_one((n.parent, &names[n.start..n.start + n.len as usize]))
        });
        id
    }

    /// The id of `path` if it was interned.
    pub(crate) fn find(&self, path: &[u8]) -> Option<PathId> {
        let mut at = PathId::ROOT.0;
        if path.is_empty() {
            return Some(PathId::ROOT);
        }
        for name in path.split(|&b| b == b'/') {
            at = self.child(at, name)?;
        }
        Some(PathId(at))
    }

    /// The path's last component (empty for the root).
    pub(crate) fn name(&self, id: PathId) -> &[u8] {
        self.name_of(id.0)
    }

    /// The parent directory, `None` for the root.
    pub(crate) fn parent(&self, id: PathId) -> Option<PathId> {
        let p = self.nodes[id.index()].parent;
        (p != NONE).then_some(PathId(p))
    }

    /// The paths directly below `id`, in no particular order.
    pub(crate) fn children(&self, id: PathId) -> impl Iterator<Item = PathId> + '_ {
        let mut next = self.nodes[id.index()].first_child;
        std::iter::from_fn(move || {
            let at = next;
            (at != NONE).then(|| {
                next = self.nodes[at as usize].next_sibling;
                PathId(at)
            })
        })
    }

    /// Writes the path's bytes into `out` (replacing its contents): one pass up
    /// the tree to size it, one to fill it from the end, no allocation when `out`
    /// is already large enough.
    pub(crate) fn write(&self, id: PathId, out: &mut Vec<u8>) {
        self.write_after(id, b"", out);
    }

    /// [`Paths::write`], the path preceded by `lead`.
    pub(crate) fn write_after(&self, id: PathId, lead: &[u8], out: &mut Vec<u8>) {
        let mut len = 0usize;
        let mut at = id.0;
        while at != PathId::ROOT.0 {
            len += self.nodes[at as usize].len as usize + 1;
            at = self.nodes[at as usize].parent;
        }
        out.clear();
        out.extend_from_slice(lead);
        out.resize(lead.len() + len.saturating_sub(1), b'/');
        let mut end = out.len();
        let mut at = id.0;
        while at != PathId::ROOT.0 {
            let name = self.name_of(at);
            out[end - name.len()..end].copy_from_slice(name);
            end = end.saturating_sub(name.len() + 1);
            at = self.nodes[at as usize].parent;
        }
    }

    /// Replaces every component's bytes by what `f` writes for them (the
    /// report's display escaping), keeping every id.
    pub(crate) fn rename_all(&mut self, mut f: impl FnMut(&[u8], &mut Vec<u8>)) {
        // Names of printable ASCII and no backslash are written as they are: the
        // common case costs one pass over the bytes.
        if self
            .names
            .iter()
            .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\')
        {
            return;
        }
        let mut names = Vec::with_capacity(self.names.len());
        for n in &mut self.nodes {
            let start = names.len();
            f(&self.names[n.start..n.start + n.len as usize], &mut names);
            n.start = start;
            n.len = u32::try_from(names.len() - start).unwrap_or(u32::MAX);
        }
        self.names = names;
    }

    /// Frees the lookup table once no path will be looked up or added again
    /// (the report's file list only spells paths out): about 10 bytes a path.
    pub(crate) fn drop_lookup(&mut self) {
        self.table = HashTable::new();
        self.nodes.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    /// The path's bytes.
    pub fn path(&self, id: PathId) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(id, &mut out);
        out
    }

    /// Every id in the byte order of the full paths (the order a map keyed by the
    /// paths would list them in), root first.
    ///
    /// Byte order is not the order of a depth-first walk with siblings sorted by
    /// name: `a` < `a.b` < `a.b/x` < `a/x`, because `.` sorts before `/`. So each
    /// directory's entries are sorted as two kinds of events, the child itself
    /// (key: its name) and the child's subtree (key: its name followed by `/`),
    /// and the walk descends at a subtree event.
    pub(crate) fn in_path_order(&self) -> Vec<PathId> {
        let mut out = Vec::with_capacity(self.nodes.len());
        out.push(PathId::ROOT);
        let mut stack = vec![(self.events(PathId::ROOT.0), 0usize)];
        while let Some((events, i)) = stack.last_mut() {
            let Some(&(id, subtree)) = events.get(*i) else {
                stack.pop();
                continue;
            };
            *i += 1;
            if subtree {
                let below = self.events(id);
                stack.push((below, 0));
            } else {
                out.push(PathId(id));
            }
        }
        out
    }

    fn events(&self, dir: u32) -> Vec<(u32, bool)> {
        let mut events = Vec::new();
        let mut at = self.nodes[dir as usize].first_child;
        while at != NONE {
            events.push((at, false));
            if self.nodes[at as usize].first_child != NONE {
                events.push((at, true));
            }
            at = self.nodes[at as usize].next_sibling;
        }
        events.sort_unstable_by(|&(a, sa), &(b, sb)| {
            event_order(self.name_of(a), sa, self.name_of(b), sb)
        });
        events
    }
}

/// Compares `a` (followed by `/` when `a_slash`) with `b` (likewise) as bytes.
fn event_order(a: &[u8], a_slash: bool, b: &[u8], b_slash: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        other => return other,
    }
    // Past the common part one side is exhausted but for the `/` it may end
    // with, so this loop runs at most twice.
    let at = |s: &[u8], slash: bool, i: usize| match i.cmp(&s.len()) {
        Ordering::Less => Some(s[i]),
        Ordering::Equal if slash => Some(b'/'),
        _ => None,
    };
    let mut i = n;
    loop {
        match (at(a, a_slash, i), at(b, b_slash, i)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(&y),
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_component_once_and_gives_the_bytes_back() {
        let mut p = Paths::default();
        let a = p.intern(b"usr/lib/x");
        let b = p.intern(b"usr/lib/y");
        assert_eq!(p.intern(b"usr/lib/x"), a);
        assert_eq!(p.len(), 5, "root, usr, lib, x, y");
        assert_eq!(p.path(a), b"usr/lib/x");
        assert_eq!(p.path(b), b"usr/lib/y");
        assert_eq!(p.find(b"usr/lib"), p.parent(a));
        assert_eq!(p.find(b"usr/li"), None);
        assert_eq!(p.find(b""), Some(PathId::ROOT));
        assert_eq!(p.path(PathId::ROOT), b"");
    }

    /// The property the long-name case rests on: a prefix shared by many paths is
    /// stored once, so memory is linear in the distinct bytes of the names.
    #[test]
    fn a_shared_prefix_is_stored_once() {
        let prefix = "p".repeat(200_000);
        let mut p = Paths::default();
        for i in 0..2_000 {
            let id = p.intern(format!("{prefix}/f{i:06}").as_bytes());
            assert_eq!(p.path(id).len(), 200_008);
        }
        assert_eq!(p.names.len(), 200_000 + 2_000 * 7);
        assert_eq!(p.len(), 1 + 1 + 2_000);
    }

    #[test]
    fn path_order_is_the_byte_order_of_the_full_paths() {
        let names: &[&[u8]] = &[
            b"a/x",
            b"a.b/x",
            b"a",
            b"a.b",
            b"a!",
            b"a0/z",
            b"a/x/y",
            b"b",
            b"a/",
            b"ab/c/d",
            b"a-b",
            b"\xff",
            b"a/x!",
            b"a/x/",
            b"a.b/x/y/z",
        ];
        let mut p = Paths::default();
        for n in names {
            let n: Vec<u8> = n.strip_suffix(b"/").unwrap_or(n).to_vec();
            p.intern(&n);
        }
        let got: Vec<Vec<u8>> = p.in_path_order().into_iter().map(|i| p.path(i)).collect();
        let mut want = got.clone();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(got.len(), p.len());
    }

    #[test]
    fn event_order_matches_byte_order() {
        let cases: &[&[u8]] = &[b"a", b"a.", b"a/", b"ab", b"a0", b"", b"a./", b"a0/", b"b/"];
        for x in cases {
            for y in cases {
                let split = |s: &[u8]| match s.strip_suffix(b"/") {
                    Some(n) => (n.to_vec(), true),
                    None => (s.to_vec(), false),
                };
                let ((xa, xs), (ya, ys)) = (split(x), split(y));
                assert_eq!(event_order(&xa, xs, &ya, ys), x.cmp(y), "{x:?} vs {y:?}");
            }
        }
    }
}
