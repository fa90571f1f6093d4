//! `rpmdb.sqlite` read from its captured bytes: a read-only walk of the
//! `Packages(hnum, blob)` table b-tree, following overflow chains, with the
//! committed frames of the captured `-wal` file laid over the pages.
//!
//! Why a small reader of our own instead of SQLite itself (see ARCHITECTURE.md):
//! we need one table scan, in memory, over bytes we already hold, from a file
//! an image author controls. A bundled SQLite would want a file on disk (a
//! private copy of every database, plus its WAL, which SQLite would also try to
//! recover and checkpoint), adds a C build to every target, and its own
//! defences are tuned for trusted files. The format is small and stable
//! (sqlite.org/fileformat2.html): page header, cell pointers, varints, records,
//! overflow pages, the WAL frame header with its salts and cumulative checksum.
//!
//! Bounded: every page is visited at most once (b-tree and overflow pages share
//! one visited set, so a loop or a page claimed twice stops there), a payload
//! is assembled only from pages the file holds, nothing is allocated from a
//! claimed length, and a damaged page costs the rows under it, not the rest.

use std::collections::HashMap;
use std::fmt;

/// Why the database could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteError {
    NotSqlite,
    PageSize(u32),
    NoPackagesTable,
}

impl fmt::Display for SqliteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqliteError::NotSqlite => write!(f, "not an SQLite 3 database"),
            SqliteError::PageSize(n) => write!(f, "unsupported page size {n}"),
            SqliteError::NoPackagesTable => write!(f, "no Packages table"),
        }
    }
}

/// What the WAL contributed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WalState {
    /// No `-wal` file captured, or one holding no frames of this database.
    #[default]
    Absent,
    /// This many committed frames were laid over the database.
    Applied(usize),
    /// A `-wal` that cannot be applied (damaged header, other page size).
    Unusable(String),
}

/// The header blobs of every row, and what went wrong on the way.
#[derive(Debug, Default)]
pub struct Rows {
    pub blobs: Vec<Vec<u8>>,
    /// Pages or rows skipped (their packages are missing from the report).
    pub(crate) problems: Vec<String>,
    pub(crate) wal: WalState,
}

const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// The database as a reader sees it after the committed WAL frames.
struct Pages<'a> {
    db: &'a [u8],
    size: usize,
    usable: usize,
    count: u32,
    wal: HashMap<u32, &'a [u8]>,
}

impl<'a> Pages<'a> {
    fn get(&self, n: u32) -> Option<&'a [u8]> {
        if n == 0 || n > self.count {
            return None;
        }
        if let Some(p) = self.wal.get(&n) {
            return Some(p);
        }
        let at = (n as usize - 1).checked_mul(self.size)?;
        self.db.get(at..at.checked_add(self.size)?)
    }
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// SQLite's big-endian varint: 1..9 bytes, the ninth contributing all 8 bits.
fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..9 {
        let c = *b.get(at + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(c), 9));
        }
        v = (v << 7) | u64::from(c & 0x7f);
        if c & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Reads every `Packages.blob` of the database `db`, with `wal` applied.
pub fn read(db: &[u8], wal: Option<&[u8]>) -> Result<Rows, SqliteError> {
    if db.len() < 100 || &db[..16] != b"SQLite format 3\0" {
        return Err(SqliteError::NotSqlite);
    }
    let raw = be16(db, 16).ok_or(SqliteError::NotSqlite)? as u32;
    let size = if raw == 1 { 65536 } else { raw };
    if !(512..=65536).contains(&size) || !size.is_power_of_two() {
        return Err(SqliteError::PageSize(size));
    }
    let usable = size as usize - usize::from(db[20]);
    if usable < 480 {
        return Err(SqliteError::PageSize(size));
    }
    let mut rows = Rows::default();
    let mut pages = Pages {
        db,
        size: size as usize,
        usable,
        count: (db.len() / size as usize).min(u32::MAX as usize) as u32,
        wal: HashMap::new(),
    };
    if let Some(wal) = wal {
        match frames(wal, size) {
            Ok(None) => {}
            Ok(Some((map, count, applied))) => {
                // A hostile commit size cannot make the reader allocate: pages
                // neither file nor WAL holds would be missing anyway.
                pages.count = count.min(pages.count.saturating_add(map.len() as u32));
                pages.wal = map;
                rows.wal = WalState::Applied(applied);
            }
            Err(why) => rows.wal = WalState::Unusable(why),
        }
    }
    let mut walk = Walk {
        pages: &pages,
        visited: vec![false; pages.count as usize + 1],
        problems: Vec::new(),
    };
    let mut root = None;
    walk.table(1, &mut |w, page, cell| {
        let Some(rec) = w.payload(page, cell) else {
            return;
        };
        let cols = record(&rec);
        let text = |i: usize| match cols.get(i) {
            Some(Value::Bytes(b)) => Some(*b),
            _ => None,
        };
        if text(0) == Some(b"table") && text(1) == Some(b"Packages") {
            if let Some(Value::Int(n)) = cols.get(3) {
                root = u32::try_from(*n).ok();
            }
        }
    });
    let root = root.ok_or(SqliteError::NoPackagesTable)?;
    let mut blobs = Vec::new();
    walk.table(root, &mut |w, page, cell| {
        let Some(rec) = w.payload(page, cell) else {
            return;
        };
        // `hnum` is the rowid (stored as NULL in the record); `blob` is column 1.
        match record(&rec).get(1) {
            Some(Value::Bytes(b)) => blobs.push(b.to_vec()),
            _ => w.problems.push(format!("a row on page {page} has no blob")),
        }
    });
    rows.blobs = blobs;
    rows.problems = walk.problems;
    Ok(rows)
}

/// The committed frames of a WAL: page → latest committed image, the database
/// size in pages after the last commit, and how many frames were applied.
/// `Ok(None)` when the WAL holds no valid frame (freshly reset, or its frames
/// belong to before the last checkpoint restart: SQLite ignores those too).
type Frames<'a> = (HashMap<u32, &'a [u8]>, u32, usize);

fn frames(wal: &[u8], page_size: u32) -> Result<Option<Frames<'_>>, String> {
    if wal.is_empty() {
        return Ok(None);
    }
    let magic = be32(wal, 0).ok_or("WAL shorter than its header")?;
    if magic & !1 != 0x377f_0682 {
        return Err("WAL header is damaged".into());
    }
    let big = magic & 1 == 1;
    let wal_size = be32(wal, 8).ok_or("WAL shorter than its header")?;
    if wal_size != page_size {
        return Err(format!(
            "WAL page size {wal_size} differs from the database's {page_size}"
        ));
    }
    let header = wal.get(..WAL_HEADER).ok_or("WAL shorter than its header")?;
    let mut sum = checksum(&header[..24], (0, 0), big);
    if (be32(header, 24), be32(header, 28)) != (Some(sum.0), Some(sum.1)) {
        return Err("WAL header checksum does not match".into());
    }
    let salts = &header[16..24];
    let frame_len = FRAME_HEADER + page_size as usize;
    let mut committed: HashMap<u32, &[u8]> = HashMap::new();
    let mut pending: Vec<(u32, &[u8])> = Vec::new();
    let mut db_pages = None;
    let mut applied = 0;
    let mut at = WAL_HEADER;
    while let Some(frame) = wal.get(at..at + frame_len) {
        let (fh, page) = frame.split_at(FRAME_HEADER);
        if &fh[8..16] != salts {
            break;
        }
        sum = checksum(&fh[..8], sum, big);
        sum = checksum(page, sum, big);
        if (be32(fh, 16), be32(fh, 20)) != (Some(sum.0), Some(sum.1)) {
            break;
        }
        let (pgno, commit) = (be32(fh, 0).unwrap_or(0), be32(fh, 4).unwrap_or(0));
        if pgno == 0 {
            break;
        }
        pending.push((pgno, page));
        if commit != 0 {
            applied += pending.len();
            committed.extend(pending.drain(..));
            db_pages = Some(commit);
        }
        at += frame_len;
    }
    Ok(db_pages.map(|n| (committed, n, applied)))
}

/// SQLite's WAL checksum over 32-bit word pairs, continuing from `s`.
fn checksum(data: &[u8], s: (u32, u32), big: bool) -> (u32, u32) {
    let (mut s0, mut s1) = s;
    for pair in data.chunks_exact(8) {
        let word = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

struct Walk<'p, 'a> {
    pages: &'p Pages<'a>,
    visited: Vec<bool>,
    problems: Vec<String>,
}

/// Most problems one database reports one by one.
const MAX_PROBLEMS: usize = 10;

impl Walk<'_, '_> {
    fn problem(&mut self, line: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(line);
        }
    }

    /// Marks page `n` used; false (and a problem) if it was already.
    fn visit(&mut self, n: u32) -> bool {
        match self.visited.get_mut(n as usize) {
            Some(v) if !*v => {
                *v = true;
                true
            }
            Some(_) => {
                self.problem(format!("page {n} is reached twice (a loop); skipped"));
                false
            }
            None => {
                self.problem(format!("page {n} is beyond the end of the database"));
                false
            }
        }
    }

    /// Calls `leaf(walk, page, cell offset)` for every cell of the table b-tree at `root`.
    fn table(&mut self, root: u32, leaf: &mut dyn FnMut(&mut Self, u32, usize)) {
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if !self.visit(n) {
                continue;
            }
            let Some(p) = self.pages.get(n) else {
                self.problem(format!("page {n} is missing"));
                continue;
            };
            let h = if n == 1 { 100 } else { 0 };
            let (Some(&kind), Some(cells)) = (p.get(h), be16(p, h + 3)) else {
                self.problem(format!("page {n} is truncated"));
                continue;
            };
            let (ptrs, interior) = match kind {
                0x0d => (h + 8, false),
                0x05 => (h + 12, true),
                _ => {
                    self.problem(format!("page {n} is not a table page (type {kind})"));
                    continue;
                }
            };
            if ptrs + cells * 2 > self.pages.usable {
                self.problem(format!("page {n} claims {cells} cells, more than fit"));
                continue;
            }
            let mut children = Vec::new();
            for i in 0..cells {
                let Some(off) = be16(p, ptrs + i * 2) else {
                    break;
                };
                if off < ptrs + cells * 2 || off >= self.pages.usable {
                    self.problem(format!("page {n}: cell {i} points outside the page"));
                    continue;
                }
                if interior {
                    match be32(p, off) {
                        Some(child) => children.push(child),
                        None => self.problem(format!("page {n}: cell {i} is truncated")),
                    }
                } else {
                    leaf(self, n, off);
                }
            }
            if interior {
                if let Some(right) = be32(p, h + 8) {
                    children.push(right);
                }
                // Visit in key order: the stack pops the last pushed first.
                stack.extend(children.into_iter().rev());
            }
        }
    }

    /// The whole payload of the leaf cell at `off` on page `n`.
    fn payload(&mut self, n: u32, off: usize) -> Option<Vec<u8>> {
        let p = self.pages.get(n)?;
        let u = self.pages.usable;
        let Some((total, a)) = varint(p, off) else {
            self.problem(format!("page {n}: a cell is truncated"));
            return None;
        };
        let Some((_rowid, b)) = varint(p, off + a) else {
            self.problem(format!("page {n}: a cell is truncated"));
            return None;
        };
        let start = off + a + b;
        // Local part (fileformat2 §1.6): all of it up to X, else M..X bytes.
        let x = u - 35;
        let local = if total <= x as u64 {
            total as usize
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((total as usize).saturating_sub(m)) % (u - 4);
            if k <= x {
                k
            } else {
                m
            }
        };
        let Some(here) = p.get(start..start + local).filter(|_| start + local <= u) else {
            self.problem(format!("page {n}: a cell's payload runs past the page"));
            return None;
        };
        // Whatever the cell claims, the pages can hold no more than this.
        let room = (self.pages.count as u64).saturating_mul((u - 4) as u64);
        if total > room.saturating_add(local as u64) {
            self.problem(format!(
                "page {n}: a cell claims {total} bytes, more than the database holds"
            ));
            return None;
        }
        let mut out = Vec::with_capacity(local);
        out.extend_from_slice(here);
        let mut next = if (local as u64) < total {
            be32(p, start + local)
        } else {
            None
        };
        while (out.len() as u64) < total {
            let Some(o) = next.filter(|&o| o != 0) else {
                self.problem(format!("page {n}: an overflow chain ends early"));
                return None;
            };
            if !self.visit(o) {
                return None;
            }
            let Some(op) = self.pages.get(o) else {
                self.problem(format!("overflow page {o} is missing"));
                return None;
            };
            let want = ((total - out.len() as u64) as usize).min(u - 4);
            out.extend_from_slice(op.get(4..4 + want)?);
            next = be32(op, 0);
        }
        Some(out)
    }
}

#[derive(Debug, PartialEq)]
enum Value<'r> {
    Null,
    Int(i64),
    Bytes(&'r [u8]),
    Other,
}

/// The columns of a record (fileformat2 §2.1); a malformed tail ends the list.
fn record(rec: &[u8]) -> Vec<Value<'_>> {
    let mut out = Vec::new();
    let Some((hsize, n)) = varint(rec, 0) else {
        return out;
    };
    let hsize = (hsize as usize).min(rec.len());
    let (mut h, mut body) = (n, hsize);
    while h < hsize {
        let Some((t, n)) = varint(rec, h) else {
            break;
        };
        h += n;
        let (len, v) = match t {
            0 => (0, Value::Null),
            1..=6 => {
                let len = [0, 1, 2, 3, 4, 6, 8][t as usize];
                let Some(b) = rec.get(body..body + len) else {
                    break;
                };
                // Big-endian two's complement of `len` bytes.
                let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
                for &c in b {
                    v = (v << 8) | i64::from(c);
                }
                (len, Value::Int(v))
            }
            7 => (8, Value::Other),
            8 => (0, Value::Int(0)),
            9 => (0, Value::Int(1)),
            10 | 11 => break,
            t => {
                let len = ((t - 12) / 2) as usize;
                let Some(b) = rec.get(body..body.saturating_add(len)) else {
                    break;
                };
                (len, Value::Bytes(b))
            }
        };
        body += len;
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_records_decode() {
        assert_eq!(varint(&[0x7f], 0), Some((0x7f, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((0x80, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81], 0), None);
        // header 3 bytes: NULL, blob of 2 bytes.
        let rec = [3, 0, 16, 0xaa, 0xbb];
        assert_eq!(record(&rec), vec![Value::Null, Value::Bytes(&[0xaa, 0xbb])]);
        assert_eq!(record(&[3, 0, 16, 0xaa]), vec![Value::Null]);
        assert_eq!(record(&[2, 1, 0xff]), vec![Value::Int(-1)]);
    }

    #[test]
    fn garbage_is_not_sqlite() {
        assert_eq!(read(b"hello", None).unwrap_err(), SqliteError::NotSqlite);
        let mut h = b"SQLite format 3\0".to_vec();
        h.resize(100, 0);
        h[16] = 0x03;
        assert_eq!(read(&h, None).unwrap_err(), SqliteError::PageSize(768));
    }
}
