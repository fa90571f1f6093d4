//! `same-content`: one content stored at several live paths. No layer wastes it by
//! path, yet the image carries every copy.
//!
//! To stay readable on big images, only the `SAME_CONTENT_ITEMS` largest sets of at
//! least `SAME_CONTENT_MIN` extra bytes get an item of their own; the rest are
//! folded into one item, so the code's total bytes stay whole for the policy.

use crate::human::human_bytes;
use crate::report::{AdviceCode, DuplicateKind, Report};

use super::{severity_for, Advice, Commands};

/// Extra bytes below which a set of identical files is folded into the summary item.
pub(super) const SAME_CONTENT_MIN: u64 = 64 * 1024;

/// Sets of identical files that get an item of their own.
pub(super) const SAME_CONTENT_ITEMS: usize = 10;

pub(super) fn advise(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let mut rows: Vec<_> = report
        .duplicates
        .iter()
        .filter(|d| d.kind == DuplicateKind::SameContent && d.wasted_bytes > 0)
        .collect();
    rows.sort_by(|a, b| {
        b.wasted_bytes
            .cmp(&a.wasted_bytes)
            .then_with(|| a.path.cmp(&b.path))
    });
    let split = rows
        .iter()
        .take(SAME_CONTENT_ITEMS)
        .take_while(|d| d.wasted_bytes >= SAME_CONTENT_MIN)
        .count();
    let (own, folded) = rows.split_at(split);
    let mut out: Vec<Advice> = own
        .iter()
        .map(|d| {
            let layer_of = |p: &str| report.files.iter().find(|f| f.path == p).map(|f| f.layer);
            // Keep the copy the earliest layer stored: the later ones are the extra steps.
            let mut by_layer: Vec<(Option<usize>, &String)> =
                d.paths.iter().map(|p| (layer_of(p), p)).collect();
            by_layer.sort();
            let keep = by_layer.first().map(|(_, p)| p.as_str()).unwrap_or(&d.path);
            let extra: Vec<String> = by_layer
                .iter()
                .skip(1)
                .map(|(l, p)| match l {
                    Some(l) => format!("{p} from {}", cmds.label(*l)),
                    None => p.to_string(),
                })
                .collect();
            Advice {
                code: AdviceCode::SameContent,
                severity: severity_for(d.wasted_bytes),
                title: format!(
                    "The same {} is stored at {} live paths: {} of extra copies",
                    human_bytes(d.bytes),
                    d.paths.len(),
                    human_bytes(d.wasted_bytes)
                ),
                layers: d.layers.iter().map(|&l| cmds.layer(l)).collect(),
                paths: d.paths.clone(),
                bytes: d.wasted_bytes,
                files: d.paths.len() as u64 - 1,
                suggestion: format!(
                    "Keep one copy ({keep}) and replace {} with a symlink (`ln -s {keep} …`) or a \
                     hardlink made in the same step, or drop the step that stores the extra copy.",
                    extra.join(", ")
                ),
                hadolint: None,
            }
        })
        .collect();
    if !folded.is_empty() {
        let bytes: u64 = folded.iter().map(|d| d.wasted_bytes).sum();
        let files: u64 = folded.iter().map(|d| d.paths.len() as u64 - 1).sum();
        let mut layers: Vec<usize> = folded.iter().flat_map(|d| d.layers.clone()).collect();
        layers.sort_unstable();
        layers.dedup();
        out.push(Advice {
            code: AdviceCode::SameContent,
            severity: severity_for(bytes),
            title: format!(
                "{} more {} of identical files hold {} of extra copies",
                folded.len(),
                if folded.len() == 1 { "set" } else { "sets" },
                human_bytes(bytes)
            ),
            layers: layers.into_iter().map(|l| cmds.layer(l)).collect(),
            paths: vec![],
            bytes,
            files,
            suggestion: "See the duplicate-file rows of kind same-content; each is small, so \
                         fix them only where one step stores both copies."
                .to_string(),
            hadolint: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::report;
    use crate::report::Duplicate;

    fn same(paths: &[&str], layers: &[usize], bytes: u64) -> Duplicate {
        Duplicate {
            path: paths[0].to_string(),
            kind: DuplicateKind::SameContent,
            layers: layers.to_vec(),
            by_layers: vec![],
            wasted_bytes: bytes * (paths.len() as u64 - 1),
            paths: paths.iter().map(|p| p.to_string()).collect(),
            bytes,
        }
    }

    #[test]
    fn small_sets_are_folded_into_one_item_with_their_total() {
        let mut r = report(&["base", "/bin/sh -c x"]);
        r.duplicates = vec![
            same(&["/a", "/b"], &[1], 100_000),
            same(&["/c", "/d", "/e"], &[0, 1], 100),
            same(&["/f", "/g"], &[0], 50),
        ];
        let a = advise(&r, &Commands::of(&r));
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].bytes, a[0].files), (100_000, 1));
        assert_eq!((a[1].bytes, a[1].files), (250, 3));
        assert!(a[1].paths.is_empty());
    }
}
