//! The "Fix it" section: the changes `layergate fix` would make, their predicted
//! saving, what they need, and the Dockerfile diff collapsed under a `<details>`.
//! Everything from the image or the Dockerfile is escaped; the diff sits in a fence
//! longer than any backtick run inside it.

use crate::fix::Plan;
use crate::text::human_bytes;

use super::escape::{fence_for, md};

/// The Markdown section for `plan`, whose rewrite of `file` is `diff`.
pub fn fix_markdown(plan: &Plan, file: &str, diff: &str) -> String {
    let mut out = String::from("### Fix it\n\n");
    if plan.changes.is_empty() {
        out.push_str(&format!(
            "layergate has no change to make to `{}`.\n",
            md(file).replace('`', "'")
        ));
    } else {
        out.push_str(&format!(
            "`layergate fix --write` makes {} change{} to {}, predicted to save **{}** of stored layers:\n\n",
            plan.changes.len(),
            if plan.changes.len() == 1 { "" } else { "s" },
            md(file),
            human_bytes(plan.predicted_bytes)
        ));
        out.push_str("| advice | lines | change | predicted saving |\n|---|---|---|---:|\n");
        for c in &plan.changes {
            let lines = c
                .lines
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let saving = c
                .bytes
                .map_or_else(|| "not a size change".to_string(), human_bytes);
            out.push_str(&format!(
                "| `{}` | {lines} | {} | {saving} |\n",
                c.code,
                md(&c.summary)
            ));
        }
        let notes: Vec<&str> = plan
            .changes
            .iter()
            .filter_map(|c| c.note.as_deref())
            .collect();
        let mut seen = Vec::new();
        for n in notes {
            if !seen.contains(&n) {
                seen.push(n);
                out.push_str(&format!("\n> {}\n", md(n)));
            }
        }
        let fence = fence_for(diff);
        out.push_str(&format!(
            "\n<details><summary>Dockerfile diff</summary>\n\n{fence}diff\n{}{}{fence}\n\n</details>\n",
            diff,
            if diff.ends_with('\n') { "" } else { "\n" }
        ));
    }
    if !plan.refused.is_empty() {
        out.push_str("\nLeft as they are:\n\n");
        for r in &plan.refused {
            let layers = r
                .layers
                .iter()
                .map(|l| format!("L{l}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!("- `{}` ({layers}): {}\n", r.code, md(&r.reason)));
        }
    }
    out
}
