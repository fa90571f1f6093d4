//! `layergate history append FILE VERDICT.json…`: one record per verdict in the
//! JSON-lines size history.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::fleet::history::{Outcome, Record, FORMAT};
use layergate::fleet::history_file;
use layergate::Exit;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Append one record per verdict (the analysed commit of each image).
    Append(AppendArgs),
}

#[derive(Debug, clap::Args)]
pub struct AppendArgs {
    /// The history file (JSON lines; created if missing).
    pub file: PathBuf,
    /// The JSON verdicts of this commit's diff/check runs.
    #[arg(required = true, value_name = "VERDICT.json")]
    pub verdicts: Vec<PathBuf>,
    /// The analysed commit (default: $GITHUB_SHA, then $CI_COMMIT_SHA).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The branch (default: $GITHUB_REF_NAME, then $CI_COMMIT_REF_NAME).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// The record's time, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// Keep only the newest N records of each image (and platform).
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
}

pub fn run(cmd: &Command) -> Result<Exit> {
    match cmd {
        Command::Append(args) => {
            let inputs = layergate::fleet::read_verdicts(&args.verdicts)?;
            let commit = args
                .commit
                .clone()
                .or_else(|| crate::flags::verdicts::env_first(&["GITHUB_SHA", "CI_COMMIT_SHA"]))
                .context("no commit: give --commit SHA (or run in GitHub Actions / GitLab CI)")?;
            let git_ref = args
                .git_ref
                .clone()
                .or_else(|| {
                    crate::flags::verdicts::env_first(&["GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"])
                })
                .context("no ref: give --ref BRANCH (or run in GitHub Actions / GitLab CI)")?;
            let time = match &args.time {
                Some(t) => layergate::rfc3339("--time", t)?,
                None => rfc3339_now(),
            };
            if args.keep == Some(0) {
                anyhow::bail!("--keep 0 would drop every record: give at least 1");
            }
            let records: Vec<Record> = inputs
                .iter()
                .map(|i| {
                    let (uncompressed, layers) = i.head_figures();
                    Record {
                        format: FORMAT,
                        time: time.clone(),
                        commit: commit.clone(),
                        git_ref: git_ref.clone(),
                        image: i.label.clone(),
                        platform: i.platform(),
                        compressed_bytes: i.head_compressed(),
                        uncompressed_bytes: uncompressed,
                        layers,
                        verdict: Outcome::of(&i.verdict),
                    }
                })
                .collect();
            for w in history_file::append(&args.file, &records, args.keep)? {
                eprintln!("layergate: warning: {w}");
            }
            eprintln!(
                "layergate: {} record(s) appended to {}",
                records.len(),
                args.file.display()
            );
            Ok(Exit::Pass)
        }
    }
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ` (civil date from days since 1970, Howard Hinnant's algorithm).
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_056_281), "2026-11-30T16:31:21Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
