//! Building small images in memory for tests, examples, benchmarks and fuzzing.
//!
//! Its own crate beside layergate (a dev-dependency of it, and a dependency of the
//! fuzz targets), so that the shipped library holds nothing only tests use.
//!
//! The testkit writes real image bytes, exactly as the tools that produce them
//! would: layers from [`Entry`] values (files with given bytes and mode, dirs,
//! symlinks, hardlinks, whiteouts, opaque markers, devices and FIFOs, GNU or PAX
//! long names, non-UTF-8 names), compressed with none, gzip or zstd, assembled into
//! an [`Image`] with a config whose history and diffIDs are right, and written as a
//! legacy `docker save` tar, a Docker 25 save, an OCI archive, an OCI layout
//! directory, or a multi-arch index ([`Layout`]).
//!
//! Output is deterministic: fixed mtimes, owners and ordering, so the same recipe
//! always gives the same bytes. A [`LayerWriter`] streams a layer into any
//! `Write` (a file, for images too large for memory). This crate is a producer
//! of images, never a reader: nothing in the analysis path depends on it.

mod archive;
mod entry;
mod image;
mod layer;

pub use archive::{docker25, docker_legacy, oci_archive, oci_dir, IndexStyle, Layout};
pub use entry::{Entry, EntryKind, NameStyle};
pub use image::{Image, ImageBuilder};
pub use layer::{Blob, Layer, LayerInfo, LayerWriter};

pub use layergate::Compression;
use layergate::Digest;
use sha2::{Digest as _, Sha256};

/// The modification time written on every tar header (2024-01-01T00:00:00Z), so
/// output never depends on when it was built.
pub const MTIME: u64 = 1_704_067_200;

/// The creation time written in configs and history.
pub const CREATED: &str = "2024-01-01T00:00:00Z";

#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("testkit: writing {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("testkit: entry {path}: {msg}")]
    BadEntry { path: String, msg: String },
    #[error("testkit: {0}")]
    Invalid(String),
}

impl TestkitError {
    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> TestkitError {
        let what = what.into();
        move |source| TestkitError::Io { what, source }
    }
}

/// The sha256 digest of `bytes`, as layergate names it.
fn sha256_of(bytes: &[u8]) -> Result<Digest> {
    let hex = hex::encode(Sha256::digest(bytes));
    Digest::parse(&format!("sha256:{hex}")).map_err(|e| TestkitError::Invalid(e.0))
}

pub type Result<T, E = TestkitError> = std::result::Result<T, E>;
