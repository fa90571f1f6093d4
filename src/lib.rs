//! layergate: read container images statically, report their layers, waste and
//! duplicate files, compare a pull request's image with its base, and gate on a
//! policy. See ARCHITECTURE.md for the map.
//!
//! Data flows one way: `source` → `scan` → `overlay` → `report` → `compare` →
//! `policy` → `render` → `publish`. Everything from `scan` to `render` is pure;
//! sources, `load` and publishers sit at the edges. `gate` runs one validated
//! request end to end; the flags (`src/bin/layergate/`) belong to the binary, not here.

pub mod advice;
pub mod analyze;
pub mod cache;
pub mod cache_key;
pub mod compare;
pub mod dockerfile;
pub mod error;
pub mod fix;
pub mod fleet;
pub mod gate;
pub mod image;
pub mod load;
pub mod marker;
pub mod overlay;
pub mod packages;
pub mod policy;
pub mod publish;
pub mod read;
pub mod redact;
pub mod render;
pub mod report;
pub mod retry;
pub mod scan;
pub mod setting;
pub mod source;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;
pub mod write;
