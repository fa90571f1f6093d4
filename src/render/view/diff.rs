//! The view of `diff`: base against head, every table cut to the comment's size.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DiffView {
    /// `<!-- layergate:KEY -->`, so a later run finds and updates the comment.
    pub marker: String,
    pub icon: Status,
    pub headline: String,
    pub verdict: Verdict,
    pub base: String,
    pub head: String,
    pub totals: Vec<TotalRow>,
    pub failed: Vec<FindingRow>,
    pub warned: Vec<FindingRow>,
    pub(crate) layers_summary: String,
    pub layers: Table<LayerRowView>,
    pub files: Table<FileRowView>,
    pub dirs: Table<DirRowView>,
    pub waste: Table<WasteRowView>,
    pub advice: Table<AdviceRowView>,
    pub merge: Table<MergeRowView>,
    /// Package changes; `None` when either side was not attributed.
    pub packages: Option<Table<crate::render::packages::PackageRowView>>,
    pub(crate) packages_summary: String,
    pub history_diff: String,
    pub(crate) history_fence: String,
    /// Set when tables were cut to fit the comment size limit.
    pub truncated: bool,
    pub policy: String,
    /// Said above the figures when a side was read from manifests only.
    pub note: String,
    /// A Mermaid chart of HEAD's layers, new ones highlighted (empty: none).
    pub chart: String,
    /// Where the CI run put the HTML report (`--html-url`), linked from the comment.
    pub html_url: String,
}

fn partial_note(c: &crate::compare::Comparison) -> String {
    let mut notes = Vec::new();
    if c.base.partial || c.head.partial {
        notes.push(
            "Read from manifests only (the policy needs nothing more, or `--manifest-only`): \
             compressed sizes and layers; no layer was pulled or scanned; other figures are not measured."
                .to_string(),
        );
    }
    let forms = format!("BASE stores {}, HEAD {}", c.base.storage, c.head.storage);
    match c.totals.compressed_basis {
        CompressedBasis::AsStored => {}
        CompressedBasis::Gzip => notes.push(format!(
            "Compressed sizes: {forms}; every layer is counted at its gzip size, a layer both hold at one size."
        )),
        CompressedBasis::GzipEstimated => notes.push(format!(
            "Compressed sizes: {forms}; layers not stored gzip are counted at an estimated gzip size \
             (compressed at the default level, as a registry push would store them), a layer both hold at one size."
        )),
        CompressedBasis::NotComparable => notes.push(format!(
            "Compressed sizes are not comparable: {forms}, and without reading the layers no gzip size \
             could be estimated; growth is judged on the uncompressed size where measured."
        )),
    }
    notes.join(" ")
}

fn name(side: &crate::compare::Side) -> String {
    side.name.clone().unwrap_or_else(|| side.reference.clone())
}

pub(crate) struct DiffInput<'a> {
    pub comparison: &'a Comparison,
    pub findings: &'a [Finding],
    pub verdict: &'a Verdict,
    pub key: &'a crate::marker::Marker,
    pub policy: &'a str,
}

pub(crate) fn diff_view(i: &DiffInput<'_>) -> DiffView {
    let c = i.comparison;
    let t = &c.totals;
    // Manifests know compressed sizes and layers; the rest says "not measured".
    let bytes = |label: &str, d: &Option<Delta>| match d {
        Some(d) => bytes_row(label, d),
        None => unmeasured_row(label),
    };
    let compressed = match &t.compressed {
        Some(d) if t.compressed_basis == CompressedBasis::AsStored => bytes_row("compressed", d),
        Some(d) => bytes_row(&format!("compressed ({})", t.compressed_basis.label()), d),
        None => TotalRow {
            label: "compressed (as stored)".into(),
            before: format!(
                "{} {}",
                human_bytes(t.stored_compressed.before),
                c.base.storage
            ),
            after: format!(
                "{} {}",
                human_bytes(t.stored_compressed.after),
                c.head.storage
            ),
            delta: "not comparable".into(),
            icon: "⚪".into(),
        },
    };
    let totals = vec![
        compressed,
        bytes("uncompressed", &t.uncompressed),
        bytes("live", &t.live),
        bytes("wasted", &t.wasted),
        match &t.efficiency {
            Some(e) => TotalRow {
                label: "efficiency".into(),
                before: format!("{:.2} %", e.before * 100.0),
                after: format!("{:.2} %", e.after * 100.0),
                delta: format!("{:+.2} pp", e.delta_points),
                icon: band(e.delta_points, Some(e.delta_points), false).into(),
            },
            None => unmeasured_row("efficiency"),
        },
        match &t.files {
            Some(d) => count_row("files", d),
            None => unmeasured_row("files"),
        },
        count_row("layers", &t.layers),
    ];
    // Images without any package database get no package rows at all.
    let package_diff = c
        .packages
        .as_ref()
        .filter(|p| p.count.before > 0 || p.count.after > 0);
    let mut totals = totals;
    if let Some(p) = package_diff {
        totals.push(count_row("packages", &p.count));
    }
    // Read from manifests: the rows nobody measured are left out of the table and
    // the note above it says so ("other figures are not measured").
    let totals: Vec<TotalRow> = totals
        .into_iter()
        .filter(|r| r.after != NOT_MEASURED && r.before != NOT_MEASURED)
        .collect();
    let layers: Vec<LayerRowView> = c
        .layers
        .tail
        .iter()
        .map(|l| LayerRowView {
            status: match l.status {
                LayerStatus::Shared => "shared",
                LayerStatus::Moved => "moved",
                LayerStatus::Added => "added",
                LayerStatus::Removed => "removed",
            }
            .into(),
            icon: match l.status {
                LayerStatus::Added => "➕",
                LayerStatus::Removed => "➖",
                _ => "↔️",
            }
            .into(),
            base: l.base_index.map_or("—".into(), |i| format!("L{i}")),
            head: l.head_index.map_or("—".into(), |i| format!("L{i}")),
            diff_id: l.diff_id.short().to_string(),
            compressed: human_bytes(l.compressed_bytes),
            uncompressed: maybe_bytes(l.uncompressed_bytes),
            wasted: match (l.wasted_before, l.wasted_after) {
                (Some(b), Some(a)) if a != b => format!("{} → {}", human_bytes(b), human_bytes(a)),
                (_, Some(a)) => human_bytes(a),
                (Some(b), None) => human_bytes(b),
                (None, None) if c.base.partial || c.head.partial => NOT_MEASURED.into(),
                (None, None) => "—".into(),
            },
            created_by: ellipsize(l.created_by.as_deref().unwrap_or("?"), 120),
        })
        .collect();
    let n_layers = layers.len();
    let f = &c.files;
    let mut files: Vec<(&str, &crate::compare::FileChange)> = Vec::new();
    files.extend(f.added.iter().map(|x| ("added", x)));
    files.extend(f.removed.iter().map(|x| ("removed", x)));
    files.extend(f.grown.iter().map(|x| ("grown", x)));
    files.extend(f.shrunk.iter().map(|x| ("shrunk", x)));
    files.sort_by(|a, b| {
        b.1.delta
            .unsigned_abs()
            .cmp(&a.1.delta.unsigned_abs())
            .then_with(|| a.1.path.cmp(&b.1.path))
    });
    let files_total = f.added_count + f.removed_count + f.grown_count + f.shrunk_count;
    let files: Vec<FileRowView> = files
        .into_iter()
        .map(|(change, x)| FileRowView {
            change: change.into(),
            path: x.path.clone(),
            before: if change == "added" {
                "—".into()
            } else {
                human_bytes(x.before)
            },
            after: if change == "removed" {
                "—".into()
            } else {
                human_bytes(x.after)
            },
            delta: human_delta(x.delta as i128),
        })
        .collect();
    let dirs: Vec<DirRowView> = f
        .dirs
        .iter()
        .map(|d| DirRowView {
            dir: d.dir.clone(),
            before: human_bytes(d.before),
            after: human_bytes(d.after),
            delta: human_delta(d.delta as i128),
            files: format!("+{} -{} ~{}", d.added, d.removed, d.changed),
        })
        .collect();
    let waste: Vec<WasteRowView> = c
        .new_waste
        .iter()
        .map(|d| WasteRowView {
            kind: d.kind.as_str().into(),
            path: d.path.clone(),
            layers: if d.by_layers.is_empty() {
                layer_list(&d.layers)
            } else {
                format!("{} by {}", layer_list(&d.layers), layer_list(&d.by_layers))
            },
            bytes: human_bytes(d.wasted_bytes),
        })
        .chain(c.new_duplicates.iter().map(|d| WasteRowView {
            kind: d.kind.as_str().into(),
            path: d.paths.join(", "),
            layers: layer_list(&d.layers),
            bytes: human_bytes(d.wasted_bytes),
        }))
        .collect();
    let advice = advice_rows(&c.new_advice);
    let merge = merge_rows(&c.merge_savings);
    let (nw, na, nm) = (waste.len(), advice.len(), merge.len());
    DiffView {
        marker: i.key.text(),
        icon: verdict_icon(i.verdict),
        headline: i.verdict.headline.clone(),
        verdict: i.verdict.clone(),
        base: name(&c.base),
        head: name(&c.head),
        totals,
        failed: finding_rows(i.findings, Severity::Fail),
        warned: finding_rows(i.findings, Severity::Warn),
        layers_summary: format!(
            "{} shared, {} added, {} removed; pull cost {} ({} {})",
            c.layers.shared_prefix,
            c.layers.added,
            c.layers.removed,
            human_bytes(c.layers.pull_bytes),
            c.layers.pull_layers,
            if c.layers.pull_layers == 1 {
                "layer"
            } else {
                "layers"
            }
        ),
        layers: Table::new(layers, n_layers),
        files: Table::new(files, files_total),
        dirs: Table::new(dirs, f.dirs_count),
        waste: Table::new(waste, nw),
        advice: Table::new(advice, na),
        merge: Table::new(merge, nm),
        packages: package_diff.map(|p| {
            Table::new(
                crate::render::packages::change_rows(p, crate::render::packages::TOP_CHANGES),
                p.changes.len(),
            )
        }),
        packages_summary: package_diff
            .map(crate::render::packages::summary)
            .unwrap_or_default(),
        history_fence: crate::render::escape::fence_for(&c.history_diff),
        history_diff: c.history_diff.clone(),
        truncated: false,
        policy: i.policy.to_string(),
        note: partial_note(c),
        chart: crate::render::chart::diff_chart(c),
        html_url: String::new(),
    }
}

impl DiffView {
    /// Cuts the longest table in half; false when nothing is left to cut.
    pub(crate) fn shrink(&mut self) -> bool {
        let lens = [
            self.files.rows.len(),
            self.dirs.rows.len(),
            self.waste.rows.len(),
            self.layers.rows.len(),
            self.advice.rows.len(),
            self.merge.rows.len(),
            self.packages.as_ref().map_or(0, |p| p.rows.len()),
        ];
        let Some((i, &n)) = lens.iter().enumerate().max_by_key(|(_, n)| **n) else {
            return false;
        };
        self.truncated = true;
        if n == 0 {
            if self.history_diff.is_empty() {
                return false;
            }
            self.history_diff = "(history diff left out: the comment would be too long)\n".into();
            return true;
        }
        match i {
            0 => self.files.halve(),
            1 => self.dirs.halve(),
            2 => self.waste.halve(),
            3 => self.layers.halve(),
            4 => self.advice.halve(),
            5 => self.merge.halve(),
            _ => self.packages.as_mut().is_some_and(Table::halve),
        }
    }
}
