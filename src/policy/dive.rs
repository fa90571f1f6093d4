//! dive's `.dive-ci` file as a policy, recognised by its content (a top-level
//! `rules:` and no `version:`), so dive users switch with their file unchanged.
//!
//! dive's rules and value syntax: `lowestEfficiency` and `highestUserWastedPercent`
//! are ratios in 0..=1, `highestWastedBytes` a go-humanize size (`20MB`, `20M`,
//! `20MiB`); any of them may be `disabled`. A missing rule takes dive's default
//! (0.9, disabled, 0.1). All rules apply to HEAD with severity `fail`.
//!
//! The figures are ours, not dive's: dive counts both copies of an overwritten file
//! as waste and misses what directory whiteouts hide; layergate counts the dead
//! copies only. userWastedPercent keeps dive's denominator (the bytes of every layer
//! except L0) over our wasted bytes.

use super::context::{describe, Ctx};
use super::units::parse_dive_size;
use super::yaml::{Node, Value};
use super::{Limit, Metric, Policy, PolicyFormat, Severity, Threshold};

pub(super) fn looks_like_dive(root: &Node) -> bool {
    match &root.value {
        Value::Map(m) => {
            m.iter().any(|(k, _)| k.name == "rules") && !m.iter().any(|(k, _)| k.name == "version")
        }
        _ => false,
    }
}

enum Setting<T> {
    Disabled,
    Value(T),
}

pub(super) fn load(ctx: &mut Ctx, root: &Node) -> Policy {
    let mut p = Policy::empty();
    p.source = ctx.source().to_string();
    p.format = PolicyFormat::DiveCi;
    let mut efficiency = Some(Setting::Value(0.9));
    let mut wasted_bytes: Option<Setting<u64>> = Some(Setting::Disabled);
    let mut user_wasted = Some(Setting::Value(0.1));
    for (_, rules) in ctx.map(root, "dive-ci file", &["rules"]) {
        for (k, v) in ctx.map(
            rules,
            "rules",
            &[
                "lowestEfficiency",
                "highestWastedBytes",
                "highestUserWastedPercent",
            ],
        ) {
            let what = format!("rules.{}", k.name);
            match k.name.as_str() {
                "lowestEfficiency" => efficiency = ratio(ctx, v, &what),
                "highestUserWastedPercent" => user_wasted = ratio(ctx, v, &what),
                _ => wasted_bytes = size(ctx, v, &what),
            }
        }
    }
    let push = |p: &mut Policy, metric, threshold| {
        p.limits.push(Limit {
            metric,
            threshold,
            severity: Severity::Fail,
        })
    };
    if let Some(Setting::Value(r)) = efficiency {
        push(&mut p, Metric::MinEfficiency, Threshold::Percent(r * 100.0));
    }
    if let Some(Setting::Value(b)) = wasted_bytes {
        push(&mut p, Metric::WastedBytes, Threshold::Bytes(b));
    }
    if let Some(Setting::Value(r)) = user_wasted {
        push(
            &mut p,
            Metric::UserWastedPercent,
            Threshold::Percent(r * 100.0),
        );
    }
    p
}

fn ratio(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Setting<f64>> {
    let v = match &node.value {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::Str(s) if s.trim() == "disabled" => return Some(Setting::Disabled),
        Value::Str(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match v {
        Some(r) if (0.0..=1.0).contains(&r) => Some(Setting::Value(r)),
        Some(_) => {
            ctx.err(
                node.pos,
                format!(
                    "{what}: {} is outside the allowed range 0-1 (dive ratios: 0.9 means 90 %)",
                    describe(&node.value)
                ),
            );
            None
        }
        None => {
            ctx.err(
                node.pos,
                format!(
                    "{what}: expected a ratio between 0 and 1 or `disabled`, found {}",
                    describe(&node.value)
                ),
            );
            None
        }
    }
}

fn size(ctx: &mut Ctx, node: &Node, what: &str) -> Option<Setting<u64>> {
    match &node.value {
        Value::Int(i) if *i >= 0 => Some(Setting::Value(*i as u64)),
        Value::Str(s) if s.trim() == "disabled" => Some(Setting::Disabled),
        Value::Str(s) => match parse_dive_size(s) {
            Ok(b) => Some(Setting::Value(b)),
            Err(e) => {
                ctx.err(node.pos, format!("{what}: {e}"));
                None
            }
        },
        other => {
            ctx.err(
                node.pos,
                format!(
                    "{what}: expected a size like `20MB` or `disabled`, found {}",
                    describe(other)
                ),
            );
            None
        }
    }
}
