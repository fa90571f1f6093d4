//! The advice codes: one enum, serialised kebab-case, the single list that the
//! advisers emit, the policy loader accepts (`advice: CODE`) and docs/advice.md lists.
//! It lives with the report schema because a report carries it.

use serde::{Deserialize, Serialize};

/// What an advice item is about (`advice[].code` in the JSON report).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum AdviceCode {
    /// A later RUN deletes what an earlier one wrote.
    CleanupInLaterLayer,
    /// A later layer changes only the attributes of files an earlier one wrote.
    AttributeOnlyCopy,
    /// A later layer writes new contents over files an earlier one wrote.
    RewritesEarlierLayer,
    /// Merging two adjacent steps saves bytes.
    MergePays,
    /// Merging two steps would save little and cost build cache.
    KeepSeparate,
    /// A package-manager or build cache stays in the image.
    CacheLeftBehind,
    /// The same bytes are stored at several paths.
    SameContent,
    /// A download in a RUN/ADD with nothing that changes when the file does.
    DownloadWithoutCacheKey,
    /// hadolint DL3015: `apt-get install` without `--no-install-recommends`.
    NoInstallRecommends,
    /// A package database stored again by every layer that installs packages.
    PackageDbChurn,
    /// Compilers and development packages left in the final image.
    BuildToolsInFinalStage,
}

impl AdviceCode {
    /// Every code, in the order of the table in docs/advice.md.
    pub const ALL: &'static [AdviceCode] = &[
        AdviceCode::CleanupInLaterLayer,
        AdviceCode::AttributeOnlyCopy,
        AdviceCode::RewritesEarlierLayer,
        AdviceCode::MergePays,
        AdviceCode::KeepSeparate,
        AdviceCode::CacheLeftBehind,
        AdviceCode::DownloadWithoutCacheKey,
        AdviceCode::SameContent,
        AdviceCode::NoInstallRecommends,
        AdviceCode::PackageDbChurn,
        AdviceCode::BuildToolsInFinalStage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdviceCode::CleanupInLaterLayer => "cleanup-in-later-layer",
            AdviceCode::AttributeOnlyCopy => "attribute-only-copy",
            AdviceCode::RewritesEarlierLayer => "rewrites-earlier-layer",
            AdviceCode::MergePays => "merge-pays",
            AdviceCode::KeepSeparate => "keep-separate",
            AdviceCode::CacheLeftBehind => "cache-left-behind",
            AdviceCode::SameContent => "same-content",
            AdviceCode::DownloadWithoutCacheKey => "download-without-cache-key",
            AdviceCode::NoInstallRecommends => "no-install-recommends",
            AdviceCode::PackageDbChurn => "package-db-churn",
            AdviceCode::BuildToolsInFinalStage => "build-tools-in-final-stage",
        }
    }

    /// Whether the item rests on a (lower, upper) pair of layers.
    pub(crate) fn is_pair(self) -> bool {
        matches!(
            self,
            AdviceCode::CleanupInLaterLayer
                | AdviceCode::AttributeOnlyCopy
                | AdviceCode::RewritesEarlierLayer
                | AdviceCode::MergePays
                | AdviceCode::KeepSeparate
        )
    }
}

/// What every code enum (`AdviceCode`, `policy::FindingCode`) has beside its variant
/// list, `ALL` and `as_str`: `parse` by written name, `Display`, and comparison with a
/// name, so the two enums cannot drift apart in how a code is read or written.
macro_rules! code_names {
    ($code:ty) => {
        impl $code {
            /// The code written `name`, if there is one (policies read advice codes;
            /// finding codes keep the same reader so the two cannot drift apart).
            #[allow(dead_code)]
            pub(crate) fn parse(name: &str) -> Option<$code> {
                Self::ALL.iter().copied().find(|c| c.as_str() == name)
            }
        }

        impl std::fmt::Display for $code {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        /// Lets tests and callers compare a code with its written name.
        impl PartialEq<&str> for $code {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use code_names;

code_names!(AdviceCode);

/// Test of a code enum: every written name is the one serde writes and parses back, and
/// `ALL` holds each of the `count` variants once.
#[cfg(test)]
pub(crate) fn assert_names<C>(
    all: &[C],
    count: usize,
    name: impl Fn(C) -> &'static str,
    parse: impl Fn(&str) -> Option<C>,
) where
    C: Copy + Ord + std::fmt::Debug + serde::Serialize,
{
    for &c in all {
        assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(name(c)));
        assert_eq!(parse(name(c)), Some(c));
    }
    let mut sorted = all.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), count, "ALL holds every variant once");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name the loader and the docs use is the one serde writes, for every code.
    #[test]
    fn names_are_the_serde_names() {
        assert_names(AdviceCode::ALL, 11, AdviceCode::as_str, AdviceCode::parse);
    }
}
