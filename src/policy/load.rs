//! Phase two of loading a layergate policy: the spanned YAML tree into typed rules.
//! Every problem is collected with its position, so one run shows them all.

use globset::{GlobBuilder, GlobSetBuilder};

use crate::report::AdviceCode;

use super::yaml::{Node, Value};
use super::{
    AdviceRule, Budget, Combine, Drift, Forbid, Growth, Limit, Metric, ParityRule, Policy,
    PolicyFormat, Severity, SizeKind, Threshold,
};

use super::context::{describe, Ctx};

const TOP: &[&str] = &[
    "version",
    "limits",
    "growth",
    "paths",
    "advice",
    "packages",
    "platforms",
];
const LIMITS: &[&str] = &[
    "compressed_size",
    "uncompressed_size",
    "layers",
    "largest_layer",
    "min_efficiency",
    "wasted_bytes",
    "wasted_percent",
];

pub(super) fn load(ctx: &mut Ctx, root: &Node) -> Policy {
    let mut p = Policy::empty();
    p.source = ctx.source.clone();
    p.format = PolicyFormat::Layergate;
    if matches!(root.value, Value::Null) {
        return p;
    }
    for (k, v) in ctx.map(root, "policy", TOP) {
        match k.name.as_str() {
            "version" => match v.value {
                Value::Int(1) => {}
                _ => ctx.err(
                    v.pos,
                    format!(
                        "version: unsupported policy version {} (this layergate reads version 1)",
                        describe(&v.value)
                    ),
                ),
            },
            "limits" => load_limits(ctx, v, &mut p),
            "growth" => load_growth(ctx, v, &mut p),
            "paths" => load_paths(ctx, v, &mut p),
            "advice" => load_advice(ctx, v, &mut p),
            "packages" => p.packages = super::packages::load(ctx, v),
            "platforms" => load_parity(ctx, v, &mut p),
            _ => {}
        }
    }
    p
}

/// `KEY: VALUE` or `KEY: {max|min: VALUE, severity: S}`: the value node and severity.
fn rule<'a>(
    ctx: &mut Ctx,
    node: &'a Node,
    what: &str,
    bound: &str,
) -> Option<(&'a Node, Severity)> {
    if !matches!(node.value, Value::Map(_)) {
        return Some((node, Severity::Fail));
    }
    let mut value = None;
    let mut severity = Some(Severity::Fail);
    for (k, v) in ctx.map(node, what, &[bound, "severity"]) {
        if k.name == "severity" {
            severity = ctx.severity(v, &format!("{what}.severity"));
        } else {
            value = Some(v);
        }
    }
    if value.is_none() {
        ctx.err(node.pos, format!("{what}: missing `{bound}`"));
    }
    Some((value?, severity?))
}

fn load_limits(ctx: &mut Ctx, node: &Node, p: &mut Policy) {
    for (k, v) in ctx.map(node, "limits", LIMITS) {
        let what = format!("limits.{}", k.name);
        let (metric, bound) = match k.name.as_str() {
            "compressed_size" => (Metric::CompressedSize, "max"),
            "uncompressed_size" => (Metric::UncompressedSize, "max"),
            "layers" => (Metric::Layers, "max"),
            "largest_layer" => (Metric::LargestLayer, "max"),
            "min_efficiency" => (Metric::MinEfficiency, "min"),
            "wasted_bytes" => (Metric::WastedBytes, "max"),
            _ => (Metric::WastedPercent, "max"),
        };
        let Some((value, severity)) = rule(ctx, v, &what, bound) else {
            continue;
        };
        let threshold = match metric {
            Metric::Layers => ctx.count(value, &what).map(Threshold::Count),
            Metric::MinEfficiency | Metric::WastedPercent | Metric::UserWastedPercent => {
                let pct = ctx.percent(value, &what);
                if let Some(x) = pct.filter(|x| *x > 100.0) {
                    ctx.err(
                        value.pos,
                        format!("{what}: bad percent `{x}%`: at most 100%"),
                    );
                    continue;
                }
                pct.map(Threshold::Percent)
            }
            _ => ctx.size(value, &what).map(Threshold::Bytes),
        };
        if let Some(threshold) = threshold {
            p.limits.push(Limit {
                metric,
                threshold,
                severity,
            });
        }
    }
}

fn load_growth(ctx: &mut Ctx, node: &Node, p: &mut Policy) {
    for (k, v) in ctx.map(
        node,
        "growth",
        &["compressed", "uncompressed", "pull", "wasted", "since"],
    ) {
        let what = format!("growth.{}", k.name);
        if k.name == "since" {
            load_drift(ctx, v, &what, p);
            continue;
        }
        let kind = match k.name.as_str() {
            "compressed" => SizeKind::Compressed,
            "pull" => SizeKind::Pull,
            "wasted" => SizeKind::Wasted,
            _ => SizeKind::Uncompressed,
        };
        // `pull: 20MB` is short for `pull: {max: 20MB}`.
        if kind == SizeKind::Pull && !matches!(v.value, Value::Map(_)) {
            if let Some(max) = ctx.size(v, &what) {
                p.growth.push(Growth {
                    kind,
                    max_bytes: Some(max),
                    max_percent: None,
                    combine: Combine::All,
                    severity: Severity::Fail,
                });
            }
            continue;
        }
        let mut g = Growth {
            kind,
            max_bytes: None,
            max_percent: None,
            combine: Combine::All,
            severity: Severity::Fail,
        };
        if !matches!(v.value, Value::Map(_)) {
            ctx.err(
                v.pos,
                format!(
                    "{what}: expected a mapping like `{{max: 20MB, max_percent: 5%}}`, found {}",
                    describe(&v.value)
                ),
            );
            continue;
        }
        let mut ok = true;
        for (rk, rv) in ctx.map(v, &what, &["max", "max_percent", "combine", "severity"]) {
            let w = format!("{what}.{}", rk.name);
            match rk.name.as_str() {
                "max" => {
                    g.max_bytes = ctx.size(rv, &w);
                    ok &= g.max_bytes.is_some();
                }
                "max_percent" => {
                    g.max_percent = ctx.percent(rv, &w);
                    ok &= g.max_percent.is_some();
                }
                "combine" => match &rv.value {
                    Value::Str(s) if s == "all" => g.combine = Combine::All,
                    Value::Str(s) if s == "any" => g.combine = Combine::Any,
                    other => {
                        ctx.err(
                            rv.pos,
                            format!("{w}: expected `all` or `any`, found {}", describe(other)),
                        );
                        ok = false;
                    }
                },
                _ => match ctx.severity(rv, &w) {
                    Some(s) => g.severity = s,
                    None => ok = false,
                },
            }
        }
        if ok && g.max_bytes.is_none() && g.max_percent.is_none() {
            ctx.err(v.pos, format!("{what}: give `max`, `max_percent` or both"));
            ok = false;
        }
        if ok {
            p.growth.push(g);
        }
    }
}

/// `platforms: {max_ratio: 1.5, severity: warn}`.
fn load_parity(ctx: &mut Ctx, v: &Node, p: &mut Policy) {
    let mut ratio = None;
    let mut severity = Some(Severity::Fail);
    for (k, rv) in ctx.map(v, "platforms", &["max_ratio", "severity"]) {
        let w = format!("platforms.{}", k.name);
        if k.name == "severity" {
            severity = ctx.severity(rv, &w);
            continue;
        }
        ratio = match &rv.value {
            Value::Int(i) if *i >= 1 => Some(*i as f64),
            Value::Float(f) if *f >= 1.0 && f.is_finite() => Some(*f),
            other => {
                ctx.err(
                    rv.pos,
                    format!(
                        "{w}: expected a ratio of at least 1 like `1.5`, found {}",
                        describe(other)
                    ),
                );
                return;
            }
        };
    }
    match (ratio, severity) {
        (Some(max_ratio), Some(severity)) => {
            p.parity = Some(ParityRule {
                max_ratio,
                severity,
            })
        }
        (None, _) => ctx.err(v.pos, "platforms: missing `max_ratio`"),
        _ => {}
    }
}

/// `growth.since: {records: 30, max_percent: 15%, max: 50MB, severity: warn}`.
fn load_drift(ctx: &mut Ctx, v: &Node, what: &str, p: &mut Policy) {
    if !matches!(v.value, Value::Map(_)) {
        ctx.err(
            v.pos,
            format!(
                "{what}: expected a mapping like `{{records: 30, max_percent: 15%}}`, found {}",
                describe(&v.value)
            ),
        );
        return;
    }
    let mut d = Drift {
        records: 0,
        max_bytes: None,
        max_percent: None,
        severity: Severity::Fail,
    };
    let mut ok = true;
    for (rk, rv) in ctx.map(v, what, &["records", "max", "max_percent", "severity"]) {
        let w = format!("{what}.{}", rk.name);
        match rk.name.as_str() {
            "records" => match ctx.count(rv, &w) {
                Some(n) if n >= 1 => d.records = n as usize,
                Some(_) => {
                    ctx.err(rv.pos, format!("{w}: at least 1 record"));
                    ok = false;
                }
                None => ok = false,
            },
            "max" => {
                d.max_bytes = ctx.size(rv, &w);
                ok &= d.max_bytes.is_some();
            }
            "max_percent" => {
                d.max_percent = ctx.percent(rv, &w);
                ok &= d.max_percent.is_some();
            }
            _ => match ctx.severity(rv, &w) {
                Some(s) => d.severity = s,
                None => ok = false,
            },
        }
    }
    if ok && d.records == 0 {
        ctx.err(v.pos, format!("{what}: missing `records`"));
        ok = false;
    }
    if ok && d.max_bytes.is_none() && d.max_percent.is_none() {
        ctx.err(v.pos, format!("{what}: give `max`, `max_percent` or both"));
        ok = false;
    }
    if ok {
        p.drift.push(d);
    }
}

fn load_paths(ctx: &mut Ctx, node: &Node, p: &mut Policy) {
    for (k, v) in ctx.map(node, "paths", &["ignore", "forbid", "budgets"]) {
        match k.name.as_str() {
            "ignore" => {
                let mut set = GlobSetBuilder::new();
                for item in ctx.list(v, "paths.ignore") {
                    if let Some(g) = ctx.glob(item, "paths.ignore") {
                        if let Ok(glob) = GlobBuilder::new(&g.glob).literal_separator(true).build()
                        {
                            set.add(glob);
                        }
                        p.ignore.push(g.glob);
                    }
                }
                if let Ok(s) = set.build() {
                    p.ignore_set = s;
                }
            }
            "forbid" => {
                for item in ctx.list(v, "paths.forbid") {
                    let (glob_node, severity) = if matches!(item.value, Value::Map(_)) {
                        let mut glob = None;
                        let mut sev = Some(Severity::Fail);
                        for (fk, fv) in ctx.map(item, "paths.forbid", &["glob", "severity"]) {
                            if fk.name == "glob" {
                                glob = Some(fv);
                            } else {
                                sev = ctx.severity(fv, "paths.forbid.severity");
                            }
                        }
                        if glob.is_none() {
                            ctx.err(item.pos, "paths.forbid: missing `glob`");
                        }
                        (glob, sev)
                    } else {
                        (Some(item), Some(Severity::Fail))
                    };
                    let glob = glob_node.and_then(|n| ctx.glob(n, "paths.forbid"));
                    if let (Some(path), Some(severity)) = (glob, severity) {
                        p.forbid.push(Forbid { path, severity });
                    }
                }
            }
            _ => {
                for item in ctx.list(v, "paths.budgets") {
                    let (mut glob, mut max, mut sev) = (None, None, Some(Severity::Fail));
                    let mut seen = (false, false);
                    if !matches!(item.value, Value::Map(_)) {
                        ctx.err(
                            item.pos,
                            format!(
                                "paths.budgets: expected a mapping like `{{glob: /usr/**, max: 100MB}}`, found {}",
                                describe(&item.value)
                            ),
                        );
                        continue;
                    }
                    for (bk, bv) in ctx.map(item, "paths.budgets", &["glob", "max", "severity"]) {
                        match bk.name.as_str() {
                            "glob" => {
                                seen.0 = true;
                                glob = ctx.glob(bv, "paths.budgets.glob");
                            }
                            "max" => {
                                seen.1 = true;
                                max = ctx.size(bv, "paths.budgets.max");
                            }
                            _ => sev = ctx.severity(bv, "paths.budgets.severity"),
                        }
                    }
                    if !seen.0 {
                        ctx.err(item.pos, "paths.budgets: missing `glob`");
                    }
                    if !seen.1 {
                        ctx.err(item.pos, "paths.budgets: missing `max`");
                    }
                    if let (Some(path), Some(max), Some(severity)) = (glob, max, sev) {
                        p.budgets.push(Budget {
                            path,
                            max,
                            severity,
                        });
                    }
                }
            }
        }
    }
}

fn load_advice(ctx: &mut Ctx, node: &Node, p: &mut Policy) {
    for (k, v) in ctx.map(node, "advice", &[]) {
        let what = format!("advice.{}", k.name);
        let Some(code) = AdviceCode::parse(&k.name) else {
            // A typo would otherwise disable the rule without a word.
            let valid: Vec<&str> = AdviceCode::ALL.iter().map(|c| c.as_str()).collect();
            ctx.err(
                k.pos,
                format!(
                    "unknown advice code `{}` (expected one of: {})",
                    k.name,
                    valid.join(", ")
                ),
            );
            continue;
        };
        let Some((value, severity)) = rule(ctx, v, &what, "max") else {
            continue;
        };
        if let Some(max) = ctx.size(value, &what) {
            p.advice.push(AdviceRule {
                code,
                max,
                severity,
            });
        }
    }
}
