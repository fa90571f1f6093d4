//! The live copies of the captured package databases, and the image's own
//! symlinks to resolve the paths they list.

use std::collections::{BTreeMap, HashMap};

use crate::overlay::{NodeKind, Overlay};
use crate::scan::{capture_bound, LayerScan};

/// Most symlinks followed while resolving one path (Linux's own limit).
const MAX_HOPS: usize = 40;

/// What the attribution reads: database contents as the final filesystem holds
/// them, and the symlinks of that filesystem.
#[derive(Debug, Default)]
pub(crate) struct LiveDatabases<'a> {
    /// Live database path → (layer that wrote it, its content).
    pub(super) files: BTreeMap<&'a [u8], (usize, &'a [u8])>,
    /// Live database paths whose content was not captured (over the size bound),
    /// with their size.
    pub(super) not_captured: Vec<(Vec<u8>, u64)>,
    /// Live symlink → target as stored.
    symlinks: HashMap<Vec<u8>, &'a [u8]>,
}

impl<'a> LiveDatabases<'a> {
    /// Picks, for every live database path, the captured copy the overlay kept
    /// (same layer, same size), and collects the live symlinks.
    pub(crate) fn from_scans(overlay: &Overlay<'a>, scans: &[&'a LayerScan]) -> LiveDatabases<'a> {
        let mut dbs = LiveDatabases::default();
        for (index, scan) in scans.iter().enumerate() {
            for c in &scan.captured {
                if let Some((_, node)) = overlay.get(&c.path) {
                    if node.layer == index
                        && matches!(node.kind, NodeKind::File { size, .. } if size == c.content.len() as u64)
                    {
                        // Later copies of one path in one layer come later: they win.
                        dbs.files.insert(&c.path, (index, &c.content));
                    }
                }
            }
        }
        let mut path = Vec::new();
        for (id, node) in overlay.live() {
            if node.kind == NodeKind::Symlink {
                if let Some(target) = overlay.link_target(id) {
                    dbs.symlinks.insert(overlay.paths().path(id), target);
                }
            }
            if let NodeKind::File { size, .. } = node.kind {
                overlay.paths().write(id, &mut path);
                if capture_bound(&path).is_some() && !dbs.files.contains_key(&path[..]) {
                    dbs.not_captured.push((path.clone(), size));
                }
            }
        }
        dbs
    }

    /// `path` (relative to the root, components separated by `/`) with every
    /// symlink among its parent directories followed, as the kernel would open
    /// it; the last component is not followed (a package owns its symlinks).
    /// `None` when it leaves the root through `..` past it or loops.
    pub(crate) fn resolve(&self, path: &[u8]) -> Option<Vec<u8>> {
        let mut pending: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .rev()
            .filter(|c| !c.is_empty() && *c != b".")
            .collect();
        let mut out: Vec<u8> = Vec::with_capacity(path.len());
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == b"." || c.is_empty() {
                continue;
            }
            if c == b".." {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
                continue;
            }
            let before = out.len();
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(c);
            if pending.is_empty() || self.symlinks.is_empty() {
                continue;
            }
            if let Some(target) = self.symlinks.get(&out[..]) {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                out.truncate(before);
                if target.starts_with(b"/") {
                    out.clear();
                }
                pending.extend(
                    target
                        .split(|&b| b == b'/')
                        .rev()
                        .filter(|c| !c.is_empty() && *c != b"."),
                );
            }
        }
        Some(out)
    }
}

/// Joins `rel` onto the directory `base` and normalises `.` and `..`; `None` if
/// it climbs above the root. Absolute `rel` starts from the root.
pub(super) fn join(base: &[u8], rel: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<&[u8]> = Vec::new();
    let start: &[u8] = if rel.starts_with(b"/") { b"" } else { base };
    for c in start.split(|&b| b == b'/').chain(rel.split(|&b| b == b'/')) {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            _ => out.push(c),
        }
    }
    Some(out.join(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dbs(links: &[(&'static str, &'static str)]) -> LiveDatabases<'static> {
        LiveDatabases {
            symlinks: links
                .iter()
                .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes()))
                .collect(),
            ..LiveDatabases::default()
        }
    }

    #[test]
    fn merged_usr_links_resolve_parents_but_not_the_last_component() {
        let d = dbs(&[
            ("lib", "usr/lib"),
            ("bin", "/usr/bin"),
            ("usr/bin/sh", "dash"),
        ]);
        let r = |p: &str| {
            d.resolve(p.as_bytes())
                .map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(
            r("/lib/x86_64-linux-gnu/libc.so.6").unwrap(),
            "usr/lib/x86_64-linux-gnu/libc.so.6"
        );
        assert_eq!(r("/bin/sh").unwrap(), "usr/bin/sh");
        assert_eq!(r("/usr/share/./doc/../doc").unwrap(), "usr/share/doc");
        assert_eq!(r("/.").unwrap(), "");
    }

    #[test]
    fn symlink_loops_give_up() {
        let d = dbs(&[("a", "b"), ("b", "a")]);
        assert_eq!(d.resolve(b"a/x"), None);
    }

    #[test]
    fn join_refuses_to_climb_above_the_root() {
        assert_eq!(
            join(b"opt/venv/lib", b"../../bin/pip").unwrap(),
            b"opt/bin/pip"
        );
        assert_eq!(join(b"opt", b"../../../etc/passwd"), None);
        assert_eq!(join(b"opt", b"/etc/x").unwrap(), b"etc/x");
    }
}
