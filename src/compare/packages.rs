//! Package changes between base and head: added, removed, upgraded, downgraded,
//! grown and shrunk, with byte deltas ranked by their size. Packages are the
//! same when ecosystem, name, architecture and location agree.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::packages::{Ecosystem, Package};
use crate::report::Report;

use super::{signed_delta, Delta};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PackageChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    /// Same version, more live bytes (files added by a later step, `.pyc` compiled).
    Grown,
    /// Same version, fewer live bytes (files deleted after installing).
    Shrunk,
}

impl PackageChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PackageChangeKind::Added => "added",
            PackageChangeKind::Removed => "removed",
            PackageChangeKind::Upgraded => "upgraded",
            PackageChangeKind::Downgraded => "downgraded",
            PackageChangeKind::Grown => "grown",
            PackageChangeKind::Shrunk => "shrunk",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct PackageChange {
    pub kind: PackageChangeKind,
    pub ecosystem: Ecosystem,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_version: Option<String>,
    pub(crate) before_bytes: u64,
    pub(crate) after_bytes: u64,
    pub delta: i64,
    /// The head layer that brought it (for a removed package, the base's).
    pub layer: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct PackagesDiff {
    /// Number of packages before and after.
    pub count: Delta,
    pub unowned: Delta,
    /// Every change, largest |delta| first.
    pub changes: Vec<PackageChange>,
}

/// `None` when either side was not attributed (a manifest-only or older report):
/// an unmeasured comparison is never shown as "no change".
pub(super) fn diff(base: &Report, head: &Report) -> Option<PackagesDiff> {
    let (bt, ht) = (base.package_totals.as_ref()?, head.package_totals.as_ref()?);
    let (b, h) = (index(base), index(head));
    let mut changes = Vec::new();
    for (key, hp) in &h {
        let Some(bp) = b.get(key) else {
            changes.push(change(PackageChangeKind::Added, None, Some(hp)));
            continue;
        };
        let order = if hp.ecosystem == Ecosystem::Rpm {
            crate::packages::rpm::compare_evr(&bp.version, &hp.version)
        } else {
            compare_versions(&bp.version, &hp.version)
        };
        let kind = match order {
            Ordering::Less => PackageChangeKind::Upgraded,
            Ordering::Greater => PackageChangeKind::Downgraded,
            Ordering::Equal if bp.version != hp.version => PackageChangeKind::Upgraded,
            Ordering::Equal => match hp.live_bytes.cmp(&bp.live_bytes) {
                Ordering::Greater => PackageChangeKind::Grown,
                Ordering::Less => PackageChangeKind::Shrunk,
                Ordering::Equal => continue,
            },
        };
        changes.push(change(kind, Some(bp), Some(hp)));
    }
    for (key, bp) in &b {
        if !h.contains_key(key) {
            changes.push(change(PackageChangeKind::Removed, Some(bp), None));
        }
    }
    changes.sort_by(|x, y| {
        y.delta
            .unsigned_abs()
            .cmp(&x.delta.unsigned_abs())
            .then_with(|| (x.ecosystem, &x.name).cmp(&(y.ecosystem, &y.name)))
    });
    Some(PackagesDiff {
        count: Delta::new(b.len() as u64, h.len() as u64),
        unowned: Delta::new(bt.unowned_bytes, ht.unowned_bytes),
        changes,
    })
}

type Key<'a> = (Ecosystem, &'a str, Option<&'a str>, Option<&'a str>);

/// Packages by identity; a report listing one twice keeps the first.
fn index(r: &Report) -> BTreeMap<Key<'_>, &Package> {
    let mut m = BTreeMap::new();
    for p in &r.packages {
        m.entry(p.key()).or_insert(p);
    }
    m
}

fn change(
    kind: PackageChangeKind,
    before: Option<&Package>,
    after: Option<&Package>,
) -> PackageChange {
    // One of the two is always there.
    let any = after.or(before);
    let before_bytes = before.map_or(0, |p| p.live_bytes);
    let after_bytes = after.map_or(0, |p| p.live_bytes);
    PackageChange {
        kind,
        ecosystem: any.map_or(Ecosystem::Deb, |p| p.ecosystem),
        name: any.map(|p| p.name.clone()).unwrap_or_default(),
        architecture: any.and_then(|p| p.architecture.clone()),
        location: any.and_then(|p| p.location.clone()),
        before_version: before.map(|p| p.version.clone()),
        after_version: after.map(|p| p.version.clone()),
        before_bytes,
        after_bytes,
        delta: signed_delta(before_bytes, after_bytes),
        layer: any.map_or(0, |p| p.layer),
    }
}

/// Orders versions the way dpkg does (deb-version(7)): `epoch:upstream-revision`,
/// digits compared as numbers, `~` before anything (even the end). It orders
/// PEP 440 and semver versions sensibly too for the usual `1.2.3` shapes.
pub(super) fn compare_versions(a: &str, b: &str) -> Ordering {
    let split = |v: &str| -> (u64, String, String) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) if e.bytes().all(|c| c.is_ascii_digit()) && !e.is_empty() => {
                (e.parse().unwrap_or(0), r)
            }
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((u, r)) => (epoch, u.to_string(), r.to_string()),
            None => (epoch, rest.to_string(), String::new()),
        }
    };
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(ua.as_bytes(), ub.as_bytes()))
        .then_with(|| verrevcmp(ra.as_bytes(), rb.as_bytes()))
}

fn order(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
        Some(c) => i32::from(*c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating non-digit and digit runs.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (order(a.get(i)), order(b.get(j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first == Ordering::Equal {
                first = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first != Ordering::Equal {
            return first;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_like_dpkg() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.1", Less),
            ("1.10", "1.9", Greater),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.24.2-1", "1.24.2-2", Less),
            ("2.5.1", "2.6.0", Less),
            ("1.0a", "1.0", Greater),
            ("1.16.0-4", "1.16.0-4+deb12u1", Less),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
        }
    }
}
