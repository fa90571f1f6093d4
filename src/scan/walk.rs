//! The single streaming pass over one layer blob.

use std::io::{self, Read};

use crate::image::{Algorithm, Compression, Hasher};

use super::decompress::{decoder, peek, Limits};
use super::guard::{is_headers_too_large, HeaderGuard, HeadersTooLarge};
use super::hashing::HashingReader;
use super::path::{display_path, normalize};
use super::{Kind, LayerScan, Record};

/// Most bytes of holes a GNU sparse entry may expand to beyond the data it
/// stores. Holes cost no input bytes, so without a bound a 1 KiB layer could ask
/// for a terabyte of zeros to be hashed.
pub const MAX_SPARSE_HOLE_BYTES: u64 = 8 << 30;

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot tell the compression of the layer (not tar, gzip or zstd; starts with {0})")]
    UnknownFormat(String),
    #[error("compression says {declared:?} but the blob looks like {found:?}")]
    CompressionMismatch {
        declared: Compression,
        found: Compression,
    },
    #[error("layer blob is truncated or corrupt: {0}")]
    Corrupt(String),
    #[error("layer has more than {0} tar entries")]
    TooManyEntries(u64),
    #[error("{0}")]
    HeadersTooLarge(#[from] HeadersTooLarge),
    #[error("sparse entry {shown} expands to {size} bytes from {stored} stored, more than {MAX_SPARSE_HOLE_BYTES} bytes of holes")]
    SparseTooLarge {
        shown: String,
        size: u64,
        stored: u64,
    },
    #[error("entry {shown}: name or link target longer than {limit} bytes")]
    NameTooLong { shown: String, limit: usize },
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

fn corrupt(e: io::Error) -> ScanError {
    if is_headers_too_large(&e) {
        return ScanError::HeadersTooLarge(HeadersTooLarge);
    }
    // Everything the decoders and the tar reader report comes back as io::Error;
    // to a user it means the same thing: these bytes are not a whole layer.
    match e.kind() {
        io::ErrorKind::UnexpectedEof => ScanError::Corrupt("unexpected end of data".into()),
        _ => ScanError::Corrupt(super::path::clean_message(&e.to_string())),
    }
}

/// Scans one layer blob. `declared` is the compression the media type names, or
/// `None` to sniff it from the magic bytes.
pub fn scan_layer<R: Read>(
    raw: R,
    declared: Option<Compression>,
    limits: &Limits,
) -> Result<LayerScan, ScanError> {
    let (blob, blob_tally) = HashingReader::new(raw, Some(Hasher::new(Algorithm::Sha256)));
    let (head, blob) = peek(blob, 512)?;
    let sniffed = Compression::sniff(&head);
    let compression = match (declared, sniffed) {
        (Some(d), Some(f)) if d != f && !(head.is_empty() && d == Compression::None) => {
            return Err(ScanError::CompressionMismatch {
                declared: d,
                found: f,
            })
        }
        (Some(d), _) => d,
        (None, Some(f)) => f,
        // An empty blob is an empty tar stream with no end marker: a valid empty layer.
        (None, None) if head.is_empty() => Compression::None,
        (None, None) => {
            let shown: String = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
            return Err(ScanError::UnknownFormat(shown));
        }
    };
    let tar_hasher = if compression == Compression::None {
        None
    } else {
        Some(Hasher::new(Algorithm::Sha256))
    };
    let decoded = decoder(blob, compression, limits).map_err(corrupt)?;
    let (tar_stream, tar_tally) = HashingReader::new(decoded, tar_hasher);
    let (tar_stream, budget) = HeaderGuard::new(tar_stream);

    let mut archive = tar::Archive::new(tar_stream);
    let mut records = Vec::new();
    let mut notes = Vec::new();
    let mut regular_bytes = 0u64;
    let mut entries = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut members = archive.entries().map_err(corrupt)?;
    loop {
        // Between members the tar reader reads headers and extension records into
        // memory: bound what it may consume there.
        budget.arm();
        let next = members.next();
        budget.disarm();
        let Some(entry) = next else { break };
        let mut entry = entry.map_err(corrupt)?;
        let etype = entry.header().entry_type();
        if etype.is_pax_global_extensions() {
            continue;
        }
        entries += 1;
        if entries > limits.max_entries {
            return Err(ScanError::TooManyEntries(limits.max_entries));
        }
        let raw_path = entry.path_bytes().into_owned();
        let link_len = entry.link_name_bytes().map_or(0, |l| l.len());
        if raw_path.len().max(link_len) > limits.max_name_bytes {
            return Err(ScanError::NameTooLong {
                shown: display_path(&raw_path[..raw_path.len().min(64)]) + "…",
                limit: limits.max_name_bytes,
            });
        }
        let norm = normalize(&raw_path);
        if norm.escaped {
            notes.push(format!(
                "entry {} climbs out of the root; read as {}",
                display_path(&raw_path),
                display_path(&norm.path)
            ));
        }
        if norm.path.is_empty() && !etype.is_dir() {
            // Only a directory can be the root: no engine extracts a file over it.
            // Its bytes are neither stored nor live; say so and move on.
            notes.push(format!(
                "entry {} names the root itself and is not a directory; ignored",
                display_path(&raw_path)
            ));
            io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
            continue;
        }
        let (path, kind) = if let Some(wh) = whiteout(&norm.path) {
            wh
        } else if etype.is_file() || etype.is_contiguous() || etype.is_gnu_sparse() {
            let size = entry.size();
            if etype.is_gnu_sparse() {
                let stored = entry.header().entry_size().unwrap_or(0);
                if size.saturating_sub(stored) > MAX_SPARSE_HOLE_BYTES {
                    return Err(ScanError::SparseTooLarge {
                        shown: display_path(&norm.path),
                        size,
                        stored,
                    });
                }
            }
            let mut hasher = blake3::Hasher::new();
            let mut read = 0u64;
            loop {
                let n = entry.read(&mut buf).map_err(corrupt)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                read += n as u64;
            }
            if read != size && !etype.is_gnu_sparse() {
                return Err(ScanError::Corrupt(format!(
                    "{} holds {read} bytes, its header says {size}",
                    display_path(&norm.path)
                )));
            }
            regular_bytes += size;
            let mode = entry.header().mode().unwrap_or(0o644);
            (
                norm.path,
                Kind::File {
                    size,
                    hash: *hasher.finalize().as_bytes(),
                    mode,
                },
            )
        } else if etype.is_dir() {
            (norm.path, Kind::Dir)
        } else if etype.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            (
                norm.path,
                Kind::Symlink {
                    target: target.into_boxed_slice(),
                },
            )
        } else if etype.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| normalize(&t).path)
                .unwrap_or_default();
            (
                norm.path,
                Kind::Hardlink {
                    target: target.into_boxed_slice(),
                },
            )
        } else {
            (norm.path, Kind::Special)
        };
        // Whatever content the walk did not read (a directory or link that claims
        // bytes) is read here, so the next header search starts right after it.
        io::copy(&mut entry, &mut io::sink()).map_err(corrupt)?;
        records.push(Record {
            path: path.into_boxed_slice(),
            kind,
        });
    }
    // Whatever follows the end-of-archive marker is still part of the blob and of
    // its digests: drain it so the digests cover every byte.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(corrupt)?;
    drop(rest);

    let (blob_digest, compressed_bytes) = {
        let mut t = blob_tally.borrow_mut();
        (t.finish(), t.bytes)
    };
    let (tar_digest, tar_bytes) = {
        let mut t = tar_tally.borrow_mut();
        (t.finish(), t.bytes)
    };
    let blob_digest = blob_digest.ok_or_else(|| ScanError::Corrupt("blob digest lost".into()))?;
    let diff_id = tar_digest.unwrap_or_else(|| blob_digest.clone());
    Ok(LayerScan {
        blob_digest,
        diff_id,
        compression,
        compressed_bytes,
        tar_bytes,
        regular_bytes,
        entries,
        records,
        notes,
    })
}

/// Recognises whiteout names. AUFS metadata (`.wh..wh.plnk` and the like) is
/// neither a deletion nor content; it is kept as a special entry.
fn whiteout(path: &[u8]) -> Option<(Vec<u8>, Kind)> {
    let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    };
    if name == OPAQUE {
        return Some((parent.to_vec(), Kind::Opaque));
    }
    let target = name.strip_prefix(WHITEOUT_PREFIX)?;
    if target.starts_with(WHITEOUT_PREFIX) || target.is_empty() || target == b"." || target == b".."
    {
        return Some((path.to_vec(), Kind::Special));
    }
    let mut full = parent.to_vec();
    if !full.is_empty() {
        full.push(b'/');
    }
    full.extend_from_slice(target);
    Some((full, Kind::Whiteout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_names_map_to_their_targets() {
        assert_eq!(
            whiteout(b"a/b/.wh.c"),
            Some((b"a/b/c".to_vec(), Kind::Whiteout))
        );
        assert_eq!(
            whiteout(b".wh.top"),
            Some((b"top".to_vec(), Kind::Whiteout))
        );
        assert_eq!(
            whiteout(b"a/.wh..wh..opq"),
            Some((b"a".to_vec(), Kind::Opaque))
        );
        assert_eq!(
            whiteout(b".wh..wh..opq"),
            Some((b"".to_vec(), Kind::Opaque))
        );
        assert_eq!(
            whiteout(b"a/.wh..wh.plnk"),
            Some((b"a/.wh..wh.plnk".to_vec(), Kind::Special))
        );
        assert_eq!(whiteout(b"a/wh.c"), None);
    }
}
