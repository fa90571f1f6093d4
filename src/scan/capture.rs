//! Which small files the scan keeps whole: the package databases that
//! `packages::attribute` reads later. Chosen by path pattern and bounded in size,
//! so capturing costs one comparison per regular file and never more memory than
//! [`MAX_CAPTURED_PER_LAYER`]. The scan reads each member once anyway; keeping
//! these bytes spares a second read of the layer.

/// Most bytes of captured contents one layer may keep. Real databases of a large
/// Debian image total a few MiB; beyond this a layer is hostile and the rest of
/// its databases are left out (the attribution then says which were not read).
pub(super) const MAX_CAPTURED_PER_LAYER: u64 = 256 << 20;

/// The content of one captured file, as the layer stored it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Captured {
    /// Normalised like [`super::Record::path`].
    pub path: Box<[u8]>,
    pub content: Box<[u8]>,
}

/// The size bound for `path` if it is a package database the attribution reads,
/// or `None` if the scan should not keep it.
pub(crate) fn capture_bound(path: &[u8]) -> Option<u64> {
    const MIB: u64 = 1 << 20;
    let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => return None,
    };
    match name {
        b"status" if parent == b"var/lib/dpkg" => Some(32 * MIB),
        b"diversions" if parent == b"var/lib/dpkg" => Some(4 * MIB),
        b"installed" if parent == b"lib/apk/db" || parent == b"usr/lib/apk/db" => Some(32 * MIB),
        b"RECORD" if parent.ends_with(b".dist-info") && in_site_packages(parent) => Some(16 * MIB),
        b"installed-files.txt" if parent.ends_with(b".egg-info") && in_site_packages(parent) => {
            Some(8 * MIB)
        }
        b"package.json" if is_node_package_dir(parent) => Some(MIB),
        _ if parent == b"var/lib/dpkg/status.d" => Some(8 * MIB),
        _ if parent == b"var/lib/dpkg/info" && name.ends_with(b".list") => Some(32 * MIB),
        _ => rpm_bound(parent, name),
    }
}

/// The rpm databases (sqlite with its WAL, BerkeleyDB, NDB) and Mariner's manifest.
fn rpm_bound(parent: &[u8], name: &[u8]) -> Option<u64> {
    const MIB: u64 = 1 << 20;
    if parent == b"var/lib/rpm" || parent == b"usr/lib/sysimage/rpm" {
        return match name {
            // A full Fedora workstation's database is ~150 MiB; containers far less.
            b"rpmdb.sqlite" | b"rpmdb.sqlite-wal" | b"Packages" | b"Packages.db" => Some(192 * MIB),
            _ => None,
        };
    }
    (parent == b"var/lib/rpmmanifest" && name == b"container-manifest-2").then_some(4 * MIB)
}

fn in_site_packages(dir: &[u8]) -> bool {
    dir.split(|&b| b == b'/')
        .any(|c| c == b"site-packages" || c == b"dist-packages")
}

/// `…node_modules/NAME` or `…node_modules/@SCOPE/NAME`.
pub(crate) fn is_node_package_dir(dir: &[u8]) -> bool {
    let mut parts = dir.rsplit(|&b| b == b'/');
    let Some(name) = parts.next() else {
        return false;
    };
    if name.is_empty() || name.starts_with(b".") || name.starts_with(b"@") {
        return false;
    }
    match parts.next() {
        Some(b"node_modules") => true,
        Some(scope) if scope.len() > 1 && scope.starts_with(b"@") => {
            parts.next() == Some(b"node_modules")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_are_recognised_and_other_files_are_not() {
        for p in [
            "var/lib/dpkg/status",
            "var/lib/dpkg/diversions",
            "var/lib/dpkg/info/libc6:amd64.list",
            "var/lib/dpkg/status.d/base-files",
            "lib/apk/db/installed",
            "opt/venv/lib/python3.11/site-packages/six-1.17.0.dist-info/RECORD",
            "usr/lib/python3/dist-packages/x-1.egg-info/installed-files.txt",
            "srv/web/node_modules/ms/package.json",
            "srv/web/node_modules/@types/node/package.json",
            "a/node_modules/b/node_modules/c/package.json",
            "var/lib/rpm/rpmdb.sqlite",
            "var/lib/rpm/rpmdb.sqlite-wal",
            "usr/lib/sysimage/rpm/Packages.db",
            "var/lib/rpm/Packages",
            "var/lib/rpmmanifest/container-manifest-2",
        ] {
            assert!(capture_bound(p.as_bytes()).is_some(), "{p}");
        }
        for p in [
            "status",
            "var/lib/dpkg/info/libc6.md5sums",
            "var/lib/dpkg/info/x/y.list",
            "usr/lib/python3.11/six-1.dist-info/RECORD",
            "srv/web/package.json",
            "srv/web/node_modules/@types/package.json",
            "srv/web/node_modules/ms/lib/package.json",
            "etc/status",
            "var/lib/rpm/rpmdb.sqlite-shm",
            "var/lib/rpm/Name",
        ] {
            assert!(capture_bound(p.as_bytes()).is_none(), "{p}");
        }
    }
}
