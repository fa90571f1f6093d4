//! Which policy a run uses: `--policy FILE`, `--policy none`, a policy file found
//! in the current directory, or else the built-in default policy: warnings a team
//! accepts on day one, so that no policy never means "everything passes".
//!
//! The default policy is written as YAML (`DEFAULT_YAML`, shown in docs/policy.md and
//! loaded by the ordinary loader), so what the docs show is what runs.

use std::path::{Path, PathBuf};

use super::{load_file, load_str, Origin, Policy, PolicyError};

/// Files looked for in the current directory, in this order.
pub const DISCOVERED_FILES: &[&str] = &[
    ".layergate.yml",
    "layergate.yml",
    ".layergate.yaml",
    "layergate.yaml",
];

/// The built-in default policy: warnings only, so it never fails a build by itself.
pub const DEFAULT_YAML: &str = "\
version: 1
limits:
  min_efficiency: {min: 90%, severity: warn}                    # live / stored
growth:
  compressed: {max: 10MB, max_percent: 10%, severity: warn}     # both crossed
  wasted: {max: 10MB, severity: warn}                           # new dead copies
";

impl Policy {
    /// The built-in default policy (`DEFAULT_YAML`).
    pub(crate) fn defaults() -> Policy {
        // A unit test proves the text loads; an empty policy is the safe fallback
        // the test makes unreachable.
        let mut p = load_str("default policy", DEFAULT_YAML).unwrap_or_else(|_| Policy::empty());
        p.origin = Origin::Default;
        p.source = "default policy".into();
        p
    }

    /// Only the rules a manifest answers (`--manifest-only` with the defaults: a
    /// rule the user did not write must not turn into "not measured").
    fn answerable_from_manifests(mut self) -> Policy {
        use super::{Metric, SizeKind};
        self.limits
            .retain(|l| matches!(l.metric, Metric::CompressedSize | Metric::Layers));
        self.growth.retain(|g| g.kind == SizeKind::Compressed);
        self.forbid.clear();
        self.budgets.clear();
        self.advice.clear();
        self
    }
}

/// The policy file in `dir`, if there is one. Two of them is an error: which one
/// applies must never depend on a lookup order nobody remembers.
pub(super) fn discover(dir: &Path) -> Result<Option<PathBuf>, PolicyError> {
    let found: Vec<&str> = DISCOVERED_FILES
        .iter()
        .copied()
        .filter(|name| dir.join(name).is_file())
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(PathBuf::from(one))),
        many => Err(PolicyError::Ambiguous(many.join(", "))),
    }
}

/// The policy a run uses. `flag` is `--policy` (`none` turns every rule off);
/// without it, a file found in `dir`, else the defaults. `manifest_only` trims the
/// defaults to the rules a manifest answers.
pub fn select(flag: Option<&Path>, dir: &Path, manifest_only: bool) -> Result<Policy, PolicyError> {
    match flag {
        Some(p) if p == Path::new("none") => Ok(Policy::empty()),
        Some(p) => {
            let mut policy = load_file(p)?;
            policy.origin = Origin::Given;
            Ok(policy)
        }
        None => match discover(dir)? {
            Some(name) => {
                // Messages name the file as the user sees it in the directory.
                let path = if dir == Path::new(".") {
                    name.clone()
                } else {
                    dir.join(&name)
                };
                let mut policy = load_file(&path)?;
                policy.source = name.display().to_string();
                policy.origin = Origin::Discovered;
                Ok(policy)
            }
            None if manifest_only => Ok(Policy::defaults().answerable_from_manifests()),
            None => Ok(Policy::defaults()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Combine, Limit, Metric, Severity, SizeKind, Threshold};
    use super::*;

    /// The documented defaults load, and say what docs/policy.md says they do.
    #[test]
    fn defaults_are_the_documented_warnings() {
        load_str("default", DEFAULT_YAML).unwrap();
        let p = Policy::defaults();
        assert_eq!(p.origin, Origin::Default);
        assert_eq!(
            p.limits,
            [Limit {
                metric: Metric::MinEfficiency,
                threshold: Threshold::Percent(90.0),
                severity: Severity::Warn
            }]
        );
        let g: Vec<_> = p
            .growth
            .iter()
            .map(|g| (g.kind, g.max_bytes, g.max_percent, g.combine, g.severity))
            .collect();
        assert_eq!(
            g,
            [
                (
                    SizeKind::Compressed,
                    Some(10_000_000),
                    Some(10.0),
                    Combine::All,
                    Severity::Warn
                ),
                (
                    SizeKind::Wasted,
                    Some(10_000_000),
                    None,
                    Combine::All,
                    Severity::Warn
                ),
            ]
        );
        assert_eq!(p.label(), "default policy");
        let m = Policy::defaults().answerable_from_manifests();
        assert!(m.limits.is_empty() && m.growth.len() == 1 && !m.needs_layers());
    }

    /// Each of the four names is found and named; two at once is an error; none
    /// gives the defaults; `--policy none` gives no rules.
    #[test]
    fn discovery_finds_each_name_and_refuses_two() {
        for name in DISCOVERED_FILES {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), "limits: {layers: 3}\n").unwrap();
            let p = select(None, dir.path(), false).unwrap();
            assert_eq!(p.origin, Origin::Discovered);
            assert_eq!(
                p.label(),
                format!("policy {name} (found in the current directory)")
            );
            assert_eq!(p.limits.len(), 1);
        }
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            select(None, dir.path(), false).unwrap().origin,
            Origin::Default
        );
        std::fs::write(dir.path().join(".layergate.yml"), "").unwrap();
        std::fs::write(dir.path().join("layergate.yaml"), "").unwrap();
        let e = select(None, dir.path(), false).unwrap_err().to_string();
        assert_eq!(
            e,
            "more than one policy file in the current directory (.layergate.yml, layergate.yaml): keep one, or pass --policy FILE"
        );
        let none = select(Some(Path::new("none")), dir.path(), false).unwrap();
        assert!(none.rule_codes().is_empty() && none.label().is_empty());
    }
}
