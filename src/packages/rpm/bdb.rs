//! BerkeleyDB hash `Packages` (RHEL/CentOS 5–8, Amazon Linux 2), read from its
//! captured bytes without libdb. Layout (Berkeley DB's `db_page.h`, as rpm's
//! read-only `bdb_ro` backend reads it): page 0 is the hash metadata page
//! (magic 0x061561, which also gives the byte order of every number: databases
//! written on big-endian machines are read too), then pages of 26-byte header
//! and an array of item offsets. On hash pages, items alternate key and data;
//! a data item is inline (`H_KEYDATA`) or, as header blobs nearly always are,
//! stored off-page (`H_OFFPAGE`: first page and total length) on a chain of
//! overflow pages, each holding `hf_offset` bytes after its header.
//!
//! Every page is read once in file order; overflow pages are claimed at most
//! once (a chain that loops or reuses a page stops there), and a data item is
//! assembled only from bytes the pages hold.

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BdbError {
    #[error("not a Berkeley DB hash database")]
    NotHash,
    #[error("unsupported page size {0}")]
    PageSize(u32),
    #[error("encrypted Berkeley DB")]
    Encrypted,
}

#[derive(Debug, Default)]
pub struct Blobs {
    pub blobs: Vec<Vec<u8>>,
    pub problems: Vec<String>,
}

struct Db<'a> {
    bytes: &'a [u8],
    size: usize,
    big: bool,
}

impl<'a> Db<'a> {
    fn u16(&self, b: &[u8], at: usize) -> Option<usize> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(usize::from(if self.big {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        }))
    }

    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }

    fn page(&self, n: u32) -> Option<&'a [u8]> {
        let at = (n as usize).checked_mul(self.size)?;
        self.bytes.get(at..at.checked_add(self.size)?)
    }

    /// The off-page item starting at `first`, `len` bytes long.
    /// `claimed` marks the overflow pages already used: a page belongs to one chain.
    fn overflow(&self, claimed: &mut [bool], first: u32, len: u32) -> Result<Vec<u8>, String> {
        let room = self.bytes.len();
        if len as usize > room {
            return Err(format!(
                "an item claims {len} bytes, more than the database holds"
            ));
        }
        let mut out = Vec::new();
        let mut n = first;
        while out.len() < len as usize {
            if n == 0 {
                return Err(format!("overflow chain from page {first} ends early"));
            }
            match claimed.get_mut(n as usize) {
                Some(c) if !*c => *c = true,
                _ => return Err(format!("overflow page {n} is reused or missing")),
            }
            let p = self
                .page(n)
                .ok_or_else(|| format!("overflow page {n} is missing"))?;
            if p[25] != P_OVERFLOW {
                return Err(format!("page {n} is not an overflow page"));
            }
            let here = self.u16(p, 22).unwrap_or(0);
            let chunk = p
                .get(PAGE_HEADER..PAGE_HEADER + here)
                .ok_or_else(|| format!("overflow page {n} claims {here} bytes"))?;
            out.extend_from_slice(chunk);
            n = self.u32(p, 16).unwrap_or(0);
        }
        if out.len() != len as usize {
            return Err(format!(
                "overflow chain from page {first} holds {} bytes, not {len}",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// Every package header stored in the hash database `bytes`.
pub fn read(bytes: &[u8]) -> Result<Blobs, BdbError> {
    let magic = bytes.get(12..16).ok_or(BdbError::NotHash)?;
    let magic: [u8; 4] = magic.try_into().map_err(|_| BdbError::NotHash)?;
    let big = if u32::from_le_bytes(magic) == HASH_MAGIC {
        false
    } else if u32::from_be_bytes(magic) == HASH_MAGIC {
        true
    } else {
        return Err(BdbError::NotHash);
    };
    let mut db = Db {
        bytes,
        size: 0,
        big,
    };
    let size = db.u32(bytes, 20).ok_or(BdbError::NotHash)?;
    if !(512..=65536).contains(&size) || !size.is_power_of_two() {
        return Err(BdbError::PageSize(size));
    }
    if bytes.get(24) != Some(&0) {
        return Err(BdbError::Encrypted);
    }
    if bytes.get(25) != Some(&P_HASHMETA) {
        return Err(BdbError::NotHash);
    }
    db.size = size as usize;
    let pages = bytes.len() / db.size;
    // last_pgno may say more than the file holds (a cut copy): read what is there.
    let last = db.u32(bytes, 32).unwrap_or(0) as usize;
    let count = pages.min(last.saturating_add(1));
    let mut claimed = vec![false; count];
    let mut out = Blobs::default();
    let problem = |out: &mut Blobs, line: String| {
        if out.problems.len() < 10 {
            out.problems.push(line);
        }
    };
    for n in 1..count as u32 {
        let Some(p) = db.page(n) else { break };
        if !matches!(p[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = db.u16(p, 20).unwrap_or(0);
        if PAGE_HEADER + entries * 2 > db.size {
            problem(&mut out, format!("page {n} claims {entries} items"));
            continue;
        }
        let offset = |i: usize| db.u16(p, PAGE_HEADER + i * 2).unwrap_or(0);
        // Items grow down from the page end: item i ends where item i-1 starts.
        let end = |i: usize| if i == 0 { db.size } else { offset(i - 1) };
        for i in (0..entries).step_by(2) {
            let (k, d) = (offset(i), i + 1);
            if d >= entries {
                break;
            }
            let v = offset(d);
            let (ke, ve) = (end(i), end(d));
            if k >= ke || v >= ve || ke > db.size || ve > db.size {
                problem(
                    &mut out,
                    format!("page {n}: item {d} lies outside the page"),
                );
                continue;
            }
            // Key 0 holds rpm's instance counter, not a package.
            if p[k] == H_KEYDATA && ke - k == 5 && p[k + 1..ke] == [0, 0, 0, 0] {
                continue;
            }
            match p[v] {
                H_OFFPAGE => {
                    let (Some(first), Some(len)) = (db.u32(p, v + 4), db.u32(p, v + 8)) else {
                        problem(&mut out, format!("page {n}: item {d} is truncated"));
                        continue;
                    };
                    match db.overflow(&mut claimed, first, len) {
                        Ok(blob) => out.blobs.push(blob),
                        Err(why) => problem(&mut out, why),
                    }
                }
                H_KEYDATA => out.blobs.push(p[v + 1..ve].to_vec()),
                other => problem(
                    &mut out,
                    format!("page {n}: item {d} has unexpected type {other}"),
                ),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_metadata_are_errors() {
        assert_eq!(read(b"").unwrap_err(), BdbError::NotHash);
        let mut meta = vec![0u8; 512];
        meta[12..16].copy_from_slice(&HASH_MAGIC.to_be_bytes());
        meta[20..24].copy_from_slice(&300u32.to_be_bytes());
        assert_eq!(read(&meta).unwrap_err(), BdbError::PageSize(300));
        meta[20..24].copy_from_slice(&512u32.to_be_bytes());
        meta[25] = P_HASHMETA;
        meta[32..36].copy_from_slice(&u32::MAX.to_be_bytes());
        let r = read(&meta).unwrap();
        assert!(
            r.blobs.is_empty(),
            "a claimed 4-billion-page file holds one page"
        );
    }
}
