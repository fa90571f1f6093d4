//! The one integration-test binary: each module covers one topic, at the public
//! surface (the `layergate` binary and the library API).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod advice;
mod common;
mod diff;
mod hostile_server;
mod policy;
mod real_images;
mod registry;
mod registry_hostile;
mod registry_server;
