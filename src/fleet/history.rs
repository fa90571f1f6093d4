//! The size history: JSON lines, one record per analysed commit and image. Pure:
//! parsing a file's text into records (every line that is not one of ours, or
//! is from a newer format, is skipped with a warning, never dropped from the
//! file) and formatting one record as one line. `history_file.rs` does the I/O.

use serde::{Deserialize, Serialize};

/// The record format this layergate writes and reads (`"layergate-history"`).
pub(crate) const FORMAT: u32 = 1;

/// How a record ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    pub(crate) fn of(v: &crate::policy::Verdict) -> Outcome {
        match (v.failed, v.warned) {
            (0, 0) => Outcome::Pass,
            (0, _) => Outcome::Warn,
            _ => Outcome::Fail,
        }
    }
}

/// One analysed commit of one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Record {
    /// The format marker: a line without it is not ours.
    #[serde(rename = "layergate-history")]
    pub format: u32,
    /// RFC 3339, UTC.
    pub time: String,
    pub commit: String,
    /// The branch or ref the commit was analysed on (`main`, `refs/pull/7/merge`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The image's label (as `--label` gave it to `diff`/`check`).
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// As stored by the source.
    pub compressed_bytes: u64,
    /// `None` when not measured (read from manifests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncompressed_bytes: Option<u64>,
    pub layers: u64,
    pub verdict: Outcome,
}

impl Record {
    /// The record as one line, newline included (one `write` appends it whole).
    pub(crate) fn to_line(&self) -> Result<String, serde_json::Error> {
        Ok(serde_json::to_string(self)? + "\n")
    }

    /// Whether two records are of the same series (image and platform).
    pub(crate) fn same_series(&self, image: &str, platform: Option<&str>) -> bool {
        self.image == image && self.platform.as_deref() == platform
    }
}

/// One line of the file: a record of ours, or a line kept as it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    Record(Record),
    /// Not ours (or not JSON, or from a future format): skipped, kept in the file.
    Other {
        number: usize,
        text: String,
    },
}

/// A parsed history: every line in file order, and a warning per skipped line.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    pub(crate) lines: Vec<Line>,
    pub(crate) warnings: Vec<String>,
}

impl History {
    pub(crate) fn records(&self) -> impl Iterator<Item = &Record> {
        self.lines.iter().filter_map(|l| match l {
            Line::Record(r) => Some(r),
            Line::Other { .. } => None,
        })
    }
}

/// Longest line read as a record; a longer one is not ours.
const MAX_LINE: usize = 64 * 1024;

/// Parses a history file's text. `source` names it in warnings. Never fails: a
/// history is advisory, and one bad line must not cost the rest.
pub(crate) fn parse(source: &str, text: &str) -> History {
    let mut h = History::default();
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let mut skip = |why: String| {
            h.warnings
                .push(format!("{source}:{number}: {why}; line skipped"));
            h.lines.push(Line::Other {
                number,
                text: line.to_string(),
            });
        };
        if line.len() > MAX_LINE {
            skip(format!("longer than {MAX_LINE} bytes"));
            continue;
        }
        if !raw.ends_with('\n') {
            // A writer died mid-line (or is writing right now): not a record yet.
            skip("incomplete last line".into());
            continue;
        }
        let value: serde_json::Value = match crate::image::parse_json(line.as_bytes()) {
            Ok(v) => v,
            Err(_) => {
                skip("not JSON".into());
                continue;
            }
        };
        match value.get("layergate-history").and_then(|v| v.as_u64()) {
            None => {
                skip("not a layergate history record".into());
                continue;
            }
            Some(f) if f > u64::from(FORMAT) => {
                skip(format!(
                    "history format {f} is newer than this layergate reads ({FORMAT})"
                ));
                continue;
            }
            Some(_) => {}
        }
        match serde_json::from_value::<Record>(value) {
            Ok(r) => h.lines.push(Line::Record(r)),
            Err(e) => skip(format!("bad record: {e}")),
        }
    }
    h
}

/// The lines to keep when each series (image, platform) may hold at most `keep`
/// records: the newest of each, in file order, and every line that is not a
/// record (never rewritten away). `None` when nothing would be dropped.
pub(crate) fn trimmed(h: &History, keep: usize) -> Option<Vec<&Line>> {
    let mut seen: Vec<((&str, Option<&str>), usize)> = Vec::new();
    let mut keep_line = vec![true; h.lines.len()];
    let mut dropped = false;
    for (i, line) in h.lines.iter().enumerate().rev() {
        let Line::Record(r) = line else { continue };
        let key = (r.image.as_str(), r.platform.as_deref());
        let at = match seen.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                seen.push((key, 0));
                seen.len() - 1
            }
        };
        seen[at].1 += 1;
        if seen[at].1 > keep {
            keep_line[i] = false;
            dropped = true;
        }
    }
    dropped.then(|| {
        h.lines
            .iter()
            .zip(keep_line)
            .filter_map(|(l, k)| k.then_some(l))
            .collect()
    })
}

/// A kept line's text (records are re-serialised, other lines kept byte for byte).
pub(crate) fn line_text(line: &Line) -> Result<String, serde_json::Error> {
    match line {
        Line::Record(r) => r.to_line(),
        Line::Other { text, .. } => Ok(format!("{text}\n")),
    }
}

#[cfg(test)]
pub(crate) fn record(image: &str, commit: &str, git_ref: &str, compressed: u64) -> Record {
    Record {
        format: FORMAT,
        time: "2026-12-01T00:00:00Z".into(),
        commit: commit.into(),
        git_ref: git_ref.into(),
        image: image.into(),
        platform: None,
        compressed_bytes: compressed,
        uncompressed_bytes: Some(compressed * 2),
        layers: 3,
        verdict: Outcome::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_corrupt_and_future_lines_are_skipped_with_a_warning() {
        let good = record("api", "c1", "main", 100).to_line().unwrap();
        let text = format!(
            "{good}not json\n{{\"other\":1}}\n{{\"layergate-history\":9,\"x\":1}}\n\
             {{\"layergate-history\":1,\"time\":3}}\n{good}{{\"layergate-history\":1"
        );
        let h = parse("h.jsonl", &text);
        assert_eq!(h.records().count(), 2);
        assert_eq!(h.warnings.len(), 5, "{:#?}", h.warnings);
        assert!(h.warnings[0].starts_with("h.jsonl:2: not JSON"));
        assert!(h.warnings[2].contains("format 9 is newer"));
        assert!(h.warnings[4].contains("incomplete last line"));
        assert_eq!(h.lines.len(), 7);
    }

    #[test]
    fn trimming_keeps_the_newest_per_series_and_every_foreign_line() {
        let mut text = String::new();
        for i in 0..5 {
            text += &record("api", &format!("a{i}"), "main", i)
                .to_line()
                .unwrap();
            text += &record("web", &format!("w{i}"), "main", i)
                .to_line()
                .unwrap();
            if i == 1 {
                text += "garbage\n";
            }
        }
        let h = parse("h", &text);
        let kept = trimmed(&h, 2).unwrap();
        let commits: Vec<String> = kept
            .iter()
            .map(|l| match l {
                Line::Record(r) => r.commit.clone(),
                Line::Other { text, .. } => text.clone(),
            })
            .collect();
        assert_eq!(commits, ["garbage", "a3", "w3", "a4", "w4"]);
        assert!(trimmed(&h, 5).is_none());
    }
}
