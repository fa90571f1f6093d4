//! The rewrites on hand-written Dockerfiles and synthetic reports: every rewrite on
//! continuations, heredocs, ARG and multi-stage files, refusals with their reason, and
//! idempotence (a rewritten file gives no further change).

use super::*;
use crate::advice::testing::{dup, file, report, saving};
use crate::advice::MIB;
use crate::report::DuplicateKind;

fn with_advice(mut r: Report) -> Report {
    r.advice = crate::advice::advise(&r);
    r
}

fn run(r: &Report, df: &str) -> Plan {
    plan(
        r,
        df,
        &Options {
            aggressive: false,
            key_dir: ".cache-keys".to_string(),
        },
    )
}

/// The plan, and the same report against the rewritten file changes nothing more.
fn run_idempotent(r: &Report, df: &str) -> Plan {
    let p = run(r, df);
    let again = run(r, &p.text);
    assert_eq!(again.text, p.text, "second run changed the file again");
    assert!(again.changes.is_empty(), "{:#?}", again.changes);
    p
}

fn codes(p: &Plan) -> Vec<&str> {
    p.changes.iter().map(|c| c.code.as_str()).collect()
}

/// cleanup-split's shape: the cleanup moves to the end of the first RUN, in its
/// leading-`&&` style, and the emptied RUN goes (its comment stays).
fn cleanup_report() -> Report {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c mkdir -p /var/lib/pkg/lists  && head -c 9 /dev/urandom > /var/lib/pkg/lists/main",
        "/bin/sh -c mkdir -p /usr/local/bin  && head -c 9 /dev/urandom > /usr/local/bin/tool",
        "/bin/sh -c rm -rf /var/lib/pkg/lists",
    ]);
    r.duplicates = vec![dup(
        "/var/lib/pkg/lists/main",
        DuplicateKind::Deleted,
        &[1],
        &[3],
        2 * MIB,
    )];
    r.merge_savings = vec![saving(
        1,
        3,
        &[("/var/lib/pkg/lists/main", 2 * MIB)],
        1,
        2 * MIB,
    )];
    with_advice(r)
}

const CLEANUP: &str = "# syntax-free\nFROM base\nRUN mkdir -p /var/lib/pkg/lists \\\n && head -c 9 /dev/urandom > /var/lib/pkg/lists/main\nRUN mkdir -p /usr/local/bin \\\n && head -c 9 /dev/urandom > /usr/local/bin/tool\n# cleanup, too late\nRUN rm -rf /var/lib/pkg/lists\n";

#[test]
fn a_late_cleanup_moves_into_the_run_that_wrote_the_files() {
    let p = run_idempotent(&cleanup_report(), CLEANUP);
    assert_eq!(
        p.text,
        "# syntax-free\nFROM base\nRUN mkdir -p /var/lib/pkg/lists \\\n && head -c 9 /dev/urandom > /var/lib/pkg/lists/main \\\n && rm -rf /var/lib/pkg/lists\nRUN mkdir -p /usr/local/bin \\\n && head -c 9 /dev/urandom > /usr/local/bin/tool\n# cleanup, too late\n"
    );
    assert_eq!(codes(&p), ["cleanup-in-later-layer"]);
    assert_eq!(p.changes[0].lines, [3, 8]);
    assert_eq!(p.changes[0].bytes, Some(2 * MIB));
    assert_eq!(p.predicted_bytes, 2 * MIB);
}

#[test]
fn trailing_and_style_and_a_kept_command_in_the_later_run() {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c make &&     cp out /usr/bin/",
        "/bin/sh -c rm -rf /build/obj && touch /done",
    ]);
    r.duplicates = vec![dup(
        "/build/obj/a.o",
        DuplicateKind::Deleted,
        &[1],
        &[2],
        3 * MIB,
    )];
    r.merge_savings = vec![saving(1, 2, &[("/build/obj/a.o", 3 * MIB)], 1, 3 * MIB)];
    let r = with_advice(r);
    let df =
        "FROM base\nRUN make && \\\n    cp out /usr/bin/\nRUN rm -rf /build/obj && touch /done\n";
    let p = run_idempotent(&r, df);
    assert_eq!(
        p.text,
        "FROM base\nRUN make && \\\n    cp out /usr/bin/ && \\\n    rm -rf /build/obj\nRUN touch /done\n"
    );
}

#[test]
fn a_step_in_between_that_uses_the_files_merges_all_three_in_order() {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c apt-get update",
        "/bin/sh -c apt-get install -y curl",
        "/bin/sh -c rm -rf /var/lib/apt/lists/*",
    ]);
    let p = "/var/lib/apt/lists/deb_Packages";
    r.duplicates = vec![dup(p, DuplicateKind::Deleted, &[1], &[3], 5 * MIB)];
    r.merge_savings = vec![saving(1, 3, &[(p, 5 * MIB)], 1, 5 * MIB)];
    r.files = vec![file("/usr/bin/curl", 300_000, 2)].into();
    let r = with_advice(r);
    let df = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n";
    let plan = run_idempotent(&r, df);
    assert_eq!(
        plan.text,
        "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    );
    assert_eq!(plan.changes[0].lines, [2, 3, 4]);
    // No --no-install-recommends without --aggressive: refused with the reason.
    assert!(plan
        .refused
        .iter()
        .any(|x| x.code == AdviceCode::NoInstallRecommends && x.reason.contains("--aggressive")));
}

#[test]
fn chmod_after_copy_becomes_copy_chmod_and_says_it_needs_buildkit() {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c #(nop) COPY file:d327 in /opt/data/payload.bin ",
        "/bin/sh -c chmod 755 /opt/data/payload.bin",
    ]);
    let p = "/opt/data/payload.bin";
    r.duplicates = vec![dup(p, DuplicateKind::UnchangedCopy, &[1, 2], &[2], MIB)];
    r.merge_savings = vec![saving(1, 2, &[(p, MIB)], 1, MIB)];
    let r = with_advice(r);
    let df =
        "FROM base\nCOPY payload.bin /opt/data/payload.bin\nRUN chmod 755 /opt/data/payload.bin\n";
    let plan = run_idempotent(&r, df);
    assert_eq!(
        plan.text,
        "FROM base\nCOPY --chmod=755 payload.bin /opt/data/payload.bin\n"
    );
    assert!(plan.needs_buildkit());
    let note = plan.changes[0].note.as_deref().unwrap();
    assert!(note.contains("legacy builder"), "{note}");
    // chown works everywhere (no note), into a folder destination too.
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c #(nop) COPY file:d327 in /opt/data/ ",
        "/bin/sh -c chown 1000:1000 /opt/data/payload.bin && touch /done",
    ]);
    r.duplicates = vec![dup(p, DuplicateKind::UnchangedCopy, &[1, 2], &[2], MIB)];
    r.merge_savings = vec![saving(1, 2, &[(p, MIB)], 1, MIB)];
    let r = with_advice(r);
    let df = "FROM base\nCOPY payload.bin /opt/data/\nRUN chown 1000:1000 /opt/data/payload.bin && touch /done\n";
    let plan = run_idempotent(&r, df);
    assert_eq!(
        plan.text,
        "FROM base\nCOPY --chown=1000:1000 payload.bin /opt/data/\nRUN touch /done\n"
    );
    assert_eq!(plan.changes[0].note, None);
}

#[test]
fn a_symbolic_chmod_is_refused_with_its_reason() {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c #(nop) COPY file:d327 in /opt/tool ",
        "/bin/sh -c chmod +x /opt/tool",
    ]);
    r.duplicates = vec![dup(
        "/opt/tool",
        DuplicateKind::UnchangedCopy,
        &[1, 2],
        &[2],
        MIB,
    )];
    r.merge_savings = vec![saving(1, 2, &[("/opt/tool", MIB)], 1, MIB)];
    let r = with_advice(r);
    let df = "FROM base\nCOPY tool /opt/tool\nRUN chmod +x /opt/tool\n";
    let plan = run(&r, df);
    assert_eq!(plan.text, df);
    assert_eq!(plan.refused.len(), 1);
    assert!(
        plan.refused[0].reason.contains("octal"),
        "{}",
        plan.refused[0].reason
    );
}

fn merge_report(first: &str, second: &str) -> Report {
    let mut r = report(&["rootfs", first, second]);
    r.duplicates = vec![dup(
        "/db",
        DuplicateKind::Overwritten,
        &[1, 2],
        &[2],
        4 * MIB,
    )];
    r.merge_savings = vec![saving(1, 2, &[("/db", 4 * MIB)], 1, 4 * MIB)];
    with_advice(r)
}

#[test]
fn merge_pays_joins_the_two_runs_in_the_files_style() {
    let r = merge_report("/bin/sh -c gen  && index", "/bin/sh -c regen /db");
    let df = "FROM base\nRUN gen \\\n  && index\nLABEL x=y\nRUN regen /db\n";
    let p = run_idempotent(&r, df);
    assert_eq!(
        p.text,
        "FROM base\nRUN gen \\\n  && index \\\n  && regen /db\nLABEL x=y\n"
    );
    assert_eq!(codes(&p), ["merge-pays"]);
    assert_eq!(p.changes[0].bytes, Some(4 * MIB));
}

#[test]
fn merge_pays_is_refused_across_an_env_and_keep_separate_is_never_merged() {
    let r = merge_report("/bin/sh -c gen", "/bin/sh -c regen /db");
    let df = "FROM base\nRUN gen\nENV A=b\nRUN regen /db\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(
        p.refused[0].reason.contains("ENV"),
        "{}",
        p.refused[0].reason
    );
    let r = with_advice(report(&["rootfs", "/bin/sh -c a", "/bin/sh -c b"]));
    assert!(r.advice.iter().any(|a| a.code == AdviceCode::KeepSeparate));
    let df = "FROM base\nRUN a\nRUN b\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(p.changes.is_empty() && p.refused.is_empty());
}

fn cache_report(created_by: &str) -> Report {
    let mut r = report(&["rootfs", created_by]);
    r.files = vec![
        file("/root/.cache/pip/http/a", 3 * MIB, 1),
        file("/usr/lib/app.py", 100, 1),
    ]
    .into();
    with_advice(r)
}

#[test]
fn a_cache_gets_rm_in_a_classic_file_and_a_cache_mount_in_a_buildkit_one() {
    let r = cache_report("/bin/sh -c pip install flask");
    let p = run_idempotent(&r, "FROM python\nRUN pip install flask\n");
    assert_eq!(
        p.text,
        "FROM python\nRUN pip install flask && rm -rf /root/.cache/pip\n"
    );
    assert_eq!(p.changes[0].bytes, Some(3 * MIB));
    let df = "# syntax=docker/dockerfile:1\nFROM python\nRUN pip install flask\n";
    let p = run_idempotent(&r, df);
    assert_eq!(
        p.text,
        "# syntax=docker/dockerfile:1\nFROM python\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"
    );
    assert!(p.needs_buildkit());
}

#[test]
fn heredoc_runs_get_a_new_body_line() {
    let r = cache_report("/bin/sh -c pip install flask");
    let df = "FROM python\nRUN <<EOF\npip install flask\nEOF\n";
    // A heredoc is BuildKit syntax: the cache becomes a mount.
    let p = run(&r, df);
    assert_eq!(p.text, "FROM python\nRUN --mount=type=cache,target=/root/.cache/pip <<EOF\npip install flask\nEOF\n");
    let mut r = report(&[
        "rootfs",
        "RUN /bin/sh -c apt-get update\napt-get install -y curl # buildkit",
    ]);
    r.files = vec![file("/var/lib/apt/lists/x_Packages", 9 * MIB, 1)].into();
    let r = with_advice(r);
    let df = "FROM debian\nRUN <<-EOT\n\tapt-get update\n\tapt-get install -y curl\n\tEOT\n";
    let p = run(&r, df);
    assert_eq!(
        p.text,
        "FROM debian\nRUN <<-EOT\n\tapt-get update\n\tapt-get install -y curl\n\trm -rf /var/lib/apt/lists/*\n\tEOT\n"
    );
}

#[test]
fn apt_lists_are_removed_and_aggressive_adds_no_install_recommends() {
    let mut r = report(&[
        "rootfs",
        "|1 V=2 /bin/sh -c apt-get update && apt-get install -y curl=$V",
    ]);
    r.files = vec![
        file("/var/lib/apt/lists/x_Packages", 9 * MIB, 1),
        file("/usr/bin/curl", 300_000, 1),
    ]
    .into();
    let r = with_advice(r);
    let df = "ARG V=1\nFROM debian\nARG V=2\nRUN apt-get update && apt-get install -y curl=$V\n";
    let p = run_idempotent(&r, df);
    assert_eq!(
        p.text,
        "ARG V=1\nFROM debian\nARG V=2\nRUN apt-get update && apt-get install -y curl=$V && rm -rf /var/lib/apt/lists/*\n"
    );
    let p = plan(
        &r,
        df,
        &Options {
            aggressive: true,
            key_dir: ".cache-keys".into(),
        },
    );
    assert_eq!(
        p.text,
        "ARG V=1\nFROM debian\nARG V=2\nRUN apt-get update && apt-get install --no-install-recommends -y curl=$V && rm -rf /var/lib/apt/lists/*\n"
    );
    let c = p
        .changes
        .iter()
        .find(|c| c.code == AdviceCode::NoInstallRecommends)
        .unwrap();
    assert_eq!(c.bytes, None);
}

#[test]
fn a_copy_from_another_stage_is_refused_with_the_stage() {
    let mut r = report(&[
        "rootfs",
        "COPY --from=build /out /app # buildkit",
        "RUN /bin/sh -c rm -rf /app/tests # buildkit",
    ]);
    r.duplicates = vec![dup(
        "/app/tests/t",
        DuplicateKind::Deleted,
        &[1],
        &[2],
        2 * MIB,
    )];
    r.merge_savings = vec![saving(1, 2, &[("/app/tests/t", 2 * MIB)], 1, 2 * MIB)];
    let r = with_advice(r);
    let df = "FROM golang AS build\nRUN make\nFROM debian\nCOPY --from=build /out /app\nRUN rm -rf /app/tests\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert_eq!(p.refused.len(), 1);
    assert!(
        p.refused[0].reason.contains("stage `build`"),
        "{}",
        p.refused[0].reason
    );
}

#[test]
fn a_line_that_made_several_layers_and_an_unmapped_layer_are_refused() {
    let mut r = report(&[
        "rootfs",
        "/bin/sh -c make",
        "/bin/sh -c make",
        "/bin/sh -c rm -rf /obj",
    ]);
    r.duplicates = vec![dup("/obj/a", DuplicateKind::Deleted, &[2], &[3], 2 * MIB)];
    r.merge_savings = vec![saving(2, 3, &[("/obj/a", 2 * MIB)], 1, 2 * MIB)];
    let r = with_advice(r);
    let df = "FROM base\nRUN make\nRUN rm -rf /obj\nONBUILD RUN make\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(
        p.refused
            .iter()
            .any(|x| x.reason.contains("several layers")),
        "{:#?}",
        p.refused
    );
    // A layer of the base image (or an ONBUILD trigger) has no line to edit.
    let df = "FROM base\nRUN rm -rf /obj\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(
        p.refused[0].reason.contains("not made by a line"),
        "{:#?}",
        p.refused
    );
}

#[test]
fn a_stage_that_another_stage_builds_on_is_refused() {
    let mut r = report(&["rootfs", "/bin/sh -c fetch", "/bin/sh -c rm -rf /src/cache"]);
    r.duplicates = vec![dup(
        "/src/cache/x",
        DuplicateKind::Deleted,
        &[1],
        &[2],
        2 * MIB,
    )];
    r.merge_savings = vec![saving(1, 2, &[("/src/cache/x", 2 * MIB)], 1, 2 * MIB)];
    let r = with_advice(r);
    let df = "FROM base AS deps\nRUN fetch\nFROM deps AS test\nRUN check /src/cache\nFROM deps\nRUN rm -rf /src/cache\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(
        p.refused[0].reason.contains("another stage uses"),
        "{:#?}",
        p.refused
    );
}

#[test]
fn a_shell_comment_or_exec_form_is_never_appended_to() {
    let r = cache_report("/bin/sh -c pip install flask # deps");
    let df = "FROM python\nRUN pip install flask # deps\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(p.refused[0].reason.contains("comment"), "{:#?}", p.refused);
}

#[test]
fn the_control_with_nothing_to_fix_comes_back_unchanged() {
    let mut r = report(&["rootfs", "/bin/sh -c make"]);
    r.files = vec![file("/usr/bin/app", 5 * MIB, 1)].into();
    let r = with_advice(r);
    let df = "FROM base\r\n# build\r\nRUN make\r\n";
    let p = run(&r, df);
    assert_eq!(p.text, df);
    assert!(p.changes.is_empty() && p.refused.is_empty());
}

/// The verdict comment's "Fix it" section: whole when it fits, the diff cut at a line
/// with a note when it does not, one line when even the table does not, and never over
/// the limit.
#[test]
fn the_fix_section_keeps_the_comment_limit() {
    use crate::render::{with_fix_section, FixInput};
    let r = cleanup_report();
    let input = FixInput {
        name: "Dockerfile".into(),
        text: CLEANUP.into(),
    };
    let base = "## Verdict\n\nok\n";
    let whole = with_fix_section(base, &r, &input, 65_000);
    assert!(
        whole.starts_with("## Verdict\n\nok\n\n### Fix it\n"),
        "{whole}"
    );
    assert!(
        whole.contains("+ && rm -rf /var/lib/pkg/lists\n"),
        "{whole}"
    );
    let size = whole.chars().count();
    for limit in [size - 1, size - 40, size - 200, 200, 40, 10] {
        let cut = with_fix_section(base, &r, &input, limit);
        assert!(
            cut.chars().count() <= limit.max(base.len()),
            "{limit}: {cut}"
        );
        assert!(cut.starts_with("## Verdict\n\nok"), "{cut}");
    }
    assert!(with_fix_section(base, &r, &input, size - 1).contains("cut to fit the comment"));
    assert_eq!(with_fix_section(base, &r, &input, 10), base);
    // Nothing to fix: nothing added.
    let plain = FixInput {
        name: "Dockerfile".into(),
        text: "FROM base\n".into(),
    };
    assert_eq!(
        with_fix_section(base, &report(&["rootfs"]), &plain, 65_000),
        base
    );
}
