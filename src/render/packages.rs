//! Package figures for people: the package-changes rows of a `diff` (Markdown
//! view and terminal) and the "Packages" section of `analyze`'s terminal report.

use serde::Serialize;

use crate::compare::{PackageChange, PackageChangeKind, PackagesDiff};
use crate::human::{human_bytes, human_delta, table};
use crate::report::Report;

/// Rows the `diff` comment shows; the JSON comparison holds every change.
pub(crate) const TOP_CHANGES: usize = 15;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PackageRowView {
    pub change: String,
    pub icon: String,
    pub ecosystem: String,
    pub name: String,
    pub version: String,
    pub before: String,
    pub after: String,
    pub delta: String,
    pub layer: String,
}

/// One row per change, largest |delta| first (the comparison's order).
pub(crate) fn change_rows(diff: &PackagesDiff, top: usize) -> Vec<PackageRowView> {
    diff.changes.iter().take(top).map(row).collect()
}

fn row(c: &PackageChange) -> PackageRowView {
    let v = |v: &Option<String>| v.clone().unwrap_or_default();
    let version = match c.kind {
        PackageChangeKind::Added => format!("{} (new)", v(&c.after_version)),
        PackageChangeKind::Removed => format!("{} (removed)", v(&c.before_version)),
        PackageChangeKind::Upgraded | PackageChangeKind::Downgraded => {
            format!("{} → {}", v(&c.before_version), v(&c.after_version))
        }
        _ => v(&c.after_version),
    };
    let name = match &c.location {
        Some(l) => format!("{} ({l})", c.name),
        None => c.name.clone(),
    };
    PackageRowView {
        change: c.kind.as_str().into(),
        icon: match c.kind {
            PackageChangeKind::Added => "➕",
            PackageChangeKind::Removed => "➖",
            PackageChangeKind::Upgraded => "⬆️",
            PackageChangeKind::Downgraded => "⬇️",
            PackageChangeKind::Grown => "📈",
            PackageChangeKind::Shrunk => "📉",
        }
        .into(),
        ecosystem: c.ecosystem.as_str().into(),
        name,
        version,
        before: if c.kind == PackageChangeKind::Added {
            "—".into()
        } else {
            human_bytes(c.before_bytes)
        },
        after: if c.kind == PackageChangeKind::Removed {
            "—".into()
        } else {
            human_bytes(c.after_bytes)
        },
        delta: human_delta(i128::from(c.delta)),
        layer: format!("L{}", c.layer),
    }
}

/// `+2 added, -1 removed, 1 upgraded`: the summary line of the section.
pub(crate) fn summary(diff: &PackagesDiff) -> String {
    let n = |k: PackageChangeKind| diff.changes.iter().filter(|c| c.kind == k).count();
    let parts: Vec<String> = [
        (PackageChangeKind::Added, "added"),
        (PackageChangeKind::Removed, "removed"),
        (PackageChangeKind::Upgraded, "upgraded"),
        (PackageChangeKind::Downgraded, "downgraded"),
        (PackageChangeKind::Grown, "grown"),
        (PackageChangeKind::Shrunk, "shrunk"),
    ]
    .into_iter()
    .filter(|(k, _)| n(*k) > 0)
    .map(|(k, label)| format!("{} {label}", n(k)))
    .collect();
    if parts.is_empty() {
        "no change".into()
    } else {
        parts.join(", ")
    }
}

/// The terminal table of package changes.
pub(crate) fn changes_text(rows: &[PackageRowView]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.change.clone(),
                r.ecosystem.clone(),
                r.name.clone(),
                r.version.clone(),
                r.before.clone(),
                r.after.clone(),
                r.delta.clone(),
                r.layer.clone(),
            ]
        })
        .collect();
    table(
        &[
            "change", "eco", "package", "version", "before", "after", "delta", "layer",
        ],
        &rows,
        &[4, 5, 6],
    )
}

/// The "Packages" section of `analyze`'s terminal report: totals per ecosystem,
/// unowned bytes and the largest packages.
pub(crate) fn analyze_packages_text(r: &Report, top: usize) -> String {
    let Some(t) = &r.package_totals else {
        return String::new();
    };
    if r.packages.is_empty() && t.databases.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nPackages (what the live bytes are)\n");
    let mut rows: Vec<Vec<String>> = t
        .ecosystems
        .iter()
        .map(|e| {
            vec![
                e.ecosystem.as_str().to_string(),
                e.packages.to_string(),
                e.files.to_string(),
                human_bytes(e.live_bytes),
            ]
        })
        .collect();
    rows.push(vec![
        "unowned".into(),
        "—".into(),
        t.unowned_files.to_string(),
        human_bytes(t.unowned_bytes),
    ]);
    out += &table(
        &["ecosystem", "packages", "files", "live"],
        &rows,
        &[1, 2, 3],
    );
    if !r.packages.is_empty() {
        let rows: Vec<Vec<String>> = r
            .packages
            .iter()
            .take(top)
            .map(|p| {
                // A package whose files the database does not name was not measured.
                let (live, files) = if p.files_known {
                    (human_bytes(p.live_bytes), p.files.to_string())
                } else {
                    ("files not known".into(), "—".into())
                };
                vec![
                    live,
                    p.declared_bytes.map_or("—".into(), human_bytes),
                    files,
                    p.ecosystem.as_str().to_string(),
                    p.name.clone(),
                    p.version.clone(),
                    format!("L{}", p.layer),
                ]
            })
            .collect();
        out += &table(
            &[
                "live", "declared", "files", "eco", "package", "version", "layer",
            ],
            &rows,
            &[0, 1, 2],
        );
        if r.packages.len() > top {
            out += &format!("… and {} more packages\n", r.packages.len() - top);
        }
    }
    out
}
