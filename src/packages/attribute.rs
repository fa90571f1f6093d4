//! Owners for live paths: every database's claims resolved through the image's
//! symlinks, collisions settled by specificity (see the module header of
//! `packages`), unlisted `.pyc` files given to their source's owner, and the
//! figures summed so that packages + unowned == live.

use std::collections::BTreeMap;

use crate::overlay::{NodeKind, Overlay};
use crate::scan::{capture_bound, display_path};

use super::live::LiveDatabases;
use super::{
    apk, dpkg, node, python, rpm, Attribution, Database, Declared, Ecosystem, EcosystemTotal,
    FileOwners, Package, PackageTotals, Warnings,
};

/// How specific a claim is: a higher rank wins a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// An npm package's directory subtree.
    NpmDir = 1,
    /// A system database lists a path that reaches the file through a symlink.
    SystemViaLink = 2,
    /// A system database lists the file's own path.
    System = 3,
    /// A language database (pip) lists it: installed over whatever was there.
    Language = 4,
}

#[derive(Debug, Clone, Copy)]
struct Owner {
    /// Its place among the declared packages.
    package: u32,
    rank: Rank,
    compiled: bool,
}

/// The owner of every path, indexed by path id: 8 bytes a path (a hash map
/// keyed by id cost three times that).
type Owners = Vec<Option<Owner>>;

/// Attributes every live non-directory entry of `overlay` to at most one package.
pub(crate) fn attribute(overlay: &Overlay<'_>, dbs: &LiveDatabases<'_>) -> Attribution {
    let mut warnings = Warnings::default();
    let mut databases = Vec::new();
    for (path, size) in &dbs.not_captured {
        // rpm's WAL is reported by the rpm reader, with what it means.
        if path.ends_with(b"-wal") {
            continue;
        }
        let bound = capture_bound(path).unwrap_or(0);
        warnings.push(format!(
            "{} is {size} bytes, over the {bound}-byte bound for a package database: not read, its files count as unowned",
            display_path(path)
        ));
        let eco = system_db(path).or(rpm::is_database(path).then_some(Ecosystem::Rpm));
        if let Some(eco) = eco {
            databases.push(Database {
                ecosystem: eco,
                path: display_path(path),
                read: false,
            });
        }
    }
    for path in dbs.files.keys() {
        if let Some(eco) = system_db(path) {
            databases.push(Database {
                ecosystem: eco,
                path: display_path(path),
                read: true,
            });
        }
    }

    let mut system = dpkg::read(dbs, &mut warnings);
    system.extend(apk::read(dbs, &mut warnings));
    system.extend(rpm::read(dbs, &mut warnings, &mut databases));
    let mut language = python::read(dbs, &mut warnings);
    language.extend(node::read(dbs, &mut warnings));
    let order = |a: &Declared<'_>, b: &Declared<'_>| {
        (a.ecosystem, &a.name, &a.version, &a.location).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.location,
        ))
    };
    system.sort_by(order);
    language.sort_by(order);

    // Keyed by path id: a claim costs its path's length once, at the lookup.
    let mut owners: Owners = vec![None; overlay.paths().len()];
    for (i, p) in system.iter().enumerate() {
        p.paths.each(|path| {
            let Some(resolved) = dbs.resolve(path) else {
                return;
            };
            let rank = if resolved[..] == path[..] {
                Rank::System
            } else {
                Rank::SystemViaLink
            };
            claim(overlay, &mut owners, &resolved, i, rank);
        });
    }
    // A language database that a system package installed describes that system
    // package's files: counting it again would count them twice.
    let (language, demoted): (Vec<Declared<'_>>, Vec<Declared<'_>>) =
        language.into_iter().partition(|p| {
            overlay
                .paths()
                .find(&p.db_path)
                .is_none_or(|id| owners[id.index()].is_none())
        });
    drop(demoted);
    let base = system.len();
    for (i, p) in language.iter().enumerate() {
        p.paths.each(|path| {
            if let Some(resolved) = dbs.resolve(path) {
                claim(overlay, &mut owners, &resolved, base + i, Rank::Language);
            }
        });
    }
    // npm directories, deepest first, so a nested package keeps its own subtree.
    let mut npm: Vec<(usize, &[u8])> = language
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.dir.as_deref().map(|d| (base + i, d)))
        .collect();
    npm.sort_by_key(|(_, d)| std::cmp::Reverse(d.len()));
    for (package, dir) in npm {
        if dir.is_empty() {
            // Not a package directory: it would claim the whole image.
            continue;
        }
        for (key, node) in overlay.live_below(dir) {
            let owner = &mut owners[key.index()];
            if !node.kind.is_dir() && owner.is_none() {
                *owner = Some(Owner {
                    package: index(package),
                    rank: Rank::NpmDir,
                    compiled: false,
                });
            }
        }
    }
    // Byte-compiled files nobody lists follow the `.py` they were compiled from.
    let mut compiled = Vec::new();
    for (key, node) in overlay.live() {
        if matches!(node.kind, NodeKind::File { .. })
            && overlay.paths().name(key).ends_with(b".pyc")
            && owners[key.index()].is_none()
        {
            let owner = pyc_source(&overlay.paths().path(key))
                .and_then(|src| overlay.paths().find(&src))
                .and_then(|src| owners[src.index()].as_ref());
            if let Some(owner) = owner {
                compiled.push((
                    key,
                    Owner {
                        compiled: true,
                        ..*owner
                    },
                ));
            }
        }
    }
    for (key, owner) in compiled {
        owners[key.index()] = Some(owner);
    }

    let decls: Vec<&Declared<'_>> = system.iter().chain(language.iter()).collect();
    let mut stats: Vec<Stats> = (0..decls.len()).map(|_| Stats::default()).collect();
    let mut unowned_bytes = 0u64;
    let mut unowned_files = 0u64;
    // The same entries, in the same order, as the report's `files`: declared
    // indices first, ranks once the packages are ranked (in place, so a million
    // files hold one list of 8 bytes each, not two).
    let mut file_owners: Vec<Option<u32>> = Vec::new();
    for (key, node) in overlay.live() {
        let size = match node.kind {
            NodeKind::Dir => continue,
            NodeKind::File { size, .. } => size,
            _ => 0,
        };
        let owner = owners[key.index()];
        file_owners.push(owner.map(|o| o.package));
        match owner {
            Some(o) => {
                let s = &mut stats[o.package as usize];
                s.bytes += size;
                s.files += 1;
                if o.compiled {
                    s.compiled += size;
                }
                *s.per_layer.entry(node.layer).or_default() += size;
            }
            None => {
                unowned_bytes += size;
                unowned_files += 1;
            }
        }
    }

    let mut packages: Vec<(usize, Package)> = decls
        .iter()
        .zip(stats)
        .enumerate()
        .map(|(i, (d, s))| {
            // The most bytes wins; among equals the lowest layer (the map is ordered).
            let layer = s
                .per_layer
                .iter()
                .fold(None, |best: Option<(usize, u64)>, (&l, &b)| match best {
                    Some((_, bb)) if bb >= b => best,
                    _ => Some((l, b)),
                })
                .filter(|&(_, b)| b > 0)
                .map_or(d.db_layer, |(l, _)| l);
            let package = Package {
                ecosystem: d.ecosystem,
                name: d.name.clone(),
                version: d.version.clone(),
                architecture: d.architecture.clone(),
                location: d.location.clone(),
                live_bytes: s.bytes,
                declared_bytes: d.declared_bytes,
                files: s.files,
                compiled_bytes: s.compiled,
                layer,
                files_known: d.files_known,
            };
            (i, package)
        })
        .collect();
    packages.sort_by(|(_, a), (_, b)| {
        b.live_bytes
            .cmp(&a.live_bytes)
            .then_with(|| a.key().cmp(&b.key()))
    });
    // Owners named by their place in the ranked list, as the report holds it.
    let mut ranked = vec![0u32; packages.len()];
    for (rank, (declared, _)) in packages.iter().enumerate() {
        ranked[*declared] = u32::try_from(rank).unwrap_or(u32::MAX);
    }
    for o in file_owners.iter_mut().flatten() {
        *o = ranked.get(*o as usize).copied().unwrap_or(u32::MAX);
    }
    let owners = FileOwners::new(file_owners);
    let packages: Vec<Package> = packages.into_iter().map(|(_, p)| p).collect();

    let mut per_eco: BTreeMap<Ecosystem, EcosystemTotal> = BTreeMap::new();
    for p in &packages {
        let t = per_eco.entry(p.ecosystem).or_insert(EcosystemTotal {
            ecosystem: p.ecosystem,
            packages: 0,
            live_bytes: 0,
            files: 0,
        });
        t.packages += 1;
        t.live_bytes += p.live_bytes;
        t.files += p.files;
    }
    Attribution {
        packages,
        totals: PackageTotals {
            ecosystems: per_eco.into_values().collect(),
            unowned_bytes,
            unowned_files,
            databases,
        },
        warnings: warnings.finish(),
        owners,
    }
}

/// Gives the live non-directory entry at `key` to `package` unless a claim at
/// least as specific holds it.
fn claim(overlay: &Overlay<'_>, owners: &mut Owners, key: &[u8], package: usize, rank: Rank) {
    let Some((key, node)) = overlay.get(key) else {
        return;
    };
    let owner = &mut owners[key.index()];
    if node.kind.is_dir() || owner.is_some_and(|o| o.rank >= rank) {
        return;
    }
    *owner = Some(Owner {
        package: index(package),
        rank,
        compiled: false,
    });
}

/// A declared package's place as the 4 bytes an owner keeps (an image declares
/// far fewer than 4 billion packages; one that claims more saturates).
fn index(package: usize) -> u32 {
    u32::try_from(package).unwrap_or(u32::MAX)
}

#[derive(Debug, Default)]
struct Stats {
    bytes: u64,
    files: u64,
    compiled: u64,
    per_layer: BTreeMap<usize, u64>,
}

/// Which system database a captured path is, for the `databases` list.
fn system_db(path: &[u8]) -> Option<Ecosystem> {
    if path == b"var/lib/dpkg/status" || path.starts_with(b"var/lib/dpkg/status.d/") {
        Some(Ecosystem::Deb)
    } else if path.ends_with(b"apk/db/installed") {
        Some(Ecosystem::Apk)
    } else {
        None
    }
}

/// `d/__pycache__/m.cpython-311.opt-1.pyc` → `d/m.py`; `d/m.pyc` → `d/m.py`.
fn pyc_source(path: &[u8]) -> Option<Vec<u8>> {
    let slash = path.iter().rposition(|&b| b == b'/')?;
    let (dir, name) = (&path[..slash], &path[slash + 1..]);
    if let Some(parent) = dir.strip_suffix(b"__pycache__") {
        let stem = name.split(|&b| b == b'.').next()?;
        let mut src = parent.to_vec();
        src.extend_from_slice(stem);
        src.extend_from_slice(b".py");
        Some(src)
    } else {
        let mut src = path.to_vec();
        src.pop();
        Some(src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyc_sources() {
        assert_eq!(
            pyc_source(b"a/__pycache__/m.cpython-311.pyc").unwrap(),
            b"a/m.py"
        );
        assert_eq!(pyc_source(b"a/m.pyc").unwrap(), b"a/m.py");
    }
}
