//! Numbers that come from the environment, validated where they are read: a value
//! that is not a number, or is out of the range the setting makes sense in, is an
//! error naming the variable, never a silent default and never a panic (a huge
//! finite `f64` makes `Duration::from_secs_f64` panic).

use std::ops::RangeInclusive;
use std::time::Duration;

/// A setting whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: bad value `{value}`: {expected}")]
pub struct SettingError {
    pub name: String,
    pub value: String,
    pub expected: String,
}

fn error(name: &str, raw: &str, expected: String) -> SettingError {
    // The value is echoed back: keep a hostile one to one short line.
    let mut value: String = raw.chars().take(40).collect();
    value = value.replace(['\n', '\r'], " ");
    if raw.chars().count() > 40 {
        value.push('…');
    }
    SettingError {
        name: name.to_string(),
        value,
        expected,
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
            Duration::try_from_secs_f64(s).map_err(|_| error(name, raw, expected()))
        }
        _ => Err(error(name, raw, expected())),
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
        _ => Err(error(
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
    let bad = || {
        error(
            name,
            raw,
            "expected a request number (digits, from 1)".into(),
        )
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match raw.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(bad()),
    }
}

/// A time given as RFC 3339 (`2026-01-31T12:00:00Z`, `…+02:00`, fractions allowed),
/// checked for shape and ranges; returned as given.
pub fn rfc3339(name: &str, raw: &str) -> Result<String, SettingError> {
    let bad = || {
        error(
            name,
            raw,
            "expected an RFC 3339 time such as 2026-01-31T12:00:00Z".into(),
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
    fn request_ids_and_times_are_strict() {
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
