//! `analyze --format markdown`: one report as Markdown, through the embedded
//! `templates/analyze.md.j2`.

use serde::Serialize;

use crate::report::Report;

use super::view::{advice_rows, merge_rows, AdviceRowView, MergeRowView};
use crate::human::{ellipsize, human_bytes, layer_list, maybe_bytes, maybe_count, maybe_percent};

#[derive(Serialize)]
struct TotalRow {
    label: &'static str,
    /// Empty when not measured.
    bytes: String,
    size: String,
}

#[derive(Serialize)]
struct LayerRow {
    index: usize,
    compressed: String,
    uncompressed: String,
    files: String,
    changes: String,
    wasted: String,
    created_by: String,
}

#[derive(Serialize)]
struct DupRow {
    kind: &'static str,
    path: String,
    layers: String,
    bytes: String,
}

#[derive(Serialize)]
struct AnalyzeView {
    name: String,
    os: String,
    arch: String,
    config: String,
    layers_count: u64,
    totals: Vec<TotalRow>,
    efficiency: String,
    files: String,
    layers: Vec<LayerRow>,
    duplicates: Vec<DupRow>,
    merge: Vec<MergeRowView>,
    advice: Vec<AdviceRowView>,
    chart: String,
}

pub fn analyze_markdown(r: &Report) -> String {
    let t = &r.totals;
    let row = |label, bytes: Option<u64>| TotalRow {
        label,
        bytes: bytes.map(|b| b.to_string()).unwrap_or_default(),
        size: maybe_bytes(bytes),
    };
    let list = |v: &[usize]| layer_list(v);
    let view = AnalyzeView {
        name: r
            .image
            .name
            .clone()
            .unwrap_or_else(|| r.image.reference.clone()),
        os: r.image.os.clone(),
        arch: r.image.architecture.clone(),
        config: r.image.config_digest.short().to_string(),
        layers_count: t.layers,
        totals: vec![
            row("compressed", Some(t.compressed_bytes)),
            row("stored (uncompressed)", t.uncompressed_bytes),
            row("live", t.live_bytes),
            row("wasted", t.wasted_bytes),
            row("same content, extra copies", t.same_content_bytes),
        ],
        efficiency: maybe_percent(t.efficiency),
        files: maybe_count(t.files),
        layers: r
            .layers
            .iter()
            .map(|l| LayerRow {
                index: l.index,
                compressed: human_bytes(l.compressed_bytes),
                uncompressed: maybe_bytes(l.uncompressed_bytes),
                files: maybe_count(l.files),
                changes: super::analyze::changes(l),
                wasted: maybe_bytes(l.wasted_bytes),
                created_by: ellipsize(l.created_by.as_deref().unwrap_or("?"), 120),
            })
            .collect(),
        duplicates: r
            .duplicates
            .iter()
            .map(|d| DupRow {
                kind: d.kind.as_str(),
                path: if d.paths.is_empty() {
                    d.path.clone()
                } else {
                    d.paths.join(", ")
                },
                layers: list(&d.layers),
                bytes: human_bytes(d.wasted_bytes),
            })
            .collect(),
        merge: merge_rows(&r.merge_savings),
        advice: advice_rows(&r.advice),
        chart: super::chart::layers_chart(&r.layers),
    };
    super::markdown::render_template("analyze.md.j2", super::markdown::ANALYZE_TEMPLATE, &view)
        // The embedded template is tested; should it ever fail, the text report still says it all.
        .unwrap_or_else(|_| format!("```\n{}```\n", super::analyze_text(r).replace("```", "'''")))
}
