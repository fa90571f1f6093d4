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
pub fn seconds(
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
pub fn whole(
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
