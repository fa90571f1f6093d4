//! Reading a layer's `created_by` back into the Dockerfile step that made it.
//!
//! Builders record history in several shapes, and the advice must read them all:
//! - classic builder / buildah: `/bin/sh -c apt-get …`, `/bin/sh -c #(nop) COPY file:… in /x`;
//! - with build args: `|1 PORT=80 /bin/sh -c wget …` (the count, then that many `K=V`);
//! - BuildKit: `RUN /bin/sh -c apt-get … # buildkit`, `COPY src /x # buildkit`,
//!   `ADD --checksum=sha256:… https://… /x # buildkit`.
//!
//! The shell splitter here is deliberately rough (no quoting rules): it only has to find
//! which programs a script runs and with which words, to tell `curl` the command from
//! `apt-get install curl`.

/// The kind of Dockerfile step a layer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Run,
    Copy,
    Add,
    /// Base-image tooling, hand-made layers, or history that does not say.
    Other,
}

impl Step {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Step::Run => "RUN",
            Step::Copy => "COPY",
            Step::Add => "ADD",
            Step::Other => "step",
        }
    }
}

/// A layer's step and its text: the shell script for `RUN`, the arguments for
/// `COPY`/`ADD`, the raw history otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    pub step: Step,
    pub body: String,
}

impl Command {
    /// The simple commands of a `RUN` script (empty for other steps).
    pub(crate) fn programs(&self) -> Vec<Program<'_>> {
        if self.step == Step::Run {
            programs(&self.body)
        } else {
            Vec::new()
        }
    }

    /// Short one-line form for titles: `RUN rm -rf /var/lib/apt/lists/*`.
    pub(crate) fn label(&self, max: usize) -> String {
        let text = match self.step {
            Step::Other => self.body.clone(),
            s => format!("{} {}", s.as_str(), self.body),
        };
        crate::human::ellipsize(&text, max)
    }
}

/// Parses one `created_by`.
pub(crate) fn parse(created_by: &str) -> Command {
    let mut s = created_by.trim();
    s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
    let mut step = None;
    if let Some(rest) = s.strip_prefix("RUN ") {
        step = Some(Step::Run);
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_prefix("COPY ") {
        return Command {
            step: Step::Copy,
            body: rest.trim().to_string(),
        };
    } else if let Some(rest) = s.strip_prefix("ADD ") {
        return Command {
            step: Step::Add,
            body: rest.trim().to_string(),
        };
    }
    s = strip_build_args(s);
    for shell in [
        "/bin/sh -c ",
        "/bin/bash -c ",
        "sh -c ",
        "bash -c ",
        "cmd /S /C ",
    ] {
        if let Some(rest) = s.strip_prefix(shell) {
            let rest = rest.trim_start();
            if let Some(nop) = rest.strip_prefix("#(nop)") {
                let nop = nop.trim();
                for (word, kind) in [("COPY ", Step::Copy), ("ADD ", Step::Add)] {
                    if let Some(args) = nop.strip_prefix(word) {
                        return Command {
                            step: kind,
                            body: args.trim().to_string(),
                        };
                    }
                }
                return Command {
                    step: Step::Other,
                    body: nop.to_string(),
                };
            }
            return Command {
                step: Step::Run,
                body: rest.trim().to_string(),
            };
        }
    }
    Command {
        step: step.unwrap_or(Step::Other),
        body: s.to_string(),
    }
}

/// Drops the `|N K=V …` prefix that records build args in a RUN's history.
fn strip_build_args(s: &str) -> &str {
    let Some(rest) = s.strip_prefix('|') else {
        return s;
    };
    let Some((count, mut rest)) = rest.split_once(' ') else {
        return s;
    };
    let Ok(n) = count.parse::<usize>() else {
        return s;
    };
    for _ in 0..n {
        rest = rest.trim_start();
        match rest.split_once(' ') {
            Some((arg, tail)) if arg.contains('=') => rest = tail,
            _ => return s,
        }
    }
    rest.trim_start()
}

/// One simple command of a shell script: the program's base name and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Program<'a> {
    pub name: &'a str,
    pub args: Vec<&'a str>,
}

impl Program<'_> {
    pub(crate) fn has(&self, word: &str) -> bool {
        self.args.contains(&word)
    }

    /// True when some argument starts with `prefix` (`--checksum=`, `-o APT::…`).
    pub(crate) fn has_prefix(&self, prefix: &str) -> bool {
        self.args.iter().any(|a| a.starts_with(prefix))
    }

    /// The first argument that is not an option: the subcommand (`install`, `add`).
    pub(crate) fn subcommand(&self) -> Option<&str> {
        self.args.iter().copied().find(|a| !a.starts_with('-'))
    }
}

/// Words that may stand before the program without being it.
const PREFIX_WORDS: &[&str] = &[
    "sudo", "then", "do", "else", "exec", "time", "!", "{", "}", "if", "while", "until", "nice",
    "env",
];

/// Ends one simple command: its first word that is not a prefix or an assignment
/// is the program.
fn flush<'a>(words: &mut Vec<&'a str>, out: &mut Vec<Program<'a>>) {
    let mut it = words
        .iter()
        .copied()
        .skip_while(|w| PREFIX_WORDS.contains(w) || is_assignment(w));
    if let Some(first) = it.next() {
        let name = first.trim_matches(|c| c == '"' || c == '\'');
        let name = name.rsplit('/').next().unwrap_or(name);
        out.push(Program {
            name,
            args: it.collect(),
        });
    }
    words.clear();
}

/// Splits a script on `&&`, `||`, `|`, `;`, newlines and parentheses, skipping
/// variable assignments and prefix words before each program.
pub(crate) fn programs(script: &str) -> Vec<Program<'_>> {
    let mut out = Vec::new();
    let mut words: Vec<&str> = Vec::new();
    for raw in script.split(|c: char| c.is_whitespace()) {
        // Separators may be glued to words (`a;b`, `(cd x`), so cut them out.
        let mut rest = raw;
        while !rest.is_empty() {
            match rest.find([';', '|', '&', '(', ')']) {
                Some(0) => {
                    flush(&mut words, &mut out);
                    rest = rest.trim_start_matches([';', '|', '&', '(', ')']);
                }
                Some(i) => {
                    words.push(&rest[..i]);
                    rest = &rest[i..];
                }
                None => {
                    words.push(rest);
                    rest = "";
                }
            }
        }
        if raw == "\\" {
            words.pop();
        }
    }
    flush(&mut words, &mut out);
    out.retain(|p| !p.name.is_empty() && p.name != "\\");
    out
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_classic_run_and_nop_copy() {
        let c = parse("/bin/sh -c apt-get update && apt-get install -y curl");
        assert_eq!(c.step, Step::Run);
        assert_eq!(c.body, "apt-get update && apt-get install -y curl");
        let c = parse("/bin/sh -c #(nop) COPY file:abc in /opt/x ");
        assert_eq!(c.step, Step::Copy);
        assert_eq!(c.body, "file:abc in /opt/x");
        let c = parse("/bin/sh -c #(nop)  ENV A=b");
        assert_eq!(c.step, Step::Other);
    }

    #[test]
    fn strips_build_args_prefix() {
        let c = parse("|2 A=1 B=two /bin/sh -c wget -q http://x/y");
        assert_eq!(c.step, Step::Run);
        assert_eq!(c.body, "wget -q http://x/y");
    }

    #[test]
    fn reads_buildkit_history() {
        let c = parse("RUN /bin/sh -c pip install flask # buildkit");
        assert_eq!(c.step, Step::Run);
        assert_eq!(c.body, "pip install flask");
        let c = parse("RUN |1 V=2 /bin/sh -c curl -O https://x/v2 # buildkit");
        assert_eq!(
            (c.step, c.body.as_str()),
            (Step::Run, "curl -O https://x/v2")
        );
        let c = parse("ADD --checksum=sha256:00 https://x/a.tgz /a.tgz # buildkit");
        assert_eq!(c.step, Step::Add);
        assert_eq!(c.body, "--checksum=sha256:00 https://x/a.tgz /a.tgz");
        let c = parse("COPY app/ /app/ # buildkit");
        assert_eq!(c.step, Step::Copy);
    }

    #[test]
    fn unknown_history_is_other() {
        let c = parse("buildah add rootfs.tar /");
        assert_eq!(c.step, Step::Other);
    }

    #[test]
    fn programs_are_found_at_command_position_only() {
        let p = programs(
            "apt-get install -y curl&&cd /x;FOO=1 sudo /usr/bin/wget -q http://h/f | tar x",
        );
        let names: Vec<&str> = p.iter().map(|p| p.name).collect();
        assert_eq!(names, ["apt-get", "cd", "wget", "tar"]);
        assert_eq!(p[0].subcommand(), Some("install"));
        assert!(p[2].has("-q"));
    }

    #[test]
    fn line_continuations_are_not_words() {
        let p = programs("apk add \\\n  --no-cache git");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].args, ["add", "--no-cache", "git"]);
    }
}
