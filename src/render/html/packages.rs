//! The "by package" view's data: every package with its live bytes and, when the
//! report was built in this run, its largest files; unowned files likewise. The
//! page draws it as a table and as a treemap of package → files coloured by
//! ecosystem. Pure.
//!
//! Bounded like the directory treemap: at most [`MAX_FILE_ROWS`] files are listed
//! over all packages, the largest; the rest are counted per package (`ob`/`of`),
//! so a 200,000-file image ships a few thousand rows and every byte is still
//! accounted for.

use serde::Serialize;

use crate::packages::{Ecosystem, Package};
use crate::report::{FileKind, Report};

/// At most this many files are listed over all packages and the unowned group.
pub(crate) const MAX_FILE_ROWS: usize = 3000;

/// The view's data. Short keys: the page may hold thousands of rows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct PackageView {
    /// Whether files are listed: a report read back from JSON knows each
    /// package's sums, not which files are whose (and an image without
    /// packages has no package map to list them in).
    pub(crate) files_known: bool,
    /// Files under this many bytes are counted, not listed (0: all are listed,
    /// except empty files and links, which have no area).
    pub(crate) threshold: u64,
    /// Ranked as the report ranks them: live bytes, largest first.
    pub(crate) packages: Vec<PackageRow>,
    pub(crate) unowned: Group,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct PackageRow {
    #[serde(rename = "e")]
    pub(crate) ecosystem: Ecosystem,
    #[serde(rename = "n")]
    pub(crate) name: String,
    #[serde(rename = "v")]
    pub(crate) version: String,
    /// Where a language package is installed (one name may be installed twice).
    #[serde(rename = "at", skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<String>,
    /// The layer that wrote most of its bytes.
    #[serde(rename = "l")]
    pub(crate) layer: usize,
    /// False when its database does not list files: its bytes are not measured.
    #[serde(rename = "k")]
    pub(crate) files_known: bool,
    #[serde(flatten)]
    pub(crate) group: Group,
}

/// Live bytes and entries of a package (or of the unowned files), and its
/// largest files.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub(crate) struct Group {
    #[serde(rename = "b")]
    pub(crate) bytes: u64,
    #[serde(rename = "f")]
    pub(crate) files: u64,
    /// Listed files: path, live bytes, layer; largest first.
    #[serde(rename = "c", skip_serializing_if = "Vec::is_empty")]
    pub(crate) listed: Vec<(String, u64, usize)>,
    /// Bytes and entries not listed (under the threshold, empty, links).
    #[serde(rename = "ob", skip_serializing_if = "is_zero")]
    pub(crate) other_bytes: u64,
    #[serde(rename = "of", skip_serializing_if = "is_zero")]
    pub(crate) other_files: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The view of `report`; `None` when packages were not attributed (a
/// manifest-only report, or one saved before attribution existed).
pub(crate) fn view(report: &Report) -> Option<PackageView> {
    let totals = report.package_totals.as_ref()?;
    // With no package there is no package map to draw files in.
    let owners = report
        .owners
        .for_files(report.files.len())
        .filter(|_| !report.packages.is_empty());
    let mut groups: Vec<Group> = vec![Group::default(); report.packages.len()];
    let mut unowned = Group::default();
    let mut threshold = 0;
    if let Some(owners) = owners {
        threshold = cut(report);
        for (file, owner) in report.files.iter().zip(owners) {
            let g = match owner.and_then(|o| groups.get_mut(o as usize)) {
                Some(g) => g,
                None => &mut unowned,
            };
            g.bytes += file.bytes;
            g.files += 1;
            if file.kind == FileKind::File && file.bytes > 0 && file.bytes >= threshold {
                g.listed.push((file.path.clone(), file.bytes, file.layer));
            } else {
                g.other_bytes += file.bytes;
                g.other_files += 1;
            }
        }
        for g in groups.iter_mut().chain([&mut unowned]) {
            g.listed
                .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
    } else {
        // Sums only: what the report says, nothing listed.
        for (g, p) in groups.iter_mut().zip(&report.packages) {
            *g = sums(p);
        }
        unowned = Group {
            bytes: totals.unowned_bytes,
            files: totals.unowned_files,
            other_bytes: totals.unowned_bytes,
            other_files: totals.unowned_files,
            ..Group::default()
        };
    }
    let packages = report
        .packages
        .iter()
        .zip(groups)
        .map(|(p, group)| PackageRow {
            ecosystem: p.ecosystem,
            name: p.name.clone(),
            version: p.version.clone(),
            location: p.location.clone(),
            layer: p.layer,
            files_known: p.files_known,
            group,
        })
        .collect();
    Some(PackageView {
        files_known: owners.is_some(),
        threshold,
        packages,
        unowned,
    })
}

fn sums(p: &Package) -> Group {
    Group {
        bytes: p.live_bytes,
        files: p.files,
        other_bytes: p.live_bytes,
        other_files: p.files,
        ..Group::default()
    }
}

/// The smallest size a file needs to be listed: 0 when every file with bytes
/// fits under [`MAX_FILE_ROWS`], else one more than the largest size left out
/// (ties at the cut are all left out, so the cap holds whatever the sizes).
fn cut(report: &Report) -> u64 {
    let mut sizes: Vec<u64> = report
        .files
        .iter()
        .filter(|f| f.kind == FileKind::File && f.bytes > 0)
        .map(|f| f.bytes)
        .collect();
    if sizes.len() <= MAX_FILE_ROWS {
        return 0;
    }
    sizes.select_nth_unstable_by(MAX_FILE_ROWS, |a, b| b.cmp(a));
    sizes[MAX_FILE_ROWS].saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packages::{FileOwners, PackageTotals};
    use crate::report::LiveFile;

    fn package(name: &str, eco: Ecosystem, bytes: u64, files: u64) -> Package {
        Package {
            ecosystem: eco,
            name: name.into(),
            version: "1".into(),
            architecture: None,
            location: None,
            live_bytes: bytes,
            declared_bytes: None,
            files,
            compiled_bytes: 0,
            layer: 0,
            files_known: true,
        }
    }

    /// `files` (path, bytes, owner) owned by `a` (deb) and `b` (pypi).
    fn report(files: &[(&str, u64, Option<u32>)], owners_known: bool) -> Report {
        let sum = |o: Option<u32>| -> (u64, u64) {
            let of: Vec<_> = files.iter().filter(|f| f.2 == o).collect();
            (of.iter().map(|f| f.1).sum(), of.len() as u64)
        };
        let (a, b, u) = (sum(Some(0)), sum(Some(1)), sum(None));
        let mut r = crate::advice::testing::report(&[]);
        r.files = files
            .iter()
            .map(|(p, b, _)| LiveFile {
                path: p.to_string(),
                bytes: *b,
                layer: 0,
                kind: if *b == 0 {
                    FileKind::Symlink
                } else {
                    FileKind::File
                },
            })
            .collect();
        r.packages = vec![
            package("a", Ecosystem::Deb, a.0, a.1),
            package("b", Ecosystem::Pypi, b.0, b.1),
        ];
        r.package_totals = Some(PackageTotals {
            unowned_bytes: u.0,
            unowned_files: u.1,
            ..PackageTotals::default()
        });
        if owners_known {
            r.owners = FileOwners::new(files.iter().map(|f| f.2).collect());
        }
        r
    }

    /// Each package lists its files, largest first; links have no area and are
    /// counted, not listed; the unowned group holds the rest.
    #[test]
    fn packages_list_their_files() {
        let r = report(
            &[
                ("/usr/bin/a", 100, Some(0)),
                ("/usr/lib/a.so", 300, Some(0)),
                ("/usr/lib/a.so.1", 0, Some(0)),
                ("/venv/b.py", 50, Some(1)),
                ("/etc/hostname", 9, None),
            ],
            true,
        );
        let v = view(&r).unwrap();
        assert!(v.files_known);
        assert_eq!(v.threshold, 0);
        let a = &v.packages[0].group;
        assert_eq!(
            (a.bytes, a.files, a.other_files, a.other_bytes),
            (400, 3, 1, 0)
        );
        assert_eq!(
            a.listed,
            [
                ("/usr/lib/a.so".to_string(), 300, 0),
                ("/usr/bin/a".to_string(), 100, 0)
            ]
        );
        assert_eq!(v.packages[1].group.listed.len(), 1);
        assert_eq!((v.unowned.bytes, v.unowned.files), (9, 1));
        assert_eq!(v.unowned.listed[0].0, "/etc/hostname");
    }

    /// Past the row budget the smallest files are counted per package, not
    /// listed: the cap holds and every byte and file is still in its group.
    #[test]
    fn listing_is_bounded_without_losing_a_byte() {
        let n = MAX_FILE_ROWS * 3;
        let paths: Vec<String> = (0..n).map(|i| format!("/f{i}")).collect();
        let files: Vec<(&str, u64, Option<u32>)> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let owner = [Some(0), Some(1), None][i % 3];
                (p.as_str(), 1 + (i as u64 % 40), owner)
            })
            .collect();
        let r = report(&files, true);
        let v = view(&r).unwrap();
        assert!(v.threshold > 1);
        let groups: Vec<&Group> = v
            .packages
            .iter()
            .map(|p| &p.group)
            .chain([&v.unowned])
            .collect();
        let listed: usize = groups.iter().map(|g| g.listed.len()).sum();
        assert!(listed <= MAX_FILE_ROWS, "{listed} rows");
        for (g, p) in groups.iter().zip(&r.packages) {
            let listed: u64 = g.listed.iter().map(|f| f.1).sum();
            assert_eq!(listed + g.other_bytes, p.live_bytes);
            assert_eq!(g.listed.len() as u64 + g.other_files, p.files);
        }
        let total: u64 = groups.iter().map(|g| g.bytes).sum();
        assert_eq!(total, files.iter().map(|f| f.1).sum::<u64>());
    }

    /// A report read back from JSON knows the sums, not the files: the view
    /// says so and lists none.
    #[test]
    fn a_saved_report_gives_sums_only() {
        let r = report(&[("/a", 10, Some(0)), ("/b", 5, None)], false);
        let v = view(&r).unwrap();
        assert!(!v.files_known);
        assert_eq!(
            (v.packages[0].group.bytes, v.packages[0].group.other_bytes),
            (10, 10)
        );
        assert!(v.packages.iter().all(|p| p.group.listed.is_empty()));
        assert_eq!(v.unowned.bytes, 5);
    }
}
