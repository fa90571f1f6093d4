//! Errors of the source edge: each names the file, blob or digest it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not found")]
    NotFound(String),
    #[error("{0}")]
    NotAnImage(String),
    #[error("{archive}: corrupt or truncated archive: {msg}")]
    CorruptArchive { archive: String, msg: String },
    #[error("{what}: {msg}")]
    BadDocument { what: String, msg: String },
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what}: size mismatch: descriptor says {declared} bytes, blob has {actual}")]
    SizeMismatch {
        what: String,
        declared: u64,
        actual: u64,
    },
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },
    #[error("{what}: {count} layers, more than the limit of {limit}")]
    TooManyLayers {
        what: String,
        count: usize,
        limit: usize,
    },
    #[error("unsupported layer media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("{source_name} holds several images; pick one with {hint}: {names}")]
    Ambiguous {
        source_name: String,
        hint: String,
        names: String,
    },
    #[error("{source_name}: no image named {wanted:?}; present: {names}")]
    NoSuchImage {
        source_name: String,
        wanted: String,
        names: String,
    },
    #[error("{source_name}: no image for platform {wanted}; present: {present}")]
    NoPlatform {
        source_name: String,
        wanted: String,
        present: String,
    },
    #[error("{0}")]
    Unsupported(String),
    /// Boxed: registry errors carry several names and would bloat every result.
    #[error(transparent)]
    Registry(Box<super::registry::RegistryError>),
    /// Boxed like registry errors: the local engine edge.
    #[error(transparent)]
    Engine(Box<super::engine::EngineError>),
    #[error("invalid image reference {0:?}: {1}")]
    BadReference(String, String),
}

impl From<super::registry::RegistryError> for SourceError {
    fn from(e: super::registry::RegistryError) -> Self {
        SourceError::Registry(Box::new(e))
    }
}
