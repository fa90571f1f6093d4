//! Splitting each merge saving (lower, upper) by what killed the copies: deleted or
//! hidden (a cleanup), rewritten with the same bytes (an attribute change), or
//! rewritten with new bytes (churn). Each part becomes exactly one advice item, so
//! no dead byte is counted by two codes.
//!
//! A saving lists its largest files (`report::merge::TOP_FILES`); those are
//! classified one by one through the duplicate rows. The files beyond that list are
//! counted with the part that holds most of the listed bytes: a layer that deletes
//! ten large files is a cleanup layer for its small ones too.

use std::collections::{BTreeMap, HashMap};

use crate::report::{Duplicate, DuplicateKind, PathBytes, Report};

/// The share of one merge saving that one cause accounts for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Part {
    pub lower: usize,
    pub upper: usize,
    /// `Deleted`, `UnchangedCopy` or `Overwritten`.
    pub kind: DuplicateKind,
    pub files: u64,
    pub bytes: u64,
    /// The classified files, largest first.
    pub paths: Vec<PathBytes>,
}

pub(super) fn split(report: &Report) -> Vec<Part> {
    let mut by_path: HashMap<&str, Vec<&Duplicate>> = HashMap::new();
    for d in report
        .duplicates
        .iter()
        .filter(|d| d.kind != DuplicateKind::SameContent)
    {
        by_path.entry(d.path.as_str()).or_default().push(d);
    }
    let mut out = Vec::new();
    for m in &report.merge_savings {
        let mut parts: BTreeMap<DuplicateKind, Part> = BTreeMap::new();
        for t in &m.top_files {
            let kind = kind_for(&by_path, &t.path, m.lower, m.upper);
            let part = parts.entry(kind).or_insert_with(|| Part {
                lower: m.lower,
                upper: m.upper,
                kind,
                files: 0,
                bytes: 0,
                paths: Vec::new(),
            });
            part.files += 1;
            part.bytes += t.bytes;
            part.paths.push(t.clone());
        }
        let listed_files = m.top_files.len() as u64;
        let listed_bytes: u64 = m.top_files.iter().map(|t| t.bytes).sum();
        let rest_files = m.files.saturating_sub(listed_files);
        let rest_bytes = m.bytes.saturating_sub(listed_bytes);
        if rest_files > 0 || rest_bytes > 0 {
            let dominant = parts
                .values()
                .max_by(|a, b| a.bytes.cmp(&b.bytes).then(b.kind.cmp(&a.kind)))
                .map(|p| p.kind)
                .unwrap_or(DuplicateKind::Overwritten);
            let part = parts.entry(dominant).or_insert_with(|| Part {
                lower: m.lower,
                upper: m.upper,
                kind: dominant,
                files: 0,
                bytes: 0,
                paths: Vec::new(),
            });
            part.files += rest_files;
            part.bytes += rest_bytes;
        }
        out.extend(parts.into_values());
    }
    out
}

/// Why the copy of `path` in `lower` died by `upper`: the duplicate row naming both
/// layers, else any row for the path, else a rewrite.
fn kind_for(
    by_path: &HashMap<&str, Vec<&Duplicate>>,
    path: &str,
    lower: usize,
    upper: usize,
) -> DuplicateKind {
    let rows = by_path.get(path).map(Vec::as_slice).unwrap_or(&[]);
    rows.iter()
        .find(|d| d.layers.contains(&lower) && d.by_layers.contains(&upper))
        .or(rows.first())
        .map(|d| d.kind)
        .unwrap_or(DuplicateKind::Overwritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::{dup, report, saving};

    #[test]
    fn a_saving_with_two_causes_becomes_two_parts() {
        let mut r = report(&["RUN a", "RUN b", "RUN c"]);
        r.duplicates = vec![
            dup("/x", DuplicateKind::Deleted, &[1], &[2], 100),
            dup("/y", DuplicateKind::UnchangedCopy, &[1, 2], &[2], 50),
        ];
        r.merge_savings = vec![saving(1, 2, &[("/x", 100), ("/y", 50)], 2, 150)];
        let parts = split(&r);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].kind, DuplicateKind::UnchangedCopy);
        assert_eq!(parts[0].bytes, 50);
        assert_eq!(parts[1].kind, DuplicateKind::Deleted);
        assert_eq!(parts[1].bytes, 100);
    }

    #[test]
    fn unlisted_files_join_the_largest_part() {
        let mut r = report(&["RUN a", "RUN b", "RUN c"]);
        r.duplicates = vec![
            dup("/x", DuplicateKind::Deleted, &[1], &[2], 100),
            dup("/y", DuplicateKind::Overwritten, &[1, 2], &[2], 10),
        ];
        r.merge_savings = vec![saving(1, 2, &[("/x", 100), ("/y", 10)], 7, 200)];
        let parts = split(&r);
        let deleted = parts
            .iter()
            .find(|p| p.kind == DuplicateKind::Deleted)
            .unwrap();
        assert_eq!((deleted.files, deleted.bytes), (6, 190));
        assert_eq!(parts.iter().map(|p| p.bytes).sum::<u64>(), 200);
    }
}
