//! The Dockerfile being rewritten: its lines as read, the parsed instructions, and the
//! current text of each instruction. Rewrites replace or delete whole instructions (or
//! put a line before one); rendering copies every other byte from the original, so
//! comments, blank lines, heredocs and line endings stay exactly as they were.

use crate::dockerfile::{parse, strip_flags, Instruction};

use super::script::{scan, Scan};

pub(crate) struct Doc {
    /// The original lines, each with its line ending.
    segments: Vec<String>,
    pub(crate) instructions: Vec<Instruction>,
    /// Current text per instruction (its lines joined, last line ending left off);
    /// `None` once deleted.
    texts: Vec<Option<String>>,
    endings: Vec<String>,
    /// Lines put before an instruction.
    before: Vec<Vec<String>>,
}

impl Doc {
    pub(crate) fn new(text: &str) -> Doc {
        let segments: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        let instructions = parse(text);
        let mut texts = Vec::with_capacity(instructions.len());
        let mut endings = Vec::with_capacity(instructions.len());
        for ins in &instructions {
            let from = (ins.line - 1).min(segments.len());
            let to = ins.end_line.min(segments.len());
            let mut raw = segments[from..to].concat();
            let ending = if raw.ends_with("\r\n") {
                "\r\n"
            } else if raw.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            raw.truncate(raw.len() - ending.len());
            texts.push(Some(raw));
            endings.push(ending.to_string());
        }
        let n = instructions.len();
        Doc {
            segments,
            instructions,
            texts,
            endings,
            before: vec![Vec::new(); n],
        }
    }

    /// The instruction's current text; `None` when it was deleted.
    pub(crate) fn text(&self, i: usize) -> Option<&str> {
        self.texts.get(i).and_then(|t| t.as_deref())
    }

    pub(crate) fn set(&mut self, i: usize, text: String) {
        self.texts[i] = Some(text);
    }

    pub(crate) fn delete(&mut self, i: usize) {
        self.texts[i] = None;
    }

    pub(crate) fn before(&self, i: usize) -> &[String] {
        &self.before[i]
    }

    pub(crate) fn insert_before(&mut self, i: usize, line: String) {
        self.before[i].push(line);
    }

    /// The file as rewritten.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let mut line = 1;
        let mut next = 0;
        while line <= self.segments.len() {
            if let Some(ins) = self.instructions.get(next).filter(|ins| ins.line == line) {
                let ending = if self.endings[next].is_empty() {
                    "\n"
                } else {
                    &self.endings[next]
                };
                for extra in &self.before[next] {
                    out.push_str(extra);
                    out.push_str(ending);
                }
                if let Some(text) = &self.texts[next] {
                    out.push_str(text);
                    out.push_str(&self.endings[next]);
                }
                line = ins.end_line.max(ins.line) + 1;
                next += 1;
                continue;
            }
            out.push_str(&self.segments[line - 1]);
            line += 1;
        }
        out
    }
}

/// A `RUN` cut into the part before its script (keyword and flags, or the heredoc's
/// opening line), the script, and what follows it (a heredoc's closing line).
#[derive(Debug, Clone)]
pub(super) struct RunText {
    pub head: String,
    pub script: String,
    pub tail: String,
    pub heredoc: bool,
    /// The flags, in order (`--mount=…`).
    pub flags: Vec<String>,
}

impl RunText {
    /// Reads one `RUN`'s current text; `Err` says why it cannot be edited.
    pub(super) fn parse(text: &str) -> Result<RunText, String> {
        let lead = text.len() - text.trim_start().len();
        let after_kw = text[lead..]
            .find(char::is_whitespace)
            .map_or(text.len(), |p| lead + p);
        let mut at = after_kw;
        let mut flags = Vec::new();
        loop {
            let rest = &text[at..];
            let skip = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let word_at = at + skip;
            if text[word_at..].starts_with("--") {
                let end = text[word_at..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |p| word_at + p);
                flags.push(text[word_at..end].to_string());
                at = end;
            } else {
                at = word_at;
                break;
            }
        }
        let script = &text[at..];
        if script.starts_with('[') {
            return Err("it is in exec form (`RUN [\"…\"]`)".to_string());
        }
        if script.starts_with("<<") {
            let Some(first_nl) = text.find('\n') else {
                return Err("its heredoc has no body".to_string());
            };
            if text[..first_nl].trim_end().ends_with('\\')
                || text[..first_nl].matches("<<").count() > 1
            {
                return Err(
                    "its heredoc opening line is continued or holds several heredocs".to_string(),
                );
            }
            let last_nl = text.rfind('\n').unwrap_or(first_nl);
            let body = if last_nl > first_nl {
                &text[first_nl + 1..last_nl]
            } else {
                ""
            };
            return Ok(RunText {
                head: text[..first_nl + 1].to_string(),
                script: body.to_string(),
                tail: text[last_nl..].to_string(),
                heredoc: true,
                flags,
            });
        }
        if text.contains("<<")
            && crate::dockerfile::parse(text)
                .first()
                .is_some_and(|i| !i.heredocs.is_empty())
        {
            return Err("its heredoc is data for a command, not the script".to_string());
        }
        Ok(RunText {
            head: text[..at].to_string(),
            script: script.to_string(),
            tail: String::new(),
            heredoc: false,
            flags,
        })
    }

    pub(super) fn join(&self) -> String {
        format!("{}{}{}", self.head, self.script, self.tail)
    }

    /// The script's commands; `Err` when it holds a comment or does not balance.
    pub(super) fn scan(&self) -> Result<Scan, String> {
        let s = scan(&self.script, self.heredoc);
        if s.comment && !self.heredoc {
            return Err(
                "its script holds a shell comment, which would swallow anything added".to_string(),
            );
        }
        if !s.balanced {
            return Err("its script has unbalanced quotes or brackets".to_string());
        }
        Ok(s)
    }

    /// Adds a flag right after the keyword.
    pub(super) fn add_flag(&mut self, flag: &str) {
        let lead = self.head.len() - self.head.trim_start().len();
        let kw_end = self.head[lead..]
            .find(char::is_whitespace)
            .map_or(self.head.len(), |p| lead + p);
        self.head.insert_str(kw_end, &format!(" {flag}"));
        self.flags.push(flag.to_string());
    }
}

/// The words of a COPY/ADD: flags, sources and destination (shell or JSON form).
#[derive(Debug, Clone)]
pub(super) struct CopyArgs {
    pub flags: Vec<String>,
    pub(crate) sources: Vec<String>,
    pub dest: String,
}

impl CopyArgs {
    pub(super) fn parse(ins: &Instruction) -> Option<CopyArgs> {
        let flags: Vec<String> = ins
            .args
            .split_whitespace()
            .take_while(|w| w.starts_with("--"))
            .map(str::to_owned)
            .collect();
        let rest = strip_flags(&ins.args).trim();
        let mut words: Vec<String> = if rest.starts_with('[') {
            serde_json::from_str(rest).ok()?
        } else {
            if !ins.heredocs.is_empty() {
                return None;
            }
            rest.split_whitespace().map(str::to_owned).collect()
        };
        let dest = words.pop()?;
        if words.is_empty() {
            return None;
        }
        Some(CopyArgs {
            flags,
            sources: words,
            dest,
        })
    }

    pub(super) fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Adds `flag` right after the keyword of a COPY/ADD's text.
pub(super) fn add_copy_flag(text: &str, flag: &str) -> String {
    let lead = text.len() - text.trim_start().len();
    let kw_end = text[lead..]
        .find(char::is_whitespace)
        .map_or(text.len(), |p| lead + p);
    let mut out = text.to_string();
    out.insert_str(kw_end, &format!(" {flag}"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untouched_document_renders_byte_for_byte() {
        for text in [
            "# c\nFROM a\r\nRUN x \\\n  && y\n\n# end",
            "FROM a\nRUN <<EOF\nset -e\nEOF\nCOPY a b\n",
            "",
            "\n\n",
        ] {
            assert_eq!(Doc::new(text).render(), text);
        }
    }

    #[test]
    fn edits_replace_delete_and_insert_whole_instructions() {
        let mut d = Doc::new("FROM a\n# keep\nRUN x \\\n  && y\nRUN z\n");
        d.set(1, "RUN x".to_string());
        d.delete(2);
        assert_eq!(d.render(), "FROM a\n# keep\nRUN x\n");
        let mut d = Doc::new("FROM a\nRUN z\n");
        d.insert_before(1, "COPY k /k".to_string());
        assert_eq!(d.render(), "FROM a\nCOPY k /k\nRUN z\n");
    }

    #[test]
    fn run_text_splits_flags_script_and_heredoc() {
        let r = RunText::parse("RUN --mount=type=cache,target=/c make \\\n && x").unwrap();
        assert_eq!(r.head, "RUN --mount=type=cache,target=/c ");
        assert_eq!(r.script, "make \\\n && x");
        assert_eq!(r.flags, ["--mount=type=cache,target=/c"]);
        let mut h = RunText::parse("RUN <<EOF\nset -e\nmake\nEOF").unwrap();
        assert!(h.heredoc);
        assert_eq!(h.script, "set -e\nmake");
        assert_eq!(h.tail, "\nEOF");
        h.add_flag("--mount=type=cache,target=/c");
        assert_eq!(
            h.join(),
            "RUN --mount=type=cache,target=/c <<EOF\nset -e\nmake\nEOF"
        );
        assert!(RunText::parse("RUN [\"make\"]").is_err());
        assert!(RunText::parse("RUN cat <<EOF > /f\nx\nEOF").is_err());
    }
}
