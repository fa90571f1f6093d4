//! layergate: read container images statically, report their layers, waste and
//! duplicate files, compare a pull request's image with its base, and gate on a
//! policy. See ARCHITECTURE.md for the map.
//!
//! Data flows one way: `source` → `scan` → `overlay` → `report` → `compare` →
//! `policy` → `render` → `publish`. Everything from `scan` to `render` is pure;
//! sources and publishers sit at the edges.

pub mod advice;
pub mod analyze;
pub mod cli;
pub mod compare;
pub mod error;
pub mod gate;
pub mod image;
pub mod overlay;
pub mod policy;
pub mod publish;
pub mod render;
pub mod report;
pub mod scan;
pub mod source;
pub mod testkit;
pub mod text;
