//! Which package owns each live file: what the HTML report's "by package" view
//! draws (a package and its files). Attribution knows it for every file; the
//! JSON report keeps only the per-package sums (its schema stays as it is, and a
//! per-file owner would grow every saved report by a field per file), so this
//! travels beside the report, in memory, from `report::build` to the renderers.

/// The owner of each entry of `Report::files`, in the same order: an index into
/// `Report::packages`, or `None` for an unowned file.
///
/// Empty when not known: a report read back from JSON, a manifest-only report.
/// Two values always compare equal: a report is what its JSON says, and this
/// is derived from the same databases (a saved report read back equals the
/// report that was written).
#[derive(Debug, Clone, Default)]
pub(crate) struct FileOwners(Vec<Option<u32>>);

impl PartialEq for FileOwners {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl FileOwners {
    pub(crate) fn new(owners: Vec<Option<u32>>) -> FileOwners {
        FileOwners(owners)
    }

    /// Owners for `files` entries, when known for exactly that many.
    pub(crate) fn for_files(&self, files: usize) -> Option<&[Option<u32>]> {
        (!self.0.is_empty() && self.0.len() == files).then_some(&self.0[..])
    }
}
