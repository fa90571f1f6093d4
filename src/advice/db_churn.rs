//! `package-db-churn`: a package manager rewrites its whole database in every
//! step that installs or removes a package (rpm's `rpmdb.sqlite` or `Packages`,
//! dpkg's `status`, apt's `extended_states`, apk's `installed`), so each such
//! layer stores the database again; all copies but the last are dead weight on
//! every pull. The figure is the dead copies' bytes, from the duplicate rows.

use std::collections::BTreeMap;

use crate::human::{human_bytes, layer_list};
use crate::report::{AdviceCode, DuplicateKind, Report};

use super::{Advice, Commands};

/// The package manager whose database `path` belongs to.
fn manager(path: &str) -> Option<&'static str> {
    const FILES: &[(&str, &str)] = &[
        ("/var/lib/dpkg/status", "dpkg"),
        ("/var/lib/dpkg/status-old", "dpkg"),
        ("/var/lib/apt/extended_states", "dpkg"),
        ("/lib/apk/db/installed", "apk"),
        ("/usr/lib/apk/db/installed", "apk"),
        ("/var/lib/rpmmanifest/container-manifest-2", "rpm"),
    ];
    if let Some((_, m)) = FILES.iter().find(|(p, _)| *p == path) {
        return Some(m);
    }
    // Every file of rpm's database directory: sqlite and its WAL, or the
    // Berkeley DB `Packages` with its index files.
    ["/var/lib/rpm/", "/usr/lib/sysimage/rpm/"]
        .iter()
        .any(|d| path.strip_prefix(d).is_some_and(|r| !r.contains('/')))
        .then_some("rpm")
}

#[derive(Default)]
struct Churn {
    bytes: u64,
    copies: u64,
    layers: Vec<usize>,
    paths: Vec<String>,
}

pub(super) fn advise(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let mut by: BTreeMap<&str, Churn> = BTreeMap::new();
    for d in &report.duplicates {
        if !matches!(
            d.kind,
            DuplicateKind::Overwritten | DuplicateKind::UnchangedCopy
        ) || d.wasted_bytes == 0
        {
            continue;
        }
        let Some(m) = manager(&d.path) else { continue };
        let c = by.entry(m).or_default();
        c.bytes += d.wasted_bytes;
        // One row per dead copy: the layers that wrote it and the one that wrote it again.
        c.copies += 1;
        c.layers.extend(d.layers.iter().chain(&d.by_layers));
        if !c.paths.contains(&d.path) {
            c.paths.push(d.path.clone());
        }
    }
    by.into_iter()
        .map(|(m, mut c)| {
            c.layers.sort_unstable();
            c.layers.dedup();
            let list = layer_list(&c.layers);
            Advice {
                title: format!(
                    "{m}'s package database is written again by {} layers ({list}): {} of dead copies",
                    c.layers.len(),
                    human_bytes(c.bytes)
                ),
                suggestion: fix(m),
                paths: c.paths,
                ..cmds.item(AdviceCode::PackageDbChurn, &c.layers, c.bytes, c.copies)
            }
        })
        .collect()
}

fn fix(manager: &str) -> String {
    let install = match manager {
        "rpm" => "`dnf install -y a b c && dnf clean all` (or microdnf, yum, zypper)",
        "apk" => "`apk add --no-cache a b c`",
        _ => "`apt-get update && apt-get install -y --no-install-recommends a b c && rm -rf /var/lib/apt/lists/*`",
    };
    format!(
        "Every step that installs or removes packages stores {manager}'s whole database again. \
         Install everything in one RUN ({install}), or install in a builder stage and \
         COPY --from it only what the final image needs."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_paths_name_their_manager() {
        assert_eq!(manager("/var/lib/rpm/rpmdb.sqlite"), Some("rpm"));
        assert_eq!(manager("/usr/lib/sysimage/rpm/Packages.db"), Some("rpm"));
        assert_eq!(manager("/var/lib/rpm/Basenames"), Some("rpm"));
        assert_eq!(manager("/var/lib/dpkg/status"), Some("dpkg"));
        assert_eq!(manager("/var/lib/apt/extended_states"), Some("dpkg"));
        assert_eq!(manager("/lib/apk/db/installed"), Some("apk"));
        assert_eq!(manager("/var/lib/rpm/x/y"), None);
        assert_eq!(manager("/var/lib/dpkg/info/x.list"), None);
    }
}
