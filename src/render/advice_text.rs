//! The "Advice" section of the terminal report: each item with its severity, code,
//! layers, saving, the figure behind it and the change to make. Returns a string;
//! the Markdown form belongs to the templates.

use crate::advice::{Advice, AdviceLayer};
use crate::human::human_bytes;

/// Paths listed per item before "+N more".
const PATHS_SHOWN: usize = 3;

/// Text width the title and the fix are wrapped to.
const WIDTH: usize = 100;

/// The "Advice" section, or an empty string when there is none.
pub(super) fn advice_text(items: &[Advice]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nAdvice (largest saving first)\n");
    for (n, a) in items.iter().enumerate() {
        let names: Vec<String> = a.layers.iter().map(layer_name).collect();
        let layers = if a.code.is_pair() && names.len() == 2 {
            names.join(" → ")
        } else {
            names.join(", ")
        };
        let rule = a
            .hadolint
            .as_deref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        let saves = if a.bytes > 0 {
            format!(
                "saves {} ({} file{})",
                human_bytes(a.bytes),
                a.files,
                if a.files == 1 { "" } else { "s" }
            )
        } else {
            "saves nothing (cache)".to_string()
        };
        out += &format!(
            "{:>3}. {:<6}  {}{rule}  {layers}  {saves}\n",
            n + 1,
            a.severity.as_str(),
            a.code
        );
        out += &wrap(&a.title, "     ", "     ");
        if !a.paths.is_empty() {
            let mut shown = a
                .paths
                .iter()
                .take(PATHS_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if a.paths.len() > PATHS_SHOWN {
                shown += &format!(" (+{} more)", a.paths.len() - PATHS_SHOWN);
            }
            out += &format!("     paths: {shown}\n");
        }
        out += &wrap(&a.suggestion, "     fix: ", "          ");
    }
    out
}

/// `L3`, or `L3 (Dockerfile:12)` when `--dockerfile` located it.
fn layer_name(l: &AdviceLayer) -> String {
    match l.line {
        Some(line) => format!("L{} (Dockerfile:{line})", l.index),
        None => format!("L{}", l.index),
    }
}

/// Greedy word wrap: `first` before the first line, `rest` before the others.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out += line.trim_end();
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line += word;
        empty = false;
    }
    out += line.trim_end();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::Severity;

    fn layer(index: usize, cmd: &str) -> AdviceLayer {
        AdviceLayer {
            index,
            created_by: Some(cmd.to_string()),
            line: None,
        }
    }

    #[test]
    fn no_advice_no_section() {
        assert_eq!(advice_text(&[]), "");
    }

    /// The section a terminal user reads: rank, severity, code, layers, saving, fix.
    #[test]
    fn advice_section_renders_pairs_caches_and_rules() {
        let items = vec![
            Advice {
                code: crate::report::AdviceCode::CleanupInLaterLayer,
                severity: Severity::Medium,
                title:
                    "4 files (1.5 MiB) written by L1 are deleted by L3: the deletion frees nothing"
                        .into(),
                layers: vec![
                    layer(1, "/bin/sh -c make"),
                    layer(3, "/bin/sh -c rm -rf /b"),
                ],
                paths: vec!["/b/1".into(), "/b/2".into(), "/b/3".into(), "/b/4".into()],
                bytes: 1_572_864,
                files: 4,
                suggestion:
                    "Move the cleanup of L3 (RUN rm -rf /b) into the RUN of L1 (RUN make), \
                             at the end of the same command (`RUN … && rm -rf …`), so the files \
                             never reach a layer."
                        .into(),
                hadolint: None,
            },
            Advice {
                code: crate::report::AdviceCode::CacheLeftBehind,
                severity: Severity::Low,
                title: "/var/lib/apt/lists holds 300.0 KiB in 2 files left by L2".into(),
                layers: vec![layer(2, "/bin/sh -c apt-get update")],
                paths: vec!["/var/lib/apt/lists".into()],
                bytes: 307_200,
                files: 2,
                suggestion: "hadolint DL3009: end the RUN with `rm -rf /var/lib/apt/lists/*`."
                    .into(),
                hadolint: Some("DL3009".into()),
            },
            Advice {
                code: crate::report::AdviceCode::KeepSeparate,
                severity: Severity::Info,
                title: "L4 and L5 do not touch each other's files: merging them saves nothing"
                    .into(),
                layers: vec![layer(4, "/bin/sh -c a"), layer(5, "/bin/sh -c b")],
                paths: vec![],
                bytes: 0,
                files: 0,
                suggestion: "Keep them apart.".into(),
                hadolint: None,
            },
        ];
        insta::assert_snapshot!(advice_text(&items));
    }
}
