//! The policy: the team's limits, loaded from YAML (`layergate.yml`, or dive's
//! `.dive-ci` recognised by its content), and judged against a HEAD report and,
//! for growth rules, a comparison with BASE.
//!
//! Loading has two phases: YAML into a spanned tree (`yaml`), then validation into
//! typed rules (`load`, `dive`) that reports every problem as `FILE:LINE:COL: message`,
//! all at once. Evaluating (`evaluate`) is pure and returns findings: a crossed rule
//! is not an error. Only `load_file` touches the filesystem.

pub(crate) mod code;
mod context;
pub(crate) mod defaults;
mod dive;
mod evaluate;
mod load;
pub(crate) mod packages;
pub(crate) mod starter;
pub(crate) mod units;
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use serde::{Deserialize, Serialize};

pub(crate) use code::FindingCode;
pub(crate) use evaluate::verdict;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Fail,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

/// Which file format the policy was written in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PolicyFormat {
    Layergate,
    /// dive's `.dive-ci` (`rules: lowestEfficiency, …`).
    DiveCi,
}

/// A figure of HEAD that an absolute limit bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Metric {
    CompressedSize,
    UncompressedSize,
    Layers,
    LargestLayer,
    /// A lower bound: fails below.
    MinEfficiency,
    WastedBytes,
    WastedPercent,
    /// dive's userWastedPercent: wasted / bytes of every layer but L0.
    UserWastedPercent,
}

impl Metric {
    /// The finding code, stable across releases.
    pub(crate) fn code(self) -> FindingCode {
        match self {
            Metric::CompressedSize => FindingCode::CompressedSize,
            Metric::UncompressedSize => FindingCode::UncompressedSize,
            Metric::Layers => FindingCode::LayerCount,
            Metric::LargestLayer => FindingCode::LargestLayer,
            Metric::MinEfficiency => FindingCode::Efficiency,
            Metric::WastedBytes => FindingCode::WastedBytes,
            Metric::WastedPercent => FindingCode::WastedPercent,
            Metric::UserWastedPercent => FindingCode::UserWastedPercent,
        }
    }
}

/// A limit's value, typed at load time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Threshold {
    Bytes(u64),
    Count(u64),
    /// 0..=100 (or more for growth).
    Percent(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Limit {
    pub(crate) metric: Metric,
    pub(crate) threshold: Threshold,
    pub severity: Severity,
}

/// Which size a growth rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeKind {
    Compressed,
    Uncompressed,
    /// The pull cost: compressed bytes of HEAD's layers BASE lacks (not a delta:
    /// what a client holding BASE downloads). Answered from manifests.
    Pull,
    /// Wasted bytes: the dead copies a pull request adds.
    Wasted,
}

impl SizeKind {
    pub(crate) fn code(self) -> FindingCode {
        match self {
            SizeKind::Compressed => FindingCode::SizeGrowth,
            SizeKind::Uncompressed => FindingCode::UncompressedGrowth,
            SizeKind::Pull => FindingCode::PullCost,
            SizeKind::Wasted => FindingCode::WasteGrowth,
        }
    }
}

/// When a growth rule has both `max` and `max_percent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    /// Crossed only when both limits are crossed (the default: a big image may grow
    /// a few MB, a small one a few percent, without noise).
    All,
    /// Crossed when either is.
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    pub kind: SizeKind,
    pub max_bytes: Option<u64>,
    pub max_percent: Option<f64>,
    pub(crate) combine: Combine,
    pub severity: Severity,
}

#[derive(Debug, Clone)]
pub(crate) struct PathGlob {
    pub glob: String,
    pub(crate) matcher: globset::GlobMatcher,
}

#[derive(Debug, Clone)]
pub(crate) struct Forbid {
    pub path: PathGlob,
    pub severity: Severity,
}

#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub path: PathGlob,
    pub max: u64,
    pub severity: Severity,
}

/// `growth.since`: the compressed size may grow at most this much over the last
/// `records` records of the history file (evaluated by `merge --history`, which
/// alone knows the past; `diff`/`check` ignore it).
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub(crate) records: usize,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_percent: Option<f64>,
    pub(crate) severity: Severity,
}

/// `platforms.max_ratio`: the largest platform's compressed size may be at most
/// this many times the smallest's (evaluated by `layergate platforms`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParityRule {
    pub(crate) max_ratio: f64,
    pub(crate) severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdviceRule {
    pub code: crate::report::AdviceCode,
    pub max: u64,
    pub severity: Severity,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// The file name as given, for messages.
    pub(crate) source: String,
    /// Where the policy came from, for the line that names it in the output.
    pub(crate) origin: Origin,
    pub(crate) format: PolicyFormat,
    pub(crate) limits: Vec<Limit>,
    pub growth: Vec<Growth>,
    pub(crate) forbid: Vec<Forbid>,
    pub(crate) budgets: Vec<Budget>,
    pub ignore: Vec<String>,
    pub(crate) ignore_set: GlobSet,
    pub(crate) advice: Vec<AdviceRule>,
    pub(crate) packages: packages::PackageRules,
    pub drift: Vec<Drift>,
    pub parity: Option<ParityRule>,
}

/// Where a policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `--policy none`: no rules.
    None,
    /// No file given or found: the built-in defaults.
    Default,
    /// `--policy FILE`.
    Given,
    /// Found in the current directory (`.layergate.yml`, …).
    Discovered,
}

impl Policy {
    /// No rules at all: what `--policy none` asks for.
    pub(crate) fn empty() -> Policy {
        Policy {
            source: "(no policy)".into(),
            origin: Origin::None,
            format: PolicyFormat::Layergate,
            limits: Vec::new(),
            growth: Vec::new(),
            forbid: Vec::new(),
            budgets: Vec::new(),
            ignore: Vec::new(),
            ignore_set: GlobSet::empty(),
            advice: Vec::new(),
            packages: packages::PackageRules::default(),
            drift: Vec::new(),
            parity: None,
        }
    }

    /// How the output names the policy ("policy FILE", "default policy"), or
    /// nothing when there is none.
    pub(crate) fn label(&self) -> String {
        match self.origin {
            Origin::None => String::new(),
            Origin::Default => "default policy".into(),
            Origin::Given => format!("policy {}", self.source),
            Origin::Discovered => {
                format!("policy {} (found in the current directory)", self.source)
            }
        }
    }

    /// The ignore globs, or `None` when there are none (for `CompareOptions`).
    pub(crate) fn ignore_globs(&self) -> Option<GlobSet> {
        (!self.ignore.is_empty()).then(|| self.ignore_set.clone())
    }

    /// Whether any rule needs the layers' contents. A policy that only limits
    /// compressed size, layer count or compressed growth is answered from manifests
    /// and configs alone, without reading a layer (the registry fast path).
    pub(crate) fn needs_layers(&self) -> bool {
        let manifest_limit =
            |l: &Limit| matches!(l.metric, Metric::CompressedSize | Metric::Layers);
        let has_rules = !self.limits.is_empty() || !self.growth.is_empty();
        !has_rules
            || !self.limits.iter().all(manifest_limit)
            || self
                .growth
                .iter()
                .any(|g| !matches!(g.kind, SizeKind::Compressed | SizeKind::Pull))
            || !self.forbid.is_empty()
            || !self.budgets.is_empty()
            || !self.advice.is_empty()
            || !self.ignore.is_empty()
            || !self.packages.is_empty()
    }

    /// The code of every rule this policy checks, once each, in policy order (a
    /// JUnit report has one test case per rule, passing ones included).
    pub fn rule_codes(&self) -> Vec<FindingCode> {
        let mut codes: Vec<FindingCode> = Vec::new();
        let all = self
            .limits
            .iter()
            .map(|l| l.metric.code())
            .chain(self.growth.iter().map(|g| g.kind.code()))
            .chain(self.forbid.iter().map(|_| FindingCode::ForbiddenPath))
            .chain(self.budgets.iter().map(|_| FindingCode::PathBudget))
            .chain(self.advice.iter().map(|_| FindingCode::AdviceBudget))
            .chain(self.packages.codes());
        for code in all {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }

    /// Findings of every rule, or [`NotMeasured`] when a rule's figure is missing
    /// (a rule is never passed on a figure nobody measured).
    pub(crate) fn evaluate(
        &self,
        head: &crate::report::Report,
        comparison: Option<&crate::compare::Comparison>,
    ) -> Result<Vec<Finding>, NotMeasured> {
        evaluate::evaluate(self, head, comparison)
    }
}

/// The unit of a finding's figures.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Unit {
    Bytes,
    Count,
    Percent,
}

/// A crossed rule: not an error, a result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// Stable kebab-case code, e.g. `size-growth`.
    pub(crate) code: FindingCode,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    /// What was measured.
    pub(crate) value: f64,
    /// The limit it crossed.
    pub(crate) limit: f64,
    pub(crate) unit: Unit,
    /// The path or glob the finding is about, for path rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
}

impl Finding {
    /// A forbid rule's finding: `count` matches of `glob` (paths or packages, `what`)
    /// holding `bytes`; `shown` are the first three, and the message says if more.
    fn forbidden(
        code: FindingCode,
        severity: Severity,
        what: &str,
        glob: &str,
        count: usize,
        bytes: u64,
        shown: &[String],
    ) -> Finding {
        Finding {
            code,
            severity,
            message: format!(
                "{count} forbidden {what}(s) match `{glob}`, {}: {}{}",
                crate::human::human_bytes(bytes),
                shown.join("; "),
                if count > 3 { "; …" } else { "" }
            ),
            value: bytes as f64,
            limit: 0.0,
            unit: Unit::Bytes,
            path: Some(glob.to_string()),
        }
    }
}

/// A rule that cannot be judged: the figure it needs was not measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The rule, by finding code (and glob or advice code for path/advice rules).
    pub(crate) rule: String,
    /// The figure it needs, e.g. `efficiency`.
    pub(crate) figure: &'static str,
    /// Whether BASE (rather than HEAD) lacks it.
    pub(crate) base: bool,
}

/// Rules whose figures were not measured; the caller says why (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_missing(.0))]
pub struct NotMeasured(pub Vec<Missing>);

fn describe_missing(missing: &[Missing]) -> String {
    missing
        .iter()
        .map(|m| {
            format!(
                "rule `{}` needs {}'s {}",
                m.rule,
                if m.base { "BASE" } else { "HEAD" },
                m.figure
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The outcome in one line, for a headline and the exit code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub(crate) passed: bool,
    pub(crate) headline: String,
    pub(crate) failed: usize,
    pub(crate) warned: usize,
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub line: u64,
    pub(crate) column: u64,
    pub message: String,
}

/// Every problem of one policy file, displayed as `FILE:LINE:COL: message`, one a line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct PolicyErrors {
    pub(crate) source_name: String,
    pub(crate) problems: Vec<Problem>,
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.source_name, p.line, p.column, p.message
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read policy: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source_name}: {why}")]
    NotAPolicy { source_name: String, why: String },
    #[error("{0}")]
    Invalid(#[from] PolicyErrors),
    #[error(
        "more than one policy file in the current directory ({0}): keep one, or pass --policy FILE"
    )]
    Ambiguous(String),
}

/// Parses and validates a policy. `source_name` is used in messages only.
pub fn load_str(source_name: &str, text: &str) -> Result<Policy, PolicyErrors> {
    let fail = |line, column, message| PolicyErrors {
        source_name: source_name.to_string(),
        problems: vec![Problem {
            line,
            column,
            message,
        }],
    };
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err((p, msg)) => return Err(fail(p.line.max(1), p.column.max(1), msg)),
    };
    let mut ctx = context::Ctx::new(source_name);
    let policy = if dive::looks_like_dive(&root) {
        dive::load(&mut ctx, &root)
    } else {
        load::load(&mut ctx, &root)
    };
    let mut policy = ctx.finish(policy)?;
    policy.origin = Origin::Given;
    Ok(policy)
}

/// Largest policy file read: policies are a few hundred bytes; a megabyte is not one.
pub(crate) const MAX_POLICY_BYTES: u64 = 1 << 20;

pub fn load_file(path: &Path) -> Result<Policy, PolicyError> {
    let bytes =
        crate::read::read_capped(path, MAX_POLICY_BYTES).map_err(|e| PolicyError::Read {
            path: path.to_path_buf(),
            source: match e {
                crate::read::InputError::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            },
        })?;
    load_bytes(&path.display().to_string(), &bytes)
}

/// Parses a policy file's bytes. Bytes that are not UTF-8 YAML text (a NUL byte, a
/// binary file) and a file with nothing in it are errors, never "no rules": a broken
/// policy must not pass every image. (`--policy none` says "no rules" on purpose.)
pub fn load_bytes(source_name: &str, bytes: &[u8]) -> Result<Policy, PolicyError> {
    let not = |why: String| PolicyError::NotAPolicy {
        source_name: source_name.to_string(),
        why,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        not(format!(
            "not UTF-8 text (bad byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    if let Some(at) = text.find(|c: char| c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(not(format!("not YAML text (control byte at offset {at})")));
    }
    let has_content = text.lines().any(|l| {
        let l = l.trim();
        !(l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
    });
    if !has_content {
        return Err(not(
            "the policy file is empty; write at least `version: 1`, or pass --policy none for no rules"
                .into(),
        ));
    }
    Ok(load_str(source_name, text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy file's bytes: NULs, binary and empty files are errors naming the
    /// file, never a policy without rules (what `--policy` and discovery read).
    #[test]
    fn bytes_that_are_not_a_policy_are_refused() {
        let mut nul = vec![0u8; 100];
        nul.extend_from_slice(b"limits: {layers: 1}\n");
        for (bytes, why) in [
            (
                nul.as_slice(),
                "p.yml: not YAML text (control byte at offset 0)",
            ),
            (
                b"\xff\xfe".as_slice(),
                "p.yml: not UTF-8 text (bad byte at offset 0)",
            ),
            (b"".as_slice(), "p.yml: the policy file is empty"),
            (
                b"# only a comment\n---\n\n".as_slice(),
                "p.yml: the policy file is empty",
            ),
        ] {
            let e = load_bytes("p.yml", bytes).unwrap_err().to_string();
            assert!(e.starts_with(why), "{e}");
        }
        assert_eq!(
            load_bytes("p.yml", b"limits: {layers: 3}\n")
                .unwrap()
                .limits
                .len(),
            1
        );
    }

    /// An empty file is a valid policy with no rules (every key is optional).
    #[test]
    fn empty_policy_has_no_rules() {
        let p = load_str("p.yml", "").unwrap();
        assert!(p.limits.is_empty() && p.growth.is_empty() && p.forbid.is_empty());
        let p = load_str("p.yml", "version: 1\n").unwrap();
        assert_eq!(p.format, PolicyFormat::Layergate);
    }

    /// Shorthand and long forms mean the same rule; sizes are typed at load time.
    #[test]
    fn shorthand_and_long_forms() {
        let p = load_str(
            "p.yml",
            "limits:\n  compressed_size: 20MB\n  wasted_bytes: {max: 1MiB, severity: warn}\ngrowth:\n  compressed: {max_percent: 5%}\n",
        )
        .unwrap();
        assert_eq!(
            p.limits,
            [
                Limit {
                    metric: Metric::CompressedSize,
                    threshold: Threshold::Bytes(20_000_000),
                    severity: Severity::Fail
                },
                Limit {
                    metric: Metric::WastedBytes,
                    threshold: Threshold::Bytes(1 << 20),
                    severity: Severity::Warn
                },
            ]
        );
        assert_eq!(p.growth[0].max_percent, Some(5.0));
        assert_eq!(p.growth[0].combine, Combine::All);
    }

    /// dive's file is recognised by content; a layergate file with `rules` is not.
    #[test]
    fn dive_recognised_by_content() {
        let p = load_str("x", "rules:\n  lowestEfficiency: \"0.8\"\n").unwrap();
        assert_eq!(p.format, PolicyFormat::DiveCi);
        assert_eq!(
            p.limits.len(),
            2,
            "efficiency and dive's default userWastedPercent"
        );
        let e = load_str("x", "version: 1\nrules: {}\n").unwrap_err();
        assert_eq!(e.problems[0].line, 2);
    }

    /// All problems, one per line, each with file, line and column.
    #[test]
    fn errors_display_one_per_line() {
        let e = load_str("p.yml", "limits:\n  layers: x\n  bogus: 1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.yml:2:11: limits.layers: expected a whole number, found `x`\n\
             p.yml:3:3: unknown key `bogus` in limits (expected one of: compressed_size, uncompressed_size, layers, largest_layer, min_efficiency, wasted_bytes, wasted_percent)"
        );
    }
}
