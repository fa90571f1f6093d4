//! The environment's settings: `prepare_environment`, run by the binary before it
//! reads its flags (empty `LAYERGATE_*` variables dropped, every numeric one checked),
//! and the strict parsers of the numbers read from it where they are used (seconds,
//! whole numbers, request ids). A value that is not a number, or is out of the range
//! the setting makes sense in, is an error naming the variable, never a silent default
//! and never a panic (a huge finite `f64` makes `Duration::from_secs_f64` panic).

use std::ops::RangeInclusive;
use std::time::Duration;

/// A setting whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: bad value `{value}`: {expected}")]
pub struct SettingError {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) expected: String,
}

impl SettingError {
    /// `raw`, given for `name`, refused: what was `expected` instead. The value is
    /// echoed back, so a hostile one is kept to one short line.
    pub fn new(name: &str, raw: &str, expected: impl Into<String>) -> SettingError {
        let mut value: String = raw.chars().take(40).collect();
        value = value.replace(['\n', '\r'], " ");
        if raw.chars().count() > 40 {
            value.push('…');
        }
        SettingError {
            name: name.to_string(),
            value,
            expected: expected.into(),
        }
    }
}

/// Seconds, possibly fractional (`2.5`), within `range`.
pub(crate) fn seconds(
    name: &str,
    raw: &str,
    range: RangeInclusive<f64>,
) -> Result<Duration, SettingError> {
    let expected = || {
        format!(
            "expected a number of seconds from {} to {}",
            range.start(),
            range.end()
        )
    };
    match raw.trim().parse::<f64>() {
        // `contains` is false for NaN, so NaN and the infinities are refused too.
        Ok(s) if range.contains(&s) => {
            Duration::try_from_secs_f64(s).map_err(|_| SettingError::new(name, raw, expected()))
        }
        _ => Err(SettingError::new(name, raw, expected())),
    }
}

/// A whole number within `range`; `unit` names it in the message (`milliseconds`).
pub(crate) fn whole(
    name: &str,
    raw: &str,
    unit: &str,
    range: RangeInclusive<u64>,
) -> Result<u64, SettingError> {
    match raw.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(SettingError::new(
            name,
            raw,
            format!(
                "expected a whole number of {unit} from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The environment variables read as numbers or ids, each checked before a run starts.
const CHECKED: &[(&str, Check)] = &[
    (
        "LAYERGATE_HTTP_BACKOFF_MS",
        Check::Whole("milliseconds", 0, 600_000),
    ),
    ("LAYERGATE_REGISTRY_TIMEOUT", Check::Seconds(0.001, 3600.0)),
    ("CI_MERGE_REQUEST_IID", Check::Id),
];

enum Check {
    Whole(&'static str, u64, u64),
    Seconds(f64, f64),
    Id,
}

/// Run once by the binary before the flags are parsed: every `LAYERGATE_*` variable
/// set to the empty string is removed (empty means unset, as `${X:-}` in a shell: an
/// empty `LAYERGATE_CACHE_DIR=` must not become a cache in "", nor an empty
/// `LAYERGATE_HTML_URL=` a bad link), then every numeric setting is checked, so a
/// bad value is one line and exit 2 whatever the command, never ignored.
pub fn prepare_environment() -> Result<(), SettingError> {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(k, v)| v.is_empty() && k.to_str().is_some_and(|k| k.starts_with("LAYERGATE_")))
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        // Single-threaded here: the binary calls this before anything else starts.
        std::env::remove_var(k);
    }
    for (name, check) in CHECKED {
        let Some(raw) = std::env::var_os(name) else {
            continue;
        };
        let raw = raw.to_string_lossy();
        if raw.is_empty() {
            continue;
        }
        match check {
            Check::Whole(unit, lo, hi) => whole(name, &raw, unit, *lo..=*hi).map(drop)?,
            Check::Seconds(lo, hi) => seconds(name, &raw, *lo..=*hi).map(drop)?,
            Check::Id => id(name, &raw).map(drop)?,
        }
    }
    Ok(())
}

/// A pull/merge request number as a CI system sets it: digits only (no sign, no
/// space: ` 7` is not what GitLab writes, so it is refused rather than guessed), from 1.
pub(crate) fn id(name: &str, raw: &str) -> Result<u64, SettingError> {
    let bad = || SettingError::new(name, raw, "expected a request number (digits, from 1)");
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match raw.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape of bad number is refused with the variable's name; none panics.
    #[test]
    fn bad_seconds_are_refused() {
        for raw in ["1e20", "inf", "NaN", "-1", "0", "abc", "", "1e400", "3601"] {
            let e = seconds("T", raw, 0.001..=3600.0).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("T: bad value `{raw}`: expected a number of seconds from 0.001 to 3600")
            );
        }
        assert_eq!(
            seconds("T", " 2.5 ", 0.001..=3600.0),
            Ok(Duration::from_millis(2500))
        );
    }

    #[test]
    fn request_ids_are_strict() {
        for raw in [
            "abc",
            "-1",
            " 7",
            "7 ",
            "+7",
            "0",
            "",
            "1.0",
            "99999999999999999999999",
        ] {
            assert!(id("CI_MERGE_REQUEST_IID", raw).is_err(), "{raw:?}");
        }
        assert_eq!(id("X", "7"), Ok(7));
    }

    /// Whole numbers: no sign, no fraction, no overflow, within the range.
    #[test]
    fn bad_whole_numbers_are_refused() {
        for raw in ["-1", "1.5", "99999999999999999999999", "x", "600001"] {
            assert!(
                whole("B", raw, "milliseconds", 0..=600_000).is_err(),
                "{raw}"
            );
        }
        assert_eq!(whole("B", "20", "milliseconds", 0..=600_000), Ok(20));
        let long = "9".repeat(100);
        let e = whole("B", &long, "milliseconds", 0..=1).unwrap_err();
        assert_eq!(e.value.chars().count(), 41, "{e}");
    }
}
