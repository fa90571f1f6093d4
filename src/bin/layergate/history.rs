//! `layergate history append FILE VERDICT.json…`: one record per verdict in the
//! JSON-lines size history.

use std::path::PathBuf;

use anyhow::{Context, Result};
use layergate::{Exit, SettingError};

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
            let inputs = layergate::read_verdicts(&args.verdicts)?;
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
                Some(t) => check_time("--time", t)?,
                None => rfc3339_now(),
            };
            if args.keep == Some(0) {
                anyhow::bail!("--keep 0 would drop every record: give at least 1");
            }
            let (appended, warnings) = layergate::append_history(
                &args.file, &inputs, &commit, &git_ref, &time, args.keep,
            )?;
            for w in warnings {
                eprintln!("layergate: warning: {w}");
            }
            eprintln!(
                "layergate: {} record(s) appended to {}",
                appended,
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

/// A time given as RFC 3339 (`2026-01-31T12:00:00Z`, `…+02:00`, fractions allowed),
/// checked for shape and ranges; returned as given, as the history records it.
fn check_time(name: &str, raw: &str) -> Result<String, SettingError> {
    let bad = || {
        SettingError::new(
            name,
            raw,
            "expected an RFC 3339 time such as 2026-01-31T12:00:00Z",
        )
    };
    let b = raw.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = raw.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return Err(bad());
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day == 0 || day > days || hour > 23 || min > 59 || sec > 60 {
        return Err(bad());
    }
    let mut rest = &raw[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(bad());
        }
        rest = &frac[n..];
    }
    let zone_ok = match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', _, _, b':', _, _] => {
            matches!((digits(raw.len() - 5..raw.len() - 3), digits(raw.len() - 2..raw.len())), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    };
    if zone_ok {
        Ok(raw.to_string())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_056_281), "2026-11-30T16:31:21Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    /// `--time` is checked for shape and ranges, never guessed.
    #[test]
    fn times_are_strict() {
        use super::check_time as rfc3339;
        for raw in [
            "yesterday",
            "2026-02-30T00:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00+2:00",
            "2026-01-01T00:00:00.Z",
        ] {
            assert!(rfc3339("--time", raw).is_err(), "{raw:?}");
        }
        for raw in [
            "2026-01-31T12:00:00Z",
            "2024-02-29T23:59:59.123+02:00",
            "2026-01-01t00:00:00z",
        ] {
            assert_eq!(rfc3339("--time", raw).as_deref(), Ok(raw), "{raw:?}");
        }
        // The same one line the library's settings give, the value cut short.
        assert_eq!(
            rfc3339("--time", &"y".repeat(50)).unwrap_err().to_string(),
            format!(
                "--time: bad value `{}…`: expected an RFC 3339 time such as 2026-01-31T12:00:00Z",
                "y".repeat(40)
            )
        );
    }
}
