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
//! the compiler reports. `publish` stays a namespace (its names would clash here).
//! The tests' image builder is its own crate, `testkit/`.

#![warn(unreachable_pub)]

mod advice;
mod analyze;
mod cache;
mod cache_key;
mod compare;
mod dockerfile;
mod document;
mod environment;
mod fix;
mod fleet;
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

pub use advice::dockerfile::locate as locate_advice;
pub use analyze::{analyze, Job, Progress, RunOptions};
pub use cache::{default_dir as default_cache_dir, entry::FORMAT as CACHE_FORMAT, LayerCache};
// The cache entry codec, for the fuzz target only.
#[doc(hidden)]
pub use cache::entry::{decode as decode_cache_entry, encode as encode_cache_entry};
pub use cache_key::{
    fetch::FetchOptions,
    run::{run as run_cache_key, Line as CacheKeyLine, Request as CacheKeyRequest},
    store::Written as CacheKeyWritten,
};
pub use compare::Delta;
pub use environment::{prepare_environment, SettingError};
pub use fix::prove::{prove as prove_fix, Engine, Request as ProveRequest};
pub use fix::{plan as fix_plan, unified_diff as fix_diff, Options as FixOptions, Plan as FixPlan};
pub use fleet::run::{
    append_history, read_verdicts, run_merge, run_platforms, MergeRequest, PlatformsRequest,
    Selection, Verdicts,
};
pub use gate::{run, Request};
pub use human::human_bytes;
pub use image::{digest::Digest, info::ImageInfo, media_type::Compression, platform::Platform};
pub use load::load_reports;
pub use marker::{Marker, DEFAULT_KEY};
pub use outcome::{Exit, Notice, Outcome};
pub use overlay::Overlay;
// The RPM database readers, for their tests and fuzz targets only.
#[doc(hidden)]
pub use packages::rpm;
pub use policy::{
    code::FindingCode,
    defaults::{select as select_policy, DEFAULT_YAML, DISCOVERED_FILES},
    load_bytes as load_policy_bytes, load_file as load_policy_file, load_str as load_policy_str,
    starter::{starter as starter_policy, Flavour},
    units::parse_size,
    Finding, Policy, PolicyError, Severity, Verdict,
};
pub use read::{read_text_capped, MAX_TEXT_BYTES};
pub use redact::scrub;
pub use render::{
    analyze::analyze_text,
    analyze_md::analyze_markdown,
    escape::link_url,
    fix_md::{fix_markdown, FixInput},
    format::{Format, Template},
    html::{analyze_html, payload::analyze as analyze_payload},
};
pub use report::{codes::AdviceCode, Report};
pub use retry::RetryPolicy;
pub use scan::{decompress::Limits, records::Kind, walk::scan_layer, LayerScan};
pub use source::{
    error::SourceError,
    open_local,
    reference::ImageRef,
    registry::{credentials::Credentials, RegistryOptions},
    OpenOptions,
};
pub use write::{write_file, write_file_with};
