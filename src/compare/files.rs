//! Files of the final filesystem, by path: added, removed, grown, shrunk, and the
//! same changes aggregated by directory (a reviewer wants "`/usr/lib/python3` +80 MB",
//! not 3,000 rows).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::CompareOptions;
use crate::report::Report;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub(crate) struct FilesDiff {
    pub added_count: usize,
    pub removed_count: usize,
    pub grown_count: usize,
    pub shrunk_count: usize,
    pub added_bytes: u64,
    pub(crate) removed_bytes: u64,
    /// The top N of each list, largest change first.
    pub added: Vec<FileChange>,
    pub removed: Vec<FileChange>,
    pub grown: Vec<FileChange>,
    pub(crate) shrunk: Vec<FileChange>,
    /// Directories whose bytes changed, largest absolute change first (top N).
    pub dirs: Vec<DirChange>,
    /// Directories with a change, before truncation to the top N.
    pub(crate) dirs_count: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct FileChange {
    pub path: String,
    pub before: u64,
    pub after: u64,
    pub delta: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub(crate) struct DirChange {
    pub dir: String,
    pub before: u64,
    pub after: u64,
    pub delta: i64,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

pub(super) fn diff(base: &Report, head: &Report, opts: &CompareOptions) -> FilesDiff {
    let live = |r: &'_ Report| -> HashMap<String, u64> {
        r.files
            .iter()
            .filter(|f| !opts.ignored(&f.path))
            .map(|f| (f.path.clone(), f.bytes))
            .collect()
    };
    let (before, after) = (live(base), live(head));
    let mut out = FilesDiff::default();
    let mut dirs: BTreeMap<String, DirChange> = BTreeMap::new();
    let mut all: Vec<&String> = before.keys().chain(after.keys()).collect();
    all.sort();
    all.dedup();
    for path in all {
        let (b, a) = (before.get(path), after.get(path));
        let (bv, av) = (b.copied().unwrap_or(0), a.copied().unwrap_or(0));
        let change = FileChange {
            path: path.clone(),
            before: bv,
            after: av,
            delta: super::signed_delta(bv, av),
        };
        let d = dirs.entry(dir_key(path, opts.dir_depth)).or_default();
        d.before = d.before.saturating_add(bv);
        d.after = d.after.saturating_add(av);
        match (b, a) {
            (None, Some(_)) => {
                d.added += 1;
                out.added_bytes = out.added_bytes.saturating_add(av);
                out.added.push(change);
            }
            (Some(_), None) => {
                d.removed += 1;
                out.removed_bytes = out.removed_bytes.saturating_add(bv);
                out.removed.push(change);
            }
            (Some(_), Some(_)) if av > bv => {
                d.changed += 1;
                out.grown.push(change);
            }
            (Some(_), Some(_)) if av < bv => {
                d.changed += 1;
                out.shrunk.push(change);
            }
            _ => {}
        }
    }
    out.added_count = out.added.len();
    out.removed_count = out.removed.len();
    out.grown_count = out.grown.len();
    out.shrunk_count = out.shrunk.len();
    for list in [
        &mut out.added,
        &mut out.removed,
        &mut out.grown,
        &mut out.shrunk,
    ] {
        list.sort_by(|a, b| {
            b.delta
                .unsigned_abs()
                .cmp(&a.delta.unsigned_abs())
                .then_with(|| a.path.cmp(&b.path))
        });
        list.truncate(opts.top);
    }
    let mut dirs: Vec<DirChange> = dirs
        .into_iter()
        .map(|(dir, mut d)| {
            d.dir = dir;
            d.delta = super::signed_delta(d.before, d.after);
            d
        })
        .filter(|d| d.delta != 0 || d.added + d.removed + d.changed > 0)
        .collect();
    dirs.sort_by(|a, b| {
        b.delta
            .unsigned_abs()
            .cmp(&a.delta.unsigned_abs())
            .then_with(|| a.dir.cmp(&b.dir))
    });
    out.dirs_count = dirs.len();
    dirs.truncate(opts.top);
    out.dirs = dirs;
    out
}

/// The parent directory of `path`, cut to `depth` components: `/usr/lib/python3/x/y.py`
/// → `/usr/lib/python3`.
fn dir_key(path: &str, depth: usize) -> String {
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let parts: Vec<&str> = parent
        .split('/')
        .filter(|s| !s.is_empty())
        .take(depth.max(1))
        .collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deep trees must collapse to a few directory rows.
    #[test]
    fn dir_key_cuts_at_depth() {
        assert_eq!(dir_key("/usr/lib/python3/x/y.py", 3), "/usr/lib/python3");
        assert_eq!(dir_key("/app/bin/app", 3), "/app/bin");
        assert_eq!(dir_key("/top.txt", 3), "/");
    }
}
