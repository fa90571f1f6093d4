//! The rpm header blob as every rpmdb backend stores it (rpm's `headerExport`
//! without the lead): a big-endian index count and data length, that many
//! 16-byte entries (tag, type, offset, count), then the data store. The first
//! entry of an installed header is usually a region tag (`HEADERIMMUTABLE`)
//! whose data is a 16-byte trailer entry pointing back at the index.
//!
//! Bounded against hostile blobs: every count and offset is checked against the
//! store before it is read, nothing is allocated from a claimed length beyond
//! what the blob holds, and a bad header is an error for that package only.

use std::fmt;

/// rpm's own limits (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX` in header_internal.h).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 256 << 20;

// Tags (rpmtag.h).
const HEADERIMAGE: u32 = 61;
const HEADERSIGNATURES: u32 = 62;
const HEADERIMMUTABLE: u32 = 63;
const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const SIZE: u32 = 1009;
const ARCH: u32 = 1022;
const OLDFILENAMES: u32 = 1027;
const FILESIZES: u32 = 1028;
const FILESTATES: u32 = 1029;
const FILEMODES: u32 = 1030;
const FILEFLAGS: u32 = 1037;
const SOURCERPM: u32 = 1044;
const FILEINODES: u32 = 1096;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;
const LONGFILESIZES: u32 = 5008;
const LONGSIZE: u32 = 5009;

// Types (rpmtag.h `rpmTagType`).
const CHAR: u32 = 1;
const INT8: u32 = 2;
const INT16: u32 = 3;
const INT32: u32 = 4;
const INT64: u32 = 5;
const STRING: u32 = 6;
const BIN: u32 = 7;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// `RPMFILE_GHOST`: listed but not in the payload (created at run time).
const FILE_GHOST: u32 = 1 << 6;
/// `RPMFILE_STATE_NORMAL`: the file is on disk as this package installed it.
/// Others: replaced by another package, not installed (`--excludedocs`,
/// `--nodocs`, other languages), net-shared, wrong colour (multilib).
const STATE_NORMAL: u8 = 0;

/// Why a header blob was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Shorter than its own 8-byte preamble or index.
    Truncated,
    /// Index count or data length beyond rpm's own limits or the blob.
    Sizes { entries: u32, data: u32 },
    /// An entry's data lies outside the store or is malformed for its type.
    Entry { tag: u32 },
    /// The region trailer does not point back at the index.
    Region,
    /// No NAME.
    NoName,
    /// File arrays whose lengths disagree.
    FileCounts { tag: u32 },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Truncated => write!(f, "header shorter than its index"),
            HeaderError::Sizes { entries, data } => write!(
                f,
                "header claims {entries} entries and {data} data bytes, beyond the blob or rpm's limits"
            ),
            HeaderError::Entry { tag } => write!(f, "tag {tag} lies outside the header data"),
            HeaderError::Region => write!(f, "header region trailer is damaged"),
            HeaderError::NoName => write!(f, "header has no NAME"),
            HeaderError::FileCounts { tag } => {
                write!(f, "file list tag {tag} disagrees with the number of files")
            }
        }
    }
}

/// One file a package lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Absolute path as the package lists it (`/usr/bin/x`).
    pub(crate) path: Vec<u8>,
    pub(crate) size: u64,
    pub(crate) mode: u16,
    /// On disk as this package installed it (FILESTATES normal): files excluded
    /// at install time or replaced by another package are not the package's.
    pub(crate) installed: bool,
    pub(crate) ghost: bool,
    pub(crate) inode: Option<u32>,
}

impl FileEntry {
    pub(crate) fn is_dir(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

/// What the attribution needs from one installed header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub(crate) name: Vec<u8>,
    pub(crate) epoch: Option<u32>,
    pub(crate) version: Vec<u8>,
    pub(crate) release: Vec<u8>,
    pub(crate) arch: Option<Vec<u8>>,
    /// SIZE (or LONGSIZE): what rpm says the installed files take.
    pub(crate) size: Option<u64>,
    pub(crate) source_rpm: Option<Vec<u8>>,
    pub(crate) files: Vec<FileEntry>,
}

impl Header {
    /// `[EPOCH:]VERSION-RELEASE`, as rpm's `%{EVR}` prints it.
    pub fn evr(&self) -> Vec<u8> {
        let mut v = Vec::new();
        if let Some(e) = self.epoch {
            v.extend_from_slice(e.to_string().as_bytes());
            v.push(b':');
        }
        v.extend_from_slice(&self.version);
        if !self.release.is_empty() {
            v.push(b'-');
            v.extend_from_slice(&self.release);
        }
        v
    }

    /// Bytes of the package's payload as rpm sums SIZE: every non-directory
    /// file (a symlink counts its target's length), each hard-linked group
    /// (same FILEINODES number) once, ghosts left out. What the image holds is
    /// measured from the layers instead; this checks the header reading.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn payload_bytes(&self) -> u64 {
        let mut seen = std::collections::HashSet::new();
        self.files
            .iter()
            .filter(|f| !f.ghost && !f.is_dir())
            .filter(|f| f.inode.is_none_or(|i| seen.insert(i)))
            .map(|f| f.size)
            // LONGFILESIZES are 64-bit: a hostile header's sizes can overflow a sum
            // (found by the rpm_header fuzz target).
            .fold(0u64, u64::saturating_add)
    }
}

#[derive(Debug, Clone, Copy)]
struct Index {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

/// The parsed index over a blob's data store.
struct Blob<'b> {
    entries: Vec<Index>,
    data: &'b [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'b> Blob<'b> {
    fn parse(blob: &'b [u8]) -> Result<Blob<'b>, HeaderError> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(HeaderError::Truncated);
        };
        let sizes = HeaderError::Sizes {
            entries: il,
            data: dl,
        };
        if il == 0 || il > MAX_TAGS || dl > MAX_DATA {
            return Err(sizes);
        }
        let index_end = 8 + il as usize * 16;
        let end = index_end + dl as usize;
        // Trailing bytes are allowed (backends pad blobs), a short blob is not.
        if end > blob.len() {
            return Err(sizes);
        }
        let data = &blob[index_end..end];
        let mut entries = Vec::with_capacity(il as usize);
        for i in 0..il as usize {
            let at = 8 + i * 16;
            let field = |k: usize| be32(blob, at + k * 4).ok_or(HeaderError::Truncated);
            entries.push(Index {
                tag: field(0)?,
                kind: field(1)?,
                offset: field(2)?,
                count: field(3)?,
            });
        }
        let b = Blob { entries, data };
        b.check_region()?;
        Ok(b)
    }

    /// The region tag, when present, has a 16-byte trailer inside the store
    /// whose negative offset covers whole index entries.
    fn check_region(&self) -> Result<(), HeaderError> {
        let first = self.entries[0];
        if !matches!(first.tag, HEADERIMAGE | HEADERSIGNATURES | HEADERIMMUTABLE) {
            return Ok(());
        }
        if first.kind != BIN || first.count != 16 {
            return Err(HeaderError::Region);
        }
        let at = first.offset as usize;
        let trailer = self
            .data
            .get(at..at.checked_add(16).ok_or(HeaderError::Region)?)
            .ok_or(HeaderError::Region)?;
        let tag = be32(trailer, 0).ok_or(HeaderError::Region)?;
        let back = be32(trailer, 8).ok_or(HeaderError::Region)? as i32;
        let covered = back.checked_neg().ok_or(HeaderError::Region)?;
        if tag != first.tag
            || covered <= 0
            || covered % 16 != 0
            || covered as usize > self.entries.len() * 16
        {
            return Err(HeaderError::Region);
        }
        Ok(())
    }

    fn find(&self, tag: u32) -> Option<Index> {
        // rpm keeps one entry per tag; a hostile blob's duplicates lose to the first.
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    fn bytes_from(&self, e: Index) -> Result<&'b [u8], HeaderError> {
        self.data
            .get(e.offset as usize..)
            .ok_or(HeaderError::Entry { tag: e.tag })
    }

    /// `count` NUL-terminated strings from the entry's offset.
    fn strings(&self, e: Index) -> Result<Vec<&'b [u8]>, HeaderError> {
        if !matches!(e.kind, STRING | STRING_ARRAY | I18NSTRING) {
            return Err(HeaderError::Entry { tag: e.tag });
        }
        let count = if e.kind == STRING {
            1
        } else {
            e.count as usize
        };
        let mut rest = self.bytes_from(e)?;
        // Each string takes at least its NUL: a count beyond the rest is a lie.
        if count > rest.len() {
            return Err(HeaderError::Entry { tag: e.tag });
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(HeaderError::Entry { tag: e.tag })?;
            out.push(&rest[..nul]);
            rest = &rest[nul + 1..];
        }
        Ok(out)
    }

    fn string(&self, tag: u32) -> Result<Option<&'b [u8]>, HeaderError> {
        match self.find(tag) {
            None => Ok(None),
            Some(e) => Ok(self.strings(e)?.first().copied()),
        }
    }

    /// Integers of any width, widened to u64.
    fn ints(&self, e: Index) -> Result<Vec<u64>, HeaderError> {
        let width = match e.kind {
            CHAR | INT8 => 1,
            INT16 => 2,
            INT32 => 4,
            INT64 => 8,
            _ => return Err(HeaderError::Entry { tag: e.tag }),
        };
        let bad = HeaderError::Entry { tag: e.tag };
        let len = (e.count as usize).checked_mul(width).ok_or(bad.clone())?;
        let raw = self.bytes_from(e)?.get(..len).ok_or(bad)?;
        Ok(raw
            .chunks_exact(width)
            .map(|c| c.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
            .collect())
    }

    fn int_array(&self, tag: u32) -> Result<Option<Vec<u64>>, HeaderError> {
        self.find(tag).map(|e| self.ints(e)).transpose()
    }

    fn int(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        Ok(self.int_array(tag)?.and_then(|v| v.first().copied()))
    }
}

/// Parses one installed-package header.
pub fn parse(blob: &[u8]) -> Result<Header, HeaderError> {
    let b = Blob::parse(blob)?;
    let name = b
        .string(NAME)?
        .filter(|n| !n.is_empty())
        .ok_or(HeaderError::NoName)?;
    let size = match b.int(LONGSIZE)? {
        Some(s) => Some(s),
        None => b.int(SIZE)?,
    };
    Ok(Header {
        name: name.to_vec(),
        epoch: b.int(EPOCH)?.map(|e| e as u32),
        version: b.string(VERSION)?.unwrap_or_default().to_vec(),
        release: b.string(RELEASE)?.unwrap_or_default().to_vec(),
        arch: b.string(ARCH)?.map(<[u8]>::to_vec),
        size,
        source_rpm: b.string(SOURCERPM)?.map(<[u8]>::to_vec),
        files: files(&b)?,
    })
}

fn files(b: &Blob<'_>) -> Result<Vec<FileEntry>, HeaderError> {
    let paths: Vec<Vec<u8>> = match b.find(BASENAMES) {
        Some(e) => {
            let base = b.strings(e)?;
            let (Some(di), Some(dn)) = (b.find(DIRINDEXES), b.find(DIRNAMES)) else {
                return Err(HeaderError::FileCounts { tag: DIRINDEXES });
            };
            let dirs = b.strings(dn)?;
            let idx = b.ints(di)?;
            if idx.len() != base.len() {
                return Err(HeaderError::FileCounts { tag: DIRINDEXES });
            }
            let mut out = Vec::with_capacity(base.len());
            for (name, &d) in base.iter().zip(&idx) {
                let dir = dirs
                    .get(d as usize)
                    .ok_or(HeaderError::Entry { tag: DIRINDEXES })?;
                let mut p = Vec::with_capacity(dir.len() + name.len());
                p.extend_from_slice(dir);
                p.extend_from_slice(name);
                out.push(p);
            }
            out
        }
        // Headers written before rpm 4.0 list whole paths.
        None => match b.find(OLDFILENAMES) {
            Some(e) => b.strings(e)?.into_iter().map(<[u8]>::to_vec).collect(),
            None => return Ok(Vec::new()),
        },
    };
    let n = paths.len();
    // A per-file array of the wrong length describes other files: refuse it.
    let per_file = |tag: u32| -> Result<Option<Vec<u64>>, HeaderError> {
        match b.int_array(tag)? {
            Some(v) if v.len() != n => Err(HeaderError::FileCounts { tag }),
            other => Ok(other),
        }
    };
    let sizes = match per_file(LONGFILESIZES)? {
        Some(s) => Some(s),
        None => per_file(FILESIZES)?,
    };
    let modes = per_file(FILEMODES)?;
    let states = per_file(FILESTATES)?;
    let flags = per_file(FILEFLAGS)?;
    let inodes = per_file(FILEINODES)?;
    let at = |v: &Option<Vec<u64>>, i: usize| v.as_ref().and_then(|v| v.get(i).copied());
    Ok(paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| FileEntry {
            path,
            size: at(&sizes, i).unwrap_or(0),
            mode: at(&modes, i).unwrap_or(0o100644) as u16,
            installed: at(&states, i).is_none_or(|s| s as u8 == STATE_NORMAL),
            ghost: at(&flags, i).is_some_and(|f| f as u32 & FILE_GHOST != 0),
            inode: at(&inodes, i).map(|v| v as u32),
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a header blob from (tag, type, count, data) entries, with an
    /// immutable region covering all of them, as rpm exports one.
    pub(crate) fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut data = Vec::new();
        let mut index = Vec::new();
        let il = entries.len() as u32 + 1;
        let put = |index: &mut Vec<u8>, tag: u32, kind: u32, off: u32, count: u32| {
            for v in [tag, kind, off, count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
        };
        for (tag, kind, count, bytes) in entries {
            let align = match *kind {
                INT16 => 2,
                INT32 => 4,
                INT64 => 8,
                _ => 1,
            };
            while data.len() % align != 0 {
                data.push(0);
            }
            put(&mut index, *tag, *kind, data.len() as u32, *count);
            data.extend_from_slice(bytes);
        }
        let trailer_at = data.len() as u32;
        let mut trailer = Vec::new();
        put(
            &mut trailer,
            HEADERIMMUTABLE,
            BIN,
            (-(il as i32 * 16)) as u32,
            16,
        );
        data.extend_from_slice(&trailer);
        let mut out = Vec::new();
        out.extend_from_slice(&il.to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        put(&mut out, HEADERIMMUTABLE, BIN, trailer_at, 16);
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    pub(crate) fn s(v: &str) -> Vec<u8> {
        let mut b = v.as_bytes().to_vec();
        b.push(0);
        b
    }

    fn arr(v: &[&str]) -> Vec<u8> {
        v.iter().flat_map(|x| s(x)).collect()
    }

    fn i32s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    fn i16s(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    /// A small package: three files, one a hard link of another, one ghost,
    /// one excluded at install time.
    pub(crate) fn sample() -> Vec<u8> {
        blob(&[
            (NAME, STRING, 1, s("tool")),
            (VERSION, STRING, 1, s("1.2")),
            (RELEASE, STRING, 1, s("3.fc40")),
            (EPOCH, INT32, 1, i32s(&[2])),
            (SIZE, INT32, 1, i32s(&[350])),
            (ARCH, STRING, 1, s("x86_64")),
            (FILESIZES, INT32, 5, i32s(&[100, 100, 200, 0, 50])),
            (FILESTATES, CHAR, 5, vec![0, 0, 0, 0, 2]),
            (
                FILEMODES,
                INT16,
                5,
                i16s(&[0o100755, 0o100755, 0o100644, 0o100644, 0o100644]),
            ),
            (FILEFLAGS, INT32, 5, i32s(&[0, 0, 0, FILE_GHOST, 2])),
            (SOURCERPM, STRING, 1, s("tool-1.2-3.fc40.src.rpm")),
            (FILEINODES, INT32, 5, i32s(&[1, 1, 2, 3, 4])),
            (DIRINDEXES, INT32, 5, i32s(&[0, 0, 1, 1, 2])),
            (
                BASENAMES,
                STRING_ARRAY,
                5,
                arr(&["a", "b", "c", "log", "README"]),
            ),
            (
                DIRNAMES,
                STRING_ARRAY,
                3,
                arr(&["/usr/bin/", "/var/lib/tool/", "/usr/share/doc/tool/"]),
            ),
        ])
    }

    #[test]
    fn a_header_gives_names_versions_and_files() {
        let h = parse(&sample()).unwrap();
        assert_eq!(h.name, b"tool");
        assert_eq!(h.evr(), b"2:1.2-3.fc40");
        assert_eq!(h.arch.as_deref(), Some(&b"x86_64"[..]));
        assert_eq!(h.size, Some(350));
        assert_eq!(h.files.len(), 5);
        assert_eq!(h.files[2].path, b"/var/lib/tool/c");
        assert!(h.files[3].ghost);
        assert!(!h.files[4].installed);
        assert_eq!(
            h.payload_bytes(),
            350,
            "hard link once, ghost left out, the excluded README in the payload"
        );
        let mut huge = h.clone();
        for f in &mut huge.files {
            f.size = u64::MAX;
        }
        assert_eq!(huge.payload_bytes(), u64::MAX, "saturates, never overflows");
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_an_error_or_a_header_never_a_panic() {
        let good = sample();
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..good.len() {
            for v in [0x00, 0x7f, 0x80, 0xff] {
                let mut b = good.clone();
                b[at] = v;
                let _ = parse(&b);
            }
        }
    }

    #[test]
    fn claimed_lengths_beyond_the_blob_are_refused_without_allocating() {
        let mut b = sample();
        b[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(matches!(parse(&b), Err(HeaderError::Sizes { .. })));
        let mut b = sample();
        b[0..4].copy_from_slice(&0xffffu32.to_be_bytes());
        assert!(matches!(parse(&b), Err(HeaderError::Sizes { .. })));
        // A string array claiming four billion strings.
        let huge = blob(&[
            (NAME, STRING, 1, s("x")),
            (BASENAMES, STRING_ARRAY, u32::MAX, arr(&["a"])),
        ]);
        assert!(parse(&huge).is_err());
        let ints = blob(&[
            (NAME, STRING, 1, s("x")),
            (FILESIZES, INT32, u32::MAX, i32s(&[1])),
        ]);
        assert!(parse(&ints).is_ok(), "no files listed: sizes are not read");
    }

    #[test]
    fn a_damaged_region_or_mismatched_file_arrays_are_refused() {
        let mut b = sample();
        let len = b.len();
        // The trailer's back offset is the last entry's third word.
        b[len - 8..len - 4].copy_from_slice(&(-8i32).to_be_bytes());
        assert_eq!(parse(&b), Err(HeaderError::Region));
        let short = blob(&[
            (NAME, STRING, 1, s("x")),
            (FILESIZES, INT32, 1, i32s(&[1])),
            (DIRINDEXES, INT32, 2, i32s(&[0, 0])),
            (BASENAMES, STRING_ARRAY, 2, arr(&["a", "b"])),
            (DIRNAMES, STRING_ARRAY, 1, arr(&["/"])),
        ]);
        assert_eq!(
            parse(&short),
            Err(HeaderError::FileCounts { tag: FILESIZES })
        );
        let bad_dir = blob(&[
            (NAME, STRING, 1, s("x")),
            (DIRINDEXES, INT32, 1, i32s(&[7])),
            (BASENAMES, STRING_ARRAY, 1, arr(&["a"])),
            (DIRNAMES, STRING_ARRAY, 1, arr(&["/"])),
        ]);
        assert!(parse(&bad_dir).is_err());
    }
}
