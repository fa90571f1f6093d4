//! Alpine: `/lib/apk/db/installed` (`/usr/lib/apk/db/installed` on newer
//! releases). One block per package, separated by blank lines, one `K:value` per
//! line: `P:` name, `V:` version, `A:` architecture, `I:` installed size in bytes,
//! `F:` a directory, then `R:` the files in it (apk-tools' database format, as
//! documented on the Alpine wiki's "Apk spec" page).

use crate::scan::display_path;

use super::live::{join, LiveDatabases};
use super::{text, Declared, Ecosystem, Listed, Warnings};

const PATHS: [&[u8]; 2] = [b"lib/apk/db/installed", b"usr/lib/apk/db/installed"];

pub(super) fn read(dbs: &LiveDatabases<'_>, warnings: &mut Warnings) -> Vec<Declared<'static>> {
    let mut out = Vec::new();
    for db in PATHS {
        if let Some(&(layer, content)) = dbs.files.get(db) {
            parse(content, layer, db, warnings, &mut out);
        }
    }
    out
}

fn parse(
    content: &[u8],
    layer: usize,
    db: &[u8],
    warnings: &mut Warnings,
    out: &mut Vec<Declared<'static>>,
) {
    let mut cur: Option<Declared> = None;
    let mut paths: Vec<Box<[u8]>> = Vec::new();
    let mut dir: Vec<u8> = Vec::new();
    let mut nameless = 0usize;
    let mut escaped = 0usize;
    let new = || Declared {
        ecosystem: Ecosystem::Apk,
        name: String::new(),
        version: String::new(),
        architecture: None,
        location: None,
        declared_bytes: None,
        db_layer: layer,
        paths: Listed::default(),
        dir: None,
        db_path: db.into(),
        files_known: true,
    };

    for line in content
        .split(|&b| b == b'\n')
        .chain(std::iter::once(&b""[..]))
    {
        if line.is_empty() {
            if let Some(mut p) = cur.take() {
                if p.name.is_empty() {
                    nameless += 1;
                } else {
                    p.paths = Listed::Owned(std::mem::take(&mut paths));
                    out.push(p);
                }
            }
            paths.clear();
            dir.clear();
            continue;
        }
        let (Some(&key), Some(b':')) = (line.first(), line.get(1)) else {
            continue;
        };
        let value = &line[2..];
        let p = cur.get_or_insert_with(new);
        match key {
            b'P' => p.name = text(value),
            b'V' => p.version = text(value),
            b'A' => p.architecture = Some(text(value)),
            b'I' => p.declared_bytes = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()),
            b'F' => dir = value.to_vec(),
            b'R' => match join(&dir, value) {
                Some(path) => paths.push(path.into_boxed_slice()),
                None => escaped += 1,
            },
            _ => {}
        }
    }
    if nameless > 0 {
        warnings.push(format!(
            "{}: {nameless} blocks without a `P:` name; ignored",
            display_path(db)
        ));
    }
    if escaped > 0 {
        warnings.push(format!(
            "{}: {escaped} paths outside the root; ignored",
            display_path(db)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_belong_to_the_last_directory() {
        let mut w = Warnings::default();
        let mut out = Vec::new();
        parse(
            b"P:musl\nV:1.2.4-r2\nI:622592\nF:lib\nR:libc.so\nF:usr/lib\nR:x.so\n\nV:1\nR:orphan\n",
            3,
            PATHS[0],
            &mut w,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].declared_bytes, Some(622592));
        let mut listed = Vec::new();
        out[0].paths.each(|p| listed.push(p.to_vec()));
        assert_eq!(listed, [&b"lib/libc.so"[..], b"usr/lib/x.so"]);
        assert_eq!(w.lines.len(), 1);
    }
}
