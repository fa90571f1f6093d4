//! The finding codes: one enum, serialised kebab-case (`findings[].code`), the
//! single list that evaluation emits, the JUnit/Code Quality reports name and the
//! table in docs/policy.md is checked against.

use serde::{Deserialize, Serialize};

/// Which rule a finding comes from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    CompressedSize,
    UncompressedSize,
    LayerCount,
    LargestLayer,
    Efficiency,
    WastedBytes,
    WastedPercent,
    UserWastedPercent,
    SizeGrowth,
    UncompressedGrowth,
    WasteGrowth,
    PullCost,
    ForbiddenPath,
    PathBudget,
    AdviceBudget,
    ForbiddenPackage,
    PackageBudget,
    PackageGrowth,
    SizeDrift,
    PlatformRatio,
}

impl FindingCode {
    /// Every code, in the order of the table in docs/policy.md.
    pub const ALL: &'static [FindingCode] = &[
        FindingCode::CompressedSize,
        FindingCode::UncompressedSize,
        FindingCode::LayerCount,
        FindingCode::LargestLayer,
        FindingCode::Efficiency,
        FindingCode::WastedBytes,
        FindingCode::WastedPercent,
        FindingCode::UserWastedPercent,
        FindingCode::SizeGrowth,
        FindingCode::UncompressedGrowth,
        FindingCode::WasteGrowth,
        FindingCode::PullCost,
        FindingCode::ForbiddenPath,
        FindingCode::PathBudget,
        FindingCode::AdviceBudget,
        FindingCode::ForbiddenPackage,
        FindingCode::PackageBudget,
        FindingCode::PackageGrowth,
        FindingCode::SizeDrift,
        FindingCode::PlatformRatio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::CompressedSize => "compressed-size",
            FindingCode::UncompressedSize => "uncompressed-size",
            FindingCode::LayerCount => "layer-count",
            FindingCode::LargestLayer => "largest-layer",
            FindingCode::Efficiency => "efficiency",
            FindingCode::WastedBytes => "wasted-bytes",
            FindingCode::WastedPercent => "wasted-percent",
            FindingCode::UserWastedPercent => "user-wasted-percent",
            FindingCode::SizeGrowth => "size-growth",
            FindingCode::UncompressedGrowth => "uncompressed-growth",
            FindingCode::WasteGrowth => "waste-growth",
            FindingCode::PullCost => "pull-cost",
            FindingCode::ForbiddenPath => "forbidden-path",
            FindingCode::PathBudget => "path-budget",
            FindingCode::AdviceBudget => "advice-budget",
            FindingCode::ForbiddenPackage => "forbidden-package",
            FindingCode::PackageBudget => "package-budget",
            FindingCode::PackageGrowth => "package-growth",
            FindingCode::SizeDrift => "size-drift",
            FindingCode::PlatformRatio => "platform-ratio",
        }
    }
}

crate::report::code_names!(FindingCode);

#[cfg(test)]
mod tests {
    use super::*;

    /// The name the docs and reports use is the one serde writes, for every code.
    #[test]
    fn names_are_the_serde_names() {
        crate::report::assert_names(
            FindingCode::ALL,
            20,
            FindingCode::as_str,
            FindingCode::parse,
        );
    }
}
