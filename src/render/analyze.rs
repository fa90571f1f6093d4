//! The `analyze` report for a terminal.

use crate::human::{ellipsize, human_bytes, maybe_bytes, maybe_count, maybe_percent, table};
use crate::report::Report;

pub fn analyze_text(r: &Report) -> String {
    let t = &r.totals;
    let mut out = String::new();
    let name = r.image.name.as_deref().unwrap_or(&r.image.reference);
    out += &format!(
        "Image {name} ({}/{}, {} layers, config {})\n\n",
        r.image.os,
        r.image.architecture,
        t.layers,
        r.image.config_digest.short()
    );
    if r.image.partial {
        out += "Partial report (--manifest-only): no layer was pulled; only compressed sizes and layer digests are known, other figures are not measured.\n\n";
    }
    out += &table(
        &["", "bytes", "size"],
        &[
            row("compressed", t.compressed_bytes),
            row("stored (uncompressed)", t.uncompressed_bytes),
            row("live", t.live_bytes),
            row("wasted", t.wasted_bytes),
            row("same content, extra copies", t.same_content_bytes),
        ],
        &[1, 2],
    );
    out += &format!(
        "efficiency {}   live files {}\n\n",
        maybe_percent(t.efficiency),
        maybe_count(t.files)
    );

    out += "Layers\n";
    let rows: Vec<Vec<String>> = r
        .layers
        .iter()
        .map(|l| {
            vec![
                format!("L{}", l.index),
                human_bytes(l.compressed_bytes),
                maybe_bytes(l.uncompressed_bytes),
                maybe_count(l.files),
                changes(l),
                maybe_bytes(l.wasted_bytes),
                ellipsize(l.created_by.as_deref().unwrap_or("?"), 70),
            ]
        })
        .collect();
    out += &table(
        &[
            "layer",
            "compressed",
            "files bytes",
            "files",
            "changes",
            "wasted",
            "created by",
        ],
        &rows,
        &[1, 2, 3, 5],
    );

    if !r.duplicates.is_empty() {
        out += "\nDuplicate files\n";
        let rows: Vec<Vec<String>> = r
            .duplicates
            .iter()
            .take(20)
            .map(|d| {
                let layers = d
                    .layers
                    .iter()
                    .map(|l| format!("L{l}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let path = if d.paths.len() > 1 {
                    d.paths.join(" = ")
                } else {
                    d.path.clone()
                };
                vec![
                    human_bytes(d.wasted_bytes),
                    d.kind.as_str().to_string(),
                    layers,
                    path,
                ]
            })
            .collect();
        out += &table(&["wasted", "kind", "layers", "path"], &rows, &[0]);
        if r.duplicates.len() > 20 {
            out += &format!("… and {} more\n", r.duplicates.len() - 20);
        }
    }
    if !r.merge_savings.is_empty() {
        out += "\nMerge savings (merging the two steps would save)\n";
        let rows: Vec<Vec<String>> = r
            .merge_savings
            .iter()
            .map(|m| {
                vec![
                    format!("L{} + L{}", m.lower, m.upper),
                    human_bytes(m.bytes),
                    m.files.to_string(),
                    m.top_files
                        .first()
                        .map(|f| f.path.clone())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        out += &table(
            &["layers", "saves", "files", "largest file"],
            &rows,
            &[1, 2],
        );
    }
    out += &super::packages::analyze_packages_text(r, 15);
    out += &super::advice_text::advice_text(&r.advice);
    for w in &r.warnings {
        out += &format!("warning: {w}\n");
    }
    out
}

fn row(label: &str, bytes: impl Into<Option<u64>>) -> Vec<String> {
    match bytes.into() {
        Some(b) => vec![label.to_string(), b.to_string(), human_bytes(b)],
        None => vec![label.to_string(), String::new(), maybe_bytes(None)],
    }
}

/// `+added ~modified -deleted`, or "not measured".
pub(super) fn changes(l: &crate::report::LayerReport) -> String {
    match (l.added, l.modified, l.deleted) {
        (Some(a), Some(m), Some(d)) => format!("+{a} ~{m} -{d}"),
        _ => crate::human::NOT_MEASURED.to_string(),
    }
}
