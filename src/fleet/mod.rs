//! Fleet: many images, every platform, over time. `merge` turns the JSON verdicts
//! of several `diff`/`check` runs (a CI matrix, one job per image) into one verdict
//! and one comment; `history` keeps one record per analysed commit in an
//! append-only JSON lines file, from which the comment draws a trend and
//! `growth.since` a drift rule; `platforms` is the parity view of a multi-arch
//! image. The core here (`input`, `merge`, `history`, `trend`, `platforms`) is pure;
//! `history_file.rs` is the edge that reads and appends the history, and `run.rs`
//! takes `merge` and `platforms` from a request to the `Outcome` every verdict
//! command returns. The binary (`src/bin/layergate/`) holds only their flags.

pub(crate) mod history;
pub(crate) mod history_file;
pub(crate) mod input;
pub(crate) mod merge;
pub(crate) mod platforms;
pub(crate) mod run;
pub(crate) mod trend;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    #[error("label `{label}` is given twice ({first} and {second}): give each matrix job its own --label")]
    DuplicateLabel {
        label: String,
        first: String,
        second: String,
    },
    #[error("nothing to merge: give the JSON verdicts of one or more diff/check runs")]
    NoInputs,
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than the {limit}-byte limit for a history file")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: the record was not written in one piece (file system full?)")]
    ShortWrite { path: String },
    #[error("{path}: not a layergate history file (it holds no history record); refusing to append to it (is FILE given first?)")]
    NotHistory { path: String },
    #[error("{}: held for 30 s by another writer (or left by a crashed one: remove it)", path.display())]
    Locked { path: PathBuf },
    /// A verdict file that could not be read.
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: crate::read::InputError,
    },
    #[error("{command}: --format html is not available (text, markdown or json)")]
    NoHtml { command: &'static str },
    #[error("{reference}: `platforms` reads images, not saved reports")]
    NotAnImage { reference: String },
    #[error("{image}: no image for platform {wanted}; present: {present}")]
    NoPlatform {
        image: String,
        wanted: String,
        present: String,
    },
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}
