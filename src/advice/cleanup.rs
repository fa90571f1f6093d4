//! Advice on files one layer writes and a later layer kills: a cleanup that comes too
//! late (`cleanup-in-later-layer`), an attribute change that stores the same bytes
//! again (`attribute-only-copy`), and new content over old (`rewrites-earlier-layer`).
//!
//! Each rests on one part of a merge saving (see `pairs`), so its bytes are exactly
//! what doing the work in one step would save. Large rewrites between two RUN steps
//! are left to `merge`, which recommends merging them (`merge-pays`).

use crate::human::human_bytes;
use crate::report::{AdviceCode, DuplicateKind};

use super::pairs::Part;
use super::{merge, Advice, Commands, Step};

pub(super) fn advise(cmds: &Commands, parts: &[Part]) -> Vec<Advice> {
    parts
        .iter()
        .filter_map(|p| match p.kind {
            DuplicateKind::Deleted => Some(cleanup(cmds, p)),
            DuplicateKind::UnchangedCopy => Some(attribute_only(cmds, p)),
            DuplicateKind::Overwritten if !merge::pays(cmds, p) => Some(rewrite(cmds, p)),
            _ => None,
        })
        .collect()
}

fn item(code: AdviceCode, cmds: &Commands, p: &Part, title: String, suggestion: String) -> Advice {
    Advice {
        title,
        paths: p.paths.iter().map(|f| f.path.clone()).collect(),
        suggestion,
        ..cmds.item(code, &[p.lower, p.upper], p.bytes, p.files)
    }
}

fn files(n: u64) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// "L2 rewrites 3 files of L1 with new content: 4 MiB stored twice": the title of
/// an upper layer storing a lower layer's files a second time.
fn again(p: &Part, verb: &str, how: &str, tail: &str) -> String {
    format!(
        "L{} {verb} {} of L{} {how}: {} {tail}",
        p.upper,
        files(p.files),
        p.lower,
        human_bytes(p.bytes)
    )
}

fn cleanup(cmds: &Commands, p: &Part) -> Advice {
    let (lo, up) = (cmds.label(p.lower), cmds.label(p.upper));
    let title = format!(
        "{} ({}) written by L{} {} deleted by L{}: the deletion frees nothing",
        files(p.files),
        human_bytes(p.bytes),
        p.lower,
        if p.files == 1 { "is" } else { "are" },
        p.upper
    );
    let suggestion = match cmds.step(p.lower) {
        Step::Run => format!(
            "Move the cleanup of {up} into the RUN of {lo}, at the end of the same command \
             (`RUN … && rm -rf …`), so the files never reach a layer. A later layer can only \
             hide them; every pull still downloads {}.",
            human_bytes(p.bytes)
        ),
        Step::Copy | Step::Add => format!(
            "{lo} brings in files that {up} deletes. Keep them out of the build context \
             (.dockerignore), copy only what the image needs, or build in a separate stage \
             and COPY --from it; a later rm cannot take bytes out of an earlier layer."
        ),
        Step::Other => format!(
            "{up} deletes files that {lo} wrote. Delete them in the step that creates them, \
             or start from an image without them; a later layer can only hide them."
        ),
    };
    item(AdviceCode::CleanupInLaterLayer, cmds, p, title, suggestion)
}

fn attribute_only(cmds: &Commands, p: &Part) -> Advice {
    let (lo, up) = (cmds.label(p.lower), cmds.label(p.upper));
    let title = again(
        p,
        "stores",
        "again with the same content (chmod/chown/touch)",
        "twice",
    );
    let suggestion = match cmds.step(p.lower) {
        Step::Copy | Step::Add => format!(
            "Set mode and owner where the files are copied: `{} --chmod=… --chown=…` in {lo}, \
             and drop the change from {up}. A metadata change alone makes the layer carry \
             the whole file again.",
            cmds.step(p.lower).as_str()
        ),
        Step::Run => format!(
            "Do the chmod/chown/touch of {up} inside the RUN of {lo} that writes the files. \
             A metadata change alone makes the layer carry the whole file again."
        ),
        Step::Other => format!(
            "{up} changes only attributes of files from {lo}; set them where the files are \
             made (COPY --chmod/--chown, or the producing step)."
        ),
    };
    item(AdviceCode::AttributeOnlyCopy, cmds, p, title, suggestion)
}

fn rewrite(cmds: &Commands, p: &Part) -> Advice {
    let (lo, up) = (cmds.label(p.lower), cmds.label(p.upper));
    let title = again(p, "rewrites", "with new content", "stored twice");
    let suggestion = match cmds.step(p.lower) {
        Step::Copy | Step::Add => format!(
            "{up} changes files that {lo} copied. Produce the final files before they are \
             copied (in the build context or a builder stage) so one layer holds them; if the \
             change is a routine update (package database, ld.so.cache), it is churn you pay \
             on every pull."
        ),
        _ => format!(
            "{up} rewrites files of {lo}. If both steps update the same state (package \
             database, ld.so.cache, a file built in two passes), produce the final file in one \
             step; merging the two steps would save {}. Below 1 MiB this is churn, not worth \
             giving up the cache for.",
            human_bytes(p.bytes)
        ),
    };
    item(AdviceCode::RewritesEarlierLayer, cmds, p, title, suggestion)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::pairs::split;
    use crate::advice::testing::{dup, report, saving};
    use crate::advice::{Severity, MIB};

    #[test]
    fn a_late_cleanup_of_a_run_says_move_it_into_that_run() {
        let mut r = report(&["base", "/bin/sh -c make", "/bin/sh -c rm -rf /build"]);
        r.duplicates = vec![dup("/build/o", DuplicateKind::Deleted, &[1], &[2], 3 * MIB)];
        r.merge_savings = vec![saving(1, 2, &[("/build/o", 3 * MIB)], 1, 3 * MIB)];
        let cmds = Commands::of(&r);
        let a = advise(&cmds, &split(&r));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].code, "cleanup-in-later-layer");
        assert_eq!(a[0].severity, Severity::Medium);
        assert_eq!(
            a[0].layers.iter().map(|l| l.index).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(a[0].suggestion.contains("into the RUN of L1"));
    }

    #[test]
    fn a_small_rewrite_is_low_severity_churn() {
        let mut r = report(&["base", "/bin/sh -c a", "/bin/sh -c b"]);
        r.duplicates = vec![dup(
            "/var/lib/dpkg/status",
            DuplicateKind::Overwritten,
            &[1, 2],
            &[2],
            4096,
        )];
        r.merge_savings = vec![saving(1, 2, &[("/var/lib/dpkg/status", 4096)], 1, 4096)];
        let cmds = Commands::of(&r);
        let a = advise(&cmds, &split(&r));
        assert_eq!(a[0].code, "rewrites-earlier-layer");
        assert_eq!(a[0].severity, Severity::Low);
    }
}
