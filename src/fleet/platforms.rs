//! Every platform of a multi-arch image: the parity view (per platform the
//! totals and layer count, how far the largest is from the smallest, the layers
//! whose size differs most between platforms), the pairing of base and head
//! platforms by os/arch/variant for a comparison, and the `platforms.max_ratio`
//! rule. Pure: it takes one report per platform.

use serde::Serialize;

use crate::human::{ellipsize, human_bytes, human_delta};
use crate::image::Platform;
use crate::policy::{Finding, ParityRule, Severity, Unit, Verdict};
use crate::render::view::{band, finding_rows, pct_text, verdict_icon, FindingRow, Status};
use crate::report::Report;

/// One platform's report (and its base's, when comparing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlatformReport<'a> {
    pub platform: &'a str,
    pub head: &'a Report,
    pub base: Option<&'a Report>,
}

/// The figures of one platform, numbers (for JSON) and text (for templates).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PlatformRow {
    pub platform: String,
    pub compressed_bytes: u64,
    /// `None` when not measured.
    pub uncompressed_bytes: Option<u64>,
    pub layers: u64,
    pub files: Option<u64>,
    /// The base's compressed size, when this platform was compared.
    pub(crate) base_compressed_bytes: Option<u64>,
    pub compressed: String,
    pub uncompressed: String,
    pub base: String,
    pub delta: String,
    pub(crate) band: String,
}

/// A layer position whose size differs between platforms.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LayerGap {
    pub index: usize,
    pub created_by: String,
    /// Uncompressed bytes per platform, in platform order.
    pub bytes: Vec<u64>,
    pub sizes: Vec<String>,
    pub(crate) gap: String,
    /// Largest / smallest (`None` when the smallest is empty).
    pub ratio: Option<f64>,
    pub(crate) ratio_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ParityView {
    pub marker: String,
    pub icon: Status,
    pub headline: String,
    pub image: String,
    pub verdict: Verdict,
    pub platforms: Vec<PlatformRow>,
    pub names: Vec<String>,
    /// Largest / smallest compressed size over the platforms.
    pub ratio: Option<f64>,
    pub(crate) ratio_text: String,
    pub largest: String,
    pub smallest: String,
    pub(crate) gaps: Vec<LayerGap>,
    /// Platforms only the base has, and only the head has (reported, not errors).
    pub only_base: Vec<String>,
    pub only_head: Vec<String>,
    /// Distinct layer blobs over all platforms, and layers in all: shared ones are read once.
    pub distinct_blobs: usize,
    pub(crate) layer_count: usize,
    pub failed: Vec<FindingRow>,
    pub warned: Vec<FindingRow>,
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// Base and head platforms paired by os/arch/variant.
pub(crate) struct Pairing<'a, T> {
    /// (platform, its base if the base has it, head): every head platform, in order.
    pub pairs: Vec<(&'a str, Option<&'a T>, &'a T)>,
    pub only_base: Vec<String>,
    pub only_head: Vec<String>,
}

/// Pairs base and head platforms by os/arch/variant. Without a base every head
/// platform is a pair with no base.
pub(crate) fn pair<'a, T>(base: &'a [(String, T)], head: &'a [(String, T)]) -> Pairing<'a, T> {
    let mut pairs = Vec::new();
    let mut only_head = Vec::new();
    for (p, h) in head {
        let b = base.iter().find(|(bp, _)| same(bp, p)).map(|(_, b)| b);
        if !base.is_empty() && b.is_none() {
            only_head.push(p.clone());
        }
        pairs.push((p.as_str(), b, h));
    }
    let only_base = base
        .iter()
        .filter(|(p, _)| !head.iter().any(|(hp, _)| same(hp, p)))
        .map(|(p, _)| p.clone())
        .collect();
    Pairing {
        pairs,
        only_base,
        only_head,
    }
}

/// Whether two platform names are one platform: os, architecture and variant
/// (arm64's implicit `v8` included); a name that does not parse only equals itself.
fn same(a: &str, b: &str) -> bool {
    match (Platform::parse(a), Platform::parse(b)) {
        (Ok(a), Ok(b)) => a.same(&b),
        _ => a == b,
    }
}

fn ratio_text(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{r:.2}×"))
}

/// The parity view of one image's platforms under `rule`.
pub(crate) fn parity(
    image: &str,
    reports: &[PlatformReport<'_>],
    only_base: Vec<String>,
    only_head: Vec<String>,
    rule: Option<&ParityRule>,
    key: &crate::marker::Marker,
) -> ParityView {
    let platforms: Vec<PlatformRow> = reports
        .iter()
        .map(|p| {
            let t = &p.head.totals;
            let base_c = p.base.map(|b| b.totals.compressed_bytes);
            let (base, delta, band_icon) = match base_c {
                Some(b) => {
                    let d = crate::compare::Delta::new(b, t.compressed_bytes);
                    (
                        human_bytes(b),
                        format!(
                            "{} ({})",
                            human_delta(d.delta as i128),
                            pct_text(d.percent, d.delta)
                        ),
                        band(d.delta as f64, d.percent, true).to_string(),
                    )
                }
                None => ("—".into(), "—".into(), String::new()),
            };
            PlatformRow {
                platform: p.platform.to_string(),
                compressed_bytes: t.compressed_bytes,
                uncompressed_bytes: t.uncompressed_bytes,
                layers: t.layers,
                files: t.files,
                base_compressed_bytes: base_c,
                compressed: human_bytes(t.compressed_bytes),
                uncompressed: t.uncompressed_bytes.map_or("—".into(), human_bytes),
                base,
                delta,
                band: band_icon,
            }
        })
        .collect();
    let largest = platforms.iter().max_by_key(|p| p.compressed_bytes);
    let smallest = platforms.iter().min_by_key(|p| p.compressed_bytes);
    let ratio = match (largest, smallest) {
        (Some(l), Some(s)) if platforms.len() > 1 && s.compressed_bytes > 0 => {
            Some(l.compressed_bytes as f64 / s.compressed_bytes as f64)
        }
        _ => None,
    };
    let mut findings = Vec::new();
    if let (Some(rule), Some(r), Some(l), Some(s)) = (rule, ratio, largest, smallest) {
        if r > rule.max_ratio {
            findings.push(Finding {
                code: crate::policy::FindingCode::PlatformRatio,
                severity: rule.severity,
                message: format!(
                    "{} is {r:.2}× {} (compressed {} vs {}), over {:.2}×",
                    l.platform, s.platform, l.compressed, s.compressed, rule.max_ratio
                ),
                value: r * 100.0,
                limit: rule.max_ratio * 100.0,
                unit: Unit::Percent,
                path: None,
            });
        }
    }
    let failed = findings
        .iter()
        .filter(|f| f.severity == Severity::Fail)
        .count();
    let verdict = Verdict {
        passed: failed == 0,
        headline: format!(
            "{} platform{}, largest/smallest {}{}",
            platforms.len(),
            if platforms.len() == 1 { "" } else { "s" },
            ratio_text(ratio),
            match (failed, findings.len() - failed) {
                (0, 0) => String::new(),
                (0, _) => " — 1 warning".into(),
                _ => " — 1 rule failed".into(),
            }
        ),
        failed,
        warned: findings.len() - failed,
    };
    let mut distinct = Vec::new();
    let mut layer_count = 0;
    for p in reports {
        for l in &p.head.layers {
            layer_count += 1;
            if !distinct.contains(&&l.digest) {
                distinct.push(&l.digest);
            }
        }
    }
    ParityView {
        marker: key.text(),
        icon: verdict_icon(&verdict),
        headline: verdict.headline.clone(),
        image: image.to_string(),
        names: platforms.iter().map(|p| p.platform.clone()).collect(),
        largest: largest
            .filter(|_| ratio.is_some())
            .map_or(String::new(), |p| p.platform.clone()),
        smallest: smallest
            .filter(|_| ratio.is_some())
            .map_or(String::new(), |p| p.platform.clone()),
        ratio,
        ratio_text: ratio_text(ratio),
        gaps: gaps(reports),
        platforms,
        verdict,
        only_base,
        only_head,
        distinct_blobs: distinct.len(),
        layer_count,
        failed: finding_rows(&findings, Severity::Fail),
        warned: finding_rows(&findings, Severity::Warn),
        findings,
    }
}

/// Layer positions present on every platform whose uncompressed size differs,
/// largest difference first (at most 10).
fn gaps(reports: &[PlatformReport<'_>]) -> Vec<LayerGap> {
    if reports.len() < 2 {
        return Vec::new();
    }
    let depth = reports
        .iter()
        .map(|p| p.head.layers.len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<(u64, LayerGap)> = (0..depth)
        .filter_map(|i| {
            // A layer not measured on some platform has no gap to show.
            let bytes: Vec<u64> = reports
                .iter()
                .map(|p| p.head.layers[i].uncompressed_bytes)
                .collect::<Option<_>>()?;
            let (max, min) = (*bytes.iter().max()?, *bytes.iter().min()?);
            (max > min).then(|| {
                let ratio = (min > 0).then(|| max as f64 / min as f64);
                (
                    max - min,
                    LayerGap {
                        index: i,
                        created_by: ellipsize(
                            reports[0].head.layers[i]
                                .created_by
                                .as_deref()
                                .unwrap_or("?"),
                            80,
                        ),
                        sizes: bytes.iter().map(|b| human_bytes(*b)).collect(),
                        bytes,
                        gap: human_bytes(max - min),
                        ratio,
                        ratio_text: ratio_text(ratio),
                    },
                )
            })
        })
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.index.cmp(&b.1.index)));
    out.into_iter().take(10).map(|(_, g)| g).collect()
}

pub(crate) const PARITY_TEMPLATE: &str = include_str!("../../templates/platforms.md.j2");

/// The terminal rendering of the parity view.
pub(crate) fn text(v: &ParityView) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect()
    };
    let mut out = format!(
        "{} layergate: {}: {}\n\n",
        v.icon,
        clean(&v.image),
        v.headline
    );
    let rows: Vec<Vec<String>> = v
        .platforms
        .iter()
        .map(|p| {
            vec![
                p.platform.clone(),
                p.compressed.clone(),
                p.uncompressed.clone(),
                p.layers.to_string(),
                p.base.clone(),
                p.delta.clone(),
            ]
        })
        .collect();
    out += &crate::human::table(
        &[
            "platform",
            "compressed",
            "uncompressed",
            "layers",
            "base",
            "delta",
        ],
        &rows,
        &[1, 2, 3, 4, 5],
    );
    if !v.gaps.is_empty() {
        out += "\nLayers that differ most between platforms (uncompressed):\n";
        let mut header = vec!["layer".to_string()];
        header.extend(v.names.iter().cloned());
        header.extend([
            "gap".to_string(),
            "ratio".to_string(),
            "created by".to_string(),
        ]);
        let h: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = v
            .gaps
            .iter()
            .map(|g| {
                let mut r = vec![format!("L{}", g.index)];
                r.extend(g.sizes.iter().cloned());
                r.extend([g.gap.clone(), g.ratio_text.clone(), clean(&g.created_by)]);
                r
            })
            .collect();
        let right: Vec<usize> = (1..=v.names.len() + 2).collect();
        out += &crate::human::table(&h, &rows, &right);
    }
    for p in &v.only_base {
        out += &format!("only in the base: {p}\n");
    }
    for p in &v.only_head {
        out += &format!("only in the head: {p}\n");
    }
    for f in v.failed.iter().chain(&v.warned) {
        out += &format!("{} {}: {}\n", f.severity, f.code, f.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_pair_by_name_and_one_sided_ones_are_listed() {
        let base = vec![
            ("linux/amd64".to_string(), 1),
            ("linux/s390x".to_string(), 2),
        ];
        let head = vec![
            ("linux/amd64".to_string(), 3),
            ("linux/arm64".to_string(), 4),
        ];
        let p = pair(&base, &head);
        assert_eq!(p.pairs.len(), 2);
        assert_eq!(p.pairs[0].0, "linux/amd64");
        assert_eq!(p.pairs[0].1, Some(&1));
        assert_eq!(p.pairs[1].1, None);
        assert_eq!(p.only_base, ["linux/s390x"]);
        assert_eq!(p.only_head, ["linux/arm64"]);
    }
}
