//! Scanning one layer: decompress the blob as it streams, walk its tar, and keep
//! one small record per entry (normalised path, kind, size, content hash; see
//! `records.rs` for what one costs). Digests
//! of the blob and of the uncompressed tar are computed in the same pass, so each
//! layer is read exactly once and no byte of it is kept.

mod capture;
pub(crate) mod decompress;
mod estimate;
mod guard;
mod hashing;
mod path;
mod pipe;
pub(crate) mod records;
mod skip;
pub(crate) mod walk;

pub(crate) use capture::{capture_bound, is_node_package_dir, Captured};
pub(crate) use decompress::Limits;
pub(crate) use guard::{is_headers_too_large, HeaderGuard};
pub(crate) use path::{clean_message, display_path, normalize};
pub(crate) use records::Kind;
#[cfg(test)]
pub(crate) use records::Record;
pub(crate) use records::Records;
pub(crate) use walk::scan_layer;
pub(crate) use walk::{scan_layer_estimating, ScanError};

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Digest};

/// A blake3 hash of a regular file's content.
pub(crate) type ContentHash = [u8; 32];

/// What one layer holds, with the digests its bytes actually produced. Stored
/// as is by the layer cache (`cache/entry.rs`): a field added here is cached
/// too, and the cache format version must be bumped (a test there says so).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerScan {
    /// sha256 of the blob as it was read (compressed form).
    pub(crate) blob_digest: Digest,
    /// sha256 of the uncompressed tar: the layer's diffID.
    pub diff_id: Digest,
    pub(crate) compression: Compression,
    pub(crate) compressed_bytes: u64,
    /// Length of the uncompressed tar stream.
    pub(crate) tar_bytes: u64,
    /// Sum of the sizes of regular files (what dive calls the layer size).
    pub regular_bytes: u64,
    /// Tar members, as `tar -t` lists them (extension headers are not members).
    pub entries: u64,
    pub records: Records,
    /// Whole contents of the package databases the layer holds (see `capture`),
    /// in tar order; a path stored twice appears twice, the later copy last.
    pub(crate) captured: Vec<Captured>,
    /// Oddities that did not stop the scan (e.g. a name that climbed out of the root).
    pub(crate) notes: Vec<String>,
    /// For a layer not stored gzip, when asked: its size once gzip-compressed at
    /// the default level, as a registry push would store it (an estimate).
    pub(crate) gzip_estimate: Option<u64>,
}
