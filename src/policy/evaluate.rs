//! Judging HEAD (and, for growth rules, the comparison with BASE) against a policy.
//! Pure: figures in, findings out, `fail` findings first. A rule whose figure was
//! not measured (a report from manifests only) is never passed: evaluation stops
//! with [`NotMeasured`], naming every such rule.

use super::{
    Combine, Finding, FindingCode, Growth, Limit, Metric, Missing, NotMeasured, Origin, Policy,
    Severity, SizeKind, Threshold, Unit, Verdict,
};
use crate::compare::{effective_totals, saturating_sum, Comparison, CompressedBasis};
use crate::human::{human_bytes, layer_list};
use crate::report::{DuplicateKind, Report};

pub(super) fn evaluate(
    p: &Policy,
    head: &Report,
    cmp: Option<&Comparison>,
) -> Result<Vec<Finding>, NotMeasured> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let ignore = p.ignore_globs();
    let t = effective_totals(head, ignore.as_ref());
    for l in &p.limits {
        match limit(l, head, &t) {
            Ok(Some(f)) => out.push(f),
            Ok(None) => {}
            Err(figure) => missing.push(Missing {
                rule: l.metric.code().to_string(),
                figure,
                base: false,
            }),
        }
    }
    if let Some(cmp) = cmp {
        for g in &p.growth {
            match growth(g, cmp) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => {}
                Err(figure) => missing.push(Missing {
                    rule: g.kind.code().to_string(),
                    figure,
                    // Blame the side that lacks it; HEAD when both do.
                    base: cmp.base.partial && !cmp.head.partial,
                }),
            }
        }
    }
    // Path and advice rules read the file lists, which manifests cannot give.
    if !head.measured() {
        let rules = p
            .forbid
            .iter()
            .map(|r| format!("forbidden-path {}", r.path.glob))
            .chain(
                p.budgets
                    .iter()
                    .map(|b| format!("path-budget {}", b.path.glob)),
            )
            .chain(p.advice.iter().map(|a| format!("advice-budget {}", a.code)));
        for rule in rules {
            missing.push(Missing {
                rule,
                figure: "file list",
                base: false,
            });
        }
    }
    // The default policy was not asked for: a default rule whose figure is missing
    // (a partial saved report) is left out rather than failing the run.
    if !missing.is_empty() && p.origin != Origin::Default {
        return Err(NotMeasured(missing));
    }
    let ignored = |path: &str| ignore.as_ref().is_some_and(|g| g.is_match(path));
    for rule in &p.forbid {
        let m = &rule.path.matcher;
        let mut hits: Vec<(String, u64, String)> = head
            .files
            .iter()
            .filter(|f| m.is_match(&f.path) && !ignored(&f.path))
            .map(|f| (f.path.clone(), f.bytes, format!("live, from L{}", f.layer)))
            .collect();
        hits.extend(
            head.duplicates
                .iter()
                .filter(|d| d.kind != DuplicateKind::SameContent)
                .filter(|d| m.is_match(&d.path) && !ignored(&d.path))
                .map(|d| {
                    let by = layer_list(&d.by_layers);
                    (
                        d.path.clone(),
                        d.wasted_bytes,
                        format!("stored, {} by {by}", d.kind.as_str()),
                    )
                }),
        );
        if hits.is_empty() {
            continue;
        }
        hits.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let bytes = saturating_sum(hits.iter().map(|h| h.1));
        let examples: Vec<String> = hits
            .iter()
            .take(3)
            .map(|(path, b, how)| format!("{path} ({}, {how})", human_bytes(*b)))
            .collect();
        out.push(Finding::forbidden(
            FindingCode::ForbiddenPath,
            rule.severity,
            "path",
            &rule.path.glob,
            hits.len(),
            bytes,
            &examples,
        ));
    }
    for b in &p.budgets {
        let bytes = saturating_sum(
            head.files
                .iter()
                .filter(|f| b.path.matcher.is_match(&f.path) && !ignored(&f.path))
                .map(|f| f.bytes),
        );
        if bytes > b.max {
            out.push(Finding {
                code: FindingCode::PathBudget,
                severity: b.severity,
                message: format!(
                    "files matching `{}` hold {}, over the budget of {}",
                    b.path.glob,
                    human_bytes(bytes),
                    human_bytes(b.max)
                ),
                value: bytes as f64,
                limit: b.max as f64,
                unit: Unit::Bytes,
                path: Some(b.path.glob.clone()),
            });
        }
    }
    for a in &p.advice {
        let items: Vec<_> = head.advice.iter().filter(|x| x.code == a.code).collect();
        let bytes = saturating_sum(items.iter().map(|x| x.bytes));
        if !items.is_empty() && bytes > a.max {
            out.push(Finding {
                code: FindingCode::AdviceBudget,
                severity: a.severity,
                message: format!(
                    "advice `{}` ({} item(s)) would save {}, over the allowed {}",
                    a.code,
                    items.len(),
                    human_bytes(bytes),
                    human_bytes(a.max)
                ),
                value: bytes as f64,
                limit: a.max as f64,
                unit: Unit::Bytes,
                path: Some(a.code.to_string()),
            });
        }
    }
    out.extend(super::packages::evaluate(&p.packages, head, cmp));
    // Stable: rule order within each severity.
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(out)
}

/// The finding of one limit, `Ok(None)` when it holds, `Err(figure)` when the
/// figure it bounds was not measured.
fn limit(
    l: &Limit,
    head: &Report,
    t: &crate::report::Totals,
) -> Result<Option<Finding>, &'static str> {
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let need = |v: Option<u64>, figure: &'static str| v.ok_or(figure);
    let (value, unit, what) = match l.metric {
        Metric::CompressedSize => (
            t.compressed_bytes as f64,
            Unit::Bytes,
            "compressed size".to_string(),
        ),
        Metric::UncompressedSize => (
            need(t.uncompressed_bytes, "uncompressed size")? as f64,
            Unit::Bytes,
            "uncompressed size".to_string(),
        ),
        Metric::Layers => (t.layers as f64, Unit::Count, "layer count".to_string()),
        Metric::LargestLayer => {
            let mut sizes = Vec::new();
            for l in &head.layers {
                sizes.push((need(l.uncompressed_bytes, "layer sizes")?, l.index));
            }
            let Some(&(bytes, index)) = sizes.iter().max_by_key(|(b, _)| *b) else {
                return Ok(None);
            };
            (
                bytes as f64,
                Unit::Bytes,
                format!("largest layer (L{index})"),
            )
        }
        Metric::MinEfficiency => (
            t.efficiency.ok_or("efficiency")? * 100.0,
            Unit::Percent,
            "efficiency".to_string(),
        ),
        Metric::WastedBytes => (
            need(t.wasted_bytes, "wasted bytes")? as f64,
            Unit::Bytes,
            "wasted bytes".to_string(),
        ),
        Metric::WastedPercent => (
            pct(
                need(t.wasted_bytes, "wasted bytes")?,
                need(t.uncompressed_bytes, "uncompressed size")?,
            ),
            Unit::Percent,
            "wasted share".to_string(),
        ),
        Metric::UserWastedPercent => {
            let l0 = match head.layers.first() {
                Some(l) => need(l.uncompressed_bytes, "layer sizes")?,
                None => 0,
            };
            let wasted = need(t.wasted_bytes, "wasted bytes")?;
            let stored = need(t.uncompressed_bytes, "uncompressed size")?;
            (
                pct(wasted, stored.saturating_sub(l0)),
                Unit::Percent,
                "wasted share of the layers above L0 (dive's userWastedPercent)".to_string(),
            )
        }
    };
    let limit = match l.threshold {
        Threshold::Bytes(b) => b as f64,
        Threshold::Count(c) => c as f64,
        Threshold::Percent(p) => p,
    };
    let crossed = if l.metric == Metric::MinEfficiency {
        value < limit
    } else {
        value > limit
    };
    if !crossed {
        return Ok(None);
    }
    let show = |v: f64| match unit {
        Unit::Bytes => human_bytes(v as u64),
        Unit::Count => format!("{v}"),
        Unit::Percent => format!("{v:.2} %"),
    };
    let relation = if l.metric == Metric::MinEfficiency {
        "below the minimum"
    } else {
        "over the limit"
    };
    Ok(Some(Finding {
        code: l.metric.code(),
        severity: l.severity,
        message: format!("{what} is {}, {relation} of {}", show(value), show(limit)),
        value,
        limit,
        unit,
        path: None,
    }))
}

/// The pull cost as a "growth" from BASE's compressed size (its percent is of
/// what a client already holds); `None` when BASE's compressed size is unknown.
fn pull_delta(cmp: &Comparison) -> Option<crate::compare::Delta> {
    let before = cmp.totals.compressed.as_ref()?.before;
    let bytes = cmp.layers.pull_bytes;
    Some(crate::compare::Delta {
        before,
        after: before.saturating_add(bytes),
        delta: i64::try_from(bytes).unwrap_or(i64::MAX),
        percent: (before > 0).then(|| bytes as f64 * 100.0 / before as f64),
    })
}

/// The finding of one growth rule, `Ok(None)` when it holds, `Err(figure)` when a
/// side did not measure the size it watches.
fn growth(g: &Growth, cmp: &Comparison) -> Result<Option<Finding>, &'static str> {
    let code = g.kind.code();
    let basis = cmp.totals.compressed_basis;
    // When the compressed sizes cannot compare (storage forms differ and a gzip
    // size is missing), the rule is judged on the uncompressed size and says so.
    let mut note = String::new();
    let pull = pull_delta(cmp);
    let (d, what) = match g.kind {
        SizeKind::Pull => (pull.as_ref().ok_or("compressed size")?, "pull cost"),
        SizeKind::Compressed => match (&cmp.totals.compressed, &cmp.totals.uncompressed) {
            (Some(d), _) => {
                if basis != CompressedBasis::AsStored {
                    note = format!(" ({})", basis.label());
                }
                (d, "compressed size")
            }
            (None, Some(d)) => {
                note = format!(
                    "; compressed sizes are not comparable (BASE {}, HEAD {}), so the uncompressed size was judged",
                    cmp.base.storage, cmp.head.storage
                );
                (d, "uncompressed size")
            }
            (None, None) => {
                return Err("comparable compressed size (storage forms differ and no gzip size was estimated) or uncompressed size")
            }
        },
        SizeKind::Uncompressed => (
            cmp.totals
                .uncompressed
                .as_ref()
                .ok_or("uncompressed size")?,
            "uncompressed size",
        ),
        SizeKind::Wasted => (
            cmp.totals.wasted.as_ref().ok_or("wasted bytes")?,
            "wasted bytes",
        ),
    };
    let by_bytes = g.max_bytes.map(|m| i128::from(d.delta) > i128::from(m));
    // From nothing, any growth is infinitely many percent.
    let pct = d
        .percent
        .unwrap_or(if d.delta > 0 { f64::INFINITY } else { 0.0 });
    let by_pct = g.max_percent.map(|m| pct > m);
    let checks: Vec<bool> = [by_bytes, by_pct].into_iter().flatten().collect();
    let crossed = match g.combine {
        Combine::All => checks.iter().all(|c| *c),
        Combine::Any => checks.iter().any(|c| *c),
    };
    if checks.is_empty() || !crossed {
        return Ok(None);
    }
    let mut limits = Vec::new();
    if let Some(m) = g.max_bytes {
        limits.push(human_bytes(m));
    }
    if let Some(m) = g.max_percent {
        limits.push(format!("{m} %"));
    }
    let joiner = match g.combine {
        Combine::All => " and ",
        Combine::Any => " or ",
    };
    let pct_text = d
        .percent
        .map_or("new".to_string(), |p| format!("{p:+.1} %"));
    let (value, limit, unit) = match (g.max_bytes, g.max_percent) {
        (Some(m), _) => (d.delta as f64, m as f64, Unit::Bytes),
        (None, Some(m)) => (pct, m, Unit::Percent),
        (None, None) => return Ok(None),
    };
    Ok(Some(Finding {
        code,
        severity: g.severity,
        message: format!(
            "{what} {} {} ({pct_text}){}, over {}{}",
            if g.kind == SizeKind::Pull {
                "is"
            } else {
                "grew"
            },
            human_bytes(d.delta.max(0) as u64),
            if note.starts_with(' ') {
                note.as_str()
            } else {
                ""
            },
            limits.join(joiner),
            if note.starts_with(';') {
                note.as_str()
            } else {
                ""
            },
        ),
        value,
        limit,
        unit,
        path: None,
    }))
}

/// The outcome: passed unless a `fail` finding exists, with a one-line headline
/// ("image grew 1.2 MiB (+84.1 %) — 1 rule failed").
pub(crate) fn verdict(
    findings: &[Finding],
    comparison: Option<&Comparison>,
    head: &Report,
) -> Verdict {
    let failed = findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    let warned = findings.len() - failed;
    let size = match comparison {
        Some(c) => {
            let basis = c.totals.compressed_basis;
            let (d, what) = match (&c.totals.compressed, &c.totals.uncompressed) {
                (Some(d), _) => (Some(d), ""),
                (None, Some(d)) => (Some(d), " uncompressed"),
                (None, None) => (None, ""),
            };
            // The headline says when its figure is an estimate or a fallback.
            let qualifier = match (basis, what.is_empty()) {
                (CompressedBasis::AsStored, _) => String::new(),
                (_, true) => format!(", {}", basis.label()),
                (_, false) => format!(
                    "; compressed sizes not comparable: BASE {}, HEAD {}",
                    c.base.storage, c.head.storage
                ),
            };
            match d {
                None => format!(
                    "image size not comparable (BASE {}, HEAD {}, layers not read)",
                    c.base.storage, c.head.storage
                ),
                Some(d) => {
                    let pct = d.percent.map_or(String::new(), |p| format!("{p:+.1} %"));
                    let paren = |s: String| {
                        let inner = [pct.clone(), s].into_iter().filter(|x| !x.is_empty());
                        let inner = inner.collect::<Vec<_>>().join("");
                        if inner.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", inner.trim_start_matches(", "))
                        }
                    };
                    match d.delta.signum() {
                        1 => format!(
                            "image grew {}{what}{}",
                            human_bytes(d.delta as u64),
                            paren(qualifier)
                        ),
                        -1 => format!(
                            "image shrank {}{what}{}",
                            human_bytes(d.delta.unsigned_abs()),
                            paren(qualifier)
                        ),
                        _ => format!("image size unchanged{}", paren(qualifier)),
                    }
                }
            }
        }
        None => format!(
            "image is {} compressed, {} layers",
            human_bytes(head.totals.compressed_bytes),
            head.totals.layers
        ),
    };
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let outcome = match (failed, warned) {
        (0, 0) => "all rules passed".to_string(),
        (0, w) => plural(w, "warning", "warnings"),
        (f, 0) => plural(f, "rule failed", "rules failed"),
        (f, w) => format!(
            "{}, {}",
            plural(f, "rule failed", "rules failed"),
            plural(w, "warning", "warnings")
        ),
    };
    Verdict {
        passed: failed == 0,
        headline: format!("{size} — {outcome}"),
        failed,
        warned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{compare, CompareOptions};

    fn report(compressed: u64, advice_bytes: &[u64]) -> Report {
        let advice: Vec<serde_json::Value> = advice_bytes
            .iter()
            .map(|b| {
                serde_json::json!({"code": "cleanup-in-later-layer", "severity": "high",
                    "title": "t", "layers": [], "bytes": b, "files": 1, "suggestion": "s"})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema": 1,
            "image": {"reference": "r", "format": "oci", "config_digest": crate::image::Digest::sha256_of(b""),
                      "os": "linux", "architecture": "amd64"},
            "totals": {"layers": 1, "compressed_bytes": compressed, "uncompressed_bytes": 100,
                       "live_bytes": 100, "wasted_bytes": 0, "efficiency": 1.0, "files": 0,
                       "same_content_bytes": 0},
            "layers": [], "history": [], "duplicates": [], "merge_savings": [],
            "advice": advice, "files": []
        }))
        .unwrap()
    }

    fn codes(policy: &str, base: &Report, head: &Report) -> Vec<String> {
        let p = super::super::load_str("p.yml", policy).unwrap();
        let c = compare(base, head, &CompareOptions::default());
        p.evaluate(head, Some(&c))
            .unwrap()
            .into_iter()
            .map(|f| f.code.to_string())
            .collect()
    }

    /// `combine: all` needs both limits crossed, `any` either: 1 000 000 → 1 030 000
    /// is +30 kB (over 20 kB) but +3 % (under 5 %).
    #[test]
    fn growth_combination_rule() {
        let (base, head) = (report(1_000_000, &[]), report(1_030_000, &[]));
        let all = "growth:\n  compressed: {max: 20kB, max_percent: 5%}\n";
        assert!(codes(all, &base, &head).is_empty());
        let any = "growth:\n  compressed: {max: 20kB, max_percent: 5%, combine: any}\n";
        assert_eq!(codes(any, &base, &head), ["size-growth"]);
        let both = "growth:\n  compressed: {max: 20kB, max_percent: 2%}\n";
        assert_eq!(codes(both, &base, &head), ["size-growth"]);
        let shrink = report(900_000, &[]);
        assert!(
            codes(any, &base, &shrink).is_empty(),
            "shrinking never fails"
        );
    }

    /// `growth.wasted` watches the wasted bytes a change adds: the default policy
    /// warns past 10 MB of new waste, and not at 10 MB exactly.
    #[test]
    fn waste_growth_warns_past_the_default() {
        let with_waste = |w: u64| {
            let mut r = report(1_000, &[]);
            r.totals.wasted_bytes = Some(w);
            r
        };
        let defaults = Policy::defaults();
        let judge = |head: &Report| {
            let c = compare(&with_waste(5_000_000), head, &CompareOptions::default());
            defaults.evaluate(head, Some(&c)).unwrap()
        };
        assert!(judge(&with_waste(15_000_000)).is_empty(), "+10 MB exactly");
        let f = judge(&with_waste(15_000_001));
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].code, f[0].severity, f[0].value, f[0].limit),
            (FindingCode::WasteGrowth, Severity::Warn, 10_000_001.0, 1e7)
        );
        assert_eq!(
            f[0].message,
            "wasted bytes grew 9.5 MiB (+200.0 %), over 9.5 MiB"
        );
    }

    /// A default rule whose figure a partial report lacks is left out, where a
    /// written rule stops the run: the defaults were not asked for.
    #[test]
    fn default_rules_without_their_figure_are_left_out() {
        let mut head = report(10, &[]);
        head.image.partial = true;
        head.totals.efficiency = None;
        head.totals.wasted_bytes = None;
        assert!(Policy::defaults().evaluate(&head, None).unwrap().is_empty());
        let written =
            super::super::load_str("p.yml", super::super::defaults::DEFAULT_YAML).unwrap();
        assert!(written.evaluate(&head, None).is_err());
    }

    /// Advice rules sum the bytes of every item of that code in HEAD.
    #[test]
    fn advice_budget_sums_bytes_of_the_code() {
        let base = report(1, &[]);
        let policy = "advice:\n  cleanup-in-later-layer: {max: 1kB, severity: warn}\n";
        assert!(codes(policy, &base, &report(1, &[600, 400])).is_empty());
        assert_eq!(
            codes(policy, &base, &report(1, &[600, 401])),
            ["advice-budget"]
        );
    }

    /// A rule whose figure was not measured is never passed: every such rule is
    /// named, and rules on measured figures do not hide them.
    #[test]
    fn unmeasured_figures_stop_the_evaluation() {
        let mut head = report(10, &[]);
        head.image.partial = true;
        head.totals.efficiency = None;
        head.totals.wasted_bytes = None;
        let p = super::super::load_str(
            "p.yml",
            "limits:\n  layers: 10\n  min_efficiency: 90%\n  wasted_bytes: 1MB\npaths:\n  forbid: [/tmp/**]\n",
        )
        .unwrap();
        let err = p.evaluate(&head, None).unwrap_err();
        let rules: Vec<&str> = err.0.iter().map(|m| m.rule.as_str()).collect();
        assert_eq!(
            rules,
            ["efficiency", "wasted-bytes", "forbidden-path /tmp/**"]
        );
        let size_only = super::super::load_str("p.yml", "limits:\n  layers: 0\n").unwrap();
        assert_eq!(
            size_only.evaluate(&head, None).unwrap()[0].code,
            "layer-count"
        );
    }

    /// A `fail` finding fails the verdict; warnings alone pass.
    #[test]
    fn verdict_counts() {
        let head = report(10, &[]);
        let f = |severity| Finding {
            code: FindingCode::LayerCount,
            severity,
            message: String::new(),
            value: 0.0,
            limit: 0.0,
            unit: Unit::Count,
            path: None,
        };
        let v = verdict(&[f(Severity::Warn)], None, &head);
        assert!(v.passed);
        assert_eq!(v.headline, "image is 10 B compressed, 1 layers — 1 warning");
        let v = verdict(&[f(Severity::Fail), f(Severity::Warn)], None, &head);
        assert!(!v.passed);
        assert_eq!((v.failed, v.warned), (1, 1));
    }
}
