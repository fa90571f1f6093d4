//! Debian and Ubuntu: `/var/lib/dpkg/status` with `info/NAME[:ARCH].list`,
//! distroless `status.d/NAME` with `status.d/NAME.md5sums`, and `diversions`.
//! Formats: deb-status(5), dpkg's `info/*.list` (one path per line), deb-md5sums(5),
//! dpkg-divert(1) (the `diversions` file holds from, to, package line triples).

use std::collections::HashMap;
use std::rc::Rc;

use crate::scan::display_path;

use super::live::{join, LiveDatabases};
use super::{text, Declared, Ecosystem, Listed, Warnings};

const STATUS: &[u8] = b"var/lib/dpkg/status";
const INFO: &[u8] = b"var/lib/dpkg/info/";
const STATUS_D: &[u8] = b"var/lib/dpkg/status.d/";
const DIVERSIONS: &[u8] = b"var/lib/dpkg/diversions";

/// Diverted paths by the path they divert (normalised).
type Diversions = HashMap<Box<[u8]>, Diversion>;

/// A diverted path: other packages' copies of it live at `to`.
#[derive(Debug)]
struct Diversion {
    to: Box<[u8]>,
    /// The package that diverted it (`:` for a local diversion).
    by: Box<[u8]>,
}

/// One package's file list as the scan captured it: `info/NAME.list` (a path a
/// line) or distroless `status.d/NAME.md5sums` (a sum and a path a line).
#[derive(Debug)]
pub(super) struct FileList<'c> {
    content: &'c [u8],
    md5sums: bool,
    /// The package's name as the database spells it (diversions name it so).
    package: &'c [u8],
    diversions: Rc<Diversions>,
}

impl FileList<'_> {
    /// Calls `f` with every listed path, normalised and moved through the
    /// diversions; lines that climb above the root are skipped.
    pub(super) fn each(&self, mut f: impl FnMut(&[u8])) {
        for line in lines(self.content) {
            let path = if self.md5sums {
                md5sums_path(line)
            } else {
                Some(line).filter(|l| !l.is_empty())
            };
            if let Some(path) = path.and_then(|p| divert(self.package, p, &self.diversions)) {
                f(&path);
            }
        }
    }
}

/// Every dpkg package the live databases declare, its file list read in place.
pub(super) fn read<'c>(dbs: &LiveDatabases<'c>, warnings: &mut Warnings) -> Vec<Declared<'c>> {
    let diversions = Rc::new(
        dbs.files
            .get(DIVERSIONS)
            .map(|(_, c)| diversions(c, warnings))
            .unwrap_or_default(),
    );
    let mut out = Vec::new();
    if let Some(&(layer, content)) = dbs.files.get(STATUS) {
        for stanza in stanzas(content, warnings, STATUS) {
            let Some(mut p) = declared(&stanza, layer, STATUS) else {
                continue;
            };
            if !stanza.installed {
                continue;
            }
            // The raw bytes name the files: the shown name may have been cleaned.
            let raw = stanza.package.unwrap_or_default();
            let mut plain = INFO.to_vec();
            plain.extend_from_slice(raw);
            let arch_list = stanza.architecture.map(|a| {
                let mut l = plain.clone();
                l.push(b':');
                l.extend_from_slice(a);
                l.extend_from_slice(b".list");
                l
            });
            plain.extend_from_slice(b".list");
            let list = arch_list
                .and_then(|l| dbs.files.get_key_value(&l[..]))
                .or_else(|| dbs.files.get_key_value(&plain[..]));
            if let Some((path, &(list_layer, content))) = list {
                p.db_layer = list_layer;
                p.db_path = (*path).into();
                p.paths = Listed::Dpkg(FileList {
                    content,
                    md5sums: false,
                    package: raw,
                    diversions: Rc::clone(&diversions),
                });
            }
            out.push(p);
        }
    }
    // Distroless writes one stanza file per package and its md5sums beside it.
    for (path, &(layer, content)) in dbs.files.range(STATUS_D..) {
        if !path.starts_with(STATUS_D) {
            break;
        }
        if path.ends_with(b".md5sums") {
            continue;
        }
        for stanza in stanzas(content, warnings, path) {
            let Some(mut p) = declared(&stanza, layer, path) else {
                continue;
            };
            let mut sums = path.to_vec();
            sums.extend_from_slice(b".md5sums");
            if let Some(&(_, sums)) = dbs.files.get(&sums[..]) {
                p.paths = Listed::Dpkg(FileList {
                    content: sums,
                    md5sums: true,
                    package: stanza.package.unwrap_or_default(),
                    diversions: Rc::clone(&diversions),
                });
            }
            out.push(p);
        }
    }
    out
}

fn lines(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    content
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// `d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/x` → the path.
fn md5sums_path(line: &[u8]) -> Option<&[u8]> {
    let at = line.iter().position(|&b| b == b' ')?;
    let rest = &line[at..];
    let start = rest.iter().position(|&b| b != b' ')?;
    Some(&rest[start..])
}

/// The path a package's listed `path` really occupies: another package's
/// diversion moves it; the diverting package keeps the original.
fn divert(name: &[u8], path: &[u8], diversions: &Diversions) -> Option<Box<[u8]>> {
    let norm = join(b"", path)?;
    match diversions.get(&norm[..]) {
        Some(d) if &*d.by != name => Some(d.to.clone()),
        _ => Some(norm.into_boxed_slice()),
    }
}

fn diversions(content: &[u8], warnings: &mut Warnings) -> Diversions {
    let all: Vec<&[u8]> = lines(content).collect();
    let mut map = HashMap::new();
    let mut triples = all.chunks_exact(3);
    for t in &mut triples {
        let (Some(from), Some(to)) = (join(b"", t[0]), join(b"", t[1])) else {
            continue;
        };
        map.insert(
            from.into_boxed_slice(),
            Diversion {
                to: to.into_boxed_slice(),
                by: t[2].into(),
            },
        );
    }
    if triples.remainder().iter().any(|l| !l.is_empty()) {
        warnings.push(format!(
            "{}: trailing lines that are not a whole diversion; ignored",
            display_path(DIVERSIONS)
        ));
    }
    map
}

/// The fields of one stanza the attribution needs.
#[derive(Debug, Default)]
struct Stanza<'c> {
    package: Option<&'c [u8]>,
    version: Option<&'c [u8]>,
    architecture: Option<&'c [u8]>,
    installed_size: Option<&'c [u8]>,
    /// Whether the package's files are on disk (`Status:` absent counts as yes:
    /// distroless stanzas carry none).
    installed: bool,
}

fn stanzas<'c>(content: &'c [u8], warnings: &mut Warnings, db: &[u8]) -> Vec<Stanza<'c>> {
    let mut out = Vec::new();
    let mut cur = Stanza {
        installed: true,
        ..Stanza::default()
    };
    let mut fields = 0usize;
    let mut malformed = 0usize;
    for line in lines(content).chain(std::iter::once(&b""[..])) {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            if fields > 0 {
                out.push(std::mem::replace(
                    &mut cur,
                    Stanza {
                        installed: true,
                        ..Stanza::default()
                    },
                ));
            }
            fields = 0;
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' || line[0] == b'#' {
            continue; // a continuation line of a field we do not read, or a comment
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            malformed += 1;
            continue;
        };
        fields += 1;
        let value = trim(&line[colon + 1..]);
        match &line[..colon] {
            b"Package" => cur.package = Some(value),
            b"Version" => cur.version = Some(value),
            b"Architecture" => cur.architecture = Some(value),
            b"Installed-Size" => cur.installed_size = Some(value),
            b"Status" => {
                let state = value.rsplit(|&b| b == b' ').next().unwrap_or_default();
                cur.installed = !matches!(state, b"not-installed" | b"config-files");
            }
            _ => {}
        }
    }
    if malformed > 0 {
        warnings.push(format!(
            "{}: {malformed} lines are not `Field: value`; ignored",
            display_path(db)
        ));
    }
    out
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

fn declared<'c>(s: &Stanza<'_>, layer: usize, db: &[u8]) -> Option<Declared<'c>> {
    let name = s.package.filter(|n| !n.is_empty())?;

    Some(Declared {
        ecosystem: Ecosystem::Deb,
        name: text(name),
        version: s.version.map(text).unwrap_or_default(),
        architecture: s.architecture.map(text),
        location: None,
        // Installed-Size is in KiB (deb-control(5)).
        declared_bytes: s
            .installed_size
            .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
            .map(|k| k.saturating_mul(1024)),
        db_layer: layer,
        paths: Listed::default(),
        dir: None,
        db_path: db.into(),
        files_known: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_read_fields_and_skip_malformed_lines() {
        let mut w = Warnings::default();
        let s = stanzas(
            b"Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n more\n\ngarbage line\nPackage: b\nStatus: deinstall ok config-files\n\n\n",
            &mut w,
            STATUS,
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].package, Some(&b"a"[..]));
        assert_eq!(s[0].version, Some(&b"1.0"[..]));
        assert!(s[0].installed);
        assert!(!s[1].installed);
        assert_eq!(w.lines.len(), 1, "{:?}", w.lines);
    }

    #[test]
    fn diversions_move_other_packages_copies_only() {
        let mut w = Warnings::default();
        let d = diversions(b"/bin/sh\n/bin/sh.distrib\ndash\n", &mut w);
        assert_eq!(
            &*divert(b"bash", b"/bin/sh", &d).unwrap(),
            b"bin/sh.distrib"
        );
        assert_eq!(&*divert(b"dash", b"/bin/sh", &d).unwrap(), b"bin/sh");
        assert_eq!(md5sums_path(b"abc  usr/x y"), Some(&b"usr/x y"[..]));
    }
}
