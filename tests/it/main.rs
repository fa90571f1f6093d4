//! The one integration-test binary: each module covers one topic, at the public
//! surface (the `layergate` binary and the library API).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod action;
mod action_script;
mod advice;
mod architecture;
mod cache;
mod cache_key;
mod ci_files;
mod diff;
mod docs;
mod docs_pictures;
mod engine;
mod every_platform;
mod examples;
mod fix;
mod fix_prove;
mod fix_suggest;
mod fleet;
mod formats;
mod hardening;
mod help;
mod html_report;
mod inputs;
mod json_outputs;
mod overlay;
mod packages;
mod policy;
mod publish_github;
mod publish_gitlab;
mod real_images;
mod registry;
mod registry_hostile;
mod report;
mod rpm;
mod runners;
mod settings;
mod support;
mod verdict;
