//! rpm's own "ndb" `Packages.db` (SUSE), read from its captured bytes. Layout
//! (rpm's lib/backend/ndb/rpmpkg.c, little-endian throughout): a 32-byte header
//! (`RpmP`, version 0, generation, number of slot pages), then 4 KiB slot pages
//! of 16-byte slots (`Slot`, package index, block offset, block count; index 0
//! is a free slot; the header takes the first two slots), and blobs addressed
//! in 16-byte blocks: `BlbS`, package index, generation, length, then the
//! header blob.
//!
//! Bounded: the slot pages must lie in the file, every blob must lie inside
//! its slot's blocks and the file; a bad slot costs that package only.

const MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
const BLOB_HEAD: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdbError {
    #[error("not an rpm ndb Packages.db")]
    NotNdb,
    #[error("claims {0} slot pages, more than the file holds")]
    SlotPages(u32),
}

#[derive(Debug, Default)]
pub struct Blobs {
    pub blobs: Vec<Vec<u8>>,
    pub problems: Vec<String>,
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

pub fn read(bytes: &[u8]) -> Result<Blobs, NdbError> {
    if le32(bytes, 0) != Some(MAGIC) || le32(bytes, 4) != Some(0) {
        return Err(NdbError::NotNdb);
    }
    let npages = le32(bytes, 12).ok_or(NdbError::NotNdb)?;
    let slots_end = (npages as usize)
        .checked_mul(PAGE)
        .filter(|&e| e <= bytes.len() && npages > 0)
        .ok_or(NdbError::SlotPages(npages))?;
    let mut out = Blobs::default();
    let problem = |out: &mut Blobs, line: String| {
        if out.problems.len() < 10 {
            out.problems.push(line);
        }
    };
    for at in (32..slots_end).step_by(SLOT) {
        let field = |k: usize| le32(bytes, at + k * 4).unwrap_or(0);
        if field(0) != SLOT_MAGIC {
            problem(&mut out, format!("slot at byte {at} is damaged"));
            continue;
        }
        let (index, blkoff, blkcnt) = (field(1), field(2) as usize, field(3) as usize);
        if index == 0 {
            continue;
        }
        let start = blkoff.saturating_mul(BLOCK);
        let room = blkcnt.saturating_mul(BLOCK);
        let Some(block) = bytes.get(start..start.saturating_add(room)) else {
            problem(
                &mut out,
                format!("package {index}: its blocks lie outside the file"),
            );
            continue;
        };
        let len = le32(block, 12).unwrap_or(0) as usize;
        if le32(block, 0) != Some(BLOB_MAGIC) || le32(block, 4) != Some(index) {
            problem(&mut out, format!("package {index}: blob header is damaged"));
            continue;
        }
        match block.get(BLOB_HEAD..BLOB_HEAD.saturating_add(len)) {
            Some(blob) => out.blobs.push(blob.to_vec()),
            None => problem(
                &mut out,
                format!("package {index}: blob of {len} bytes exceeds its {blkcnt} blocks"),
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_claiming_more_slot_pages_than_the_file_is_refused() {
        let mut b = vec![0u8; PAGE];
        b[..4].copy_from_slice(b"RpmP");
        b[12..16].copy_from_slice(&2048u32.to_le_bytes());
        assert_eq!(read(&b).unwrap_err(), NdbError::SlotPages(2048));
        assert_eq!(read(b"RpmQ").unwrap_err(), NdbError::NotNdb);
    }
}
