//! What the bytes are: every live byte of the final filesystem attributed to the
//! package that owns it, from the package databases the scan captured (dpkg,
//! apk, Python dist-info/egg-info, npm `node_modules`). Pure: values in, values
//! out; the scan captured the database contents in its single pass.
//!
//! Decisions (also in docs/packages.md):
//! - Paths are resolved through the image's own symlinks (bookworm's merged
//!   `/usr`: dpkg lists `/lib/…`, the layer holds `/usr/lib/…`) and through dpkg
//!   diversions (a diverted path of another package lives at the diversion's target).
//! - Byte-compiled `.pyc` files that no database lists go to the package that owns
//!   the `.py` they were compiled from (`__pycache__/m.cpython-311.pyc` → `m.py`),
//!   counted in its `compiled_bytes`: they exist because the package is installed.
//! - A path claimed by several packages counts once, to the most specific owner:
//!   a file listed by a language package (pip) over one listed by a system package
//!   (dpkg, apk); an explicit listing over an npm directory; the deepest
//!   `node_modules` package over its parents. A language database that a system
//!   package itself installed (Debian's `python3-pip` ships a `RECORD`) is that
//!   system package, not a second copy.
//! - Whatever no package owns is `unowned`, so package bytes + unowned bytes ==
//!   live bytes, always.
//! - RPM headers are read from all three rpmdb backends (see `rpm`); a file
//!   rpm did not install (FILESTATES: `--excludedocs`, replaced, wrong colour)
//!   is not the package's; a `%ghost` file present on disk is (rpm -qf says so).
//!   Mariner's distroless manifest lists packages whose files are not known.

mod apk;
mod attribute;
mod dpkg;
mod live;
mod node;
mod owners;
mod python;
pub mod rpm;

pub(crate) use attribute::attribute;
pub(crate) use live::LiveDatabases;
pub(crate) use owners::FileOwners;

use serde::{Deserialize, Serialize};

/// Which package manager a package belongs to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Ecosystem {
    /// Debian and Ubuntu (`/var/lib/dpkg`).
    Deb,
    /// Alpine (`/lib/apk/db/installed`).
    Apk,
    /// Red Hat family (`/var/lib/rpm`).
    Rpm,
    /// Python distributions (`*.dist-info`, `*.egg-info`).
    Pypi,
    /// Node packages (`node_modules/NAME/package.json`).
    Npm,
}

impl Ecosystem {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
        }
    }

    /// System package managers own the filesystem; language ones live inside it.
    pub(crate) fn is_system(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }
}

/// One installed package and the live bytes it owns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Where a language package is installed (its `site-packages` or
    /// `node_modules` directory): one name may be installed in several places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Bytes of the live regular files it owns.
    pub live_bytes: u64,
    /// What the database declares (dpkg `Installed-Size`, apk `I:`), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_bytes: Option<u64>,
    /// Live non-directory entries it owns.
    pub files: u64,
    /// Of `live_bytes`: unlisted `.pyc` files compiled from its `.py` files.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub compiled_bytes: u64,
    /// The lowest layer that wrote most of its bytes (for a package with no
    /// bytes, the layer that wrote its database entry).
    pub layer: usize,
    /// False when the database names the package but not its files (Mariner's
    /// distroless manifest): its bytes are then not measured, not zero.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub files_known: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Package {
    /// What identifies "the same package" in two images.
    pub(crate) fn key(&self) -> (Ecosystem, &str, Option<&str>, Option<&str>) {
        (
            self.ecosystem,
            self.name.as_str(),
            self.architecture.as_deref(),
            self.location.as_deref(),
        )
    }
}

/// Totals of one ecosystem.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct EcosystemTotal {
    pub ecosystem: Ecosystem,
    pub packages: u64,
    pub live_bytes: u64,
    pub files: u64,
}

/// A package database found in the final filesystem.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Database {
    pub ecosystem: Ecosystem,
    pub path: String,
    /// False when it was found but not read (too large, an RPM database).
    pub read: bool,
}

/// The attribution's figures beside `packages[]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub(crate) struct PackageTotals {
    pub ecosystems: Vec<EcosystemTotal>,
    /// Live bytes no package owns: packages + unowned == live bytes.
    pub unowned_bytes: u64,
    pub unowned_files: u64,
    /// The system package databases read or found (language databases are many:
    /// they are counted in `ecosystems`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<Database>,
}

/// What `attribute` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Attribution {
    /// Ranked by live bytes, largest first.
    pub packages: Vec<Package>,
    pub totals: PackageTotals,
    /// Databases that could not be (fully) read; the figures hold without them.
    pub warnings: Vec<String>,
    /// The owner of every live non-directory entry, in path order.
    pub owners: FileOwners,
}

/// Most warnings one image's attribution keeps; the rest are counted.
const MAX_WARNINGS: usize = 20;

/// Warnings, bounded: a hostile image with a million bad entries gets one line each
/// for the first few and a count for the rest.
#[derive(Debug, Default)]
struct Warnings {
    lines: Vec<String>,
    dropped: usize,
}

impl Warnings {
    fn push(&mut self, line: String) {
        if self.lines.len() < MAX_WARNINGS {
            self.lines.push(line);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.lines
                .push(format!("{} more package database warnings", self.dropped));
        }
        self.lines
    }
}

/// A package as a database declares it, before its files are looked up.
#[derive(Debug)]
struct Declared<'c> {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    architecture: Option<String>,
    location: Option<String>,
    declared_bytes: Option<u64>,
    /// The layer of the database entry, for packages that own no bytes.
    db_layer: usize,
    /// Paths it lists, relative to the root (before symlink resolution).
    paths: Listed<'c>,
    /// For npm: the package directory whose whole subtree it owns.
    dir: Option<Box<[u8]>>,
    /// The database file that described it (a system-owned one demotes a
    /// language package: see the module header).
    db_path: Box<[u8]>,
    /// False when the database does not list files (see `Package::files_known`).
    files_known: bool,
}

/// The paths a package lists.
#[derive(Debug)]
enum Listed<'c> {
    /// Read out of its database already (apk, rpm, Python, npm).
    Owned(Vec<Box<[u8]>>),
    /// A dpkg file list, read where the scan captured it only when the claims
    /// are made: a Debian image lists tens of thousands of paths, and a copy of
    /// each was the largest thing the attribution held.
    Dpkg(dpkg::FileList<'c>),
}

impl Default for Listed<'_> {
    fn default() -> Self {
        Listed::Owned(Vec::new())
    }
}

impl Listed<'_> {
    /// Calls `f` with every listed path, normalised, in the database's order.
    fn each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Listed::Owned(paths) => paths.iter().for_each(|p| f(p)),
            Listed::Dpkg(list) => list.each(f),
        }
    }
}

/// Most characters kept of a name, version or architecture from a database.
const MAX_TEXT: usize = 200;

/// A database field as text: invalid UTF-8 replaced, control characters (which
/// could move a terminal's cursor or break a table) replaced, length bounded.
fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}
