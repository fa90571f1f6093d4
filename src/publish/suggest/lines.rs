//! The pure half of the suggestions: which lines of the Dockerfile each edit of
//! `layergate fix` replaces and with what (one suggestion per changed run of lines, as
//! reviewers apply them), the comment bodies GitHub and GitLab turn into an "apply"
//! button, and which lines of the file a pull request's diff shows (a review comment
//! can only sit on those). No I/O.

use crate::fix::Plan;
use crate::human::human_bytes;
use crate::render::escape::{fence_for, md};
use crate::report::AdviceCode;

/// One suggestion: lines `start..=end` of the file as it is in the pull request's head
/// (the file the image was built from) replaced by `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Suggestion {
    /// 1-based, inclusive.
    pub start: usize,
    pub end: usize,
    /// The new lines, without line ends; empty deletes the lines.
    pub replacement: Vec<String>,
    /// The changes this run of lines belongs to, in the plan's order.
    pub codes: Vec<AdviceCode>,
    /// What the reader reads above the suggestion (escaped Markdown, no marker).
    pub text: String,
}

/// The hidden tag every suggestion comment carries, so the next run finds (and
/// replaces) this run's suggestions. Not the sticky comment's marker: GitLab lists
/// diff notes with the other notes, and the sticky comment must never be taken for a
/// suggestion, nor a suggestion for the sticky comment.
pub(super) fn tag(key: &str) -> String {
    format!("<!-- layergate-suggestion:{key} -->")
}

/// Where a forge wants the range of a multi-line suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    /// The comment spans `start_line..=line`; the block replaces all of it.
    GitHub,
    /// The comment sits on `start`; ```` ```suggestion:-0+N ```` reaches N lines below.
    GitLab,
}

impl Suggestion {
    /// The comment body: tag, what the change does, and the suggestion block.
    pub(super) fn body(&self, key: &str, flavour: Flavour) -> String {
        let block = self.replacement.join("\n");
        let fence = fence_for(&block);
        let info = match flavour {
            Flavour::GitHub => "suggestion".to_string(),
            Flavour::GitLab => format!("suggestion:-0+{}", self.end - self.start),
        };
        let block = if block.is_empty() {
            block
        } else {
            block + "\n"
        };
        format!(
            "{}\n{}\n\n{fence}{info}\n{block}{fence}\n",
            tag(key),
            self.text
        )
    }
}

/// The suggestions that turn `original` into `plan.text`, one per run of changed lines
/// (no context), each labelled with the changes whose instructions it touches. An
/// inserted line has no line of its own to sit on, so it takes the line above it
/// (the end of the `RUN` it extends), or below it at the top of the file.
pub(super) fn suggestions(plan: &Plan, original: &str) -> Vec<Suggestion> {
    let old: Vec<&str> = original.lines().collect();
    let new: Vec<&str> = plan.text.lines().collect();
    if old.is_empty() {
        return Vec::new();
    }
    let spans: Vec<(usize, usize)> = crate::dockerfile::parse(original)
        .iter()
        .map(|i| (i.line, i.end_line))
        .collect();
    let diff = similar::TextDiff::from_lines(original, plan.text.as_str());
    let mut out = Vec::new();
    for group in diff.grouped_ops(0) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (o0, o1) = (first.old_range().start, last.old_range().end);
        let (n0, n1) = (first.new_range().start, last.new_range().end);
        let added = || new[n0..n1.min(new.len())].iter().map(|l| clean(l));
        let (start, end, replacement): (usize, usize, Vec<String>) = if o0 < o1 {
            (o0 + 1, o1, added().collect())
        } else if o0 > 0 {
            let above = clean(old[o0 - 1]);
            (o0, o0, std::iter::once(above).chain(added()).collect())
        } else {
            let below = clean(old[0]);
            (1, 1, added().chain(std::iter::once(below)).collect())
        };
        let touched = |line: &usize| {
            spans
                .iter()
                .find(|(first, _)| first == line)
                .is_some_and(|&(a, b)| a <= end && start <= b)
        };
        let mine: Vec<&crate::fix::Change> = plan
            .changes
            .iter()
            .filter(|c| c.lines.iter().any(touched))
            .collect();
        out.push(Suggestion {
            start,
            end,
            replacement,
            codes: mine.iter().map(|c| c.code).collect(),
            text: describe(&mine),
        });
    }
    out
}

/// A line as the suggestion block holds it: no line end (a CRLF file keeps its CR
/// out of the block; the forge writes the file's own line ends back).
fn clean(line: &str) -> String {
    line.trim_end_matches(['\n', '\r']).to_string()
}

fn describe(changes: &[&crate::fix::Change]) -> String {
    if changes.is_empty() {
        return "**layergate fix**: part of the rewrite (`layergate fix --write` makes all of it)."
            .into();
    }
    let mut out = String::new();
    for c in changes {
        let saving = c
            .bytes
            .map(|b| format!(" (saves {})", human_bytes(b)))
            .unwrap_or_default();
        out.push_str(&format!(
            "**layergate fix** · `{}`: {}{saving}\n",
            c.code,
            md(&c.summary)
        ));
        if let Some(note) = &c.note {
            out.push_str(&format!("> {}\n", md(note)));
        }
    }
    if changes.iter().any(|c| c.lines.len() > 1) {
        out.push_str("\nApply every suggestion of this change together: each one alone leaves the Dockerfile half edited.\n");
    }
    out.trim_end().to_string()
}

/// The lines of a file a pull request's diff shows: one entry per hunk, each line of
/// the new side with its line on the old side (`None`: an added line) and its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Shown {
    hunks: Vec<Vec<(usize, Option<usize>, String)>>,
}

impl Shown {
    /// From a unified diff's hunks (GitHub's `patch`, GitLab's `diff`); anything before
    /// the first `@@` (file headers) is skipped, as is a hunk header that does not parse.
    pub(super) fn parse(patch: &str) -> Shown {
        let mut hunks: Vec<Vec<(usize, Option<usize>, String)>> = Vec::new();
        let (mut old, mut new) = (0usize, 0usize);
        let mut inside = false;
        for line in patch.lines() {
            if let Some(head) = line.strip_prefix("@@ ") {
                match hunk_start(head) {
                    Some((o, n)) => {
                        (old, new, inside) = (o, n, true);
                        hunks.push(Vec::new());
                    }
                    None => inside = false,
                }
                continue;
            }
            let Some(current) = hunks.last_mut().filter(|_| inside) else {
                continue;
            };
            match line.as_bytes().first() {
                Some(b'+') => {
                    current.push((new, None, clean(&line[1..])));
                    new += 1;
                }
                Some(b'-') => old += 1,
                Some(b'\\') => {}
                // A context line (an empty line of context may come without its space).
                _ => {
                    current.push((new, Some(old), clean(line.get(1..).unwrap_or(""))));
                    new += 1;
                    old += 1;
                }
            }
        }
        Shown { hunks }
    }

    /// Whether lines `start..=end` all sit in one hunk (a comment cannot span two);
    /// with the old-side line of `start` when it is a context line (GitLab anchors an
    /// unchanged line by both).
    pub(super) fn anchor(&self, start: usize, end: usize) -> Option<Option<usize>> {
        self.hunks.iter().find_map(|h| {
            let at = h.iter().position(|(n, _, _)| *n == start)?;
            let covered = (start..=end).all(|l| h.iter().any(|(n, _, _)| *n == l));
            covered.then_some(h[at].1)
        })
    }

    /// Whether the lines `start..=end` the diff shows read as in `original` (the file the
    /// image was built from). When they do not, the pull request's head holds another
    /// version of the file, and a suggestion made from this one would replace the wrong
    /// text.
    pub(super) fn agrees(&self, start: usize, end: usize, original: &str) -> bool {
        let lines: Vec<&str> = original.lines().collect();
        self.hunks.iter().flatten().all(|(n, _, text)| {
            !(start..=end).contains(n) || lines.get(n - 1).is_some_and(|l| clean(l) == *text)
        })
    }
}

/// `-a,b +c,d @@ …` → the first old and new line numbers.
fn hunk_start(head: &str) -> Option<(usize, usize)> {
    let mut words = head.split_whitespace();
    let old = words.next()?.strip_prefix('-')?;
    let new = words.next()?.strip_prefix('+')?;
    let first = |s: &str| s.split(',').next()?.parse::<usize>().ok();
    Some((first(old)?, first(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Change, Plan};

    fn plan(text: &str, changes: Vec<Change>) -> Plan {
        Plan {
            changes,
            refused: Vec::new(),
            already_applied: Vec::new(),
            predicted_bytes: 0,
            text: text.to_string(),
        }
    }

    fn change(code: AdviceCode, lines: Vec<usize>, summary: &str) -> Change {
        Change {
            code,
            layers: vec![1],
            lines,
            bytes: Some(2048),
            summary: summary.to_string(),
            note: None,
        }
    }

    const BEFORE: &str = "FROM x\nRUN a \\\n && b\nRUN c\nRUN rm -rf /v\n";
    const AFTER: &str = "FROM x\nRUN a \\\n && b \\\n && rm -rf /v\nRUN c\n";

    /// A cleanup moved from line 5 to the RUN of lines 2-3: two suggestions, both
    /// labelled with the one change, the insertion sitting on the RUN's last line.
    #[test]
    fn a_moved_cleanup_gives_one_suggestion_per_run_of_lines() {
        let c = change(AdviceCode::CleanupInLaterLayer, vec![2, 5], "moved `rm`");
        let s = suggestions(&plan(AFTER, vec![c]), BEFORE);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!((s[0].start, s[0].end), (3, 3));
        assert_eq!(s[0].replacement, [" && b \\", " && rm -rf /v"]);
        assert_eq!((s[1].start, s[1].end), (5, 5));
        assert!(s[1].replacement.is_empty());
        assert_eq!(s[0].codes, [AdviceCode::CleanupInLaterLayer]);
        assert_eq!(s[1].codes, [AdviceCode::CleanupInLaterLayer]);
        assert!(s[0].text.contains("saves 2.0 KiB"), "{}", s[0].text);
        assert!(s[0].text.contains("together"), "{}", s[0].text);
    }

    /// Applying every suggestion (bottom-up, as separate clicks would) gives the rewrite,
    /// whatever the edit: insertions at the top, middle and end, deletions, replacements.
    #[test]
    fn applying_every_suggestion_gives_the_rewrite() {
        let pairs = [
            (BEFORE, AFTER),
            ("a\nb\nc\n", "x\na\nb\nc\ny\n"),
            ("a\nb\nc\nd\n", "a\nd\n"),
            ("a\nb\nc\nd\n", "b2\nc\nd\ne\n"),
            ("a\n", "\n"),
            ("a\nb\n", "a\nb\nc\nd\n"),
        ];
        for (before, after) in pairs {
            let mut lines: Vec<String> = before.lines().map(str::to_string).collect();
            let mut all = suggestions(&plan(after, vec![]), before);
            all.sort_by_key(|s| std::cmp::Reverse(s.start));
            for s in all {
                lines.splice(s.start - 1..s.end, s.replacement);
            }
            let got: String = lines.iter().map(|l| format!("{l}\n")).collect();
            assert_eq!(got, after, "{before:?} -> {after:?}");
        }
    }

    /// An insertion at the very top has no line above: it takes the first line.
    #[test]
    fn an_insertion_at_the_top_sits_on_the_first_line() {
        let s = suggestions(&plan("# syntax=x\nFROM x\n", vec![]), "FROM x\n");
        assert_eq!((s[0].start, s[0].end), (1, 1));
        assert_eq!(s[0].replacement, ["# syntax=x", "FROM x"]);
        assert!(s[0].codes.is_empty());
    }

    /// The bodies: GitHub's block replaces the commented range, GitLab's reaches down
    /// from the anchor; a deletion is an empty block; a backtick run cannot close it.
    #[test]
    fn bodies_carry_the_tag_and_the_block() {
        let s = Suggestion {
            start: 4,
            end: 6,
            replacement: vec!["RUN echo ```".into()],
            codes: vec![],
            text: "t".into(),
        };
        let gh = s.body("web", Flavour::GitHub);
        assert_eq!(
            gh,
            "<!-- layergate-suggestion:web -->\nt\n\n````suggestion\nRUN echo ```\n````\n"
        );
        assert!(s
            .body("web", Flavour::GitLab)
            .contains("````suggestion:-0+2\n"));
        let del = Suggestion {
            replacement: vec![],
            ..s
        };
        assert!(del
            .body("k", Flavour::GitHub)
            .ends_with("```suggestion\n```\n"));
    }

    /// Only lines inside one hunk can carry a comment; context lines know their old line.
    #[test]
    fn the_diff_says_which_lines_can_carry_a_comment() {
        let patch = "@@ -1,3 +1,4 @@\n FROM x\n+RUN a\n RUN b\n RUN c\n@@ -10,2 +11,2 @@ RUN\n-old\n+new\n \n";
        let shown = Shown::parse(patch);
        assert_eq!(shown.anchor(1, 4), Some(Some(1)));
        assert_eq!(shown.anchor(2, 2), Some(None));
        assert_eq!(shown.anchor(4, 11), None, "two hunks");
        assert_eq!(shown.anchor(11, 12), Some(None));
        assert_eq!(shown.anchor(12, 12), Some(Some(11)));
        assert_eq!(shown.anchor(5, 5), None);
        let new_file = Shown::parse("@@ -0,0 +1,2 @@\n+FROM x\n+RUN y\n");
        assert_eq!(new_file.anchor(1, 2), Some(None));
        assert_eq!(Shown::parse("Binary files differ").anchor(1, 1), None);
    }

    /// A diff of another version of the file (the image built from an older commit)
    /// must not receive suggestions made from this one.
    #[test]
    fn the_diff_must_show_the_same_text() {
        let shown = Shown::parse("@@ -1,2 +1,3 @@\n FROM x\n+RUN a\n RUN b\n");
        assert!(shown.agrees(1, 3, "FROM x\nRUN a\nRUN b\n"));
        assert!(
            shown.agrees(2, 2, "FROM x\r\nRUN a\r\nRUN c\r\n"),
            "only the range counts"
        );
        assert!(!shown.agrees(2, 3, "FROM x\nRUN a\nRUN c\n"));
        assert!(!shown.agrees(3, 3, "FROM x\nRUN a\n"));
    }
}
