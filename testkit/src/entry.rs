//! One tar member of a layer, and how it is written: raw headers with fixed owner
//! and mtime, names as bytes (so non-UTF-8 names survive), and names longer than
//! the 100-byte header field carried by a GNU `././@LongLink` record or a PAX
//! `path`/`linkpath` record.

use std::io::{Read, Write};

use tar::{EntryType, Header};

use super::{Result, TestkitError, MTIME};

/// How names longer than 100 bytes are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameStyle {
    /// GNU `././@LongLink` records (what `docker save` and GNU tar write).
    #[default]
    Gnu,
    /// POSIX PAX extended headers (what BuildKit and Go's archive/tar write).
    Pax,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    /// A hardlink to another path of the same layer (or a lower one).
    Hardlink(Vec<u8>),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One tar member: a path (bytes, relative to the root), what it is, its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: EntryKind,
    pub mode: u32,
    pub names: NameStyle,
}

impl Entry {
    fn new(path: impl AsRef<[u8]>, kind: EntryKind, mode: u32) -> Entry {
        Entry {
            path: path.as_ref().to_vec(),
            kind,
            mode,
            names: NameStyle::Gnu,
        }
    }

    /// A regular file, mode 0644.
    pub fn file(path: impl AsRef<[u8]>, content: impl AsRef<[u8]>) -> Entry {
        Entry::new(path, EntryKind::File(content.as_ref().to_vec()), 0o644)
    }

    /// A directory, mode 0755. A trailing `/` is added when written.
    pub fn dir(path: impl AsRef<[u8]>) -> Entry {
        Entry::new(path, EntryKind::Dir, 0o755)
    }

    pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
        Entry::new(path, EntryKind::Symlink(target.as_ref().to_vec()), 0o777)
    }

    pub fn hardlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
        Entry::new(path, EntryKind::Hardlink(target.as_ref().to_vec()), 0o644)
    }

    /// The whiteout deleting `path` from lower layers: an empty `DIR/.wh.NAME` file.
    pub fn whiteout(path: impl AsRef<[u8]>) -> Entry {
        let path = path.as_ref();
        let (parent, name) = split(path);
        let mut wh = parent.to_vec();
        wh.extend_from_slice(b".wh.");
        wh.extend_from_slice(name);
        Entry::file(wh, b"")
    }

    /// The opaque marker hiding everything below `dir` (empty: the root) from lower
    /// layers: an empty `DIR/.wh..wh..opq` file.
    pub fn opaque(dir: impl AsRef<[u8]>) -> Entry {
        let mut p = dir.as_ref().to_vec();
        if !p.is_empty() && !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(b".wh..wh..opq");
        Entry::file(p, b"")
    }

    pub fn char_device(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
        Entry::new(path, EntryKind::CharDevice { major, minor }, 0o666)
    }

    pub fn block_device(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
        Entry::new(path, EntryKind::BlockDevice { major, minor }, 0o660)
    }

    pub fn fifo(path: impl AsRef<[u8]>) -> Entry {
        Entry::new(path, EntryKind::Fifo, 0o644)
    }

    pub fn mode(mut self, mode: u32) -> Entry {
        self.mode = mode;
        self
    }

    /// Carries a long name in PAX records instead of GNU ones.
    pub fn pax(mut self) -> Entry {
        self.names = NameStyle::Pax;
        self
    }

    /// Bytes of content (0 for anything but a regular file).
    pub fn size(&self) -> u64 {
        match &self.kind {
            EntryKind::File(c) => c.len() as u64,
            _ => 0,
        }
    }
}

/// `a/b/c` → (`a/b/`, `c`).
fn split(path: &[u8]) -> (&[u8], &[u8]) {
    let trimmed = path.strip_suffix(b"/").unwrap_or(path);
    match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => (&trimmed[..0], trimmed),
    }
}

const NAME_FIELD: usize = 100;

/// The header fields of one member, before names are placed.
pub(super) struct Meta<'a> {
    pub path: &'a [u8],
    pub link: Option<&'a [u8]>,
    pub etype: EntryType,
    pub mode: u32,
    pub size: u64,
    pub device: Option<(u32, u32)>,
    pub names: NameStyle,
}

impl Meta<'_> {
    pub(super) fn of(entry: &Entry) -> Meta<'_> {
        let (etype, link, device) = match &entry.kind {
            EntryKind::File(_) => (EntryType::Regular, None, None),
            EntryKind::Dir => (EntryType::Directory, None, None),
            EntryKind::Symlink(t) => (EntryType::Symlink, Some(t.as_slice()), None),
            EntryKind::Hardlink(t) => (EntryType::Link, Some(t.as_slice()), None),
            EntryKind::CharDevice { major, minor } => {
                (EntryType::Char, None, Some((*major, *minor)))
            }
            EntryKind::BlockDevice { major, minor } => {
                (EntryType::Block, None, Some((*major, *minor)))
            }
            EntryKind::Fifo => (EntryType::Fifo, None, None),
        };
        Meta {
            path: &entry.path,
            link,
            etype,
            mode: entry.mode,
            size: entry.size(),
            device,
            names: entry.names,
        }
    }
}

/// Writes one member (with any long-name records it needs) and `size` bytes of
/// `data`, padded to the 512-byte block.
pub(super) fn write_member<W: Write>(
    tar: &mut tar::Builder<W>,
    meta: &Meta<'_>,
    data: impl Read,
) -> Result<()> {
    let shown = || String::from_utf8_lossy(meta.path).into_owned();
    let io = |e: std::io::Error| TestkitError::Io {
        what: format!("tar member {}", shown()),
        source: e,
    };
    let mut path = meta.path.to_vec();
    if meta.etype == EntryType::Directory && !path.ends_with(b"/") {
        path.push(b'/');
    }
    if path.is_empty() {
        return Err(TestkitError::BadEntry {
            path: shown(),
            msg: "empty path".into(),
        });
    }
    let long_path = path.len() > NAME_FIELD;
    let long_link = meta.link.is_some_and(|l| l.len() > NAME_FIELD);
    let mut header = match meta.names {
        NameStyle::Gnu => Header::new_gnu(),
        NameStyle::Pax => Header::new_ustar(),
    };
    match meta.names {
        NameStyle::Gnu => {
            if long_path {
                long_record(tar, EntryType::GNULongName, &path).map_err(io)?;
            }
            if let (true, Some(link)) = (long_link, meta.link) {
                long_record(tar, EntryType::GNULongLink, link).map_err(io)?;
            }
        }
        NameStyle::Pax => {
            let mut records = Vec::new();
            if long_path {
                records.extend(pax_record("path", &path));
            }
            if let (true, Some(link)) = (long_link, meta.link) {
                records.extend(pax_record("linkpath", link));
            }
            if !records.is_empty() {
                let mut h = Header::new_ustar();
                let mut name = b"PaxHeaders/".to_vec();
                name.extend_from_slice(&path[..path.len().min(NAME_FIELD - 11)]);
                fill(&mut h.as_old_mut().name, &name);
                h.set_entry_type(EntryType::XHeader);
                h.set_size(records.len() as u64);
                h.set_mode(0o644);
                h.set_mtime(MTIME);
                h.set_cksum();
                tar.append(&h, records.as_slice()).map_err(io)?;
            }
        }
    }
    fill(&mut header.as_old_mut().name, &path);
    if let Some(link) = meta.link {
        fill(&mut header.as_old_mut().linkname, link);
    }
    header.set_entry_type(meta.etype);
    header.set_mode(meta.mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(MTIME);
    header.set_size(meta.size);
    if let Some((major, minor)) = meta.device {
        header.set_device_major(major).map_err(io)?;
        header.set_device_minor(minor).map_err(io)?;
    }
    header.set_cksum();
    tar.append(&header, data).map_err(io)
}

/// Copies as much of `value` as fits into a NUL-padded header field.
fn fill(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    for b in &mut field[n..] {
        *b = 0;
    }
}

fn long_record<W: Write>(
    tar: &mut tar::Builder<W>,
    etype: EntryType,
    value: &[u8],
) -> std::io::Result<()> {
    let mut h = Header::new_gnu();
    fill(&mut h.as_old_mut().name, b"././@LongLink");
    h.set_entry_type(etype);
    h.set_mode(0o644);
    h.set_mtime(0);
    let mut data = value.to_vec();
    data.push(0);
    h.set_size(data.len() as u64);
    h.set_cksum();
    tar.append(&h, data.as_slice())
}

/// `"LEN key=value\n"`, where LEN counts the whole record, its own digits included.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        let r = pax_record("path", b"abc");
        assert_eq!(r, b"12 path=abc\n");
        let long = vec![b'x'; 95];
        let r = pax_record("path", &long);
        assert_eq!(r.len().to_string(), String::from_utf8_lossy(&r[..3]));
    }

    #[test]
    fn whiteouts_and_opaque_markers_are_named_like_overlayfs_exports() {
        assert_eq!(Entry::whiteout("a/b/c").path, b"a/b/.wh.c");
        assert_eq!(Entry::whiteout("top").path, b".wh.top");
        assert_eq!(Entry::opaque("a/b").path, b"a/b/.wh..wh..opq");
        assert_eq!(Entry::opaque("").path, b".wh..wh..opq");
    }
}
