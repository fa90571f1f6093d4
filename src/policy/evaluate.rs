//! Judging HEAD (and, for growth rules, the comparison with BASE) against a policy.
//! Pure: figures in, findings out, `fail` findings first.

use super::{
    Combine, Finding, Growth, Limit, Metric, Policy, Severity, SizeKind, Threshold, Unit, Verdict,
};
use crate::compare::{effective_totals, saturating_sum, Comparison};
use crate::report::{DuplicateKind, Report};
use crate::text::human_bytes;

pub(super) fn evaluate(p: &Policy, head: &Report, cmp: Option<&Comparison>) -> Vec<Finding> {
    let mut out = Vec::new();
    let ignore = p.ignore_globs();
    let t = effective_totals(head, ignore.as_ref());
    for l in &p.limits {
        if let Some(f) = limit(l, head, &t) {
            out.push(f);
        }
    }
    if let Some(cmp) = cmp {
        for g in &p.growth {
            if let Some(f) = growth(g, cmp) {
                out.push(f);
            }
        }
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
                    let by = d
                        .by_layers
                        .iter()
                        .map(|l| format!("L{l}"))
                        .collect::<Vec<_>>()
                        .join(", ");
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
        out.push(Finding {
            code: "forbidden-path".into(),
            severity: rule.severity,
            message: format!(
                "{} forbidden path(s) match `{}`, {}: {}{}",
                hits.len(),
                rule.path.glob,
                human_bytes(bytes),
                examples.join("; "),
                if hits.len() > 3 { "; …" } else { "" }
            ),
            value: bytes as f64,
            limit: 0.0,
            unit: Unit::Bytes,
            path: Some(rule.path.glob.clone()),
        });
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
                code: "path-budget".into(),
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
                code: "advice-budget".into(),
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
                path: Some(a.code.clone()),
            });
        }
    }
    // Stable: rule order within each severity.
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn limit(l: &Limit, head: &Report, t: &crate::report::Totals) -> Option<Finding> {
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let (value, unit, what) = match l.metric {
        Metric::CompressedSize => (
            t.compressed_bytes as f64,
            Unit::Bytes,
            "compressed size".to_string(),
        ),
        Metric::UncompressedSize => (
            t.uncompressed_bytes as f64,
            Unit::Bytes,
            "uncompressed size".to_string(),
        ),
        Metric::Layers => (t.layers as f64, Unit::Count, "layer count".to_string()),
        Metric::LargestLayer => {
            let big = head.layers.iter().max_by_key(|l| l.uncompressed_bytes)?;
            (
                big.uncompressed_bytes as f64,
                Unit::Bytes,
                format!("largest layer (L{})", big.index),
            )
        }
        Metric::MinEfficiency => (
            t.efficiency * 100.0,
            Unit::Percent,
            "efficiency".to_string(),
        ),
        Metric::WastedBytes => (
            t.wasted_bytes as f64,
            Unit::Bytes,
            "wasted bytes".to_string(),
        ),
        Metric::WastedPercent => (
            pct(t.wasted_bytes, t.uncompressed_bytes),
            Unit::Percent,
            "wasted share".to_string(),
        ),
        Metric::UserWastedPercent => {
            let l0 = head.layers.first().map_or(0, |l| l.uncompressed_bytes);
            (
                pct(t.wasted_bytes, t.uncompressed_bytes.saturating_sub(l0)),
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
        return None;
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
    Some(Finding {
        code: l.metric.code().into(),
        severity: l.severity,
        message: format!("{what} is {}, {relation} of {}", show(value), show(limit)),
        value,
        limit,
        unit,
        path: None,
    })
}

fn growth(g: &Growth, cmp: &Comparison) -> Option<Finding> {
    let (d, code, what) = match g.kind {
        SizeKind::Compressed => (&cmp.totals.compressed, "size-growth", "compressed size"),
        SizeKind::Uncompressed => (
            &cmp.totals.uncompressed,
            "uncompressed-growth",
            "uncompressed size",
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
        return None;
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
        (None, None) => return None,
    };
    Some(Finding {
        code: code.into(),
        severity: g.severity,
        message: format!(
            "{what} grew {} ({pct_text}), over {}",
            human_bytes(d.delta.max(0) as u64),
            limits.join(joiner)
        ),
        value,
        limit,
        unit,
        path: None,
    })
}

/// The outcome: passed unless a `fail` finding exists, with a one-line headline
/// ("image grew 1.2 MiB (+84.1 %) — 1 rule failed").
pub fn verdict(findings: &[Finding], comparison: Option<&Comparison>, head: &Report) -> Verdict {
    let failed = findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    let warned = findings.len() - failed;
    let size = match comparison {
        Some(c) => {
            let d = &c.totals.compressed;
            let pct = d.percent.map_or(String::new(), |p| format!(" ({p:+.1} %)"));
            match d.delta.signum() {
                1 => format!("image grew {}{pct}", human_bytes(d.delta as u64)),
                -1 => format!("image shrank {}{pct}", human_bytes(d.delta.unsigned_abs())),
                _ => "image size unchanged".to_string(),
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
            "image": {"reference": "r", "format": "oci", "config_digest": "sha256:00",
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
            .into_iter()
            .map(|f| f.code)
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
        assert!(codes("advice:\n  other-code: 0\n", &base, &report(1, &[5])).is_empty());
    }

    /// A `fail` finding fails the verdict; warnings alone pass.
    #[test]
    fn verdict_counts() {
        let head = report(10, &[]);
        let f = |severity| Finding {
            code: "x".into(),
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
