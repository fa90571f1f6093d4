//! `merge-pays`: two `RUN`s where the later rewrites what the earlier wrote, above the
//! advice's threshold. The later one's commands are joined to the earlier one with `&&`,
//! in order, in the earlier one's continuation style, and the later `RUN` goes.
//! `keep-separate` is never merged: it is the advice not to.
//!
//! Only `RUN`s are joined, and only when nothing between them would run in a different
//! order or environment: `RUN`s in between are joined too (their order is kept), an
//! `ENV`, `ARG`, `WORKDIR`, `USER`, `SHELL`, `VOLUME`, `COPY` or `ADD` in between is a
//! refusal, as are flags (`--mount`) that differ.

use crate::report::Advice;

use super::doc::RunText;
use super::script::append_unit;
use super::Ctx;

/// Instructions that change neither the filesystem nor what a `RUN` sees.
const INERT: &[&str] = &[
    "LABEL",
    "EXPOSE",
    "MAINTAINER",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "CMD",
    "ENTRYPOINT",
    "ONBUILD",
];

pub(super) fn apply(cx: &mut Ctx<'_>, items: &[&Advice]) {
    for a in items {
        let (lo, up) = match a.layers.as_slice() {
            [lo, up] => (lo.index, up.index),
            _ => continue,
        };
        let li = match cx.instruction(lo) {
            Ok(i) => i,
            Err(reason) => {
                cx.refuse(a, vec![], reason);
                continue;
            }
        };
        let ui = match cx.instruction(up) {
            Ok(i) => i,
            Err(reason) => {
                if merged_already(cx, lo, up, li) {
                    let line = cx.line(li);
                    cx.already(a, vec![line]);
                } else {
                    let line = cx.line(li);
                    cx.refuse(a, vec![line], reason);
                }
                continue;
            }
        };
        let (l_line, u_line) = (cx.line(li), cx.line(ui));
        if li == ui {
            cx.already(a, vec![l_line]);
            continue;
        }
        if cx.located.stage[li] != cx.located.stage[ui] {
            cx.refuse(
                a,
                vec![l_line, u_line],
                format!("lines {l_line} and {u_line} are in different stages"),
            );
            continue;
        }
        let mut range = Vec::new();
        let mut blocked = None;
        for b in cx.located.between(li, ui, &cx.doc.instructions) {
            if cx.forward[b] != b || cx.doc.text(b).is_none() {
                continue;
            }
            let kw = cx.doc.instructions[b].keyword.as_str();
            if kw == "RUN" {
                range.push(b);
            } else if !INERT.contains(&kw) {
                blocked = Some((cx.line(b), kw.to_string()));
                break;
            }
        }
        if let Some((line, kw)) = blocked {
            cx.refuse(
                a,
                vec![l_line, u_line],
                format!(
                    "line {line} ({kw}) lies between lines {l_line} and {u_line}: merging \
                     would run line {u_line}'s commands before it"
                ),
            );
            continue;
        }
        range.push(ui);
        match merge_run_range(cx, li, &range) {
            Ok(()) => {
                let mut lines = vec![l_line];
                lines.extend(range.iter().map(|&i| cx.line(i)));
                let joined = lines[1..]
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let summary = format!(
                    "joined the RUN on line{} {joined} to the RUN on line {l_line} with `&&` \
                     (only these steps: the others keep their cache)",
                    if range.len() > 1 { "s" } else { "" }
                );
                cx.change(a, lines, Some(a.bytes), summary, None);
            }
            Err(why) => cx.refuse(a, vec![l_line, u_line], why),
        }
    }
}

/// Joins the `RUN`s `range` (in file order) to the `RUN` `first`, and deletes them.
pub(super) fn merge_run_range(
    cx: &mut Ctx<'_>,
    first: usize,
    range: &[usize],
) -> Result<(), String> {
    let line = cx.line(first);
    let text = cx
        .doc
        .text(first)
        .ok_or_else(|| format!("line {line} was merged already"))?
        .to_string();
    let mut run =
        RunText::parse(&text).map_err(|why| format!("line {line} cannot be edited: {why}"))?;
    let mut sc = run
        .scan()
        .map_err(|why| format!("line {line} cannot be edited: {why}"))?;
    for &i in range {
        let l = cx.line(i);
        if cx.doc.instructions[i].keyword != "RUN" {
            return Err(format!("line {l} is not a RUN"));
        }
        let Some(other_text) = cx.doc.text(i) else {
            continue;
        };
        let other = RunText::parse(other_text)
            .map_err(|why| format!("line {l} cannot be joined: {why}"))?;
        let osc = other
            .scan()
            .map_err(|why| format!("line {l} cannot be joined: {why}"))?;
        if other.flags != run.flags {
            return Err(format!(
                "line {l} runs with other flags ({}) than line {line} ({})",
                other.flags.join(" "),
                run.flags.join(" ")
            ));
        }
        if other.heredoc && !run.heredoc {
            return Err(format!("line {l} is a heredoc and line {line} is not"));
        }
        for s in &osc.units {
            let unit = &other.script[s.start..s.end];
            run.script = append_unit(&run.script, &sc.units, unit, run.heredoc);
            sc = run.scan().map_err(|why| format!("line {line}: {why}"))?;
        }
    }
    cx.doc.set(first, run.join());
    for &i in range {
        cx.doc.delete(i);
        cx.forward[i] = first;
    }
    // Anything merged into a merged step follows it.
    for f in cx.forward.iter_mut() {
        if range.contains(f) {
            *f = first;
        }
    }
    Ok(())
}

/// Whether layer `up`'s command already sits at the end of the grown `RUN` `li`.
fn merged_already(cx: &Ctx<'_>, lo: usize, up: usize, li: usize) -> bool {
    if !cx.located.grown.get(lo).copied().unwrap_or(false) {
        return false;
    }
    let Some(cmd) = cx
        .report
        .layers
        .get(up)
        .and_then(|l| l.created_by.as_deref())
        .map(crate::advice::parse_command)
    else {
        return false;
    };
    let Some(text) = cx.doc.text(li) else {
        return false;
    };
    let Ok(run) = RunText::parse(text) else {
        return false;
    };
    let have = crate::advice::dockerfile::fold(&run.script.replace("\\\n", " "));
    let want = crate::advice::dockerfile::fold(&cmd.body);
    !want.is_empty() && have.ends_with(&want)
}
