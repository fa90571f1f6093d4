//! Python distributions: `NAME-VERSION.dist-info/RECORD` (PEP 376/627: CSV of
//! path, hash, size; paths relative to the directory holding the `.dist-info`,
//! `../` allowed for scripts) and `NAME-VERSION[-pyX.Y].egg-info/installed-files.txt`
//! (setuptools: one path per line, relative to the `.egg-info` directory), under
//! any `site-packages` or `dist-packages`, virtualenvs included.

use crate::scan::display_path;

use super::live::{join, LiveDatabases};
use super::{text, Declared, Ecosystem, Listed, Warnings};

pub(super) fn read(dbs: &LiveDatabases<'_>, warnings: &mut Warnings) -> Vec<Declared<'static>> {
    let mut out = Vec::new();
    for (path, &(layer, content)) in &dbs.files {
        let (record, suffix) = if path.ends_with(b".dist-info/RECORD") {
            (true, &b".dist-info"[..])
        } else if path.ends_with(b".egg-info/installed-files.txt") {
            (false, &b".egg-info"[..])
        } else {
            continue;
        };
        let Some(meta_dir) = parent(path) else {
            continue;
        };
        let Some(site) = parent(meta_dir) else {
            continue;
        };
        let stem = &meta_dir[site.len() + 1..meta_dir.len() - suffix.len()];
        let mut parts = stem.splitn(3, |&b| b == b'-');
        let name = text(parts.next().unwrap_or_default());
        let version = text(parts.next().unwrap_or_default());
        let base = if record { site } else { meta_dir };
        let mut escaped = 0usize;
        let mut paths = Vec::new();
        for line in content.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let rel = if record {
                csv_first(line)
            } else {
                Some(line.to_vec())
            };
            let Some(rel) = rel.filter(|r| !r.is_empty()) else {
                continue;
            };
            match join(base, &rel) {
                Some(p) => paths.push(p.into_boxed_slice()),
                None => escaped += 1,
            }
        }
        if escaped > 0 {
            warnings.push(format!(
                "{}: {escaped} paths outside the root; ignored",
                display_path(path)
            ));
        }
        out.push(Declared {
            ecosystem: Ecosystem::Pypi,
            name,
            version,
            architecture: None,
            location: Some(display_path(site)),
            declared_bytes: None,
            db_layer: layer,
            paths: Listed::Owned(paths),
            dir: None,
            db_path: (*path).into(),
            files_known: true,
        });
    }
    out
}

fn parent(path: &[u8]) -> Option<&[u8]> {
    path.iter().rposition(|&b| b == b'/').map(|i| &path[..i])
}

/// The first field of a CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn csv_first(line: &[u8]) -> Option<Vec<u8>> {
    let Some(rest) = line.strip_prefix(b"\"") else {
        let end = line.iter().position(|&b| b == b',').unwrap_or(line.len());
        return Some(line[..end].to_vec());
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'"' if rest.get(i + 1) == Some(&b'"') => {
                out.push(b'"');
                i += 2;
            }
            b'"' => return Some(out),
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None // an unterminated quote: not a path we can trust
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_first_field_handles_quotes() {
        assert_eq!(csv_first(b"six.py,sha256=x,34703").unwrap(), b"six.py");
        assert_eq!(csv_first(b"\"a,\"\"b\"\"\",,").unwrap(), b"a,\"b\"");
        assert_eq!(csv_first(b"\"open"), None);
    }
}
