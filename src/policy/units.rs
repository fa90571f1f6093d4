//! Sizes and percents as they are written in a policy, parsed once at load time:
//! `20MB` is decimal (20 000 000 bytes), `20MiB` binary (20 971 520), `5%` a percent.

/// `20MB`, `1.5GiB`, `512 KiB`, `1024` (bytes). Units are case-sensitive except that
/// `kb`/`KB`/`kB` all mean 1000, so `Mb` (megabit) is refused rather than guessed.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let mult: u64 = match unit {
        "" | "B" => 1,
        "kB" | "KB" | "kb" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => {
            return Err(format!(
                "bad size `{s}`: unknown unit `{unit}` (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. `20MB`)"
            ))
        }
    };
    scale(num, mult)
        .ok_or_else(|| format!("bad size `{s}`: expected a number and a unit, e.g. `20MB`"))
}

/// dive's byte syntax (go-humanize `ParseBytes`): case-insensitive, a bare `M`
/// means MB, `MiB`/`Mi` binary.
pub(crate) fn parse_dive_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim().to_ascii_lowercase());
    let mult: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => return Err(format!("bad size `{s}`: unknown unit `{unit}`")),
    };
    scale(num, mult)
        .ok_or_else(|| format!("bad size `{s}`: expected a number and a unit, e.g. `20MB`"))
}

fn scale(num: &str, mult: u64) -> Option<u64> {
    if num.is_empty() {
        return None;
    }
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult);
    }
    let f: f64 = num.parse().ok()?;
    let v = f * mult as f64;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v.round() as u64)
}

/// `5%` or `12.5 %` → 5.0 / 12.5.
pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let Some(num) = t.strip_suffix('%') else {
        return Err(format!(
            "bad percent `{s}`: expected a number followed by `%`, e.g. `5%`"
        ));
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "bad percent `{s}`: expected a non-negative number followed by `%`, e.g. `5%`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decimal and binary units must not be confused: that is a 5 % error at MB.
    #[test]
    fn sizes_decimal_and_binary() {
        assert_eq!(parse_size("20MB"), Ok(20_000_000));
        assert_eq!(parse_size("20MiB"), Ok(20 * 1024 * 1024));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("20XB")
            .unwrap_err()
            .contains("unknown unit `XB`"));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("20Mb").is_err());
    }

    /// dive users' files must keep meaning what dive made of them.
    #[test]
    fn dive_sizes_follow_humanize() {
        assert_eq!(parse_dive_size("20MB"), Ok(20_000_000));
        assert_eq!(parse_dive_size("20mb"), Ok(20_000_000));
        assert_eq!(parse_dive_size("20M"), Ok(20_000_000));
        assert_eq!(parse_dive_size("1MiB"), Ok(1 << 20));
    }

    #[test]
    fn percents_need_the_sign() {
        assert_eq!(parse_percent("5%"), Ok(5.0));
        assert_eq!(parse_percent("12.5 %"), Ok(12.5));
        assert!(parse_percent("5").is_err());
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("five%").is_err());
    }
}
