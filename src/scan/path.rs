//! Lexical path normalisation inside the image root. Tar names are bytes, not
//! necessarily UTF-8, and may carry `./`, `//`, a leading `/` or `..`; none of that
//! may ever let a path leave the root.

/// A normalised path and whether normalising it had to stop a climb out of the root.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Normalized {
    pub path: Vec<u8>,
    pub escaped: bool,
}

/// Normalises `raw` relative to the root: `.` and empty components vanish, `..`
/// pops one component and is clamped at the root (and reported).
pub(crate) fn normalize(raw: &[u8]) -> Normalized {
    let mut path = Vec::new();
    let escaped = normalize_into(raw, &mut path);
    Normalized { path, escaped }
}

/// [`normalize`] into `out` (replacing its contents), so a walk reuses one
/// buffer for every member; true when a climb out of the root was stopped.
pub(crate) fn normalize_into(raw: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    if is_normal(raw) {
        // Nearly every name is already normal: one copy, no list of components.
        out.extend_from_slice(raw);
        return false;
    }
    let mut escaped = false;
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                if out.is_empty() {
                    escaped = true;
                }
                out.truncate(cut);
            }
            p => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(p);
            }
        }
    }
    escaped
}

/// No leading, trailing or doubled `/`, and no `.` or `..` component.
fn is_normal(raw: &[u8]) -> bool {
    raw.split(|&b| b == b'/')
        .all(|part| !matches!(part, b"" | b"." | b".."))
        || raw.is_empty()
}

/// The path as shown to people: a leading `/`, UTF-8 as is, other bytes as `\xNN`,
/// control characters escaped so a name cannot break a line or a table.
pub(crate) fn display_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    push_escaped(&mut out, path);
    out
}

/// An error text that came from parsing hostile bytes (the tar crate quotes raw
/// header fields): control and replacement characters escaped, length capped, so
/// the message stays one readable line.
pub(crate) fn clean_message(msg: &str) -> String {
    let mut out = String::new();
    for c in msg.chars() {
        if out.len() >= 512 {
            out.push('…');
            break;
        }
        match c {
            '\u{fffd}' => out.push('?'),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn push_escaped(out: &mut String, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                push_str_escaped(out, s);
                return;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // valid_up_to guarantees `good` is UTF-8.
                push_str_escaped(out, std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

fn push_str_escaped(out: &mut String, s: &str) {
    // Runs that need no escape are copied whole: a name is mostly such a run, and
    // a character at a time made this the largest cost of 200 KB names.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        out.push_str(s);
        return;
    }
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '\\' => "\\\\".to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            _ => continue,
        };
        out.push_str(&s[run..i]);
        out.push_str(&escaped);
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_dots_slashes_and_trailing_separators() {
        assert_eq!(normalize(b"./usr//lib/./x/").path, b"usr/lib/x");
        assert_eq!(normalize(b"/etc/passwd").path, b"etc/passwd");
        assert_eq!(normalize(b"./").path, b"");
    }

    #[test]
    fn dotdot_never_leaves_the_root() {
        let n = normalize(b"../../etc/shadow");
        assert_eq!(n.path, b"etc/shadow");
        assert!(n.escaped);
        let n = normalize(b"a/b/../c");
        assert_eq!(n.path, b"a/c");
        assert!(!n.escaped);
    }

    #[test]
    fn displays_non_utf8_and_control_bytes_escaped() {
        assert_eq!(display_path(b"caf\xe9/a\nb"), "/caf\\xe9/a\\x0ab");
        assert_eq!(display_path("café".as_bytes()), "/café");
        assert_eq!(display_path(b"a\\b"), "/a\\\\b");
    }
}
