//! `--dockerfile FILE`: pointing advice at Dockerfile lines by matching each layer's
//! `created_by` to an instruction. Pure: takes the file's text, not its path.
//!
//! Only the stage that builds the image counts: the last stage, preceded by the
//! stages it is built `FROM` (by alias). Layers and instructions are walked in order
//! with one cursor, so a command that appears twice maps to its own occurrence;
//! layers that match nothing (the base image's) keep no line.
//!
//! Matching: a RUN's script equals the instruction's (whitespace folded, which is
//! how line continuations reach the history; `--mount`-style flags dropped); a COPY
//! or ADD recorded as `file:<hash> in DEST` matches an instruction of the same kind
//! with that destination, and a BuildKit `COPY src dst` matches the same words.
//! Instructions come from `crate::dockerfile` (a heredoc RUN matches by its body).

use super::command::{parse, Step};
use super::Advice;
use crate::dockerfile::{parse as instructions, strip_flags, Instruction};
use crate::report::Report;

/// Sets `line` on every advice layer whose command is found in the Dockerfile.
pub fn locate(report: &mut Report, dockerfile: &str) {
    let lines = layer_lines(report, dockerfile);
    for item in &mut report.advice {
        set_lines(item, &lines);
    }
}

fn set_lines(item: &mut Advice, lines: &[Option<usize>]) {
    for l in &mut item.layers {
        l.line = lines.get(l.index).copied().flatten();
    }
}

/// The Dockerfile line of each layer, by layer index.
pub(crate) fn layer_lines(report: &Report, dockerfile: &str) -> Vec<Option<usize>> {
    let instructions = final_stage(&instructions(dockerfile));
    let mut cursor = 0;
    report
        .layers
        .iter()
        .map(|layer| {
            let cmd = parse(layer.created_by.as_deref().unwrap_or(""));
            let found = instructions[cursor..]
                .iter()
                .position(|ins| matches(&cmd.step, &cmd.body, ins))?;
            let ins = &instructions[cursor + found];
            cursor += found + 1;
            Some(ins.line)
        })
        .collect()
}

/// Whether `ins` is the instruction that recorded a layer as (`step`, `body`): shared
/// with `fix`, which maps layers the same way.
pub(crate) fn matches(step: &Step, body: &str, ins: &Instruction) -> bool {
    let want = match step {
        Step::Run => "RUN",
        Step::Copy => "COPY",
        Step::Add => "ADD",
        Step::Other => return false,
    };
    if ins.keyword != want {
        return false;
    }
    let args = strip_flags(&ins.args);
    if *step == Step::Run {
        let script = if ins.heredocs.is_empty() {
            args.to_string()
        } else {
            ins.script()
        };
        return fold(&exec_form(&script)) == fold(body);
    }
    // Classic and buildah history: `file:<hash> in DEST` (or dir:, multi:).
    if let Some((src, dest)) = body.rsplit_once(" in ") {
        if ["file:", "dir:", "multi:"]
            .iter()
            .any(|p| src.trim().starts_with(p))
        {
            let last = args.split_whitespace().last().unwrap_or("");
            return trim_dir(dest.trim()) == trim_dir(last);
        }
    }
    fold(args) == fold(strip_flags(body))
}

fn trim_dir(s: &str) -> &str {
    if s.len() > 1 {
        s.trim_end_matches('/')
    } else {
        s
    }
}

/// `["a", "b c"]` → `a b c`; shell form unchanged.
pub(crate) fn exec_form(args: &str) -> String {
    let t = args.trim();
    if t.starts_with('[') {
        if let Ok(words) = serde_json::from_str::<Vec<String>>(t) {
            return words.join(" ");
        }
    }
    t.to_string()
}

pub(crate) fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The last stage's instructions, preceded by those of the stages it builds on.
pub(crate) fn final_stage(all: &[Instruction]) -> Vec<Instruction> {
    // (alias, FROM argument, instructions after FROM)
    let mut stages: Vec<(Option<String>, String, Vec<Instruction>)> = Vec::new();
    for ins in all {
        if ins.keyword == "FROM" {
            let words: Vec<&str> = strip_flags(&ins.args).split_whitespace().collect();
            let from = words.first().unwrap_or(&"").to_ascii_lowercase();
            let alias = match words.as_slice() {
                [_, kw, name, ..] if kw.eq_ignore_ascii_case("as") => {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            };
            stages.push((alias, from, Vec::new()));
        } else if let Some(stage) = stages.last_mut() {
            stage.2.push(ins.clone());
        }
    }
    let mut chain: Vec<Instruction> = Vec::new();
    let mut at = stages.len().checked_sub(1);
    let mut seen = 0;
    while let Some(i) = at {
        let (_, from, body) = &stages[i];
        let mut next = body.clone();
        next.extend(chain);
        chain = next;
        seen += 1;
        // A stage can only build on an earlier one; the bound stops a cycle anyway.
        at = stages[..i]
            .iter()
            .rposition(|(alias, _, _)| alias.as_deref() == Some(from.as_str()))
            .filter(|_| seen <= stages.len());
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::report;

    const DOWNLOAD: &str = "# comment\nFROM base\nARG TOOL_PORT=38517\nRUN mkdir -p /opt/tool \\\n && wget -q -O /opt/tool/tool.bin http://127.0.0.1:${TOOL_PORT}/tool.bin \\\n && chmod 755 /opt/tool/tool.bin\nCOPY tool.bin /opt/tool/copy.bin\nRUN mkdir -p /root/.cache/app\n";

    #[test]
    fn classic_history_maps_to_instruction_lines() {
        let r = report(&[
            "busybox rootfs",
            "|1 TOOL_PORT=38517 /bin/sh -c mkdir -p /opt/tool  && wget -q -O /opt/tool/tool.bin http://127.0.0.1:${TOOL_PORT}/tool.bin  && chmod 755 /opt/tool/tool.bin",
            "/bin/sh -c #(nop) COPY file:4c5b in /opt/tool/copy.bin ",
            "|1 TOOL_PORT=38517 /bin/sh -c mkdir -p /root/.cache/app",
        ]);
        assert_eq!(layer_lines(&r, DOWNLOAD), [None, Some(4), Some(7), Some(8)]);
    }

    #[test]
    fn buildkit_history_and_flags_map_too() {
        let df = "FROM x AS build\nRUN make\nFROM debian\nRUN --mount=type=cache,target=/c make\nCOPY --chmod=755 a /a\nADD [\"https://h/f\", \"/f\"]\n";
        let r = report(&[
            "debian rootfs",
            "RUN /bin/sh -c make # buildkit",
            "COPY --chmod=755 a /a # buildkit",
        ]);
        // The builder stage's `RUN make` is not this image's layer: line 4 is.
        assert_eq!(layer_lines(&r, df), [None, Some(4), Some(5)]);
    }

    #[test]
    fn a_stage_built_on_an_alias_includes_that_stage() {
        let df = "FROM debian AS deps\nRUN apt-get update\nFROM deps\nRUN make\n";
        let r = report(&["rootfs", "/bin/sh -c apt-get update", "/bin/sh -c make"]);
        assert_eq!(layer_lines(&r, df), [None, Some(2), Some(4)]);
    }
}
