//! The members of one layer, kept compactly. A layer of a million members is held
//! while every layer of the image is applied and the report built, and again by
//! the layer cache, so a member costs what the overlay needs of it and no more:
//!
//! - a fixed [`Entry`] of 16 bytes: size (or, for a link, where its target
//!   starts), the content hash's slot (or the target's length), the permission
//!   bits and the kind;
//! - its path front-coded in one byte stream: how many bytes it shares with the
//!   previous member's path, then the rest (tar lists a directory's members
//!   together, so a path costs about its last component; 2,000 names of 200 KB
//!   that share all but their last component cost 200 KB, not 400 MB);
//! - a content hash of 32 bytes for a file with content; an empty file has the
//!   hash of nothing and stores none;
//! - a link's target, once, in one buffer.
//!
//! Paths are read in tar order through a [`Cursor`] (the overlay reads them so,
//! and interns each from the part it shares with the previous one); kinds, sizes,
//! hashes and targets by index.

use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ContentHash;

/// What a member is, as read back; targets borrow from the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    File {
        size: u64,
        hash: ContentHash,
        /// Permission bits (`0o7777`).
        mode: u32,
    },
    Dir,
    Symlink {
        target: &'a [u8],
    },
    Hardlink {
        target: &'a [u8],
    },
    /// Device nodes, FIFOs and other entries with no content.
    Special,
    /// `.wh.NAME`: the path is the NAME it deletes from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: the path is the directory whose lower contents it hides.
    Opaque,
}

/// One member with its path spelt out: what tests and callers build records
/// from (`Records: FromIterator<Record>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Relative to the root, no leading or trailing `/`; empty for the root itself.
    pub path: Box<[u8]>,
    pub kind: Kind<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Tag {
    File,
    Dir,
    Symlink,
    Hardlink,
    Special,
    Whiteout,
    Opaque,
}

/// The fixed part of a member: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    /// A file's size; a link's target's start in `targets`.
    size: u64,
    /// A file's hash slot in `hashes` (`EMPTY`: the hash of no bytes); a link's
    /// target length.
    aux: u32,
    mode: u16,
    tag: Tag,
}

/// The hash slot of an empty file.
const EMPTY: u32 = u32::MAX;

/// blake3 of no bytes: what every empty file hashes to.
pub(super) fn empty_hash() -> &'static ContentHash {
    static H: OnceLock<ContentHash> = OnceLock::new();
    H.get_or_init(|| *blake3::hash(b"").as_bytes())
}

/// Every member of one layer, in tar order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Stored")]
pub struct Records {
    entries: Vec<Entry>,
    /// Per member: varint shared length, varint suffix length, suffix bytes.
    paths: Vec<u8>,
    hashes: Vec<ContentHash>,
    targets: Vec<u8>,
}

impl Records {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends a member. `last` is the previous member's path (empty for the
    /// first): the caller keeps it, so pushing allocates nothing per member.
    pub(crate) fn push(&mut self, last: &[u8], path: &[u8], kind: Kind<'_>) {
        let shared = last
            .iter()
            .zip(path)
            .position(|(a, b)| a != b)
            .unwrap_or(last.len().min(path.len()));
        push_varint(&mut self.paths, shared as u64);
        push_varint(&mut self.paths, (path.len() - shared) as u64);
        self.paths.extend_from_slice(&path[shared..]);
        let (tag, size, aux, mode) = match kind {
            Kind::File { size, hash, mode } => {
                let slot = if &hash == empty_hash() {
                    EMPTY
                } else {
                    // Slots are u32: `Limits::max_entries` keeps a layer far below.
                    self.hashes.push(hash);
                    u32::try_from(self.hashes.len() - 1).unwrap_or(EMPTY - 1)
                };
                (Tag::File, size, slot, (mode & 0o7777) as u16)
            }
            Kind::Symlink { target } | Kind::Hardlink { target } => {
                let start = self.targets.len() as u64;
                self.targets.extend_from_slice(target);
                let tag = if matches!(kind, Kind::Symlink { .. }) {
                    Tag::Symlink
                } else {
                    Tag::Hardlink
                };
                // A target is at most `Limits::max_name_bytes` long.
                (
                    tag,
                    start,
                    u32::try_from(target.len()).unwrap_or(u32::MAX),
                    0,
                )
            }
            Kind::Dir => (Tag::Dir, 0, 0, 0),
            Kind::Special => (Tag::Special, 0, 0, 0),
            Kind::Whiteout => (Tag::Whiteout, 0, 0, 0),
            Kind::Opaque => (Tag::Opaque, 0, 0, 0),
        };
        self.entries.push(Entry {
            size,
            aux,
            mode,
            tag,
        });
    }

    /// The kind of member `i`.
    pub(crate) fn kind(&self, i: usize) -> Option<Kind<'_>> {
        let e = self.entries.get(i)?;
        Some(match e.tag {
            Tag::File => Kind::File {
                size: e.size,
                hash: if e.aux == EMPTY {
                    *empty_hash()
                } else {
                    *self.hashes.get(e.aux as usize)?
                },
                mode: u32::from(e.mode),
            },
            Tag::Dir => Kind::Dir,
            Tag::Symlink => Kind::Symlink {
                target: self.target(e)?,
            },
            Tag::Hardlink => Kind::Hardlink {
                target: self.target(e)?,
            },
            Tag::Special => Kind::Special,
            Tag::Whiteout => Kind::Whiteout,
            Tag::Opaque => Kind::Opaque,
        })
    }

    fn target(&self, e: &Entry) -> Option<&[u8]> {
        let start = usize::try_from(e.size).ok()?;
        self.targets.get(start..start.checked_add(e.aux as usize)?)
    }

    /// Every member's kind, in tar order.
    pub(crate) fn kinds(&self) -> impl Iterator<Item = Kind<'_>> + '_ {
        (0..self.entries.len()).filter_map(|i| self.kind(i))
    }

    /// Reads the members in tar order, paths spelt out.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor {
            records: self,
            at: 0,
            index: 0,
            path: Vec::new(),
        }
    }

    /// Every member with its path (for tests and small layers: allocates per member).
    pub fn to_vec(&self) -> Vec<Record<'_>> {
        let mut out = Vec::with_capacity(self.len());
        let mut c = self.cursor();
        while let Some(m) = c.next() {
            out.push(Record {
                path: m.path.into(),
                kind: m.kind,
            });
        }
        out
    }
}

impl<'a> FromIterator<Record<'a>> for Records {
    fn from_iter<I: IntoIterator<Item = Record<'a>>>(iter: I) -> Records {
        let mut out = Records::default();
        let mut last: Box<[u8]> = Box::default();
        for r in iter {
            out.push(&last, &r.path, r.kind);
            last = r.path;
        }
        out
    }
}

/// One member as the cursor reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<'c, 'r> {
    /// Its position in the layer.
    pub index: usize,
    pub path: &'c [u8],
    /// How many leading bytes of `path` the previous member's path shares.
    pub shared: usize,
    pub kind: Kind<'r>,
}

/// Reads members in tar order, rebuilding each path from the previous one in a
/// buffer of its own: no allocation per member.
#[derive(Debug)]
pub(crate) struct Cursor<'r> {
    records: &'r Records,
    /// Position in `records.paths`.
    at: usize,
    index: usize,
    path: Vec<u8>,
}

impl<'r> Cursor<'r> {
    /// The next member, or `None` at the end (or at damage the decoder let by,
    /// which it does not: see `Stored`).
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> Option<Member<'_, 'r>> {
        let r = self.records;
        let kind = r.kind(self.index)?;
        let shared = usize::try_from(read_varint(&r.paths, &mut self.at)?).ok()?;
        let len = usize::try_from(read_varint(&r.paths, &mut self.at)?).ok()?;
        let suffix = r.paths.get(self.at..self.at.checked_add(len)?)?;
        if shared > self.path.len() {
            return None;
        }
        self.at += len;
        self.path.truncate(shared);
        self.path.extend_from_slice(suffix);
        let index = self.index;
        self.index += 1;
        Some(Member {
            index,
            path: &self.path,
            shared,
            kind,
        })
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Written as [`Stored`], borrowing: caching a scan copies none of it.
impl Serialize for Records {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StoredRef {
            entries: &self.entries,
            paths: &self.paths,
            hashes: self.hashes.as_flattened(),
            targets: &self.targets,
        }
        .serialize(s)
    }
}

/// [`Stored`] as written, field for field.
#[derive(Serialize)]
struct StoredRef<'a> {
    entries: &'a [Entry],
    #[serde(with = "bytes")]
    paths: &'a [u8],
    #[serde(with = "bytes")]
    hashes: &'a [u8],
    #[serde(with = "bytes")]
    targets: &'a [u8],
}

/// The cached form: the same vectors, byte buffers written whole, and every
/// index checked when read back (a cache entry is checked before it is believed,
/// and a damaged one must be refused, never read past).
#[derive(Deserialize)]
struct Stored {
    entries: Vec<Entry>,
    #[serde(with = "bytes")]
    paths: Vec<u8>,
    /// The hashes, 32 bytes each, back to back.
    #[serde(with = "bytes")]
    hashes: Vec<u8>,
    #[serde(with = "bytes")]
    targets: Vec<u8>,
}

impl TryFrom<Stored> for Records {
    type Error = String;

    fn try_from(s: Stored) -> Result<Records, String> {
        if s.hashes.len() % 32 != 0 {
            return Err("hashes are not 32 bytes each".into());
        }
        let hashes: Vec<ContentHash> = s
            .hashes
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        let r = Records {
            entries: s.entries,
            paths: s.paths,
            hashes,
            targets: s.targets,
        };
        // Every member decodes, and the path stream holds exactly them.
        let (mut at, mut len) = (0usize, 0usize);
        for e in &r.entries {
            let bad = || "a record does not decode".to_string();
            let shared = read_varint(&r.paths, &mut at).ok_or_else(bad)?;
            let suffix = read_varint(&r.paths, &mut at).ok_or_else(bad)?;
            let shared = usize::try_from(shared).map_err(|_| bad())?;
            let suffix = usize::try_from(suffix).map_err(|_| bad())?;
            if shared > len || suffix > r.paths.len() - at {
                return Err(bad());
            }
            at += suffix;
            len = shared + suffix;
            let ok = match e.tag {
                Tag::File => e.aux == EMPTY || (e.aux as usize) < r.hashes.len(),
                Tag::Symlink | Tag::Hardlink => r.target(e).is_some(),
                _ => true,
            };
            if !ok {
                return Err(bad());
            }
        }
        if at != r.paths.len() {
            return Err("trailing path bytes".into());
        }
        Ok(r)
    }
}

/// Byte buffers as one serde byte string (postcard: a length and the bytes),
/// not as a sequence of numbers.
mod bytes {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = a.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Record<'static>> {
        let r = |p: &[u8], kind| Record {
            path: p.into(),
            kind,
        };
        vec![
            r(b"", Kind::Dir),
            r(b"usr", Kind::Dir),
            r(
                b"usr/a",
                Kind::File {
                    size: 3,
                    hash: [9; 32],
                    mode: 0o755,
                },
            ),
            r(
                b"usr/ab",
                Kind::File {
                    size: 0,
                    hash: *empty_hash(),
                    mode: 0o644,
                },
            ),
            r(b"usr/l", Kind::Symlink { target: b"a" }),
            r(b"b", Kind::Hardlink { target: b"usr/a" }),
            r(b"b", Kind::Whiteout),
            r(b"\xff/x", Kind::Opaque),
            r(b"dev/null", Kind::Special),
        ]
    }

    #[test]
    fn members_read_back_as_pushed() {
        let want = sample();
        let records: Records = want.iter().cloned().collect();
        assert_eq!(records.to_vec(), want);
        assert_eq!(records.len(), want.len());
        assert_eq!(records.hashes.len(), 1, "the empty file stores no hash");
        let shared: Vec<usize> = {
            let mut c = records.cursor();
            std::iter::from_fn(|| c.next().map(|m| m.shared)).collect()
        };
        assert_eq!(shared, [0, 0, 3, 5, 4, 0, 1, 0, 0]);
    }

    #[test]
    fn a_member_costs_sixteen_bytes_and_its_new_path_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    #[test]
    fn round_trips_through_postcard_and_refuses_damage() {
        let records: Records = sample().into_iter().collect();
        let bytes = postcard::to_allocvec(&records).unwrap();
        let back: Records = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, records);
        // Every truncation and every flipped byte decodes to an error or to
        // records that read back without panicking.
        for cut in 0..bytes.len() {
            let _ = postcard::from_bytes::<Records>(&bytes[..cut]);
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x41;
            if let Ok(r) = postcard::from_bytes::<Records>(&bad) {
                let _ = r.to_vec();
            }
        }
    }
}
