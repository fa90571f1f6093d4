//! The report's list of live files, held compactly: a million files or names of
//! 200 KB must not be spelt out in full once per file. Paths are the overlay's
//! tree of components (each component once, however many paths share it), its
//! names escaped for display; a file is then 24 bytes: its bytes, its path's id,
//! its layer, its kind. The JSON is the same list of `{path, bytes, layer, kind}`
//! objects as ever: each path is spelt out into one reused buffer as it is written.

use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::overlay::{PathId, Paths};
use crate::scan::display_path;

use super::{FileKind, LiveFile};

/// Every non-directory entry of the final filesystem, by path.
#[derive(Clone, Default)]
pub(crate) struct Files {
    /// Display components (escaped as `display_path` escapes them).
    tree: Paths,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    bytes: u64,
    path: PathId,
    layer: u32,
    kind: FileKind,
    /// The path starts with `/` (every path layergate writes does; one read
    /// back from a hand-written report may not).
    slash: bool,
}

/// One file as [`Files::walk`] lends it: the path lives until the next one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileRef<'a> {
    pub path: &'a str,
    pub bytes: u64,
    pub layer: usize,
    pub kind: FileKind,
}

/// A file as written to JSON, borrowing its path.
#[derive(Serialize)]
struct Written<'a> {
    path: &'a str,
    bytes: u64,
    layer: usize,
    kind: FileKind,
}

impl Files {
    /// The files of an overlay: `live` holds each file's id in `paths` (the
    /// overlay's own tree, taken over), its bytes, layer and kind, in path order.
    pub(crate) fn from_tree(
        mut paths: Paths,
        live: impl IntoIterator<Item = (PathId, u64, usize, FileKind)>,
    ) -> Files {
        paths.rename_all(|name, out| {
            // `display_path` escapes byte by byte and never across a `/`, so a
            // path escaped whole equals its components escaped one by one.
            out.extend_from_slice(&display_path(name).as_bytes()[1..]);
        });
        paths.drop_lookup();
        let entries = live
            .into_iter()
            .map(|(path, bytes, layer, kind)| Entry {
                bytes,
                path,
                layer: u32::try_from(layer).unwrap_or(u32::MAX),
                kind,
                slash: true,
            })
            .collect();
        Files {
            tree: paths,
            entries,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every file, path spelt out into `buf`, lent to `f` one at a time: no
    /// allocation per file.
    pub(crate) fn walk(&self, mut f: impl FnMut(FileRef<'_>)) {
        let mut buf = Vec::new();
        for e in &self.entries {
            f(self.lend(e, &mut buf));
        }
    }

    fn lend<'b>(&self, e: &Entry, buf: &'b mut Vec<u8>) -> FileRef<'b> {
        self.tree
            .write_after(e.path, if e.slash { b"/" } else { b"" }, buf);
        FileRef {
            // Components are display text or pieces of a JSON string between
            // `/`s: UTF-8 either way.
            path: std::str::from_utf8(buf).unwrap_or_default(),
            bytes: e.bytes,
            layer: e.layer as usize,
            kind: e.kind,
        }
    }

    /// Every file with its path as an owned string (one allocation per file:
    /// for callers that keep paths; [`Files::walk`] lends them instead).
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = LiveFile> + '_ {
        let mut buf = Vec::new();
        self.entries.iter().map(move |e| {
            let f = self.lend(e, &mut buf);
            LiveFile {
                path: f.path.to_string(),
                bytes: f.bytes,
                layer: f.layer,
                kind: f.kind,
            }
        })
    }

    fn push(&mut self, f: &LiveFile) {
        let (slash, rest) = match f.path.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, f.path.as_str()),
        };
        let path = self.tree.intern(rest.as_bytes());
        self.entries.push(Entry {
            bytes: f.bytes,
            path,
            layer: u32::try_from(f.layer).unwrap_or(u32::MAX),
            kind: f.kind,
            slash,
        });
    }
}

impl<'a> IntoIterator for &'a Files {
    type Item = LiveFile;
    type IntoIter = Box<dyn ExactSizeIterator<Item = LiveFile> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl FromIterator<LiveFile> for Files {
    fn from_iter<I: IntoIterator<Item = LiveFile>>(iter: I) -> Files {
        let mut files = Files::default();
        for f in iter {
            files.push(&f);
        }
        files
    }
}

impl From<Vec<LiveFile>> for Files {
    fn from(files: Vec<LiveFile>) -> Files {
        files.into_iter().collect()
    }
}

impl PartialEq for Files {
    fn eq(&self, other: &Files) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        self.entries.iter().zip(&other.entries).all(|(x, y)| {
            let (x, y) = (self.lend(x, &mut a), other.lend(y, &mut b));
            (x.path, x.bytes, x.layer, x.kind) == (y.path, y.bytes, y.layer, y.kind)
        })
    }
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Files {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        let mut buf = Vec::new();
        for e in &self.entries {
            let f = self.lend(e, &mut buf);
            seq.serialize_element(&Written {
                path: f.path,
                bytes: f.bytes,
                layer: f.layer,
                kind: f.kind,
            })?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Files {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Files, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Files;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of files")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Files, A::Error> {
                // Interned one at a time: a saved report's list is never held twice.
                let mut files = Files::default();
                while let Some(f) = seq.next_element::<LiveFile>()? {
                    files.push(&f);
                }
                Ok(files)
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, bytes: u64) -> LiveFile {
        LiveFile {
            path: path.into(),
            bytes,
            layer: 1,
            kind: FileKind::File,
        }
    }

    #[test]
    fn paths_read_back_exactly_as_given() {
        let given = vec![
            file("/usr/bin/a", 1),
            file("/usr/bin/b", 2),
            file("no-slash", 3),
            file("/", 4),
            file("", 5),
            file("//x//", 6),
            file("/caf\\xe9/\\\\", 7),
        ];
        let files: Files = given.clone().into();
        assert_eq!(files.iter().collect::<Vec<_>>(), given);
        let json = serde_json::to_string(&files).unwrap();
        assert_eq!(json, serde_json::to_string(&given).unwrap());
        let back: Files = serde_json::from_str(&json).unwrap();
        assert_eq!(back, files);
        let mut walked = Vec::new();
        files.walk(|f| walked.push(f.path.to_string()));
        assert_eq!(
            walked,
            given.iter().map(|f| f.path.clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn escapes_each_component_as_the_whole_path_would_be() {
        let raw: &[&[u8]] = &[b"caf\xe9/a\nb", b"ok/x\\y", b"\xe2\x82/b"];
        let mut paths = Paths::default();
        let ids: Vec<PathId> = raw.iter().map(|p| paths.intern(p)).collect();
        let files = Files::from_tree(paths, ids.iter().map(|&id| (id, 0, 0, FileKind::Special)));
        let got: Vec<String> = files.iter().map(|f| f.path).collect();
        let want: Vec<String> = raw.iter().map(|p| display_path(p)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_file_costs_twenty_four_bytes_beside_its_path() {
        assert_eq!(std::mem::size_of::<Entry>(), 24);
    }
}
