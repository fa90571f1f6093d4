//! The one integration-test binary: each module covers one topic, at the public

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! surface (the `layergate` binary and the library API).

mod action_script;
mod ci_files;
mod common;
mod fake_api;
mod publish_github;
mod publish_gitlab;
mod real_images;
