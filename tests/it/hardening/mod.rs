//! Hardening: broken, hostile and extreme inputs, every one generated here byte
//! by byte (no committed binaries). Each case runs the real binary and asserts
//! either exact figures or exit 2 with one `layergate: ` line naming the culprit,
//! and never a panic. Cases are grouped by theme; the byte-level builders and the measured runs
//! they use live in `support::raw` and `support::run`.

// `&[x.clone()]` reads better than `slice::from_ref(&x)` in one-layer images.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod descriptors;
mod documents;
mod hostile;
mod names;
mod properties;
mod scale;
mod tar_oddities;
mod truncation;

#[allow(unused_imports)]
pub use std::io::{Read, Write};
#[allow(unused_imports)]
pub use std::path::{Path, PathBuf};

pub use serde_json::{json, Value};
#[allow(unused_imports)]
pub use sha2::{Digest as _, Sha256};

pub use crate::support::raw::*;
pub use crate::support::run::*;
