//! Size over time, from the history: the series of one image on the base branch
//! (plus this pull request's figure), its Mermaid `xychart-beta` chart, the
//! one-line drift summary and the `growth.since` rule. Pure.

use serde::Serialize;

use super::history::Record;
use crate::human::{human_bytes, human_delta};
use crate::policy::{Drift, Finding, Unit};

/// One point of a trend: a short label (commit or `PR`) and the compressed size.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Point {
    pub label: String,
    pub bytes: u64,
}

/// The trend of one image.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Trend {
    pub image: String,
    pub points: Vec<Point>,
    /// `+18.0 % over the last 30 merges (12.0 MiB → 14.2 MiB)`; empty below 2 points.
    pub drift: String,
    /// The Mermaid source (without the fence); empty below 2 points.
    pub chart: String,
}

/// The last `n` base-branch records of `image` (oldest first).
pub(crate) fn base_series<'a>(
    records: impl Iterator<Item = &'a Record>,
    image: &str,
    platform: Option<&str>,
    base_ref: &str,
    n: usize,
) -> Vec<&'a Record> {
    let all: Vec<&Record> = records
        .filter(|r| r.same_series(image, platform) && r.git_ref == base_ref)
        .collect();
    let skip = all.len().saturating_sub(n);
    all.into_iter().skip(skip).collect()
}

fn short_commit(c: &str) -> String {
    c.chars().take(7).collect()
}

/// Keeps what is safe inside a Mermaid quoted string.
fn mermaid_text(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " ._-/:#+()".contains(*c))
        .take(60)
        .collect()
}

/// Points of the chart: the base series, then `current` (this pull request).
pub(crate) fn points(series: &[&Record], current: Option<u64>) -> Vec<Point> {
    let mut out: Vec<Point> = series
        .iter()
        .map(|r| Point {
            label: short_commit(&r.commit),
            bytes: r.compressed_bytes,
        })
        .collect();
    if let Some(b) = current {
        out.push(Point {
            label: "PR".into(),
            bytes: b,
        });
    }
    out
}

/// Change from the first point to the last: (delta bytes, percent of the first).
pub(crate) fn drift(points: &[Point]) -> Option<(i64, Option<f64>)> {
    let (first, last) = (points.first()?, points.last()?);
    if points.len() < 2 {
        return None;
    }
    let d = crate::compare::Delta::new(first.bytes, last.bytes);
    Some((d.delta, d.percent))
}

fn unit_for(max: u64) -> (&'static str, f64) {
    const K: f64 = 1024.0;
    match max {
        m if m >= 1 << 30 => ("GiB", K * K * K),
        m if m >= 1 << 20 => ("MiB", K * K),
        m if m >= 1 << 10 => ("KiB", K),
        _ => ("B", 1.0),
    }
}

/// The `xychart-beta` source: x the commits (and `PR`), y the compressed size.
pub(crate) fn chart(image: &str, points: &[Point]) -> String {
    let max = points.iter().map(|p| p.bytes).max().unwrap_or(0);
    let (unit, div) = unit_for(max);
    let xs: Vec<String> = points
        .iter()
        .map(|p| format!("\"{}\"", mermaid_text(&p.label)))
        .collect();
    let ys: Vec<String> = points
        .iter()
        .map(|p| format!("{:.2}", p.bytes as f64 / div))
        .collect();
    format!(
        "xychart-beta\n    title \"{} compressed size ({unit})\"\n    x-axis [{}]\n    y-axis \"{unit}\"\n    line [{}]\n",
        mermaid_text(image),
        xs.join(", "),
        ys.join(", ")
    )
}

/// The trend of one image: the last `n` base-branch records plus `current`.
pub(crate) fn trend(
    image: &str,
    series: &[&Record],
    current: Option<u64>,
    base_ref: &str,
) -> Trend {
    let pts = points(series, current);
    let drift_line = match (drift(&pts), pts.first(), pts.last()) {
        (Some((delta, pct)), Some(first), Some(last)) => {
            let pct = pct.map_or("new".to_string(), |p| format!("{p:+.1} %"));
            let merges = series.len();
            let pr = if current.is_some() {
                " and this pull request"
            } else {
                ""
            };
            format!(
                "{pct} ({}) over the last {merges} merges to {}{pr} ({} → {})",
                human_delta(delta as i128),
                mermaid_text(base_ref),
                human_bytes(first.bytes),
                human_bytes(last.bytes)
            )
        }
        _ => String::new(),
    };
    let chart_src = if pts.len() >= 2 {
        chart(image, &pts)
    } else {
        String::new()
    };
    Trend {
        image: image.to_string(),
        points: pts,
        drift: drift_line,
        chart: chart_src,
    }
}

/// `growth.since`: the growth of `image` over its last `rule.records` base records
/// (and this pull request) against the rule's limits. Every given limit must be
/// crossed, like `growth` with `combine: all`. Fewer than two points: no finding.
pub(crate) fn evaluate(
    rule: &Drift,
    image: &str,
    history: &[&Record],
    current: Option<u64>,
) -> Option<Finding> {
    let skip = history.len().saturating_sub(rule.records);
    let window: Vec<&Record> = history.iter().skip(skip).copied().collect();
    let pts = points(&window, current);
    let (delta, pct) = drift(&pts)?;
    if delta <= 0 {
        return None;
    }
    let over_bytes = rule.max_bytes.is_none_or(|m| delta as u64 > m);
    let over_pct = match rule.max_percent {
        None => true,
        // From nothing to something is unbounded growth.
        Some(m) => pct.is_none_or(|p| p > m),
    };
    if !(over_bytes && over_pct) {
        return None;
    }
    let (value, limit, unit) = match (rule.max_percent, pct) {
        (Some(m), Some(p)) => (p, m, Unit::Percent),
        _ => (
            delta as f64,
            rule.max_bytes.unwrap_or(0) as f64,
            Unit::Bytes,
        ),
    };
    let mut limits = Vec::new();
    if let Some(m) = rule.max_bytes {
        limits.push(human_bytes(m));
    }
    if let Some(m) = rule.max_percent {
        limits.push(format!("{m} %"));
    }
    let pct_text = pct.map_or("new".to_string(), |p| format!("{p:+.1} %"));
    Some(Finding {
        code: crate::policy::FindingCode::SizeDrift,
        severity: rule.severity,
        message: format!(
            "{image} grew {} ({pct_text}) over its last {} records{}, over {}",
            human_delta(delta as i128),
            window.len(),
            if current.is_some() {
                " and this pull request"
            } else {
                ""
            },
            limits.join(" and ")
        ),
        value,
        limit,
        unit,
        path: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::history::record;
    use crate::policy::Severity;

    #[test]
    fn the_chart_has_one_point_per_base_record_plus_the_pull_request() {
        let recs: Vec<Record> = (0..4)
            .map(|i| record("api", &format!("abcdef{i}9"), "main", (10 + i) << 20))
            .chain([
                record("api", "zzz", "feature", 1),
                record("web", "w", "main", 1),
            ])
            .collect();
        let series = base_series(recs.iter(), "api", None, "main", 3);
        let t = trend("api", &series, Some(15 << 20), "main");
        let labels: Vec<&str> = t.points.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["abcdef1", "abcdef2", "abcdef3", "PR"]);
        assert!(
            t.chart.contains("line [11.00, 12.00, 13.00, 15.00]"),
            "{}",
            t.chart
        );
        assert!(
            t.drift.starts_with(
                "+36.4 % (+4.0 MiB) over the last 3 merges to main and this pull request"
            ),
            "{}",
            t.drift
        );
    }

    #[test]
    fn the_drift_rule_catches_growth_no_single_step_crosses() {
        let recs: Vec<Record> = (0..31)
            .map(|i| record("api", &format!("c{i}"), "main", 100_000 + i * 1_000))
            .collect();
        let series: Vec<&Record> = recs.iter().collect();
        let rule = Drift {
            records: 30,
            max_bytes: None,
            max_percent: Some(15.0),
            severity: Severity::Fail,
        };
        let f = evaluate(&rule, "api", &series, Some(135_000)).unwrap();
        assert_eq!(f.code, "size-drift");
        assert!((f.value - 33.66).abs() < 0.01, "{}", f.value);
        let loose = Drift {
            max_percent: Some(50.0),
            ..rule
        };
        assert!(evaluate(&loose, "api", &series, Some(135_000)).is_none());
    }

    #[test]
    fn chart_text_from_the_history_cannot_break_out_of_its_quotes() {
        let p = [
            Point {
                label: "a\"]\nline".into(),
                bytes: 1,
            },
            Point {
                label: "b".into(),
                bytes: 2,
            },
        ];
        let c = chart("x\"y", &p);
        assert!(c.contains("[\"aline\", \"b\"]"), "{c}");
        assert!(c.contains("title \"xy compressed"), "{c}");
    }
}
