//! A Mermaid bar chart of layer sizes for the Markdown comments (GitHub and GitLab
//! draw ```` ```mermaid ```` blocks natively). Labels are made here (`L3`, `base`),
//! never taken from the image, so nothing in the chart needs escaping.

use crate::compare::{Comparison, LayerStatus};
use crate::report::LayerReport;

/// Charts with more bars than this are left out: unreadable in a comment.
const MAX_BARS: usize = 40;

/// One bar: its label, its bytes, and whether it is drawn in the highlight series.
struct Bar {
    label: String,
    bytes: u64,
    new: bool,
}

/// Compressed size per layer of one image.
pub(super) fn layers_chart(layers: &[LayerReport]) -> String {
    let bars: Vec<Bar> = layers
        .iter()
        .map(|l| Bar {
            label: format!("L{}", l.index),
            bytes: l.compressed_bytes,
            new: false,
        })
        .collect();
    chart("Compressed size per layer", "", &bars)
}

/// HEAD's layers: the shared base as one bar, then each layer BASE does not have
/// at that depth, in a second colour.
pub(super) fn diff_chart(c: &Comparison) -> String {
    let mut bars = Vec::new();
    if c.layers.shared_prefix > 0 {
        bars.push(Bar {
            label: format!("L0-L{} shared", c.layers.shared_prefix - 1),
            bytes: c.layers.shared_compressed_bytes,
            new: false,
        });
    }
    for row in &c.layers.tail {
        if let Some(i) = row.head_index {
            bars.push(Bar {
                label: match row.status {
                    LayerStatus::Added => format!("L{i} new"),
                    _ => format!("L{i} moved"),
                },
                bytes: row.compressed_bytes,
                new: row.status == LayerStatus::Added,
            });
        }
    }
    chart(
        "HEAD, compressed size per layer",
        " (new layers highlighted)",
        &bars,
    )
}

fn chart(title: &str, note: &str, bars: &[Bar]) -> String {
    if bars.is_empty() || bars.len() > MAX_BARS {
        return String::new();
    }
    let max = bars.iter().map(|b| b.bytes).max().unwrap_or(0);
    let (unit, div) = if max >= 10 << 20 {
        ("MiB", (1u64 << 20) as f64)
    } else {
        ("KiB", 1024.0)
    };
    let value = |b: u64| format!("{:.1}", b as f64 / div);
    let labels: Vec<String> = bars.iter().map(|b| format!("\"{}\"", b.label)).collect();
    let all: Vec<String> = bars.iter().map(|b| value(b.bytes)).collect();
    let mut out = format!(
        "```mermaid\nxychart-beta\n    title \"{title}, {unit}{note}\"\n    x-axis [{}]\n    y-axis \"{unit}\"\n    bar [{}]\n",
        labels.join(", "),
        all.join(", ")
    );
    if bars.iter().any(|b| b.new) {
        let new: Vec<String> = bars
            .iter()
            .map(|b| if b.new { value(b.bytes) } else { "0".into() })
            .collect();
        out.push_str(&format!("    bar [{}]\n", new.join(", ")));
    }
    out.push_str("```\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The highlight series repeats only the new layers; sizes pick a readable unit.
    #[test]
    fn chart_highlights_new_bars() {
        let bars = [
            Bar {
                label: "L0".into(),
                bytes: 2048,
                new: false,
            },
            Bar {
                label: "L1 new".into(),
                bytes: 1024,
                new: true,
            },
        ];
        let c = chart("t", "", &bars);
        assert!(c.contains("x-axis [\"L0\", \"L1 new\"]"), "{c}");
        assert!(c.contains("bar [2.0, 1.0]\n    bar [0, 1.0]\n"), "{c}");
        assert!(c.contains("title \"t, KiB\""));
    }
}
