//! GitLab report artifacts built from a publication: Code Quality JSON (one issue per
//! finding, fingerprints stable across runs), JUnit XML (one test case per rule) and
//! the `artifacts:reports:metrics` text format. Building is pure; `write_requested`
//! writes the files the flags ask for, each through `crate::write`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::actions::format_number;
use super::{Publication, PublishError, Settings, Severity};

pub(crate) fn write_requested(
    args: &Settings,
    publication: &Publication,
    written: &mut Vec<PathBuf>,
) -> Result<(), PublishError> {
    if let Some(path) = &args.gitlab_codequality {
        write_atomic(path, &codequality_json(publication, &args.codequality_path))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.junit {
        write_atomic(path, &junit_xml(publication))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.gitlab_metrics {
        write_atomic(path, &metrics_text(publication))?;
        written.push(path.clone());
    }
    Ok(())
}

pub(crate) fn write_atomic(path: &Path, body: &str) -> Result<(), PublishError> {
    crate::write::write_file(path, body.as_bytes()).map_err(|e| PublishError::file(path, e))
}

/// Code Quality issues. The fingerprint hashes the key, code and in-image path (or,
/// without a path, the code's occurrence number), never the message: figures in the
/// message change between pushes, and GitLab would report the same issue as fixed
/// and new.
pub fn codequality_json(publication: &Publication, repo_path: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let issues: Vec<serde_json::Value> = publication
        .findings
        .iter()
        .map(|f| {
            let nth = seen.iter().filter(|c| **c == f.code).count();
            seen.push(&f.code);
            let identity = match &f.path {
                Some(p) => format!("{}\0{}\0path\0{p}", publication.marker.key(), f.code),
                None => format!("{}\0{}\0#{nth}", publication.marker.key(), f.code),
            };
            let fingerprint = hex::encode(&Sha256::digest(identity.as_bytes())[..16]);
            let description = match &f.path {
                Some(p) => format!("{} ({p})", f.message),
                None => f.message.clone(),
            };
            serde_json::json!({
                "type": "issue",
                "check_name": format!("layergate/{}", f.code),
                "description": description,
                "categories": ["Performance"],
                "severity": match f.severity { Severity::Fail => "major", Severity::Warn => "minor" },
                "fingerprint": fingerprint,
                "location": { "path": repo_path, "lines": { "begin": 1 } },
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

/// One test case per rule; a failing finding fails its case, a warning is recorded
/// in the case's output. Findings for rules not listed get their own case.
pub(super) fn junit_xml(publication: &Publication) -> String {
    let mut rules: Vec<&str> = publication.rules.iter().map(String::as_str).collect();
    for f in &publication.findings {
        if !rules.contains(&f.code.as_str()) {
            rules.push(&f.code);
        }
    }
    if rules.is_empty() {
        rules.push("policy");
    }
    let failures = rules
        .iter()
        .filter(|r| {
            publication
                .findings
                .iter()
                .any(|f| f.code == **r && f.severity == Severity::Fail)
        })
        .count();
    let suite = format!("layergate.{}", publication.marker.key());
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"layergate\" tests=\"{}\" failures=\"{failures}\">\n",
        rules.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        xml_escape(&suite),
        rules.len()
    ));
    for rule in rules {
        let of_rule: Vec<_> = publication
            .findings
            .iter()
            .filter(|f| f.code == rule)
            .collect();
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&suite),
            xml_escape(rule)
        ));
        if of_rule.is_empty() {
            xml.push_str("/>\n");
            continue;
        }
        xml.push_str(">\n");
        let describe = |f: &&super::PublishedFinding| match &f.path {
            Some(p) => format!("{}: {} ({p})", f.severity.as_str(), f.message),
            None => format!("{}: {}", f.severity.as_str(), f.message),
        };
        let fails: Vec<String> = of_rule
            .iter()
            .filter(|f| f.severity == Severity::Fail)
            .map(describe)
            .collect();
        if let Some(first) = fails.first() {
            xml.push_str(&format!(
                "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                xml_escape(first),
                xml_escape(rule),
                xml_escape(&fails.join("\n"))
            ));
        }
        let all: Vec<String> = of_rule.iter().map(describe).collect();
        xml.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            xml_escape(&all.join("\n"))
        ));
        xml.push_str("    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Escapes text and attribute values, dropping characters XML 1.0 cannot carry
/// (file names from images may hold any byte).
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// `name value` lines. Names become `layergate_<key>_<metric>` in snake case, so
/// several keys (images) in one pipeline do not collide.
pub(super) fn metrics_text(publication: &Publication) -> String {
    let mut out = String::new();
    let key = snake(publication.marker.key());
    if let Some(passed) = publication.passed {
        out.push_str(&format!("layergate_{key}_passed {}\n", u8::from(passed)));
    }
    for m in &publication.outputs {
        out.push_str(&format!(
            "layergate_{key}_{} {}\n",
            snake(&m.name),
            format_number(m.value)
        ));
    }
    for (name, sev) in [("failures", Severity::Fail), ("warnings", Severity::Warn)] {
        let n = publication
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .count();
        out.push_str(&format!("layergate_{key}_{name} {n}\n"));
    }
    out
}

fn snake(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{Marker, Output, PublishedFinding};
    use super::*;

    fn publication(size_after: f64, message: &str) -> Publication {
        Publication {
            marker: Marker::new("web").unwrap(),
            markdown: String::new(),
            passed: Some(false),
            headline: "1 failure".into(),
            rules: vec![
                "size-growth".into(),
                "wasted-bytes".into(),
                "max-layers".into(),
            ],
            findings: vec![
                PublishedFinding {
                    code: "size-growth".into(),
                    severity: Severity::Fail,
                    message: message.into(),
                    path: None,
                },
                PublishedFinding {
                    code: "wasted-bytes".into(),
                    severity: Severity::Warn,
                    message: "4 MB wasted <by> \"rm\"".into(),
                    path: Some("/var/cache/apt/x & y".into()),
                },
            ],
            outputs: vec![
                Output {
                    name: "size-before".into(),
                    value: 1000.0,
                },
                Output {
                    name: "size-after".into(),
                    value: size_after,
                },
            ],
            size_kind: None,
            report_path: None,
        }
    }

    /// GitLab tracks issues by fingerprint: new figures must not make a new issue.
    #[test]
    fn fingerprints_ignore_the_figures() {
        let a: serde_json::Value = serde_json::from_str(&codequality_json(
            &publication(2000.0, "grew 1000 B"),
            "Dockerfile",
        ))
        .unwrap();
        let b: serde_json::Value = serde_json::from_str(&codequality_json(
            &publication(3000.0, "grew 2000 B"),
            "Dockerfile",
        ))
        .unwrap();
        assert_eq!(a[0]["fingerprint"], b[0]["fingerprint"]);
        assert_ne!(a[0]["fingerprint"], a[1]["fingerprint"]);
        assert_eq!(a[0]["severity"], "major");
        assert_eq!(a[1]["severity"], "minor");
        assert_eq!(a[1]["location"]["path"], "Dockerfile");
        assert_eq!(a[0]["fingerprint"].as_str().unwrap().len(), 32);
    }

    /// One case per rule, passing rules included; image text is escaped.
    #[test]
    fn junit_has_one_case_per_rule() {
        insta::assert_snapshot!(junit_xml(&publication(2000.0, "grew 1000 B")));
    }

    /// The metrics report is plain `name value` lines GitLab can diff.
    #[test]
    fn metrics_are_name_value_lines() {
        assert_eq!(
            metrics_text(&publication(2000.0, "x")),
            "layergate_web_passed 0\nlayergate_web_size_before 1000\nlayergate_web_size_after 2000\nlayergate_web_failures 1\nlayergate_web_warnings 1\n"
        );
    }
}
