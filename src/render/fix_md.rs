//! The "Fix it" section: the changes `layergate fix` would make, their predicted
//! saving, what they need, and the Dockerfile diff collapsed under a `<details>`.
//! Everything from the image or the Dockerfile is escaped; the diff sits in a fence
//! longer than any backtick run inside it.

use crate::fix::Plan;
use crate::human::{human_bytes, layer_list};

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
            let layers = layer_list(&r.layers);
            out.push_str(&format!("- `{}` ({layers}): {}\n", r.code, md(&r.reason)));
        }
    }
    out
}

/// The Dockerfile a verdict comment proposes a fix for (`diff`/`check --dockerfile`).
#[derive(Debug, Clone)]
pub struct FixInput {
    /// The file's name as the diff labels it (`Dockerfile`).
    pub name: String,
    pub text: String,
}

/// The verdict comment with the "Fix it" section for `head` and `input` at its end,
/// within `limit` characters: the diff is cut at a line when the whole does not fit,
/// and the section left out (one line says so) when even that does not. Nothing is
/// added when there is nothing to fix and nothing was refused.
pub(crate) fn with_fix_section(
    markdown: &str,
    head: &crate::report::Report,
    input: &FixInput,
    limit: usize,
) -> String {
    let plan = crate::fix::plan(
        head,
        &input.text,
        &crate::fix::Options {
            aggressive: false,
            key_dir: ".cache-keys".to_string(),
        },
    );
    if plan.changes.is_empty() && plan.refused.is_empty() {
        return markdown.to_string();
    }
    let diff = crate::fix::unified_diff(&input.name, &input.text, &plan.text);
    let base = markdown.trim_end();
    let room = limit.saturating_sub(base.chars().count() + 2);
    let fits = |s: &str| s.chars().count() <= room;
    let full = fix_markdown(&plan, &input.name, &diff);
    if fits(&full) {
        return format!("{base}\n\n{full}");
    }
    let note = "… (cut to fit the comment: `layergate fix IMAGE --dockerfile FILE` prints the whole diff)\n";
    let without = fix_markdown(&plan, &input.name, note).chars().count();
    if without + 16 <= room {
        // A margin: the cut diff may need a longer fence than the note alone.
        let spare = room - without;
        let spare = spare.saturating_sub(16);
        let mut kept = String::new();
        let mut used = 0;
        for line in diff.split_inclusive('\n') {
            used += line.chars().count();
            if used > spare {
                break;
            }
            kept.push_str(line);
        }
        return format!(
            "{base}\n\n{}",
            fix_markdown(&plan, &input.name, &(kept + note))
        );
    }
    let line = "### Fix it\n\n`layergate fix IMAGE --dockerfile FILE` has changes to suggest; they do not fit in this comment.\n";
    if line.chars().count() <= room {
        format!("{base}\n\n{line}")
    } else {
        markdown.to_string()
    }
}
