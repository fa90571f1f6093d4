//! When merging two steps pays (`merge-pays`) and when it would only cost cache
//! (`keep-separate`).
//!
//! Merging every RUN shrinks an image but throws away the build cache: a change to
//! any merged command rebuilds all of it. So a merge is recommended only where the
//! upper step rewrites what the lower one wrote (a merge saving) with new content,
//! above `MERGE_PAYS_MIN`, and both are RUN steps (the only pair one `&&` can
//! merge). Deletions and attribute changes have their own, more precise codes in
//! `cleanup`, and small rewrites stay `rewrites-earlier-layer`.
//!
//! `keep-separate` says the opposite for pairs a reader may be tempted to merge. To
//! stay quiet on a 50-layer image it speaks only of:
//! - adjacent layers made by the same instruction (RUN+RUN, COPY+COPY, ADD+ADD),
//!   both storing bytes, the upper killing nothing of the lower;
//! - where neither layer kills files of any earlier layer (such a layer has advice
//!   of its own, and the fix will move it anyway);
//! - where the lower step does not refresh a package index without installing
//!   (`apt-get update` alone must join its install, or the install reads a stale
//!   cached index);
//! - at most `KEEP_SEPARATE_MAX` pairs, the topmost ones: the image's own steps sit
//!   on top of its base image's, and those are the ones its author can change.

use crate::human::human_bytes;
use crate::report::{AdviceCode, DuplicateKind, Report};

use super::pairs::Part;
use super::{severity_for, Advice, Commands, Severity, Step, MIB};

/// The least a merge must save to be worth giving up the cache of two steps.
pub(super) const MERGE_PAYS_MIN: u64 = MIB;

/// How many `keep-separate` items one image gets at most.
pub(super) const KEEP_SEPARATE_MAX: usize = 3;

/// True when this part of a merge saving is better advised as a merge.
pub(super) fn pays(cmds: &Commands, p: &Part) -> bool {
    p.kind == DuplicateKind::Overwritten
        && p.bytes >= MERGE_PAYS_MIN
        && cmds.step(p.lower) == Step::Run
        && cmds.step(p.upper) == Step::Run
}

pub(super) fn advise(report: &Report, cmds: &Commands, parts: &[Part]) -> Vec<Advice> {
    let mut out: Vec<Advice> = parts
        .iter()
        .filter(|p| pays(cmds, p))
        .map(|p| merge_pays(cmds, p))
        .collect();
    out.extend(keep_separate(report, cmds));
    out
}

fn merge_pays(cmds: &Commands, p: &Part) -> Advice {
    let (lo, up) = (cmds.label(p.lower), cmds.label(p.upper));
    Advice {
        code: AdviceCode::MergePays,
        severity: severity_for(p.bytes),
        title: format!(
            "Merging L{} and L{} saves {}: L{} rewrites {} files that L{} wrote",
            p.lower,
            p.upper,
            human_bytes(p.bytes),
            p.upper,
            p.files,
            p.lower
        ),
        layers: vec![cmds.layer(p.lower), cmds.layer(p.upper)],
        paths: p.paths.iter().map(|f| f.path.clone()).collect(),
        bytes: p.bytes,
        files: p.files,
        suggestion: format!(
            "Run the commands of {up} in the RUN of {lo} (`RUN … && …`) so only the final \
             files are stored. Merge these two steps only: the steps between them and the \
             other layers keep their cache."
        ),
        hadolint: None,
    }
}

/// A package-index refresh with no install after it in the same RUN: it must join
/// the install that follows, not be kept apart from it.
fn refreshes_index_alone(cmds: &Commands, index: usize) -> bool {
    let Some(c) = cmds.get(index) else {
        return false;
    };
    let programs = c.programs();
    let refresh = programs.iter().any(|p| {
        matches!(
            (p.name, p.subcommand()),
            ("apt-get" | "apt" | "apk", Some("update"))
                | ("yum" | "dnf" | "microdnf", Some("makecache"))
                | ("zypper", Some("refresh" | "ref"))
        )
    });
    let install = programs.iter().any(|p| {
        matches!(
            (p.name, p.subcommand()),
            (
                "apt-get" | "apt",
                Some("install" | "upgrade" | "dist-upgrade")
            ) | ("apk", Some("add" | "upgrade"))
                | (
                    "yum" | "dnf" | "microdnf" | "zypper",
                    Some("install" | "in" | "update")
                )
        )
    });
    refresh && !install
}

fn keep_separate(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let killers: Vec<usize> = report.merge_savings.iter().map(|m| m.upper).collect();
    let touches = |lo: usize, up: usize| {
        report
            .merge_savings
            .iter()
            .any(|m| m.lower == lo && m.upper == up)
    };
    let stored = |i: usize| {
        report
            .layers
            .get(i)
            .and_then(|l| l.uncompressed_bytes)
            .unwrap_or(0)
    };
    let mut out = Vec::new();
    for lower in (0..cmds.len().saturating_sub(1)).rev() {
        if out.len() == KEEP_SEPARATE_MAX {
            break;
        }
        let upper = lower + 1;
        let step = cmds.step(lower);
        if step == Step::Other
            || cmds.step(upper) != step
            || touches(lower, upper)
            || killers.contains(&lower)
            || killers.contains(&upper)
            || refreshes_index_alone(cmds, lower)
            || stored(lower) == 0
            || stored(upper) == 0
        {
            continue;
        }
        let (lo, up) = (cmds.label(lower), cmds.label(upper));
        out.push(Advice {
            code: AdviceCode::KeepSeparate,
            severity: Severity::Info,
            title: format!(
                "L{lower} and L{upper} do not touch each other's files: merging them saves nothing"
            ),
            layers: vec![cmds.layer(lower), cmds.layer(upper)],
            paths: vec![],
            bytes: 0,
            files: 0,
            suggestion: format!(
                "Keep {lo} and {up} as separate {} steps. Merging them saves 0 bytes and costs \
                 cache: a change to either command would rebuild both ({} of layers instead of \
                 {}).",
                step.as_str(),
                human_bytes(stored(lower) + stored(upper)),
                human_bytes(stored(upper))
            ),
            hadolint: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::pairs::split;
    use crate::advice::testing::{dup, report, saving};

    fn codes(a: &[Advice]) -> Vec<(&str, Vec<usize>)> {
        a.iter()
            .map(|x| (x.code.as_str(), x.layers.iter().map(|l| l.index).collect()))
            .collect()
    }

    #[test]
    fn a_large_rewrite_between_two_runs_pays_to_merge() {
        let mut r = report(&["base", "/bin/sh -c gen", "/bin/sh -c regen"]);
        r.duplicates = vec![dup(
            "/db",
            DuplicateKind::Overwritten,
            &[1, 2],
            &[2],
            2 * MIB,
        )];
        r.merge_savings = vec![saving(1, 2, &[("/db", 2 * MIB)], 1, 2 * MIB)];
        let cmds = Commands::of(&r);
        let a = advise(&r, &cmds, &split(&r));
        assert_eq!(codes(&a), [("merge-pays", vec![1, 2])]);
        assert_eq!(a[0].bytes, 2 * MIB);
    }

    #[test]
    fn a_rewrite_of_a_copy_is_not_a_merge() {
        let mut r = report(&["base", "COPY a /a", "/bin/sh -c regen"]);
        r.duplicates = vec![dup(
            "/a",
            DuplicateKind::Overwritten,
            &[1, 2],
            &[2],
            2 * MIB,
        )];
        r.merge_savings = vec![saving(1, 2, &[("/a", 2 * MIB)], 1, 2 * MIB)];
        let cmds = Commands::of(&r);
        assert!(advise(&r, &cmds, &split(&r)).is_empty());
    }

    #[test]
    fn independent_runs_are_kept_separate_topmost_first_and_bounded() {
        let mut cmds: Vec<String> = vec!["base".into()];
        cmds.extend((1..50).map(|i| format!("/bin/sh -c step{i}")));
        let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let r = report(&refs);
        let c = Commands::of(&r);
        let a = advise(&r, &c, &split(&r));
        assert_eq!(
            codes(&a),
            [
                ("keep-separate", vec![48, 49]),
                ("keep-separate", vec![47, 48]),
                ("keep-separate", vec![46, 47]),
            ]
        );
        assert!(a
            .iter()
            .all(|x| x.bytes == 0 && x.severity == Severity::Info));
    }

    #[test]
    fn an_index_update_is_never_kept_apart_from_its_install() {
        let r = report(&[
            "base",
            "/bin/sh -c apt-get update",
            "/bin/sh -c apt-get install -y curl",
        ]);
        let c = Commands::of(&r);
        assert!(advise(&r, &c, &split(&r)).is_empty());
        let r = report(&[
            "base",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c useradd app",
        ]);
        let c = Commands::of(&r);
        assert_eq!(
            codes(&advise(&r, &c, &split(&r))),
            [("keep-separate", vec![1, 2])]
        );
    }

    #[test]
    fn mixed_instructions_and_killing_layers_get_no_keep_separate() {
        let mut r = report(&[
            "base",
            "COPY a /a",
            "/bin/sh -c x",
            "/bin/sh -c rm /a",
            "/bin/sh -c y",
        ]);
        r.duplicates = vec![dup("/a", DuplicateKind::Deleted, &[1], &[3], 10)];
        r.merge_savings = vec![saving(1, 3, &[("/a", 10)], 1, 10)];
        let c = Commands::of(&r);
        let a = advise(&r, &c, &split(&r));
        assert!(a.is_empty(), "{:?}", codes(&a));
    }
}
