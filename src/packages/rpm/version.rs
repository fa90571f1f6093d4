//! rpm's version order: epoch first (missing = 0), then version, then release,
//! each compared with `rpmvercmp` (rpmio/rpmvercmp.c): runs of digits compared
//! as numbers and beating letters, letters compared as bytes, separators only
//! separating; `~` sorts before everything, even the end (pre-releases:
//! `1.0~rc1` < `1.0`); `^` sorts after the end but before anything else
//! (snapshots after a release: `1.0` < `1.0^git1` < `1.0.1`).

use std::cmp::Ordering;

/// Compares two `[EPOCH:]VERSION[-RELEASE]` strings as rpm would.
pub(crate) fn compare_evr(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split(a);
    let (eb, vb, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| rpmvercmp(va.as_bytes(), vb.as_bytes()))
        .then_with(|| rpmvercmp(ra.as_bytes(), rb.as_bytes()))
}

fn split(evr: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match evr.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, evr),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, r),
        None => (epoch, rest, ""),
    }
}

/// rpm's segment comparison of one version or release string.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut i, mut j) = (0, 0);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        if x == Some(b'~') || y == Some(b'~') {
            if x != Some(b'~') {
                return Ordering::Greater;
            }
            if y != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if x == Some(b'^') || y == Some(b'^') {
            match (x, y) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(b'^'), Some(b'^')) => {
                    i += 1;
                    j += 1;
                    continue;
                }
                (Some(b'^'), _) => return Ordering::Less,
                _ => return Ordering::Greater,
            }
        }
        let (Some(x), Some(_)) = (x, y) else {
            break;
        };
        let numeric = x.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let end_a = i + a[i..].iter().take_while(|c| class(c)).count();
        let end_b = j + b[j..].iter().take_while(|c| class(c)).count();
        let (mut sa, mut sb) = (&a[i..end_a], &b[j..end_b]);
        // A number against letters: the number is newer.
        if sb.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        if numeric {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = end_a;
        j = end_b;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Cases from rpm's own test suite (tests/rpmvercmp.at).
    #[test]
    fn rpmvercmp_agrees_with_rpms_test_suite() {
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "2.0", Less),
            ("2.0", "1.0", Greater),
            ("2.0.1", "2.0.1", Equal),
            ("2.0", "2.0.1", Less),
            ("2.0.1a", "2.0.1a", Equal),
            ("2.0.1a", "2.0.1", Greater),
            ("5.5p1", "5.5p10", Less),
            ("10xyz", "10.1xyz", Less),
            ("xyz10", "xyz10.1", Less),
            ("xyz.4", "8", Less),
            ("8", "xyz.4", Greater),
            ("5.5p2", "5.6p1", Less),
            ("5.6p1", "6.5p1", Less),
            ("6.0.rc1", "6.0", Greater),
            ("10b2", "10a1", Greater),
            ("1.0aa", "1.0a", Greater),
            ("10.0001", "10.1", Equal),
            ("10.0001", "10.0039", Less),
            ("4.999.9", "5.0", Less),
            ("20101121", "20101122", Less),
            ("2_0", "2_0", Equal),
            ("2.0", "2_0", Equal),
            ("a", "a", Equal),
            ("a+", "a_", Equal),
            ("+", "_", Equal),
            ("1.0~rc1", "1.0~rc1", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0~rc1", Greater),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0~rc1~git123", "1.0~rc1", Less),
            ("1.0^", "1.0^", Equal),
            ("1.0^", "1.0", Greater),
            ("1.0", "1.0^", Less),
            ("1.0^git1", "1.0^git1", Equal),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0^git2", Less),
            ("1.0^git1", "1.01", Less),
            ("1.0^20160101", "1.0.1", Less),
            ("1.0^20160101^git1", "1.0^20160101", Greater),
            ("1.0~rc1^git1", "1.0~rc1", Greater),
            ("1.0^git1~pre", "1.0^git1", Less),
        ] {
            assert_eq!(rpmvercmp(a.as_bytes(), b.as_bytes()), want, "{a} vs {b}");
        }
    }

    #[test]
    fn epoch_then_version_then_release() {
        assert_eq!(compare_evr("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(compare_evr("0:2.0-1", "2.0-1"), Equal);
        assert_eq!(compare_evr("2.0-1.el9", "2.0-10.el9"), Less);
        assert_eq!(compare_evr("3.0.7-16.el9_2", "3.0.7-16.el9"), Greater);
        assert_eq!(compare_evr("1.0-1", "1.0~beta-9"), Greater);
    }
}
