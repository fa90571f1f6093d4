//! The one integration-test binary: each module covers one topic, at the public

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! surface (the `layergate` binary and the library API).

mod advice;
mod common;
mod hostile_server;
mod real_images;
mod registry;
mod registry_hostile;
mod registry_server;
