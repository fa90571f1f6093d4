//! Which instruction made each layer, as the advice's `--dockerfile` lines are found
//! (`advice::dockerfile`: the final stage and the stages it is built `FROM`, one cursor),
//! plus what a rewrite must know before it edits a line: the stage it is in, whether
//! another stage uses that stage too, and whether the line's command matches more than
//! one layer (then nobody can tell which one it made).
//!
//! A `RUN` that grew since the image was built (a command appended by an earlier `fix`)
//! still maps to its layer, marked `grown`: that is how a second run sees its own work
//! and changes nothing.

use crate::advice::dockerfile::{exec_form, fold, matches};
use crate::advice::{parse_command, Step};
use crate::dockerfile::{strip_flags, Instruction};
use crate::report::Report;

#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub alias: Option<String>,
    /// The `FROM` argument, lower-cased.
    pub from: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// Per layer: the index of the instruction that made it.
    pub layer: Vec<Option<usize>>,
    /// Per layer: found only as a prefix of a longer `RUN` (already rewritten).
    pub grown: Vec<bool>,
    /// Per instruction: the layers whose command it matches exactly, wherever they are.
    pub matching: Vec<Vec<usize>>,
    /// Per instruction: its stage.
    pub stage: Vec<Option<usize>>,
    pub(crate) stages: Vec<Stage>,
    /// The stages the image is built from, first to last.
    pub chain: Vec<usize>,
}

impl Located {
    pub(crate) fn new(report: &Report, instructions: &[Instruction]) -> Located {
        let mut stages: Vec<Stage> = Vec::new();
        let mut stage = Vec::with_capacity(instructions.len());
        for ins in instructions {
            if ins.keyword == "FROM" {
                let words: Vec<&str> = strip_flags(&ins.args).split_whitespace().collect();
                let alias = match words.as_slice() {
                    [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                stages.push(Stage {
                    alias,
                    from: words.first().unwrap_or(&"").to_ascii_lowercase(),
                });
            }
            stage.push(stages.len().checked_sub(1));
        }
        let mut chain = Vec::new();
        let mut at = stages.len().checked_sub(1);
        while let Some(s) = at {
            if chain.contains(&s) {
                break;
            }
            chain.push(s);
            at = stages[..s]
                .iter()
                .rposition(|st| st.alias.as_deref() == Some(stages[s].from.as_str()));
        }
        chain.reverse();
        let order: Vec<usize> = (0..instructions.len())
            .filter(|&i| {
                instructions[i].keyword != "FROM" && stage[i].is_some_and(|s| chain.contains(&s))
            })
            .collect();
        let commands: Vec<_> = report
            .layers
            .iter()
            .map(|l| parse_command(l.created_by.as_deref().unwrap_or("")))
            .collect();
        let matching = instructions
            .iter()
            .map(|ins| {
                commands
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| matches(&c.step, &c.body, ins))
                    .map(|(l, _)| l)
                    .collect()
            })
            .collect();
        let mut layer = Vec::with_capacity(commands.len());
        let mut grown = Vec::with_capacity(commands.len());
        let mut cursor = 0;
        for c in &commands {
            // The first instruction in order that made it, exactly or grown since.
            let found = order[cursor..].iter().find_map(|&i| {
                let ins = &instructions[i];
                if matches(&c.step, &c.body, ins) {
                    Some((i, false))
                } else if has_grown(&c.step, &c.body, ins) {
                    Some((i, true))
                } else {
                    None
                }
            });
            let found =
                found.map(|(i, g)| (order[cursor..].iter().position(|&x| x == i).unwrap_or(0), g));
            match found {
                Some((p, g)) => {
                    layer.push(Some(order[cursor + p]));
                    grown.push(g);
                    cursor += p + 1;
                }
                None => {
                    layer.push(None);
                    grown.push(false);
                }
            }
        }
        Located {
            layer,
            grown,
            matching,
            stage,
            stages,
            chain,
        }
    }

    /// How another stage uses the stage of instruction `i`, if one does: a `FROM` of a
    /// stage outside the image's chain, or a `COPY --from`.
    pub(crate) fn shared(&self, i: usize, instructions: &[Instruction]) -> Option<String> {
        let s = self.stage[i]?;
        let names: Vec<String> = self.stages[s]
            .alias
            .iter()
            .cloned()
            .chain(std::iter::once(s.to_string()))
            .collect();
        for (j, ins) in instructions.iter().enumerate() {
            let Some(other) = self.stage[j] else { continue };
            if ins.keyword == "FROM"
                && other != s
                && !self.chain.contains(&other)
                && self.stages[s].alias.as_deref() == Some(self.stages[other].from.as_str())
            {
                return Some(format!(
                    "stage {} is built FROM it (line {})",
                    other, ins.line
                ));
            }
            if matches!(ins.keyword.as_str(), "COPY" | "ADD") {
                let from = ins
                    .args
                    .split_whitespace()
                    .take_while(|w| w.starts_with("--"))
                    .find_map(|w| w.strip_prefix("--from="));
                if from.is_some_and(|f| names.iter().any(|n| n.eq_ignore_ascii_case(f))) {
                    return Some(format!("line {} copies from it (COPY --from)", ins.line));
                }
            }
        }
        None
    }

    /// The instructions of the image's chain strictly between `a` and `b`.
    pub(crate) fn between(&self, a: usize, b: usize, instructions: &[Instruction]) -> Vec<usize> {
        (a + 1..b)
            .filter(|&i| {
                instructions[i].keyword != "FROM"
                    && self.stage[i].is_some_and(|s| self.chain.contains(&s))
            })
            .collect()
    }

    /// The instructions of the image's chain after `a`.
    pub(crate) fn after(&self, a: usize, instructions: &[Instruction]) -> Vec<usize> {
        self.between(a, instructions.len(), instructions)
    }
}

/// A `RUN` whose script starts with the layer's whole script and goes on: the layer's
/// instruction with commands added since.
fn has_grown(step: &Step, body: &str, ins: &Instruction) -> bool {
    if *step != Step::Run || ins.keyword != "RUN" {
        return false;
    }
    let script = if ins.heredocs.is_empty() {
        strip_flags(&ins.args).to_string()
    } else {
        ins.script()
    };
    let (have, want) = (fold(&exec_form(&script)), fold(body));
    !want.is_empty()
        && have.len() > want.len()
        && have.starts_with(&want)
        && have[want.len()..].starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::report;
    use crate::dockerfile::parse;

    #[test]
    fn layers_map_to_their_lines_and_grown_runs_still_map() {
        let df = "FROM base\nRUN make \\\n && rm -rf /c\nRUN make\nCOPY a /a\n";
        let r = report(&[
            "rootfs",
            "/bin/sh -c make",
            "/bin/sh -c make",
            "/bin/sh -c #(nop) COPY file:ab in /a ",
        ]);
        let ins = parse(df);
        let l = Located::new(&r, &ins);
        assert_eq!(l.layer, [None, Some(1), Some(2), Some(3)]);
        assert_eq!(l.grown, [false, true, false, false]);
        assert_eq!(l.matching[2], [1, 2]);
    }

    #[test]
    fn a_stage_used_elsewhere_is_shared() {
        let df = "FROM debian AS deps\nRUN a\nFROM deps AS test\nRUN t\nFROM deps\nRUN b\nCOPY --from=test /r /r\n";
        let r = report(&["rootfs", "/bin/sh -c a", "/bin/sh -c b"]);
        let ins = parse(df);
        let l = Located::new(&r, &ins);
        assert_eq!(l.chain, [0, 2]);
        assert_eq!(l.layer, [None, Some(1), Some(5)]);
        assert!(l.shared(1, &ins).unwrap().contains("stage 1"));
        assert_eq!(l.shared(5, &ins), None);
    }
}
