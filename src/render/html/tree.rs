//! The treemap's tree: live files (and dead copies) grouped by directory, with
//! small entries folded into one "other" cell per directory so that a 200,000-file
//! image ships a few thousand cells, not a 100 MB page. Pure.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::report::{DuplicateKind, Report};

/// At most this many files get a cell of their own; the rest are grouped.
pub(super) const MAX_FILE_CELLS: usize = 4000;

/// One cell of the treemap. Short keys: the page holds thousands of them.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub(crate) struct Node {
    /// Last path component ("" for the root, "other" cells are flagged by `o`).
    #[serde(rename = "n")]
    pub name: String,
    /// Live bytes.
    #[serde(rename = "b")]
    pub bytes: u64,
    /// Live entries (files, links, specials) below.
    #[serde(rename = "f")]
    pub files: u64,
    /// The layer that wrote the most live bytes here (the file's own layer for a file).
    #[serde(rename = "l", skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// Bytes of dead copies at or below this path (overwritten, deleted, hidden).
    #[serde(rename = "w", skip_serializing_if = "is_zero")]
    pub wasted: u64,
    /// Growth against the base (added and grown files, bytes), `diff` only.
    #[serde(rename = "g", skip_serializing_if = "is_zero")]
    pub growth: u64,
    /// True for the cell holding a directory's grouped small entries.
    #[serde(rename = "o", skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    /// True for a directory (its children may all have been grouped).
    #[serde(rename = "d", skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
    #[serde(rename = "c", skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// What grouping did, so the page can say it.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub(crate) struct Aggregation {
    /// Entries weighing less than this many bytes were grouped (0: nothing was).
    pub(crate) threshold: u64,
    /// Entries drawn as cells of their own.
    pub(crate) file_cells: u64,
    /// Entries grouped into "other" cells, and their live bytes.
    pub(crate) grouped_files: u64,
    pub(crate) grouped_bytes: u64,
    pub(crate) other_cells: u64,
}

#[derive(Default)]
struct Dir {
    children: BTreeMap<String, usize>,
    files: Vec<Leaf>,
}

struct Leaf {
    name: String,
    bytes: u64,
    live: bool,
    layer: usize,
    wasted: u64,
    growth: u64,
}

impl Leaf {
    fn weight(&self) -> u64 {
        self.bytes.max(self.wasted)
    }
}

/// Builds the tree of `report`'s final filesystem. `base` (for `diff`) gives each
/// file's growth: all of an added file, the increase of a grown one.
pub(super) fn build(report: &Report, base: Option<&Report>) -> (Node, Aggregation) {
    let before: Option<HashMap<String, u64>> =
        base.map(|b| b.files.iter().map(|f| (f.path, f.bytes)).collect());
    let mut arena = vec![Dir::default()];
    let mut live_index: HashMap<String, (usize, usize)> = HashMap::new();
    for f in &report.files {
        let growth = match &before {
            None => 0,
            Some(m) => f
                .bytes
                .saturating_sub(m.get(f.path.as_str()).copied().unwrap_or(0)),
        };
        let (dir, name) = place(&mut arena, &f.path);
        live_index.insert(f.path.clone(), (dir, arena[dir].files.len()));
        arena[dir].files.push(Leaf {
            name,
            bytes: f.bytes,
            live: true,
            layer: f.layer,
            wasted: 0,
            growth,
        });
    }
    for d in report
        .duplicates
        .iter()
        .filter(|d| d.kind != DuplicateKind::SameContent && d.wasted_bytes > 0)
    {
        if let Some(&(dir, i)) = live_index.get(d.path.as_str()) {
            let leaf = &mut arena[dir].files[i];
            leaf.wasted = leaf.wasted.saturating_add(d.wasted_bytes);
            continue;
        }
        let (dir, name) = place(&mut arena, &d.path);
        // A path with no live copy: deleted or hidden. Its cell exists only when
        // the page paints wasted copies.
        live_index.insert(d.path.clone(), (dir, arena[dir].files.len()));
        arena[dir].files.push(Leaf {
            name,
            bytes: 0,
            live: false,
            layer: d.layers.first().copied().unwrap_or(0),
            wasted: d.wasted_bytes,
            growth: 0,
        });
    }

    let threshold = threshold(&arena);
    let mut agg = Aggregation {
        threshold,
        ..Aggregation::default()
    };
    let mut root = emit(&arena, 0, String::new(), threshold, &mut agg).node;
    root.dir = true;
    (root, agg)
}

/// Deepest directory level drawn as its own cell. Everything below is one cell named
/// by the rest of its path: the tree (and every walk of it here, in serde and on the
/// page) is then bounded in depth whatever an image holds; a layer of a few hundred
/// bytes can carry a 20,000-level path.
pub(super) const MAX_DEPTH: usize = 64;

/// Finds (creating) the directory of `path` and returns it with the last component
/// (below [`MAX_DEPTH`], the rest of the path).
fn place(arena: &mut Vec<Dir>, path: &str) -> (usize, String) {
    let mut parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = if parts.len() > MAX_DEPTH + 1 {
        parts.split_off(MAX_DEPTH).join("/")
    } else {
        parts.pop().unwrap_or("/").to_string()
    };
    let mut at = 0;
    for p in parts {
        at = match arena[at].children.get(p) {
            Some(&i) => i,
            None => {
                arena.push(Dir::default());
                let i = arena.len() - 1;
                arena[at].children.insert(p.to_string(), i);
                i
            }
        };
    }
    (at, name)
}

/// The smallest weight a file needs for a cell of its own: 0 when every file fits
/// under [`MAX_FILE_CELLS`], else the weight of the last file that does.
fn threshold(arena: &[Dir]) -> u64 {
    let mut weights: Vec<u64> = arena
        .iter()
        .flat_map(|d| d.files.iter().map(Leaf::weight))
        .collect();
    if weights.len() <= MAX_FILE_CELLS {
        return 0;
    }
    weights.sort_unstable_by(|a, b| b.cmp(a));
    // Ties at the cut are grouped too: the cap holds, whatever the sizes.
    weights[MAX_FILE_CELLS].saturating_add(1)
}

/// A subtree as emitted, with its per-layer live bytes for the dominant layer.
struct Emitted {
    node: Node,
    by_layer: BTreeMap<usize, u64>,
}

fn emit(arena: &[Dir], at: usize, name: String, threshold: u64, agg: &mut Aggregation) -> Emitted {
    let dir = &arena[at];
    let mut node = Node {
        name,
        dir: true,
        ..Node::default()
    };
    let mut by_layer: BTreeMap<usize, u64> = BTreeMap::new();
    let mut other = Node {
        name: "other".into(),
        other: true,
        ..Node::default()
    };
    let mut other_layers: BTreeMap<usize, u64> = BTreeMap::new();
    for (child_name, &i) in &dir.children {
        let child = emit(arena, i, child_name.clone(), threshold, agg);
        for (l, b) in &child.by_layer {
            *by_layer.entry(*l).or_default() += b;
        }
        if child.node.bytes.max(child.node.wasted) < threshold {
            // A whole small directory goes into the "other" cell; its entries
            // were counted as cells on the way up, so move them to grouped.
            let (cells, others) = count_cells(&child.node);
            agg.file_cells -= cells;
            agg.other_cells -= others;
            agg.grouped_files += cells;
            agg.grouped_bytes += cell_bytes(&child.node);
            add_totals(&mut other, &child.node);
            for (l, b) in &child.by_layer {
                *other_layers.entry(*l).or_default() += b;
            }
        } else {
            add_totals(&mut node, &child.node);
            node.children.push(child.node);
        }
    }
    for leaf in &dir.files {
        let files = u64::from(leaf.live);
        if leaf.live {
            *by_layer.entry(leaf.layer).or_default() += leaf.bytes;
        }
        if leaf.weight() < threshold || leaf.weight() == 0 {
            other.bytes += leaf.bytes;
            other.files += files;
            other.wasted += leaf.wasted;
            other.growth += leaf.growth;
            if leaf.live {
                *other_layers.entry(leaf.layer).or_default() += leaf.bytes;
            }
            agg.grouped_files += files;
            agg.grouped_bytes += leaf.bytes;
            continue;
        }
        agg.file_cells += files;
        let cell = Node {
            name: leaf.name.clone(),
            bytes: leaf.bytes,
            files,
            layer: Some(leaf.layer),
            wasted: leaf.wasted,
            growth: leaf.growth,
            ..Node::default()
        };
        add_totals(&mut node, &cell);
        node.children.push(cell);
    }
    if other.files > 0 || other.bytes > 0 || other.wasted > 0 {
        other.layer = dominant(&other_layers);
        agg.other_cells += 1;
        add_totals(&mut node, &other);
        node.children.push(other);
    }
    node.layer = dominant(&by_layer);
    // Largest first: the layout and the reader both want it.
    node.children.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.wasted.cmp(&a.wasted))
            .then_with(|| a.name.cmp(&b.name))
    });
    Emitted { node, by_layer }
}

fn add_totals(into: &mut Node, n: &Node) {
    into.bytes = into.bytes.saturating_add(n.bytes);
    into.files = into.files.saturating_add(n.files);
    into.wasted = into.wasted.saturating_add(n.wasted);
    into.growth = into.growth.saturating_add(n.growth);
}

/// Entries counted as cells (file cells) and the "other" cells inside `n`.
fn count_cells(n: &Node) -> (u64, u64) {
    if n.other {
        return (0, 1);
    }
    if !n.dir {
        return (n.files, 0);
    }
    n.children.iter().fold((0, 0), |(c, o), ch| {
        let (a, b) = count_cells(ch);
        (c + a, o + b)
    })
}

/// Live bytes of the file cells inside `n` (the "other" cells' bytes are already
/// counted as grouped).
fn cell_bytes(n: &Node) -> u64 {
    if n.other {
        0
    } else if !n.dir {
        n.bytes
    } else {
        n.children.iter().map(cell_bytes).sum()
    }
}

fn dominant(by_layer: &BTreeMap<usize, u64>) -> Option<usize> {
    by_layer
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(l, _)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Duplicate, FileKind, LiveFile};

    fn report(files: &[(&str, u64, usize)], dead: &[(&str, u64)]) -> Report {
        Report {
            schema: crate::report::SCHEMA,
            image: crate::image::ImageInfo::new(
                "r".into(),
                "oci",
                crate::image::Digest::sha256_of(b""),
            ),
            totals: Default::default(),
            layers: vec![],
            history: vec![],
            duplicates: dead
                .iter()
                .map(|(p, b)| Duplicate {
                    path: p.to_string(),
                    kind: DuplicateKind::Deleted,
                    layers: vec![0],
                    by_layers: vec![1],
                    wasted_bytes: *b,
                    paths: vec![],
                    bytes: *b,
                })
                .collect(),
            merge_savings: vec![],
            advice: vec![],
            files: files
                .iter()
                .map(|(p, b, l)| LiveFile {
                    path: p.to_string(),
                    bytes: *b,
                    layer: *l,
                    kind: FileKind::File,
                })
                .collect(),
            warnings: vec![],
            packages: vec![],
            package_totals: None,
            owners: Default::default(),
        }
    }

    fn find<'a>(n: &'a Node, path: &[&str]) -> &'a Node {
        path.iter().fold(n, |n, p| {
            n.children
                .iter()
                .find(|c| c.name == *p)
                .unwrap_or_else(|| panic!("no {p} in {}", n.name))
        })
    }

    /// Directory figures are the sums of their files; a deleted path is a cell of
    /// dead bytes only, and the dominant layer is the one with the most bytes.
    #[test]
    fn directories_sum_their_files_and_dead_copies() {
        let r = report(
            &[
                ("/usr/lib/a", 100, 0),
                ("/usr/lib/b", 300, 2),
                ("/etc/c", 5, 1),
            ],
            &[("/usr/lib/gone", 70), ("/usr/lib/a", 40)],
        );
        let (root, agg) = build(&r, None);
        assert_eq!((root.bytes, root.files, root.wasted), (405, 3, 110));
        let lib = find(&root, &["usr", "lib"]);
        assert_eq!(
            (lib.bytes, lib.files, lib.wasted, lib.layer),
            (400, 2, 110, Some(2))
        );
        let gone = find(&root, &["usr", "lib", "gone"]);
        assert_eq!((gone.bytes, gone.files, gone.wasted), (0, 0, 70));
        assert_eq!(find(&root, &["usr", "lib", "a"]).wasted, 40);
        assert_eq!(agg.threshold, 0);
        assert_eq!(agg.file_cells, 3);
        // Largest first.
        assert_eq!(root.children[0].name, "usr");
    }

    /// Past the cell budget, small files fold into one "other" cell per directory
    /// and whole small directories with them; every byte and file is still counted.
    #[test]
    fn small_files_are_grouped_without_losing_a_byte() {
        let n = MAX_FILE_CELLS * 3;
        let paths: Vec<String> = (0..n).map(|i| format!("/d{}/f{i}", i % 7)).collect();
        let mut files: Vec<(&str, u64, usize)> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), 1 + (i as u64 % 50), 0))
            .collect();
        files.push(("/tiny/only", 1, 1));
        let (root, agg) = build(&report(&files, &[]), None);
        let total_bytes: u64 = files.iter().map(|f| f.1).sum();
        assert_eq!(root.bytes, total_bytes);
        assert_eq!(root.files, files.len() as u64);
        assert!(agg.threshold > 1);
        assert!(agg.file_cells <= MAX_FILE_CELLS as u64, "{agg:?}");
        assert_eq!(agg.file_cells + agg.grouped_files, files.len() as u64);
        fn walk(n: &Node, cells: &mut u64, others: &mut u64, bytes: &mut u64) {
            if n.other {
                *others += 1;
                *bytes += n.bytes;
            } else if !n.dir {
                *cells += 1;
            }
            n.children
                .iter()
                .for_each(|c| walk(c, cells, others, bytes));
        }
        let (mut cells, mut others, mut grouped) = (0, 0, 0);
        walk(&root, &mut cells, &mut others, &mut grouped);
        assert_eq!(
            (cells, others, grouped),
            (agg.file_cells, agg.other_cells, agg.grouped_bytes)
        );
        // The one-file directory under the threshold is inside the root's "other" cell.
        assert!(root.children.iter().all(|c| c.name != "tiny"));
    }

    /// Growth is all of an added file and the increase of a grown one; shrinking
    /// is not growth.
    #[test]
    fn a_deep_path_is_folded_at_the_depth_limit() {
        let deep = vec!["d"; 20_000].join("/") + "/f";
        let r = report(&[(deep.as_str(), 7, 0)], &[]);
        let (tree, _) = build(&r, None);
        let mut depth = 0;
        let mut n = &tree;
        while let Some(c) = n.children.first() {
            depth += 1;
            n = c;
        }
        assert_eq!(depth, MAX_DEPTH + 1, "64 directories and the folded cell");
        assert_eq!(n.bytes, 7);
        assert!(n.name.ends_with("d/d/f"));
        assert!(serde_json::to_string(&tree).is_ok());
    }

    #[test]
    fn growth_against_the_base() {
        let base = report(&[("/a", 10, 0), ("/b", 10, 0), ("/c", 10, 0)], &[]);
        let head = report(
            &[("/a", 15, 0), ("/b", 4, 0), ("/c", 10, 0), ("/n", 7, 1)],
            &[],
        );
        let (root, _) = build(&head, Some(&base));
        let g = |p: &str| find(&root, &[p]).growth;
        assert_eq!((g("a"), g("b"), g("c"), g("n")), (5, 0, 0, 7));
        assert_eq!(root.growth, 12);
    }
}
