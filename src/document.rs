//! The verdict document: the JSON `diff`/`check --format json` write and `merge` and
//! `history append` read back. One set of serde types serves both directions, so the
//! writer and the reader cannot drift apart: a field the gate writes is a field the
//! fleet reads. Fields borrow when a run writes them and own what a reader parsed
//! (`Cow`); the bytes are those of the types inside.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::compare::Comparison;
use crate::image::ImageInfo;
use crate::policy::{Finding, Verdict};
use crate::report::Totals;

/// Every verdict document: the schema, which layergate wrote it (a reader refuses
/// another version) and the run's label, then the body's fields (`Diff`, `Check`,
/// `Platforms`), flattened in after them.
#[derive(Serialize, Deserialize)]
pub(crate) struct Document<'a, B> {
    pub(crate) schema: u32,
    pub(crate) layergate: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<Cow<'a, str>>,
    #[serde(flatten)]
    pub(crate) body: B,
}

impl<'a, B: Serialize> Document<'a, B> {
    /// The document this layergate writes: its schema and version, `label`, `body`.
    pub(crate) fn new(label: Option<&'a str>, body: B) -> Self {
        Document {
            schema: crate::compare::SCHEMA,
            layergate: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
            label: label.map(Cow::Borrowed),
            body,
        }
    }

    /// Pretty-printed, as `--format json` prints it.
    pub(crate) fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// `diff --format json`: the comparison, the findings and the verdict.
#[derive(Serialize, Deserialize)]
pub(crate) struct Diff<'a> {
    pub(crate) verdict: Cow<'a, Verdict>,
    pub(crate) findings: Cow<'a, [Finding]>,
    pub(crate) comparison: Cow<'a, Comparison>,
}

/// `check --format json`: the image, the findings, the verdict and its totals.
#[derive(Serialize, Deserialize)]
pub(crate) struct Check<'a> {
    pub(crate) image: Cow<'a, ImageInfo>,
    pub(crate) verdict: Cow<'a, Verdict>,
    pub(crate) findings: Cow<'a, [Finding]>,
    pub(crate) totals: Cow<'a, Totals>,
}

/// `diff`/`check --format json --platform all`: one verdict over the platforms, and
/// each platform's own verdict with its comparison (or, checked alone, its totals).
#[derive(Serialize, Deserialize)]
pub(crate) struct Platforms<'a> {
    pub(crate) verdict: Cow<'a, Verdict>,
    /// Every platform's findings, each message prefixed with its platform.
    pub(crate) findings: Cow<'a, [Finding]>,
    pub(crate) platforms: Vec<Platform<'a>>,
    pub(crate) only_base: Cow<'a, [String]>,
    pub(crate) only_head: Cow<'a, [String]>,
}

/// One platform of a `Platforms` document.
#[derive(Serialize, Deserialize)]
pub(crate) struct Platform<'a> {
    pub(crate) platform: Cow<'a, str>,
    pub(crate) verdict: Cow<'a, Verdict>,
    pub(crate) findings: Cow<'a, [Finding]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) comparison: Option<Cow<'a, Comparison>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) image: Option<Cow<'a, ImageInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) totals: Option<Cow<'a, Totals>>,
}
