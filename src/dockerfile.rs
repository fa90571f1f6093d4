//! Reading a Dockerfile into instructions: the one parser the advice (pointing at lines)
//! and `cache-key` (rewriting download steps) share. Pure: takes text, returns values.
//!
//! What it understands: comment lines, line continuations (a trailing `\`, the default
//! escape; parser directives that change it are not read), keywords in any case, and
//! heredocs (`RUN <<EOF`, `<<-EOF` with leading tabs stripped, quoted delimiters), whose
//! bodies are kept apart from the instruction's arguments. Each instruction keeps the
//! lines it spans, so an edit can be placed exactly before it.

/// One logical instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instruction {
    /// 1-based line the instruction starts on.
    pub line: usize,
    /// 1-based last line, heredoc bodies included.
    pub(crate) end_line: usize,
    /// Upper-cased keyword (`RUN`, `FROM`, …).
    pub(crate) keyword: String,
    /// Everything after the keyword, continuation lines joined by a space.
    pub args: String,
    /// Heredoc bodies, in order, each with its lines joined by `\n`.
    pub heredocs: Vec<String>,
}

impl Instruction {
    /// The shell script a `RUN` executes: its heredoc bodies when it has any (the
    /// `<<EOF` word itself runs nothing), else its arguments.
    pub(crate) fn script(&self) -> String {
        if self.heredocs.is_empty() {
            self.args.clone()
        } else {
            self.heredocs.join("\n")
        }
    }
}

/// Every instruction of `text`, in order.
pub(crate) fn parse(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        loop {
            let t = lines[i].trim();
            // A comment inside a continued instruction is skipped, as Docker does.
            if !(i > start && t.starts_with('#')) {
                let (body, continues) = match t.strip_suffix('\\') {
                    Some(b) => (b.trim_end(), true),
                    None => (t, false),
                };
                joined.push(' ');
                joined.push_str(body);
                if !continues {
                    break;
                }
            }
            if i + 1 >= lines.len() {
                break;
            }
            i += 1;
        }
        let joined = joined.trim();
        let (keyword, args) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((joined, ""));
        let mut heredocs = Vec::new();
        for (delimiter, strip_tabs) in heredoc_delimiters(args) {
            let mut body = Vec::new();
            while i + 1 < lines.len() {
                i += 1;
                let line = if strip_tabs {
                    lines[i].trim_start_matches('\t')
                } else {
                    lines[i]
                };
                if line.trim_end() == delimiter {
                    break;
                }
                body.push(line);
            }
            heredocs.push(body.join("\n"));
        }
        out.push(Instruction {
            line: start + 1,
            end_line: i + 1,
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_string(),
            heredocs,
        });
        i += 1;
    }
    out
}

/// The heredoc delimiters an instruction opens (`<<EOF`, `<<-EOF`, `<<"EOF"`), in order.
fn heredoc_delimiters(args: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        let after = &rest[at + 2..];
        let (after, strip_tabs) = match after.strip_prefix('-') {
            Some(a) => (a, true),
            None => (after, false),
        };
        let word: String = after
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|' | '>' | '<'))
            .collect();
        let delimiter = word.trim_matches(|c| c == '"' || c == '\'');
        let is_word = !delimiter.is_empty()
            && delimiter
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if is_word {
            found.push((delimiter.to_string(), strip_tabs));
        }
        rest = &after[word.len().min(after.len())..];
    }
    found
}

/// Drops leading `--flag=value` words (`--mount=…`, `--chmod=…`, `--from=…`).
pub(crate) fn strip_flags(args: &str) -> &str {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim_start();
    }
    rest
}

/// `ARG NAME=default` values in force at each instruction: global ARGs (before the
/// first `FROM`) and the current stage's. A global ARG is visible in a stage only when
/// the stage re-declares it, as Docker scopes them; its default carries over.
pub(crate) fn arg_defaults(instructions: &[Instruction]) -> Vec<Vec<(String, String)>> {
    let mut global: Vec<(String, String)> = Vec::new();
    let mut stage: Option<Vec<(String, String)>> = None;
    let mut out = Vec::with_capacity(instructions.len());
    for ins in instructions {
        match ins.keyword.as_str() {
            "FROM" => stage = Some(Vec::new()),
            "ARG" => {
                for word in ins.args.split_whitespace() {
                    let (name, value) = match word.split_once('=') {
                        Some((n, v)) => (n, Some(v.trim_matches('"').to_string())),
                        None => (word, None),
                    };
                    match &mut stage {
                        None => {
                            if let Some(v) = value {
                                global.push((name.to_string(), v));
                            }
                        }
                        Some(vars) => {
                            let inherited = global
                                .iter()
                                .rev()
                                .find(|(n, _)| n == name)
                                .map(|(_, v)| v.clone());
                            if let Some(v) = value.or(inherited) {
                                vars.push((name.to_string(), v));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        out.push(stage.clone().unwrap_or_default());
    }
    out
}

/// Expands `$NAME` and `${NAME}` from `vars`; `Err(name)` names the first variable that
/// has no value.
pub(crate) fn expand(text: &str, vars: &[(String, String)]) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, used) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => return Err(after.to_string()),
            }
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..len], len)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        match vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => out.push_str(v),
            None => return Err(name.to_string()),
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_join_and_keep_their_line_span() {
        let ins = parse("# c\nFROM base\nRUN a \\\n  && b\n\nrun c\n");
        assert_eq!(ins.len(), 3);
        assert_eq!((ins[1].line, ins[1].end_line), (3, 4));
        assert_eq!(ins[1].args, "a && b");
        assert_eq!(ins[2].keyword, "RUN");
        assert_eq!(ins[2].line, 6);
    }

    #[test]
    fn heredoc_bodies_are_the_script() {
        let df = "FROM x\nRUN <<EOF\nwget http://h/f\nchmod +x f\nEOF\nRUN <<-'END' bash\n\tcurl -o g http://h/g\n\tEND\nCOPY a b\n";
        let ins = parse(df);
        assert_eq!(ins.len(), 4);
        assert_eq!(ins[1].script(), "wget http://h/f\nchmod +x f");
        assert_eq!((ins[1].line, ins[1].end_line), (2, 5));
        assert_eq!(ins[2].script(), "curl -o g http://h/g");
        assert_eq!(ins[3].line, 9);
    }

    #[test]
    fn a_comment_inside_a_continuation_is_skipped() {
        let ins = parse("RUN a \\\n# note\n  && b\n");
        assert_eq!(ins[0].args, "a && b");
        assert_eq!(ins[0].end_line, 3);
    }

    #[test]
    fn args_are_scoped_like_docker() {
        let ins = parse("ARG V=1\nARG U=9\nFROM a\nARG V\nRUN x\nFROM b\nARG W=3\nRUN y\n");
        let vars = arg_defaults(&ins);
        assert_eq!(vars[4], [("V".to_string(), "1".to_string())]);
        assert_eq!(vars[7], [("W".to_string(), "3".to_string())]);
    }

    #[test]
    fn expansion_reports_the_missing_name() {
        let vars = [("V".to_string(), "1.2".to_string())];
        assert_eq!(
            expand("http://h/t-${V}/$V.tgz", &vars).unwrap(),
            "http://h/t-1.2/1.2.tgz"
        );
        assert_eq!(expand("http://h/${X}", &vars), Err("X".to_string()));
        assert_eq!(expand("cost $ 5", &vars).unwrap(), "cost $ 5");
    }
}
