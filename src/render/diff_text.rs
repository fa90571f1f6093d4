//! `diff` and `check` for a terminal: the same content as the Markdown comment, as
//! aligned plain-text tables. Nothing is cut to a size limit here.

use super::view::{CheckView, DiffView, FindingRow, TotalRow};
use crate::human::table;

fn findings(out: &mut String, title: &str, rows: &[FindingRow]) {
    if rows.is_empty() {
        return;
    }
    *out += &format!("\n{title}\n");
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|f| {
            vec![
                f.severity.clone(),
                f.code.to_string(),
                f.value.clone(),
                f.limit.clone(),
                f.message.clone(),
            ]
        })
        .collect();
    *out += &table(
        &["", "rule", "measured", "limit", "finding"],
        &rows,
        &[2, 3],
    );
}

fn totals(rows: &[TotalRow], with_delta: bool) -> String {
    if with_delta {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|t| {
                vec![
                    t.label.clone(),
                    t.before.clone(),
                    t.after.clone(),
                    t.delta.clone(),
                ]
            })
            .collect();
        table(&["", "before", "after", "delta"], &rows, &[1, 2, 3])
    } else {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|t| vec![t.label.clone(), t.after.clone()])
            .collect();
        table(&["", "value"], &rows, &[1])
    }
}

fn omitted(out: &mut String, n: usize, what: &str) {
    if n > 0 {
        *out += &format!("({n} more {what} left out)\n");
    }
}

pub(crate) fn diff_text(v: &DiffView) -> String {
    let mut out = format!("{}: {}\n", v.icon.word(), v.headline);
    out += &format!("base {}\nhead {}\n", v.base, v.head);
    if !v.policy.is_empty() {
        out += &format!("{}\n", v.policy);
    }
    if !v.note.is_empty() {
        out += &format!("note: {}\n", v.note);
    }
    out += "\n";
    out += &totals(&v.totals, true);
    findings(&mut out, "Failed rules", &v.failed);
    findings(&mut out, "Warnings", &v.warned);

    out += &format!("\nLayers: {}\n", v.layers_summary);
    if !v.layers.rows.is_empty() {
        let rows: Vec<Vec<String>> = v
            .layers
            .rows
            .iter()
            .map(|l| {
                vec![
                    l.status.clone(),
                    l.base.clone(),
                    l.head.clone(),
                    l.diff_id.clone(),
                    l.compressed.clone(),
                    l.uncompressed.clone(),
                    l.wasted.clone(),
                    crate::human::ellipsize(&l.created_by, 70),
                ]
            })
            .collect();
        out += &table(
            &[
                "status",
                "base",
                "head",
                "diffID",
                "compressed",
                "files bytes",
                "wasted",
                "created by",
            ],
            &rows,
            &[4, 5, 6],
        );
    }
    omitted(&mut out, v.layers.omitted, "layers");

    out += &format!("\nFiles: {} changed\n", v.files.total);
    if !v.files.rows.is_empty() {
        let rows: Vec<Vec<String>> = v
            .files
            .rows
            .iter()
            .map(|f| {
                vec![
                    f.change.clone(),
                    f.path.clone(),
                    f.before.clone(),
                    f.after.clone(),
                    f.delta.clone(),
                ]
            })
            .collect();
        out += &table(
            &["change", "path", "before", "after", "delta"],
            &rows,
            &[2, 3, 4],
        );
    }
    omitted(&mut out, v.files.omitted, "files");

    out += &format!("\nDirectories: {} changed\n", v.dirs.total);
    if !v.dirs.rows.is_empty() {
        let rows: Vec<Vec<String>> = v
            .dirs
            .rows
            .iter()
            .map(|d| {
                vec![
                    d.dir.clone(),
                    d.before.clone(),
                    d.after.clone(),
                    d.delta.clone(),
                    d.files.clone(),
                ]
            })
            .collect();
        out += &table(
            &["directory", "before", "after", "delta", "files"],
            &rows,
            &[1, 2, 3],
        );
    }
    omitted(&mut out, v.dirs.omitted, "directories");

    out += &format!("\nNew waste and duplicates: {}\n", v.waste.total);
    if !v.waste.rows.is_empty() {
        let rows: Vec<Vec<String>> = v
            .waste
            .rows
            .iter()
            .map(|w| {
                vec![
                    w.kind.clone(),
                    w.path.clone(),
                    w.layers.clone(),
                    w.bytes.clone(),
                ]
            })
            .collect();
        out += &table(&["kind", "path", "layers", "wasted"], &rows, &[3]);
    }
    omitted(&mut out, v.waste.omitted, "rows");

    if let Some(p) = &v.packages {
        out += &format!("\nPackage changes: {}\n", v.packages_summary);
        if !p.rows.is_empty() {
            out += &super::packages::changes_text(&p.rows);
        }
        omitted(&mut out, p.omitted, "package changes");
    }

    out += &format!("\nNew advice: {}\n", v.advice.total);
    for a in &v.advice.rows {
        out += &format!(
            "  [{}] {} ({}): {}\n    {}\n",
            a.severity, a.code, a.bytes, a.title, a.suggestion
        );
    }
    omitted(&mut out, v.advice.omitted, "items");

    out += &format!("\nMerge savings: {}\n", v.merge.total);
    if !v.merge.rows.is_empty() {
        let rows: Vec<Vec<String>> = v
            .merge
            .rows
            .iter()
            .map(|m| {
                vec![
                    m.layers.clone(),
                    m.files.clone(),
                    m.bytes.clone(),
                    m.top.clone(),
                ]
            })
            .collect();
        out += &table(
            &["merge", "files", "saves", "largest files"],
            &rows,
            &[1, 2],
        );
    }

    out += "\nHistory diff\n";
    if v.history_diff.is_empty() {
        out += "The history did not change.\n";
    } else {
        out += &v.history_diff;
    }
    out
}

pub(crate) fn check_text(v: &CheckView) -> String {
    let mut out = format!("{}: {}\n", v.icon.word(), v.headline);
    out += &format!("image {}\n", v.image);
    if !v.policy.is_empty() {
        out += &format!("{}\n", v.policy);
    }
    out += "\n";
    out += &totals(&v.totals, false);
    findings(&mut out, "Failed rules", &v.failed);
    findings(&mut out, "Warnings", &v.warned);
    out
}
