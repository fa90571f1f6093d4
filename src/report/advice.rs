//! The advice items a report carries (schema types only). `advice::advise` computes
//! them from a built report; the report never calls it, so the dependency runs one
//! way: `advice` reads `report`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A layer an advice item rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct AdviceLayer {
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The Dockerfile line of the instruction that made the layer (`--dockerfile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Advice {
    /// Stable kebab-case code, e.g. `cleanup-in-later-layer`.
    pub code: super::AdviceCode,
    pub severity: Severity,
    /// One line: what is wrong, with the figure.
    pub title: String,
    pub layers: Vec<AdviceLayer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Bytes the suggested change would save (0 when it is about cache, not size).
    pub bytes: u64,
    /// Files the suggested change would save.
    pub files: u64,
    /// The concrete change to make.
    pub suggestion: String,
    /// Related hadolint rule, if any (e.g. `DL3009`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hadolint: Option<String>,
}
