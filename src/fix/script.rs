//! The shell text of one `RUN`, as written, cut into its top-level commands (the parts
//! joined by `&&` or `;`, or by newlines in a heredoc body) with their byte spans, so a
//! command can be taken out or added while every other byte, continuation and
//! indentation stays as the author wrote it.
//!
//! The scanner knows quotes, `$(…)`, backticks, parentheses, braces and the compound
//! keywords (`if … fi`, `for … done`, `case … esac`): a separator inside them does not
//! cut. It reports a shell comment and unbalanced text, and the rewrites refuse both: a
//! `#` in a continued `RUN` comments out everything after it, so nothing may be added.

/// A byte range of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
}

/// A script cut into its top-level commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scan {
    pub(crate) units: Vec<Span>,
    /// The script holds a shell comment.
    pub comment: bool,
    /// Quotes, parentheses and compound commands all close.
    pub(crate) balanced: bool,
}

const OPENERS: &[&str] = &["if", "case", "for", "while", "until", "select"];
const CLOSERS: &[&str] = &["fi", "esac", "done"];
/// Words after which the next word is again a command.
const KEEP_COMMAND: &[&str] = &["then", "do", "else", "elif", "!", "{", "time"];

/// Cuts `text` into top-level commands. `heredoc`: a newline ends a command (a heredoc
/// body); otherwise a `\`-newline is a continuation and a `#` line inside it is a
/// Dockerfile comment, dropped before the shell sees the script.
pub(super) fn scan(text: &str, heredoc: bool) -> Scan {
    let b = text.as_bytes();
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut depth: i32 = 0;
    let mut comment = false;
    let mut balanced = true;
    let mut command_position = true;
    let mut i = 0;
    let close = |units: &mut Vec<Span>, start: &mut Option<usize>, end: usize| {
        if let Some(s) = start.take() {
            units.push(Span { start: s, end });
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                let next = if b.get(i + 1) == Some(&b'\r') {
                    i + 2
                } else {
                    i + 1
                };
                if b.get(next) == Some(&b'\n') {
                    // A continuation: whitespace to the shell.
                    i = next + 1;
                    if !heredoc {
                        i = skip_comment_lines(b, i);
                    }
                    continue;
                }
                start.get_or_insert(i);
                i = (i + 2).min(b.len());
                end = i;
                command_position = false;
            }
            b'\'' | b'"' | b'`' => {
                start.get_or_insert(i);
                match closing_quote(b, i) {
                    Some(j) => i = j + 1,
                    None => {
                        balanced = false;
                        i = b.len();
                    }
                }
                end = i;
                command_position = false;
            }
            b'#' if is_word_start(b, i) => {
                comment = true;
                // To the end of the line in a heredoc; to the end of everything when the
                // lines are joined into one.
                i = if heredoc {
                    b[i..]
                        .iter()
                        .position(|&x| x == b'\n')
                        .map_or(b.len(), |p| i + p)
                } else {
                    b.len()
                };
            }
            b'&' if b.get(i + 1) == Some(&b'&') => {
                if depth == 0 {
                    close(&mut units, &mut start, end);
                }
                i += 2;
                command_position = true;
            }
            b';' => {
                if depth == 0 && b.get(i + 1) != Some(&b';') {
                    close(&mut units, &mut start, end);
                }
                i += if b.get(i + 1) == Some(&b';') { 2 } else { 1 };
                command_position = true;
            }
            b'|' | b'&' => {
                i += if b.get(i + 1) == Some(&b'|') { 2 } else { 1 };
                end = i;
                command_position = true;
            }
            b'\n' => {
                if heredoc && depth == 0 {
                    close(&mut units, &mut start, end);
                    command_position = true;
                }
                i += 1;
            }
            b'(' => {
                start.get_or_insert(i);
                depth += 1;
                i += 1;
                end = i;
                command_position = true;
            }
            b'$' if b.get(i + 1) == Some(&b'(') => {
                start.get_or_insert(i);
                depth += 1;
                i += 2;
                end = i;
                command_position = true;
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                // `${VAR…}` is part of a word.
                start.get_or_insert(i);
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'}')
                    .map_or(b.len(), |p| i + p + 1);
                end = i;
                command_position = false;
            }
            b')' => {
                depth -= 1;
                i += 1;
                end = i;
            }
            b'}' if is_word_start(b, i) => {
                depth -= 1;
                i += 1;
                end = i;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let word_end = b[i..]
                    .iter()
                    .position(|&x| {
                        x.is_ascii_whitespace()
                            || matches!(
                                x,
                                b';' | b'&' | b'|' | b'(' | b')' | b'\'' | b'"' | b'`' | b'\\'
                            )
                    })
                    .map_or(b.len(), |p| i + p);
                let word = &text[i..word_end];
                start.get_or_insert(i);
                if command_position {
                    if OPENERS.contains(&word) || word == "{" {
                        depth += 1;
                    } else if CLOSERS.contains(&word) {
                        depth -= 1;
                    }
                    command_position = KEEP_COMMAND.contains(&word)
                        || OPENERS.contains(&word)
                        || is_assignment(word);
                }
                i = word_end.max(i + 1);
                end = i;
            }
        }
    }
    close(&mut units, &mut start, end);
    if depth != 0 {
        balanced = false;
    }
    Scan {
        units,
        comment,
        balanced,
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(n, _)| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_word_start(b: &[u8], i: usize) -> bool {
    i == 0 || b[i - 1].is_ascii_whitespace() || matches!(b[i - 1], b';' | b'&' | b'|' | b'(')
}

/// The index of the quote closing the one at `i`.
fn closing_quote(b: &[u8], i: usize) -> Option<usize> {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' && q != b'\'' {
            j += 2;
            continue;
        }
        if b[j] == q {
            return Some(j);
        }
        j += 1;
    }
    None
}

/// Past the Dockerfile comment lines that follow a continuation.
fn skip_comment_lines(b: &[u8], mut i: usize) -> usize {
    loop {
        let line_end = b[i..].iter().position(|&x| x == b'\n').map(|p| i + p);
        let line = &b[i..line_end.unwrap_or(b.len())];
        let trimmed = line.iter().position(|c| !c.is_ascii_whitespace());
        match (trimmed, line_end) {
            (Some(t), Some(e)) if line[t] == b'#' => i = e + 1,
            _ => return i,
        }
    }
}

/// The shell words of one command, quotes removed, continuations as spaces, Dockerfile
/// comment lines dropped: enough to read `rm -rf /x "/y z"`.
pub(super) fn words(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let next = if b.get(i + 1) == Some(&b'\r') {
                i + 2
            } else {
                i + 1
            };
            if b.get(next) == Some(&b'\n') {
                if let Some(w) = word.take() {
                    out.push(w);
                }
                i = skip_comment_lines(b, next + 1);
                continue;
            }
            if let Some(&n) = b.get(i + 1) {
                word.get_or_insert_with(String::new).push(n as char);
            }
            i += 2;
            continue;
        }
        if c == b'\'' || c == b'"' {
            let close = closing_quote(b, i).unwrap_or(b.len());
            let inner = &text[i + 1..close.min(b.len())];
            word.get_or_insert_with(String::new).push_str(inner);
            i = close + 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            if let Some(w) = word.take() {
                out.push(w);
            }
            i += 1;
            continue;
        }
        // Keep multi-byte characters whole.
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        word.get_or_insert_with(String::new)
            .push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    if let Some(w) = word {
        out.push(w);
    }
    out
}

/// `text` without the commands at `drop` (indices into `units`), each taken out with one
/// separator so the rest keeps its layout; `None` when nothing would remain.
pub(super) fn remove_units(text: &str, units: &[Span], drop: &[usize]) -> Option<String> {
    let last = units.len().checked_sub(1)?;
    let mut dropped: Vec<usize> = drop.iter().copied().filter(|&d| d <= last).collect();
    dropped.sort_unstable();
    dropped.dedup();
    if dropped.len() == units.len() {
        return None;
    }
    // Runs of consecutive dropped commands, cut from the end so offsets stay valid.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for d in dropped {
        match runs.last_mut() {
            Some((_, b)) if *b + 1 == d => *b = d,
            _ => runs.push((d, d)),
        }
    }
    let mut out = text.to_string();
    for &(a, b) in runs.iter().rev() {
        let range = if a == 0 {
            units[0].start..units[b + 1].start
        } else {
            units[a - 1].end..units[b].end
        };
        out.replace_range(range, "");
    }
    Some(out)
}

/// `text` with `command` run after everything else, written the way the script already
/// continues its lines: on the same line (` && cmd`), on a new line led by `&&`, on a new
/// line after a trailing `&& \`, or as a new line of a heredoc body.
pub(super) fn append_unit(text: &str, units: &[Span], command: &str, heredoc: bool) -> String {
    let Some(last) = units.last() else {
        return command.to_string();
    };
    let line_start = text[..last.start].rfind('\n').map_or(0, |p| p + 1);
    let before = &text[line_start..last.start];
    let indent: String = before
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let insert = if heredoc {
        format!("\n{indent}{command}")
    } else {
        let joins_lines = text[..last.start].contains('\n');
        let spans_lines = text[last.start..last.end].contains('\n');
        if before.trim_start().starts_with("&&") || (spans_lines && !joins_lines) {
            // Leading `&&`, or one long command continued over lines.
            let indent = if spans_lines {
                let last_line = text[..last.end].rfind('\n').map_or(0, |p| p + 1);
                text[last_line..]
                    .chars()
                    .take_while(|c| *c == ' ' || *c == '\t')
                    .collect()
            } else {
                indent
            };
            format!(" \\\n{indent}&& {command}")
        } else if joins_lines && before.trim().is_empty() && line_start > 0 {
            // `… && \` at the end of the previous line.
            format!(" && \\\n{indent}{command}")
        } else {
            format!(" && {command}")
        }
    };
    let mut out = text.to_string();
    out.insert_str(last.end, &insert);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str, heredoc: bool) -> Vec<&str> {
        scan(t, heredoc)
            .units
            .iter()
            .map(|s| &t[s.start..s.end])
            .collect()
    }

    #[test]
    fn top_level_commands_are_cut_on_and_and_semicolon_only() {
        let t = "a x && b \"q && r\" || c; d | e && (f && g) && $(h && i) && if x; then y && z; fi";
        assert_eq!(
            texts(t, false),
            [
                "a x",
                "b \"q && r\" || c",
                "d | e",
                "(f && g)",
                "$(h && i)",
                "if x; then y && z; fi"
            ]
        );
        assert!(scan(t, false).balanced);
    }

    #[test]
    fn continuations_and_comment_lines_inside_them() {
        let t = "a \\\n# note\n && b \\\n    c";
        assert_eq!(texts(t, false), ["a", "b \\\n    c"]);
        assert!(!scan(t, false).comment);
        assert!(scan("make # build", false).comment);
        assert!(!scan("echo a#b", false).comment);
    }

    #[test]
    fn heredoc_lines_are_commands() {
        let t = "set -e\napt-get update\nfor x in a b; do\n  echo $x\ndone\n";
        assert_eq!(
            texts(t, true),
            [
                "set -e",
                "apt-get update",
                "for x in a b; do\n  echo $x\ndone"
            ]
        );
    }

    #[test]
    fn words_drop_quotes_and_continuations() {
        assert_eq!(
            words("rm -rf \\\n  /x \"/y z\" '/w'"),
            ["rm", "-rf", "/x", "/y z", "/w"]
        );
    }

    #[test]
    fn removal_keeps_the_layout_of_what_stays() {
        let lead = "a \\\n && rm x \\\n && b";
        let s = scan(lead, false).units;
        assert_eq!(remove_units(lead, &s, &[1]).unwrap(), "a \\\n && b");
        assert_eq!(remove_units(lead, &s, &[0]).unwrap(), "rm x \\\n && b");
        assert_eq!(remove_units(lead, &s, &[2]).unwrap(), "a \\\n && rm x");
        assert_eq!(remove_units(lead, &s, &[0, 1, 2]), None);
        let trail = "a && \\\n    rm x && \\\n    b";
        let s = scan(trail, false).units;
        assert_eq!(remove_units(trail, &s, &[1]).unwrap(), "a && \\\n    b");
        let hd = "\ta\n\trm x\n\tb";
        let s = scan(hd, true).units;
        assert_eq!(remove_units(hd, &s, &[1]).unwrap(), "\ta\n\tb");
    }

    #[test]
    fn appending_follows_the_continuation_style() {
        let one = "make";
        assert_eq!(
            append_unit(one, &scan(one, false).units, "rm -rf /c", false),
            "make && rm -rf /c"
        );
        let lead = "a \\\n  && b";
        assert_eq!(
            append_unit(lead, &scan(lead, false).units, "rm -rf /c", false),
            "a \\\n  && b \\\n  && rm -rf /c"
        );
        let trail = "a && \\\n    b";
        assert_eq!(
            append_unit(trail, &scan(trail, false).units, "rm -rf /c", false),
            "a && \\\n    b && \\\n    rm -rf /c"
        );
        let long = "apt-get install -y \\\n    curl \\\n    git";
        assert_eq!(
            append_unit(long, &scan(long, false).units, "rm -rf /l/*", false),
            "apt-get install -y \\\n    curl \\\n    git \\\n    && rm -rf /l/*"
        );
        let hd = "\tset -e\n\tmake";
        assert_eq!(
            append_unit(hd, &scan(hd, true).units, "rm -rf /c", true),
            "\tset -e\n\tmake\n\trm -rf /c"
        );
    }
}
