//! Human-readable sizes and plain-text tables for terminals.

/// `1.5 MiB`-style sizes (binary units, as `du -h` and dive show them).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Layers as the reports name them: `L1, L3`.
pub(crate) fn layer_list<'a>(layers: impl IntoIterator<Item = &'a usize>) -> String {
    layers
        .into_iter()
        .map(|l| format!("L{l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a figure nobody measured shows (a report from manifests only): never 0.
pub(crate) const NOT_MEASURED: &str = "not measured";

/// A size that may not have been measured.
pub(crate) fn maybe_bytes(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| NOT_MEASURED.to_string(), human_bytes)
}

/// A count that may not have been measured.
pub(crate) fn maybe_count(n: Option<u64>) -> String {
    n.map_or_else(|| NOT_MEASURED.to_string(), |n| n.to_string())
}

/// A ratio (0..=1) as `97.50 %`, or "not measured".
pub(crate) fn maybe_percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(
        || NOT_MEASURED.to_string(),
        |r| format!("{:.2} %", r * 100.0),
    )
}

/// Signed sizes for deltas: `+1.5 MiB`, `-12 B`, `0 B`.
pub(crate) fn human_delta(delta: i128) -> String {
    let mag = human_bytes(delta.unsigned_abs().min(u64::MAX as u128) as u64);
    match delta.signum() {
        1 => format!("+{mag}"),
        -1 => format!("-{mag}"),
        _ => mag,
    }
}

/// A table with a header row, columns padded to their widest cell; columns listed
/// in `right` are right-aligned (numbers).
pub(crate) fn table(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(cell.chars().count());
            let last = i + 1 == cells.len();
            if right.contains(&i) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if !last {
                    out.push_str(&" ".repeat(pad));
                }
            }
            if !last {
                out.push_str("  ");
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// Shortens a one-line string to `max` characters with an ellipsis.
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        one_line
            .chars()
            .take(max.saturating_sub(1))
            .collect::<String>()
            + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1_572_864), "1.5 MiB");
        assert_eq!(human_delta(-2048), "-2.0 KiB");
        assert_eq!(human_delta(0), "0 B");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(&["a", "num"], &[vec!["xyz".into(), "5".into()]], &[1]);
        assert_eq!(t, "a    num\nxyz    5\n");
    }
}
