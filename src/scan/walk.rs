//! The single streaming pass over one layer blob.

use std::io::{self, Read};

use crate::image::{Algorithm, Compression, Hasher};

use super::capture::{capture_bound, MAX_CAPTURED_PER_LAYER};
use super::decompress::{decoder, zstd_context, Limits};
use super::guard::{is_headers_too_large, HeaderGuard, HeadersTooLarge};
use super::hashing::HashingReader;
use super::path::{display_path, normalize, normalize_into};
use super::pipe::pipe;
use super::records::empty_hash;
use super::skip::Skipping;
use super::{Captured, Kind, LayerScan, Records};

/// Most bytes of holes a GNU sparse entry may expand to beyond the data it
/// stores. Holes cost no input bytes, so without a bound a 1 KiB layer could ask
/// for a terabyte of zeros to be hashed.
pub(super) const MAX_SPARSE_HOLE_BYTES: u64 = 8 << 30;

/// Most bytes of holes all the sparse entries of one layer may expand to together:
/// without it, a 10 KB layer of a thousand entries each under the per-entry bound
/// would hash zeros for half an hour.
pub(super) const MAX_SPARSE_HOLE_BYTES_PER_LAYER: u64 = 8 << 30;

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
    #[error("sparse entries expand to more than {MAX_SPARSE_HOLE_BYTES_PER_LAYER} bytes of holes in one layer (at {shown})")]
    SparseLayerTooLarge { shown: String },
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
///
/// Three stages run at once on their own threads, joined by bounded pipes
/// (`pipe.rs`): reading the blob and hashing it; decompressing it; hashing the
/// tar and walking it (hashing each file). A layer that dominates an image thus
/// keeps both cores busy, and no stage ever holds more than a few buffers.
/// An uncompressed blob skips the middle stage: its tar is the blob.
pub fn scan_layer<R: Read + Send>(
    raw: R,
    declared: Option<Compression>,
    limits: &Limits,
) -> Result<LayerScan, ScanError> {
    scan_layer_estimating(raw, declared, limits, false)
}

/// [`scan_layer`], and with `estimate_gzip` the gzip size of a layer not stored
/// gzip, computed in the walking stage from the tar stream (see `estimate`).
pub(crate) fn scan_layer_estimating<R: Read + Send>(
    mut raw: R,
    declared: Option<Compression>,
    limits: &Limits,
    estimate_gzip: bool,
) -> Result<LayerScan, ScanError> {
    let mut head = Vec::with_capacity(512);
    (&mut raw).take(512).read_to_end(&mut head)?;
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
    let blob = io::Cursor::new(head).chain(raw);
    let limits = *limits;
    // Taken before the layer's threads start, so a layer waiting for the context
    // holds no buffers meanwhile.
    let mut zstd = (compression == Compression::Zstd).then(zstd_context);
    std::thread::scope(|s| {
        let (blob_in, blob_out) = pipe();
        let reading = s.spawn(move || blob_in.pump(blob, Some(Hasher::new(Algorithm::Sha256))));
        let estimate = estimate_gzip && compression != Compression::Gzip;
        let walked = if compression == Compression::None {
            walk(blob_out, None, &limits, estimate)
        } else {
            let (tar_in, tar_out) = pipe();
            let zstd = zstd.as_deref_mut();
            s.spawn(move || {
                let mut blob_out = blob_out;
                let whole = match decoder(&mut blob_out, compression, &limits, zstd) {
                    Ok(d) => tar_in.pump(d, None).is_some(),
                    Err(e) => {
                        tar_in.fail(e);
                        false
                    }
                };
                if whole {
                    // Whatever the decoder left (nothing, in a whole blob) is
                    // still part of the blob and of its digest.
                    let _ = io::copy(&mut blob_out, &mut io::sink());
                }
            });
            walk(
                tar_out,
                Some(Hasher::new(Algorithm::Sha256)),
                &limits,
                estimate,
            )
        };
        let read = reading.join().ok().flatten();
        let mut walked = walked?;
        let (blob_digest, compressed_bytes) = match read {
            Some((Some(d), n)) => (d, n),
            _ => return Err(ScanError::Corrupt("blob digest lost".into())),
        };
        walked.compression = compression;
        walked.compressed_bytes = compressed_bytes;
        Ok(walked.into_scan(blob_digest))
    })
}

/// What the walk of one tar stream found, before the blob's own figures are known.
struct Walked {
    diff_id: Option<crate::image::Digest>,
    compression: Compression,
    compressed_bytes: u64,
    tar_bytes: u64,
    regular_bytes: u64,
    entries: u64,
    records: Records,
    captured: Vec<Captured>,
    notes: Vec<String>,
    gzip_estimate: Option<u64>,
}

impl Walked {
    fn into_scan(self, blob_digest: crate::image::Digest) -> LayerScan {
        LayerScan {
            diff_id: self.diff_id.unwrap_or_else(|| blob_digest.clone()),
            blob_digest,
            compression: self.compression,
            compressed_bytes: self.compressed_bytes,
            tar_bytes: self.tar_bytes,
            regular_bytes: self.regular_bytes,
            entries: self.entries,
            records: self.records,
            captured: self.captured,
            notes: self.notes,
            gzip_estimate: self.gzip_estimate,
        }
    }
}

/// Walks a tar stream: one record per member, each regular file hashed, the
/// stream hashed with `tar_hasher` (none when the tar is the blob itself).
fn walk<R: Read>(
    decoded: R,
    tar_hasher: Option<Hasher>,
    limits: &Limits,
    estimate_gzip: bool,
) -> Result<Walked, ScanError> {
    let (tar_stream, tar_tally) = HashingReader::new(decoded, tar_hasher);
    let gzip = super::estimate::estimate(estimate_gzip);
    let tar_stream = super::estimate::Estimating {
        inner: tar_stream,
        est: std::rc::Rc::clone(&gzip),
    };
    let (tar_stream, budget) = HeaderGuard::new(tar_stream);

    let mut archive = tar::Archive::new(Skipping::new(tar_stream));
    let mut records = Records::default();
    // The previous member's path (records are front-coded against it), the raw
    // and normalised names: buffers reused for every member.
    let mut last: Vec<u8> = Vec::new();
    let mut raw_path: Vec<u8> = Vec::new();
    let mut norm: Vec<u8> = Vec::new();
    let mut notes = Vec::new();
    let mut captured = Vec::new();
    let mut captured_bytes = 0u64;
    let mut regular_bytes = 0u64;
    let mut entries = 0u64;
    let mut sparse_holes = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let mut members = archive.entries_with_seek().map_err(corrupt)?;
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
        raw_path.clear();
        raw_path.extend_from_slice(&entry.path_bytes());
        let link_len = entry.link_name_bytes().map_or(0, |l| l.len());
        if raw_path.len().max(link_len) > limits.max_name_bytes {
            return Err(ScanError::NameTooLong {
                shown: display_path(&raw_path[..raw_path.len().min(64)]) + "…",
                limit: limits.max_name_bytes,
            });
        }
        if normalize_into(&raw_path, &mut norm) {
            notes.push(format!(
                "entry {} climbs out of the root; read as {}",
                display_path(&raw_path),
                display_path(&norm)
            ));
        }
        if norm.is_empty() && !etype.is_dir() {
            // Only a directory can be the root: no engine extracts a file over it.
            // Its bytes are neither stored nor live; say so and move on.
            notes.push(format!(
                "entry {} names the root itself and is not a directory; ignored",
                display_path(&raw_path)
            ));
            drain(&mut entry, &mut buf)?;
            continue;
        }
        let wh = whiteout(&norm);
        let link_target;
        let (path, kind): (&[u8], Kind<'_>) = if let Some((path, kind)) = &wh {
            (path, *kind)
        } else if etype.is_file() || etype.is_contiguous() || etype.is_gnu_sparse() {
            let size = entry.size();
            if etype.is_gnu_sparse() {
                let stored = entry.header().entry_size().unwrap_or(0);
                let holes = size.saturating_sub(stored);
                if holes > MAX_SPARSE_HOLE_BYTES {
                    return Err(ScanError::SparseTooLarge {
                        shown: display_path(&norm),
                        size,
                        stored,
                    });
                }
                sparse_holes = sparse_holes.saturating_add(holes);
                if sparse_holes > MAX_SPARSE_HOLE_BYTES_PER_LAYER {
                    return Err(ScanError::SparseLayerTooLarge {
                        shown: display_path(&norm),
                    });
                }
            }
            // A package database within its bound is kept whole as it streams by;
            // one that is too large is left out, and the attribution says so.
            let mut keep = capture_bound(&norm)
                .filter(|&bound| size <= bound && captured_bytes + size <= MAX_CAPTURED_PER_LAYER)
                .map(|_| Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
            // An empty file hashes to the hash of nothing, without a hasher
            // (a million empty files spent a tenth of the scan making them).
            let mut hasher = (size > 0 || etype.is_gnu_sparse()).then(blake3::Hasher::new);
            let mut read = 0u64;
            while hasher.is_some() {
                let n = entry.read(&mut buf).map_err(corrupt)?;
                if n == 0 {
                    break;
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[..n]);
                }
                if let Some(k) = keep.as_mut() {
                    k.extend_from_slice(&buf[..n]);
                }
                read += n as u64;
            }
            if let Some(content) = keep {
                captured_bytes += content.len() as u64;
                captured.push(Captured {
                    path: norm.as_slice().into(),
                    content: content.into_boxed_slice(),
                });
            }
            if read != size && !etype.is_gnu_sparse() {
                return Err(ScanError::Corrupt(format!(
                    "{} holds {read} bytes, its header says {size}",
                    display_path(&norm)
                )));
            }
            regular_bytes += size;
            let mode = entry.header().mode().unwrap_or(0o644);
            (
                &norm,
                Kind::File {
                    size,
                    hash: hasher.map_or(*empty_hash(), |h| *h.finalize().as_bytes()),
                    mode,
                },
            )
        } else if etype.is_dir() {
            (&norm, Kind::Dir)
        } else if etype.is_symlink() {
            link_target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            (
                &norm,
                Kind::Symlink {
                    target: &link_target,
                },
            )
        } else if etype.is_hard_link() {
            link_target = entry
                .link_name_bytes()
                .map(|t| normalize(&t).path)
                .unwrap_or_default();
            (
                &norm,
                Kind::Hardlink {
                    target: &link_target,
                },
            )
        } else {
            (&norm, Kind::Special)
        };
        records.push(&last, path, kind);
        last.clear();
        last.extend_from_slice(path);
        // Whatever content the walk did not read (a directory or link that claims
        // bytes) is read here, so the next header search starts right after it.
        drain(&mut entry, &mut buf)?;
    }
    // Whatever follows the end-of-archive marker is still part of the blob and of
    // its digests: drain it so the digests cover every byte.
    let mut rest = archive.into_inner().into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(corrupt)?;
    drop(rest);

    let (diff_id, tar_bytes) = {
        let mut t = tar_tally.borrow_mut();
        (t.finish(), t.bytes)
    };
    Ok(Walked {
        diff_id,
        compression: Compression::None,
        compressed_bytes: 0,
        tar_bytes,
        regular_bytes,
        entries,
        records,
        captured,
        notes,
        gzip_estimate: super::estimate::finish(&gzip)?,
    })
}

/// Reads what is left of a member into `buf` (kept for the whole walk; `io::copy`
/// would zero a buffer of its own for every member), so the next header search
/// starts right after it.
fn drain(entry: &mut impl Read, buf: &mut [u8]) -> Result<(), ScanError> {
    while entry.read(buf).map_err(corrupt)? > 0 {}
    Ok(())
}

/// Recognises whiteout names. AUFS metadata (`.wh..wh.plnk` and the like) is
/// neither a deletion nor content; it is kept as a special entry.
fn whiteout(path: &[u8]) -> Option<(Vec<u8>, Kind<'static>)> {
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
