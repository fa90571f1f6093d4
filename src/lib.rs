//! layergate: read container images statically, report their layers, waste and
//! duplicate files, compare a pull request's image with its base, and gate on a
//! policy. See ARCHITECTURE.md for the map.
//!
//! Data flows one way: `source` → `scan` → `overlay` → `report` → `compare` →
//! `policy` → `render` → `publish`. Everything from `scan` to `render` is pure;
//! sources, `load` and publishers sit at the edges. `gate` runs one validated
//! `diff`/`check` request end to end, `fleet` a `merge` or `platforms` one; each
//! returns the same `Outcome` (with its `Exit`), which `publish` publishes alike.
//! The flags (`src/bin/layergate/`) belong to the binary, not here.
//!
//! The modules are private: what the binary, the tests, the examples and the fuzz
//! targets use is re-exported below, so an item nothing outside uses is dead code
//! the compiler reports. `publish`, `fleet` and `cache_key` stay namespaces (their
//! names would clash here). The tests' image builder is its own crate, `testkit/`.

#![warn(unreachable_pub)]

mod advice;
mod analyze;
mod cache;
pub mod cache_key;
mod compare;
mod dockerfile;
mod environment;
mod fix;
pub mod fleet;
mod gate;
mod human;
mod image;
mod load;
mod marker;
mod outcome;
mod overlay;
mod packages;
mod policy;
pub mod publish;
mod read;
mod redact;
mod render;
mod report;
mod retry;
mod scan;
mod source;
mod write;

pub use advice::locate as locate_advice;
pub use analyze::{analyze, analyze_with, Job, Progress, RunOptions};
pub use cache::{default_dir as default_cache_dir, LayerCache, FORMAT as CACHE_FORMAT};
// The cache entry codec, for the fuzz target only.
#[doc(hidden)]
pub use cache::{decode as decode_cache_entry, encode as encode_cache_entry};
pub use compare::{Delta, SCHEMA};
pub use fix::prove::{prove as prove_fix, Engine, Request as ProveRequest};
pub use fix::{plan as fix_plan, unified_diff as fix_diff, Options as FixOptions, Plan as FixPlan};
pub use gate::{run, Request};
pub use image::{Compression, Digest, Platform};
pub use load::load_reports;
pub use marker::{Marker, DEFAULT_KEY};
pub use outcome::{Exit, Notice, Outcome};
pub use overlay::Overlay;
// The RPM database readers, for their tests only.
pub use environment::prepare_environment;
pub use human::human_bytes;
#[doc(hidden)]
pub use packages::rpm;
pub use policy::{
    load_bytes as load_policy_bytes, load_file as load_policy_file, load_str as load_policy_str,
    select as select_policy, starter as starter_policy, units::parse_size, Finding, FindingCode,
    Flavour, Policy, PolicyError, Severity, Verdict, DEFAULT_YAML, DISCOVERED_FILES,
};
pub use read::{read_capped, read_text_capped, MAX_TEXT_BYTES};
pub use redact::scrub;
pub use render::{
    analyze_markdown, analyze_text, escape::link_url, fix_markdown, html::analyze_html,
    html::analyze_payload, markdown::render_template, FixInput, Format, Template, COMMENT_LIMIT,
};
pub use report::{AdviceCode, ImageInfo, Report};
pub use retry::RetryPolicy;
pub use scan::{scan_layer, Kind, LayerScan, Limits};
pub use source::{
    open_image, open_local, registry::Credentials, ImageRef, OpenOptions, RegistryOptions,
    SourceError,
};
pub use write::write_file;
