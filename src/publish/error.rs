//! The publishing errors. Every message is one line naming the URL, file or setting;
//! none ever carries a token (URLs are built without credentials, bodies of error
//! answers are reduced to the API's `message` field).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A setting is missing or malformed (flag or environment variable).
    #[error("{setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    /// The API answered with a status we do not retry or recover from.
    #[error("{method} {url}: HTTP {status}: {message}{hint}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
        hint: String,
    },
    /// Retries were exhausted (rate limit or server errors).
    #[error("{method} {url}: gave up after {attempts} attempts: {last}")]
    GaveUp {
        method: &'static str,
        url: String,
        attempts: u32,
        /// The last answer's status.
        status: u16,
        last: String,
    },
    /// The connection failed or the answer could not be read.
    #[error("{method} {url}: {reason}")]
    Transport {
        method: &'static str,
        url: String,
        reason: String,
    },
    /// The API answered with JSON we cannot use.
    #[error("{url}: unexpected answer: {reason}")]
    Answer { url: String, reason: String },
    /// A local file (summary, outputs, report artifact, event payload).
    #[error("{}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
}

impl PublishError {
    /// The HTTP status the API answered with, when the failure was an answer.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            PublishError::Status { status, .. } | PublishError::GaveUp { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        PublishError::File {
            path: path.into(),
            reason: err.to_string(),
        }
    }
}
