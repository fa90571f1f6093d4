//! What every verdict command returns — `diff` and `check` (`gate::run`), `merge` and
//! `platforms` (`fleet`): the verdict, every rule evaluated, the findings, the
//! renderings, what is worth a warning, and the exit code. One type, so one
//! publication (`publish::Publication::from`) and one exit-code mapping serve every
//! command, and the binary only prints, writes and exits.

use crate::compare::Delta;
use crate::marker::Marker;
use crate::policy::{Finding, FindingCode, Verdict};

/// The process exit code of a command. A crossed rule is not an error: it is a
/// verdict (`Policy`); every error is a usage or input problem (`Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every rule passed (warnings allowed), or `--warn-only`.
    Pass,
    /// A rule with severity `fail` was crossed.
    Policy,
    /// Bad usage or input: the message names the thing.
    Error,
}

impl Exit {
    /// 0, 1 and 2: documented in the README, asserted by every test.
    pub fn code(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::Policy => 1,
            Exit::Error => 2,
        }
    }

    /// The exit of a verdict: `Policy` when a rule failed, unless `warn_only`
    /// asked to report failed rules and pass.
    pub(crate) fn of(verdict: &Verdict, warn_only: bool) -> Exit {
        if verdict.passed || warn_only {
            Exit::Pass
        } else {
            Exit::Policy
        }
    }
}

/// Whether the size figures are what a registry transfers (every layer stored
/// compressed) or plain tar bytes (`docker save` archives), or a mix of both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SizeKind {
    Compressed,
    Uncompressed,
    Mixed,
}

impl SizeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SizeKind::Compressed => "compressed",
            SizeKind::Uncompressed => "uncompressed",
            SizeKind::Mixed => "mixed",
        }
    }

    /// From whether each layer of the compared images is stored compressed.
    pub(crate) fn of(compressed: impl IntoIterator<Item = bool>) -> Option<SizeKind> {
        let (mut yes, mut no) = (false, false);
        for c in compressed {
            if c {
                yes = true;
            } else {
                no = true;
            }
        }
        match (yes, no) {
            (true, false) => Some(SizeKind::Compressed),
            (false, true) => Some(SizeKind::Uncompressed),
            (true, true) => Some(SizeKind::Mixed),
            (false, false) => None,
        }
    }
}

/// Something a run wants said that changes neither the verdict nor the exit code.
/// The library collects them; the binary prints each as a warning line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A policy with `growth.since` rules given to `merge` without `--history`.
    DriftNotJudged,
    /// A line of the history file was skipped (not ours, corrupt, or newer).
    HistoryLineSkipped(String),
    /// The layer cache met a problem and was not used for the rest of the run
    /// (the figures are the same, only slower to get).
    CacheOff(String),
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::DriftNotJudged => {
                f.write_str("growth.since needs --history FILE; drift not judged")
            }
            Notice::HistoryLineSkipped(line) | Notice::CacheOff(line) => f.write_str(line),
        }
    }
}

/// What a verdict command produced, ready to print, write and publish.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub(crate) verdict: Verdict,
    pub(crate) findings: Vec<Finding>,
    /// Every rule evaluated, passing ones included, once each (a JUnit report has
    /// one test case per rule).
    pub(crate) rules: Vec<FindingCode>,
    /// The pull-request comment (always rendered, whatever `--format` asked).
    pub(crate) markdown: String,
    /// The hidden marker inside `markdown`.
    pub(crate) key: Marker,
    /// What `--format` asked for, ready to write.
    pub body: String,
    /// Compressed size before and after, when there is a comparable base
    /// (exported as outputs and metrics).
    pub(crate) compressed: Option<Delta>,
    /// What those sizes measure (plain tar for `docker save` archives).
    pub(crate) size_kind: Option<SizeKind>,
    /// The HTML report, when the request asked for it beside the body.
    pub html: Option<String>,
    pub notices: Vec<Notice>,
    pub exit: Exit,
}

/// Adds `codes` to `rules`, keeping the first occurrence of each.
pub(crate) fn add_rules(
    rules: &mut Vec<FindingCode>,
    codes: impl IntoIterator<Item = FindingCode>,
) {
    for code in codes {
        if !rules.contains(&code) {
            rules.push(code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented exit codes: 0 pass, 1 policy failed, 2 usage or input error.
    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(
            [Exit::Pass, Exit::Policy, Exit::Error].map(Exit::code),
            [0, 1, 2]
        );
        let failed = Verdict {
            passed: false,
            headline: String::new(),
            failed: 1,
            warned: 0,
        };
        assert_eq!(Exit::of(&failed, false), Exit::Policy);
        assert_eq!(Exit::of(&failed, true), Exit::Pass);
    }

    /// docker save stores plain tar, registries and OCI archives gzip or zstd.
    #[test]
    fn size_kind_says_what_the_figures_measure() {
        assert_eq!(SizeKind::of([true, true]), Some(SizeKind::Compressed));
        assert_eq!(SizeKind::of([false]), Some(SizeKind::Uncompressed));
        assert_eq!(SizeKind::of([true, false]), Some(SizeKind::Mixed));
        assert_eq!(SizeKind::of([]), None);
    }
}
