//! Package rules: `packages.forbid` (name globs a runtime image must not hold,
//! e.g. `build-essential`, `gcc-*`, `*-dev`), `packages.budgets` (live bytes per
//! name glob) and `packages.growth` (most bytes one package may grow by in a pull
//! request). Findings name the package and the layer that brought it in.
//!
//! ```yaml
//! packages:
//!   forbid: [build-essential, "gcc-*", {name: "*-dev", severity: warn}]
//!   budgets: [{name: "python3*", max: 100MB}]
//!   growth: 20MB            # or {max: 20MB, severity: warn}
//! ```

use globset::{Glob, GlobMatcher};

use super::context::{describe, Ctx};
use super::yaml::{Node, Value};
use super::{Finding, FindingCode, Severity, Unit};
use crate::compare::{Comparison, PackageChangeKind};
use crate::human::human_bytes;
use crate::packages::Package;
use crate::report::Report;

/// A package-name glob (`*` matches anything, names have no separators).
#[derive(Debug, Clone)]
pub(crate) struct NameGlob {
    pub glob: String,
    pub(crate) matcher: GlobMatcher,
}

#[derive(Debug, Clone)]
pub(crate) struct PackageForbid {
    pub name: NameGlob,
    pub severity: Severity,
}

#[derive(Debug, Clone)]
pub(crate) struct PackageBudget {
    pub name: NameGlob,
    pub max: u64,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PackageGrowth {
    pub max: u64,
    pub severity: Severity,
}

/// The `packages` section; empty when the policy has none.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackageRules {
    pub forbid: Vec<PackageForbid>,
    pub budgets: Vec<PackageBudget>,
    pub growth: Option<PackageGrowth>,
}

impl PackageRules {
    pub(crate) fn is_empty(&self) -> bool {
        self.forbid.is_empty() && self.budgets.is_empty() && self.growth.is_none()
    }

    /// Finding codes, in rule order.
    pub(crate) fn codes(&self) -> impl Iterator<Item = FindingCode> + '_ {
        self.forbid
            .iter()
            .map(|_| FindingCode::ForbiddenPackage)
            .chain(self.budgets.iter().map(|_| FindingCode::PackageBudget))
            .chain(self.growth.iter().map(|_| FindingCode::PackageGrowth))
    }
}

fn name_glob(ctx: &mut Ctx, node: &Node, what: &str) -> Option<NameGlob> {
    let s = ctx.string(node, what)?;
    if s.is_empty() {
        ctx.err(node.pos, format!("{what}: empty package name glob"));
        return None;
    }
    match Glob::new(s) {
        Ok(g) => Some(NameGlob {
            glob: s.to_string(),
            matcher: g.compile_matcher(),
        }),
        Err(e) => {
            ctx.err(node.pos, format!("{what}: bad glob `{s}`: {}", e.kind()));
            None
        }
    }
}

pub(super) fn load(ctx: &mut Ctx, node: &Node) -> PackageRules {
    let mut rules = PackageRules::default();
    for (k, v) in ctx.map(node, "packages", &["forbid", "budgets", "growth"]) {
        match k.name.as_str() {
            "forbid" => {
                for item in ctx.list(v, "packages.forbid") {
                    let (glob, mut severity) = (None, Some(Severity::Fail));
                    let glob = if matches!(item.value, Value::Map(_)) {
                        let mut glob = glob;
                        for (fk, fv) in ctx.map(item, "packages.forbid", &["name", "severity"]) {
                            if fk.name == "name" {
                                glob = name_glob(ctx, fv, "packages.forbid.name");
                            } else {
                                severity = ctx.severity(fv, "packages.forbid.severity");
                            }
                        }
                        if glob.is_none() && !has_key(item, "name") {
                            ctx.err(item.pos, "packages.forbid: missing `name`");
                        }
                        glob
                    } else {
                        name_glob(ctx, item, "packages.forbid")
                    };
                    if let (Some(name), Some(severity)) = (glob, severity) {
                        rules.forbid.push(PackageForbid { name, severity });
                    }
                }
            }
            "budgets" => {
                for item in ctx.list(v, "packages.budgets") {
                    if !matches!(item.value, Value::Map(_)) {
                        ctx.err(
                            item.pos,
                            format!(
                                "packages.budgets: expected a mapping like `{{name: \"python3*\", max: 100MB}}`, found {}",
                                describe(&item.value)
                            ),
                        );
                        continue;
                    }
                    let (mut name, mut max, mut sev) = (None, None, Some(Severity::Fail));
                    for (bk, bv) in ctx.map(item, "packages.budgets", &["name", "max", "severity"])
                    {
                        match bk.name.as_str() {
                            "name" => name = name_glob(ctx, bv, "packages.budgets.name"),
                            "max" => max = ctx.size(bv, "packages.budgets.max"),
                            _ => sev = ctx.severity(bv, "packages.budgets.severity"),
                        }
                    }
                    for key in ["name", "max"] {
                        if !has_key(item, key) {
                            ctx.err(item.pos, format!("packages.budgets: missing `{key}`"));
                        }
                    }
                    if let (Some(name), Some(max), Some(severity)) = (name, max, sev) {
                        rules.budgets.push(PackageBudget {
                            name,
                            max,
                            severity,
                        });
                    }
                }
            }
            _ => {
                let (max, severity) = if matches!(v.value, Value::Map(_)) {
                    let (mut max, mut sev) = (None, Some(Severity::Fail));
                    for (gk, gv) in ctx.map(v, "packages.growth", &["max", "severity"]) {
                        if gk.name == "max" {
                            max = ctx.size(gv, "packages.growth.max");
                        } else {
                            sev = ctx.severity(gv, "packages.growth.severity");
                        }
                    }
                    if !has_key(v, "max") {
                        ctx.err(v.pos, "packages.growth: missing `max`");
                    }
                    (max, sev)
                } else {
                    (ctx.size(v, "packages.growth"), Some(Severity::Fail))
                };
                if let (Some(max), Some(severity)) = (max, severity) {
                    rules.growth = Some(PackageGrowth { max, severity });
                }
            }
        }
    }
    rules
}

fn has_key(node: &Node, key: &str) -> bool {
    matches!(&node.value, Value::Map(m) if m.iter().any(|(k, _)| k.name == key))
}

fn label(p: &Package) -> String {
    format!("{} {} ({})", p.name, p.version, p.ecosystem.as_str())
}

pub(super) fn evaluate(
    rules: &PackageRules,
    head: &Report,
    cmp: Option<&Comparison>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in &rules.forbid {
        let hits: Vec<&Package> = head
            .packages
            .iter()
            .filter(|p| rule.name.matcher.is_match(&p.name))
            .collect();
        if hits.is_empty() {
            continue;
        }
        let bytes = hits
            .iter()
            .fold(0u64, |a, p| a.saturating_add(p.live_bytes));
        let shown: Vec<String> = hits
            .iter()
            .take(3)
            .map(|p| {
                format!(
                    "{}, {}, from L{}",
                    label(p),
                    human_bytes(p.live_bytes),
                    p.layer
                )
            })
            .collect();
        out.push(Finding::forbidden(
            FindingCode::ForbiddenPackage,
            rule.severity,
            "package",
            &rule.name.glob,
            hits.len(),
            bytes,
            &shown,
        ));
    }
    for rule in &rules.budgets {
        for p in head
            .packages
            .iter()
            .filter(|p| rule.name.matcher.is_match(&p.name))
        {
            if p.live_bytes > rule.max {
                out.push(Finding {
                    code: FindingCode::PackageBudget,
                    severity: rule.severity,
                    message: format!(
                        "package {} holds {}, over the budget of {} for `{}` (from L{})",
                        label(p),
                        human_bytes(p.live_bytes),
                        human_bytes(rule.max),
                        rule.name.glob,
                        p.layer
                    ),
                    value: p.live_bytes as f64,
                    limit: rule.max as f64,
                    unit: Unit::Bytes,
                    path: Some(p.name.clone()),
                });
            }
        }
    }
    if let (Some(rule), Some(diff)) = (&rules.growth, cmp.and_then(|c| c.packages.as_ref())) {
        for c in &diff.changes {
            if c.delta > 0 && c.delta as u64 > rule.max {
                let how = match c.kind {
                    PackageChangeKind::Added => {
                        format!("new at {}", c.after_version.as_deref().unwrap_or(""))
                    }
                    PackageChangeKind::Upgraded | PackageChangeKind::Downgraded => format!(
                        "{} {} → {}",
                        c.kind.as_str(),
                        c.before_version.as_deref().unwrap_or(""),
                        c.after_version.as_deref().unwrap_or("")
                    ),
                    k => k.as_str().to_string(),
                };
                out.push(Finding {
                    code: FindingCode::PackageGrowth,
                    severity: rule.severity,
                    message: format!(
                        "package {} ({}) grew by {} ({how}, from L{}), over the allowed {}",
                        c.name,
                        c.ecosystem.as_str(),
                        human_bytes(c.delta as u64),
                        c.layer,
                        human_bytes(rule.max)
                    ),
                    value: c.delta as f64,
                    limit: rule.max as f64,
                    unit: Unit::Bytes,
                    path: Some(c.name.clone()),
                });
            }
        }
    }
    out
}
