//! The one integration-test binary: each module covers one topic, at the public

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! surface (the `layergate` binary and the library API).

mod common;
mod hardening;
mod real_images;
