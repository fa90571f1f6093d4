//! npm: every `node_modules/NAME` and `node_modules/@SCOPE/NAME` directory with a
//! `package.json` is a package owning its whole subtree, except nested
//! `node_modules` packages, which own theirs (the deepest package wins). The name
//! is the directory's (what `require` resolves), the version the manifest's.

use serde::Deserialize;

use crate::scan::display_path;

use super::live::LiveDatabases;
use super::{text, Declared, Ecosystem, Listed, Warnings};

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    version: Option<serde_json::Value>,
}

pub(super) fn read(dbs: &LiveDatabases<'_>, warnings: &mut Warnings) -> Vec<Declared<'static>> {
    let mut out = Vec::new();
    for (path, &(layer, content)) in &dbs.files {
        let Some(dir) = path.strip_suffix(b"/package.json") else {
            continue;
        };
        if !crate::scan::is_node_package_dir(dir) {
            continue;
        }
        let Some(at) = find_last(dir, b"node_modules/") else {
            continue;
        };
        let name = text(&dir[at + b"node_modules/".len()..]);
        let location = display_path(&dir[..at + b"node_modules".len()]);
        let version = match serde_json::from_slice::<Manifest>(content) {
            Ok(Manifest {
                version: Some(serde_json::Value::String(v)),
            }) => text(v.as_bytes()),
            Ok(_) => String::new(),
            Err(_) => {
                warnings.push(format!(
                    "{}: not a JSON package manifest; version unknown",
                    display_path(path)
                ));
                String::new()
            }
        };
        out.push(Declared {
            ecosystem: Ecosystem::Npm,
            name,
            version,
            architecture: None,
            location: Some(location),
            declared_bytes: None,
            db_layer: layer,
            paths: Listed::default(),
            dir: Some(dir.into()),
            db_path: (*path).into(),
            files_known: true,
        });
    }
    out
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}
