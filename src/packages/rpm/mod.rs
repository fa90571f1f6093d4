//! RPM (Fedora, RHEL, UBI, Rocky, Alma, Amazon Linux, CBL-Mariner/Azure Linux,
//! SUSE): installed-package headers read from the database bytes the scan
//! captured, without librpm, for all three backends rpm has used:
//! `rpmdb.sqlite` (rpm ≥ 4.16, with its `-wal` applied), BerkeleyDB hash
//! `Packages` (rpm ≤ 4.15) and ndb `Packages.db` (SUSE), under `/var/lib/rpm`
//! or `/usr/lib/sysimage/rpm`; and the distroless Mariner manifest, which
//! names packages without their files.
//!
//! One database is read per image: the first present of `usr/lib/sysimage/rpm`
//! then `var/lib/rpm`, sqlite before ndb before bdb (a converted database can
//! leave its predecessor behind; rpm reads only the configured one). Others
//! are listed as not read.

pub mod bdb;
pub mod header;
mod manifest;
pub mod ndb;
pub mod sqlite;
pub(crate) mod version;

use crate::scan::display_path;

use super::live::LiveDatabases;
use super::{text, Database, Declared, Ecosystem, Listed, Warnings};

pub(crate) use version::compare_evr;

/// Which backend a database path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Ndb,
    Bdb,
    Manifest,
}

/// Every rpm database path the scan captures, in the order rpm would pick.
const DATABASES: [(&[u8], Backend); 7] = [
    (b"usr/lib/sysimage/rpm/rpmdb.sqlite", Backend::Sqlite),
    (b"usr/lib/sysimage/rpm/Packages.db", Backend::Ndb),
    (b"usr/lib/sysimage/rpm/Packages", Backend::Bdb),
    (b"var/lib/rpm/rpmdb.sqlite", Backend::Sqlite),
    (b"var/lib/rpm/Packages.db", Backend::Ndb),
    (b"var/lib/rpm/Packages", Backend::Bdb),
    (
        b"var/lib/rpmmanifest/container-manifest-2",
        Backend::Manifest,
    ),
];

/// Whether `path` is one of the rpm databases (not the WAL).
pub(crate) fn is_database(path: &[u8]) -> bool {
    DATABASES.iter().any(|(p, _)| *p == path)
}

/// The packages of the image's rpm database, and the databases found.
pub(super) fn read(
    dbs: &LiveDatabases<'_>,
    warnings: &mut Warnings,
    databases: &mut Vec<Database>,
) -> Vec<Declared<'static>> {
    let mut out = Vec::new();
    let mut chosen = false;
    for (path, backend) in DATABASES {
        let Some(&(layer, content)) = dbs.files.get(path) else {
            continue;
        };
        // The manifest stands in for a database only where there is none.
        if chosen {
            databases.push(Database {
                ecosystem: Ecosystem::Rpm,
                path: display_path(path),
                read: false,
            });
            if backend != Backend::Manifest {
                warnings.push(format!(
                    "{}: another rpm database was read; this one is ignored",
                    display_path(path)
                ));
            }
            continue;
        }
        chosen = true;
        databases.push(Database {
            ecosystem: Ecosystem::Rpm,
            path: display_path(path),
            read: true,
        });
        let name = display_path(path);
        let blobs = match backend {
            Backend::Sqlite => {
                let wal_path = [path, b"-wal"].concat();
                let wal = dbs.files.get(&wal_path[..]).map(|&(_, c)| c);
                if wal.is_none() && dbs.not_captured.iter().any(|(p, _)| *p == wal_path) {
                    warnings.push(format!(
                        "{}-wal is over the size bound and was not applied: packages installed since rpm's last checkpoint may be missing",
                        name
                    ));
                }
                match sqlite::read(content, wal) {
                    Ok(rows) => {
                        if let sqlite::WalState::Unusable(why) = &rows.wal {
                            warnings.push(format!(
                                "{name}-wal not applied ({why}): packages installed since rpm's last checkpoint may be missing"
                            ));
                        }
                        Ok((rows.blobs, rows.problems))
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Backend::Bdb => bdb::read(content)
                .map(|b| (b.blobs, b.problems))
                .map_err(|e| e.to_string()),
            Backend::Ndb => ndb::read(content)
                .map(|b| (b.blobs, b.problems))
                .map_err(|e| e.to_string()),
            Backend::Manifest => {
                let (entries, bad) = manifest::parse(content);
                if bad > 0 {
                    warnings.push(format!("{name}: {bad} lines are not a package; ignored"));
                }
                out.extend(entries.into_iter().map(|e| Declared {
                    ecosystem: Ecosystem::Rpm,
                    name: text(e.name),
                    version: text(&e.evr),
                    architecture: e.arch.map(text),
                    location: None,
                    declared_bytes: e.size,
                    db_layer: layer,
                    paths: Listed::default(),
                    dir: None,
                    db_path: path.into(),
                    files_known: false,
                }));
                continue;
            }
        };
        let (blobs, problems) = match blobs {
            Ok(b) => b,
            Err(why) => {
                warnings.push(format!(
                    "{name}: {why}; not read, its files count as unowned"
                ));
                continue;
            }
        };
        for p in problems {
            warnings.push(format!("{name}: {p}; packages stored there are missing"));
        }
        let mut bad = 0usize;
        let mut first_error = None;
        for blob in blobs {
            match header::parse(&blob) {
                Ok(h) => out.push(declared(h, layer, path)),
                Err(e) => {
                    bad += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            warnings.push(format!(
                "{name}: {bad} package headers unreadable (first: {e}); left out"
            ));
        }
    }
    out
}

fn declared(h: header::Header, layer: usize, db: &[u8]) -> Declared<'static> {
    let paths = h
        .files
        .iter()
        .filter(|f| f.installed)
        .map(|f| f.path.clone().into_boxed_slice())
        .collect();
    Declared {
        ecosystem: Ecosystem::Rpm,
        name: text(&h.name),
        version: text(&h.evr()),
        // gpg-pubkey pseudo-packages have no architecture (rpm prints "(none)").
        architecture: h.arch.as_deref().map(text),
        location: None,
        declared_bytes: h.size,
        db_layer: layer,
        paths: Listed::Owned(paths),
        dir: None,
        db_path: db.into(),
        files_known: true,
    }
}
