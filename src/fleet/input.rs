//! The JSON verdict of one `diff` or `check` run (`--format json --label NAME`),
//! read back for `merge` and `history append`; a `--platform all` verdict is one
//! input per platform. Pure: bytes in, typed verdicts or one clear error out. A verdict from another layergate version or schema is
//! refused rather than half-understood.

use serde::Deserialize;

use super::FleetError;
use crate::compare::Comparison;
use crate::document::{self, Document};
use crate::policy::{Finding, Verdict};
use crate::report::{ImageInfo, Totals};

/// What kind of run wrote the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Diff,
    Check,
}

/// One run's verdict, as `diff`/`check --format json` wrote it.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// The file name as given, for messages.
    pub(crate) source: String,
    pub label: String,
    pub verdict: Verdict,
    pub(crate) findings: Vec<Finding>,
    pub(crate) body: Body,
    /// The platform of one entry of a `--platform all` verdict (its label then ends
    /// with it, so rows stay apart).
    pub(crate) platform: Option<String>,
}

/// The figures: a comparison (`diff`) or one image's totals (`check`).
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Diff(Box<Comparison>),
    Check {
        image: Box<ImageInfo>,
        totals: Totals,
    },
}

impl Input {
    pub(crate) fn kind(&self) -> Kind {
        match self.body {
            Body::Diff(_) => Kind::Diff,
            Body::Check { .. } => Kind::Check,
        }
    }

    /// Compressed size before and after, compared like with like (`diff` only:
    /// before is `None` for a `check`, or when the two storage forms could not
    /// be compared); after is the analysed image's own size.
    pub(crate) fn compressed(&self) -> (Option<u64>, u64) {
        match &self.body {
            Body::Diff(c) => match c.totals.compressed {
                Some(d) => (Some(d.before), d.after),
                None => (None, c.totals.stored_compressed.after),
            },
            Body::Check { totals, .. } => (None, totals.compressed_bytes),
        }
    }

    /// The analysed image's compressed size as stored (what a history records).
    pub(crate) fn head_compressed(&self) -> u64 {
        match &self.body {
            Body::Diff(c) => c.totals.stored_compressed.after,
            Body::Check { totals, .. } => totals.compressed_bytes,
        }
    }

    /// The analysed image's own figures: (uncompressed if measured, layers).
    pub(crate) fn head_figures(&self) -> (Option<u64>, u64) {
        match &self.body {
            Body::Diff(c) => (
                c.totals.uncompressed.map(|d| d.after),
                c.totals.layers.after,
            ),
            Body::Check { totals, .. } => (totals.uncompressed_bytes, totals.layers),
        }
    }

    /// `os/arch[/variant]` of the analysed image, when the verdict says.
    pub(crate) fn platform(&self) -> Option<String> {
        if let Some(p) = &self.platform {
            return Some(p.clone());
        }
        match &self.body {
            Body::Diff(_) => None,
            Body::Check { image, .. } => Some(match &image.variant {
                Some(v) => format!("{}/{}/{v}", image.os, image.architecture),
                None => format!("{}/{}", image.os, image.architecture),
            }),
        }
    }
}

#[derive(Deserialize)]
struct Header {
    schema: Option<serde_json::Value>,
    layergate: Option<String>,
}

/// Parses one verdict file: one input, or one per platform of a `--platform all`
/// verdict (labelled `LABEL (PLATFORM)`). `source` names it in errors.
pub(crate) fn parse(source: &str, bytes: &[u8]) -> Result<Vec<Input>, FleetError> {
    let bad = |message: String| FleetError::Input {
        file: source.to_string(),
        message,
    };
    let header: Header = crate::image::parse_json(bytes)
        .map_err(|m| bad(format!("not a layergate verdict: {m}")))?;
    let ours = env!("CARGO_PKG_VERSION");
    match header.layergate.as_deref() {
        Some(v) if v == ours => {}
        Some(v) => {
            return Err(bad(format!(
                "written by layergate {v}, this is {ours}: run every job with the same version"
            )))
        }
        None => {
            return Err(bad(
                "not a diff/check verdict of this layergate (no `layergate` version field): \
                 write it with `layergate diff|check --format json --label NAME`"
                    .into(),
            ))
        }
    }
    let schema = header.schema.as_ref().and_then(serde_json::Value::as_u64);
    if schema != Some(u64::from(crate::compare::SCHEMA)) {
        let found = header
            .schema
            .map_or_else(|| "none".to_string(), |s| s.to_string());
        return Err(bad(format!(
            "verdict schema {found} (this layergate reads schema {})",
            crate::compare::SCHEMA
        )));
    }
    let no_label = || {
        bad(
            "no label: give every matrix job `--label NAME` (e.g. the service) \
             when it writes its verdict"
                .into(),
        )
    };
    let value: serde_json::Value =
        crate::image::parse_json(bytes).map_err(|m| bad(format!("not JSON: {m}")))?;
    if value.get("platforms").is_some() {
        let f: Document<document::Platforms> = serde_json::from_value(value)
            .map_err(|e| bad(format!("bad --platform all verdict: {e}")))?;
        let label = f
            .label
            .filter(|l| !l.trim().is_empty())
            .ok_or_else(no_label)?;
        return f
            .body
            .platforms
            .into_iter()
            .map(|p| {
                let body = match (p.comparison, p.image, p.totals) {
                    (Some(c), _, _) => Body::Diff(Box::new(c.into_owned())),
                    (None, Some(image), Some(totals)) => Body::Check {
                        image: Box::new(image.into_owned()),
                        totals: totals.into_owned(),
                    },
                    _ => {
                        return Err(bad(format!(
                            "platform {}: neither a comparison nor an image's totals",
                            p.platform
                        )))
                    }
                };
                Ok(Input {
                    source: source.into(),
                    label: format!("{label} ({})", p.platform),
                    verdict: p.verdict.into_owned(),
                    findings: p.findings.into_owned(),
                    body,
                    platform: Some(p.platform.into_owned()),
                })
            })
            .collect();
    }
    let input = if value.get("comparison").is_some() {
        let f: Document<document::Diff> =
            serde_json::from_value(value).map_err(|e| bad(format!("bad diff verdict: {e}")))?;
        Input {
            source: source.into(),
            label: f.label.ok_or_else(no_label)?.into_owned(),
            verdict: f.body.verdict.into_owned(),
            findings: f.body.findings.into_owned(),
            body: Body::Diff(Box::new(f.body.comparison.into_owned())),
            platform: None,
        }
    } else {
        let f: Document<document::Check> =
            serde_json::from_value(value).map_err(|e| bad(format!("bad check verdict: {e}")))?;
        Input {
            source: source.into(),
            label: f.label.ok_or_else(no_label)?.into_owned(),
            verdict: f.body.verdict.into_owned(),
            findings: f.body.findings.into_owned(),
            body: Body::Check {
                image: Box::new(f.body.image.into_owned()),
                totals: f.body.totals.into_owned(),
            },
            platform: None,
        }
    };
    if input.label.trim().is_empty() {
        return Err(no_label());
    }
    Ok(vec![input])
}

/// Refuses two inputs with one label: their rows could not be told apart.
pub(crate) fn check_labels(inputs: &[Input]) -> Result<(), FleetError> {
    for (i, a) in inputs.iter().enumerate() {
        if let Some(b) = inputs[..i].iter().find(|b| b.label == a.label) {
            return Err(FleetError::DuplicateLabel {
                label: a.label.clone(),
                first: b.source.clone(),
                second: a.source.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_versions_and_schemas_are_refused_with_one_line() {
        let e = parse("a.json", br#"{"schema":1,"layergate":"0.0.1"}"#).unwrap_err();
        assert!(e.to_string().contains("written by layergate 0.0.1"), "{e}");
        let v = env!("CARGO_PKG_VERSION");
        let text = format!(r#"{{"schema":99,"layergate":"{v}"}}"#);
        let e = parse("a.json", text.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("verdict schema 99"), "{e}");
        let e = parse("a.json", br#"{"schema":1}"#).unwrap_err();
        assert!(e.to_string().contains("no `layergate` version"), "{e}");
        let e = parse("a.json", b"[").unwrap_err();
        assert!(!e.to_string().contains('\n'));
    }
}
