//! `cleanup-in-later-layer` and `attribute-only-copy`: a later `RUN` deletes, chmods or
//! chowns files an earlier step wrote, so the layer keeps (or copies again) bytes it
//! cannot free. The edit moves that command to where the files are made:
//! - after a `RUN`: to the end of that `RUN` (`… && rm -rf …`, `… && chmod 755 …`);
//! - after a `COPY`/`ADD`: `--chmod=MODE` / `--chown=OWNER` on it (a deletion there has
//!   no line edit: the files must be left out of the context or the builder stage).
//!
//! The later `RUN` keeps its other commands, or goes when none are left. A command is
//! moved only when it names the advised files, nothing between the two steps uses them
//! (else the steps in between are merged with both, which keeps their order), and every
//! file it deletes was written by a step that gets the command.

use std::collections::{BTreeMap, BTreeSet};

use crate::advice::{parse_command, Step};
use crate::report::{Advice, AdviceCode, DuplicateKind};

use super::doc::{add_copy_flag, CopyArgs, RunText};
use super::script::{remove_units, scan, words, Scan};
use super::{shell_word, Ctx, BUILDKIT_NOTE_MARK};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rm,
    Chmod,
    Chown,
}

/// One simple command of the later `RUN` that deletes or changes attributes.
#[derive(Debug, Clone)]
struct Cmd {
    unit: usize,
    kind: Kind,
    program: String,
    flags: Vec<String>,
    /// The mode or owner (chmod/chown).
    arg: Option<String>,
    targets: Vec<String>,
    recursive: bool,
}

impl Cmd {
    /// The script's rm/chmod/chown commands whose targets can be known.
    fn all(run: &RunText, sc: &Scan) -> Vec<Cmd> {
        sc.units
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Cmd::read(i, &run.script[s.start..s.end]))
            .collect()
    }

    fn read(unit: usize, text: &str) -> Option<Cmd> {
        // Variables, redirections, substitutions and pipes make the targets unknowable.
        if text.contains(['$', '`', '|', '>', '<', ';', '&', '(']) {
            return None;
        }
        let w = words(text);
        let (program, rest) = w.split_first()?;
        let kind = match program.as_str() {
            "rm" => Kind::Rm,
            "chmod" => Kind::Chmod,
            "chown" => Kind::Chown,
            _ => return None,
        };
        let mut flags = Vec::new();
        let mut it = rest.iter().peekable();
        while let Some(f) = it.peek() {
            if f.starts_with('-') && f.len() > 1 && !(kind == Kind::Chmod && is_symbolic_mode(f)) {
                flags.push((*f).clone());
                it.next();
            } else {
                break;
            }
        }
        let arg = match kind {
            Kind::Rm => None,
            _ => Some(it.next()?.clone()),
        };
        let targets: Vec<String> = it.cloned().collect();
        if targets.is_empty() || targets.iter().any(|t| !t.starts_with('/')) {
            return None;
        }
        let recursive = flags.iter().any(|f| {
            f == "--recursive" || (!f.starts_with("--") && (f.contains('r') || f.contains('R')))
        });
        Some(Cmd {
            unit,
            kind,
            program: program.clone(),
            flags,
            arg,
            targets,
            recursive,
        })
    }

    /// Whether target `t` reaches `path`.
    fn covers(&self, t: &str, path: &str) -> bool {
        let t = t.trim_end_matches('/');
        if t.contains(['*', '?', '[']) {
            let Ok(glob) = globset::GlobBuilder::new(t)
                .literal_separator(true)
                .build()
                .map(|g| g.compile_matcher())
            else {
                return false;
            };
            let mut p = path;
            loop {
                if glob.is_match(p) {
                    return p == path || self.recursive;
                }
                match p.rfind('/') {
                    Some(0) | None => return false,
                    Some(i) => p = &p[..i],
                }
            }
        }
        path == t || (self.recursive && path.starts_with(t) && path[t.len()..].starts_with('/'))
    }

    /// The command again with only `targets`, as one line.
    fn text_with(&self, targets: &[&String]) -> String {
        let mut w = vec![self.program.clone()];
        w.extend(self.flags.iter().map(|f| shell_word(f)));
        w.extend(self.arg.iter().map(|a| shell_word(a)));
        w.extend(targets.iter().map(|t| shell_word(t)));
        w.join(" ")
    }
}

fn is_symbolic_mode(s: &str) -> bool {
    s.len() > 1 && s[1..].chars().all(|c| "rwxXst".contains(c)) && s.starts_with('-')
}

/// An item, where its files go, and the (command, target) pairs that do its work.
type Claimed<'a> = (&'a Advice, Dest, Vec<(usize, usize)>);

/// Where an advised file set goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Run(usize),
    Copy(usize),
}

pub(super) fn apply(cx: &mut Ctx<'_>, items: &[&Advice]) {
    let mut by_upper: BTreeMap<usize, Vec<&Advice>> = BTreeMap::new();
    for a in items {
        if let [_, up] = a.layers.as_slice() {
            by_upper.entry(up.index).or_default().push(a);
        }
    }
    for (up, group) in by_upper {
        upper_group(cx, up, &group);
    }
}

fn step(cx: &Ctx<'_>, layer: usize) -> Step {
    cx.report
        .layers
        .get(layer)
        .map(|l| parse_command(l.created_by.as_deref().unwrap_or("")).step)
        .unwrap_or(Step::Other)
}

fn lower_of(a: &Advice) -> usize {
    a.layers.first().map_or(0, |l| l.index)
}

fn upper_group(cx: &mut Ctx<'_>, up: usize, group: &[&Advice]) {
    // Where each item's files are made.
    let mut dests: Vec<(&Advice, Dest)> = Vec::new();
    for a in group {
        let lo = lower_of(a);
        let dest = match (step(cx, lo), a.code) {
            (Step::Run, _) => cx.instruction(lo).map(Dest::Run),
            (Step::Copy | Step::Add, AdviceCode::AttributeOnlyCopy) => {
                cx.instruction(lo).map(Dest::Copy)
            }
            (Step::Copy | Step::Add, _) => Err(copy_cleanup_reason(cx, lo)),
            (Step::Other, _) => cx.instruction(lo).and(Err(format!(
                "L{lo} is not a RUN, COPY or ADD step of this Dockerfile"
            ))),
        };
        match dest {
            Ok(d) => dests.push((a, d)),
            Err(reason) => {
                let lines = cx
                    .instruction(lo)
                    .map(|i| vec![cx.line(i)])
                    .unwrap_or_default();
                cx.refuse(a, lines, reason);
            }
        }
    }
    if dests.is_empty() {
        return;
    }
    let ui = match cx.instruction(up) {
        Ok(ui) => ui,
        Err(reason) => {
            for (a, d) in dests {
                if carries_already(cx, a, d) {
                    let line = cx.line(dest_index(d));
                    cx.already(a, vec![line]);
                } else {
                    cx.refuse(a, vec![], reason.clone());
                }
            }
            return;
        }
    };
    let upper_line = cx.line(ui);
    let upper = match cx
        .doc
        .text(ui)
        .ok_or_else(|| "it was already merged".to_string())
        .and_then(RunText::parse)
        .and_then(|r| r.scan().map(|s| (r, s)))
    {
        Ok(x) => x,
        Err(why) => {
            for (a, _) in dests {
                cx.refuse(
                    a,
                    vec![upper_line],
                    format!("line {upper_line} cannot be edited: {why}"),
                );
            }
            return;
        }
    };
    let (run, sc) = upper;
    let cmds = Cmd::all(&run, &sc);

    // Which (command, target) pairs each item needs.
    let mut accepted: Vec<Claimed<'_>> = Vec::new();
    for (a, d) in dests {
        match claim(cx, a, d, &cmds) {
            Ok(pairs) => accepted.push((a, d, pairs)),
            Err(reason) => {
                let lines = vec![cx.line(dest_index(d)), upper_line];
                cx.refuse(a, lines, reason);
            }
        }
    }
    // A deletion moves only when every file it deletes is written by a step that gets it.
    loop {
        let lowers: BTreeSet<usize> = accepted.iter().map(|(a, _, _)| lower_of(a)).collect();
        let bad = accepted.iter().position(|(_, _, pairs)| {
            pairs.iter().any(|&(c, t)| {
                let cmd = &cmds[c];
                cmd.kind == Kind::Rm
                    && cx.report.duplicates.iter().any(|d| {
                        d.kind == DuplicateKind::Deleted
                            && d.by_layers.contains(&up)
                            && cmd.covers(&cmd.targets[t], &d.path)
                            && d.layers.iter().any(|l| !lowers.contains(l))
                    })
            })
        });
        let Some(bad) = bad else { break };
        let (a, d, pairs) = accepted.remove(bad);
        let (c, t) = pairs[0];
        let reason = format!(
            "`{}` on line {upper_line} also deletes files another step wrote (one with no \
             edit here), so it has to stay where it is",
            cmds[c].text_with(&[&cmds[c].targets[t]])
        );
        cx.refuse(a, vec![cx.line(dest_index(d)), upper_line], reason);
    }
    if accepted.is_empty() {
        return;
    }
    // Steps between that use the files: merge them all instead, keeping their order.
    let mut readers: Vec<(usize, usize)> = Vec::new();
    for (a, d, pairs) in &accepted {
        let li = dest_index(*d);
        for b in cx.located.between(li, ui, &cx.doc.instructions) {
            if reads(cx, b, a, pairs, &cmds) {
                readers.push((li, b));
            }
        }
    }
    if let Some(&(first, reader)) = readers.iter().min() {
        merge_instead(cx, &accepted, first, reader, ui);
        return;
    }

    // Apply: append to each RUN, flag each COPY, then take the moved targets out.
    let mut moved: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (a, d, pairs) in &accepted {
        match *d {
            Dest::Run(li) => {
                let mut per_cmd: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
                for &(c, t) in pairs {
                    per_cmd.entry(c).or_default().push(t);
                }
                let mut added = Vec::new();
                for (c, ts) in per_cmd {
                    let cmd = &cmds[c];
                    let targets: Vec<&String> = ts.iter().map(|&t| &cmd.targets[t]).collect();
                    let text = if targets.len() == cmd.targets.len()
                        && !run.script[sc.units[cmd.unit].start..sc.units[cmd.unit].end]
                            .contains('\n')
                    {
                        run.script[sc.units[cmd.unit].start..sc.units[cmd.unit].end].to_string()
                    } else {
                        cmd.text_with(&targets)
                    };
                    if let Err(why) = cx.append(li, &text) {
                        cx.refuse(a, vec![cx.line(li), upper_line], why);
                        continue;
                    }
                    added.push(text);
                    moved.extend(ts.iter().map(|&t| (c, t)));
                }
                if !added.is_empty() {
                    let summary = format!(
                        "moved `{}` from line {upper_line} to the end of the RUN on line {}",
                        added.join(" && "),
                        cx.line(li)
                    );
                    cx.change(
                        a,
                        vec![cx.line(li), upper_line],
                        Some(a.bytes),
                        summary,
                        None,
                    );
                }
            }
            Dest::Copy(li) => {
                let mut flags = Vec::new();
                for &(c, t) in pairs {
                    let cmd = &cmds[c];
                    let flag = match cmd.kind {
                        Kind::Chmod => format!("--chmod={}", cmd.arg.clone().unwrap_or_default()),
                        _ => format!("--chown={}", cmd.arg.clone().unwrap_or_default()),
                    };
                    if !flags.contains(&flag) {
                        flags.push(flag);
                    }
                    moved.insert((c, t));
                }
                let mut text = cx.doc.text(li).unwrap_or_default().to_string();
                for f in &flags {
                    text = add_copy_flag(&text, f);
                }
                cx.doc.set(li, text);
                let keyword = cx.doc.instructions[li].keyword.clone();
                let needs_buildkit = flags.iter().any(|f| f.starts_with("--chmod"));
                let note = needs_buildkit.then(|| {
                    format!(
                        "{BUILDKIT_NOTE_MARK}, buildah or podman: the legacy builder rejects \
                         {keyword} --chmod. For the legacy builder, set the mode in the build \
                         context instead (COPY keeps it) and drop the chmod."
                    )
                });
                let summary = format!(
                    "{} on the {keyword} on line {}, and the {} on line {upper_line} dropped",
                    flags.join(" "),
                    cx.line(li),
                    if needs_buildkit { "chmod" } else { "chown" }
                );
                cx.change(
                    a,
                    vec![cx.line(li), upper_line],
                    Some(a.bytes),
                    summary,
                    note,
                );
            }
        }
    }
    shrink_upper(cx, ui, run, &sc.units, &cmds, &moved);
}

/// Takes the moved targets out of the later `RUN`, and the `RUN` out when it is empty.
fn shrink_upper(
    cx: &mut Ctx<'_>,
    ui: usize,
    mut run: RunText,
    units: &[super::script::Span],
    cmds: &[Cmd],
    moved: &BTreeSet<(usize, usize)>,
) {
    if moved.is_empty() {
        return;
    }
    let mut drop = Vec::new();
    let mut replace: Vec<(usize, String)> = Vec::new();
    for (c, cmd) in cmds.iter().enumerate() {
        let left: Vec<&String> = (0..cmd.targets.len())
            .filter(|&t| !moved.contains(&(c, t)))
            .map(|t| &cmd.targets[t])
            .collect();
        if left.len() == cmd.targets.len() {
            continue;
        }
        if left.is_empty() {
            drop.push(cmd.unit);
        } else {
            replace.push((cmd.unit, cmd.text_with(&left)));
        }
    }
    let mut script = run.script.clone();
    for (u, text) in replace.iter().rev() {
        script.replace_range(units[*u].start..units[*u].end, text);
    }
    let units = scan(&script, run.heredoc).units;
    match remove_units(&script, &units, &drop) {
        Some(s) => {
            run.script = s;
            cx.doc.set(ui, run.join());
        }
        None => cx.doc.delete(ui),
    }
}

fn dest_index(d: Dest) -> usize {
    match d {
        Dest::Run(i) | Dest::Copy(i) => i,
    }
}

fn copy_cleanup_reason(cx: &Ctx<'_>, lo: usize) -> String {
    let from = cx
        .instruction(lo)
        .ok()
        .and_then(|i| CopyArgs::parse(&cx.doc.instructions[i]))
        .and_then(|c| c.flag("--from").map(str::to_owned));
    match from {
        Some(stage) => format!(
            "L{lo} copies these files from stage `{stage}` (COPY --from): leave them out in \
             that stage; no edit of the copy can"
        ),
        None => format!(
            "L{lo} copies these files from the build context: leave them out with \
             .dockerignore or copy less; no later line edit removes them"
        ),
    }
}

/// The (command, target) pairs of the later `RUN` that do this item's work.
fn claim(cx: &Ctx<'_>, a: &Advice, d: Dest, cmds: &[Cmd]) -> Result<Vec<(usize, usize)>, String> {
    let kinds: &[Kind] = match a.code {
        AdviceCode::CleanupInLaterLayer => &[Kind::Rm],
        _ => &[Kind::Chmod, Kind::Chown],
    };
    let copy = match d {
        Dest::Copy(li) => Some(
            CopyArgs::parse(&cx.doc.instructions[li])
                .ok_or_else(|| format!("line {} is a COPY this tool cannot read", cx.line(li)))?,
        ),
        Dest::Run(_) => None,
    };
    let mut pairs = Vec::new();
    for path in &a.paths {
        let mut found = false;
        for (c, cmd) in cmds.iter().enumerate() {
            if !kinds.contains(&cmd.kind) {
                continue;
            }
            for (t, target) in cmd.targets.iter().enumerate() {
                if cmd.covers(target, path) {
                    found = true;
                    if !pairs.contains(&(c, t)) {
                        pairs.push((c, t));
                    }
                }
            }
        }
        if !found {
            let what = if a.code == AdviceCode::CleanupInLaterLayer {
                "`rm` command"
            } else {
                "`chmod`/`chown` command"
            };
            return Err(format!(
                "{path} is changed by L{} with something other than a plain {what} naming \
                 it (variables, `find`, a script), so there is no command to move",
                a.layers.get(1).map_or(0, |l| l.index)
            ));
        }
    }
    if let Some(copy) = copy {
        for &(c, t) in &pairs {
            copy_target_ok(&copy, &cmds[c], &cmds[c].targets[t], &a.paths)?;
        }
    }
    Ok(pairs)
}

/// A chmod/chown can become a COPY flag only when it names exactly what the COPY
/// makes, with an octal mode.
fn copy_target_ok(
    copy: &CopyArgs,
    cmd: &Cmd,
    target: &str,
    paths: &[String],
) -> Result<(), String> {
    if !copy.dest.starts_with('/') {
        return Err(format!(
            "the COPY's destination `{}` is relative (it depends on WORKDIR)",
            copy.dest
        ));
    }
    let dest = copy.dest.trim_end_matches('/');
    let single = match copy.sources.as_slice() {
        [src] if copy.dest.ends_with('/') => {
            let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
            Some(format!("{dest}/{base}"))
        }
        _ => None,
    };
    let target = target.trim_end_matches('/');
    let whole = target == dest || single.as_deref() == Some(target);
    let is_tree = paths.iter().any(|p| p != target);
    if !whole || (is_tree && !cmd.recursive) {
        return Err(format!(
            "`{} {}` changes part of what the COPY makes, and a COPY flag applies to all of it",
            cmd.program,
            cmd.targets.join(" ")
        ));
    }
    if cmd.kind == Kind::Chmod {
        let mode = cmd.arg.as_deref().unwrap_or("");
        if !(3..=4).contains(&mode.len()) || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
            return Err(format!(
                "`chmod {mode}` is not an octal mode, and COPY --chmod takes one (the file's \
                 mode in the build context is not in the image)"
            ));
        }
        if let Some(have) = copy.flag("--chmod") {
            if have != mode {
                return Err(format!("the COPY already has --chmod={have}"));
            }
        }
    } else if let Some(have) = copy.flag("--chown") {
        if Some(have) != cmd.arg.as_deref() {
            return Err(format!("the COPY already has --chown={have}"));
        }
    }
    Ok(())
}

/// Whether instruction `b` (between the two steps) uses the files: its text names one
/// of them (or a folder a moved command names), or it runs the package manager whose
/// lists or caches are deleted.
fn reads(cx: &Ctx<'_>, b: usize, a: &Advice, pairs: &[(usize, usize)], cmds: &[Cmd]) -> bool {
    let ins = &cx.doc.instructions[b];
    let text = format!("{} {}", ins.args, ins.heredocs.join("\n"));
    let mut names: Vec<String> = a.paths.clone();
    for &(c, t) in pairs {
        let target = &cmds[c].targets[t];
        let plain = target
            .split(['*', '?', '['])
            .next()
            .unwrap_or(target)
            .trim_end_matches('/');
        if plain.len() > 1 {
            names.push(plain.to_string());
        }
    }
    if names.iter().any(|n| text.contains(n.as_str())) {
        return true;
    }
    let tools: Vec<&str> = names
        .iter()
        .filter_map(|n| {
            let probe = format!("{n}/-");
            crate::advice::caches::location(&probe)
                .or_else(|| crate::advice::caches::location(n))
                .map(|(_, t)| t)
        })
        .filter_map(|t| {
            use crate::advice::caches::Tool;
            match t {
                Tool::AptLists | Tool::AptArchives => Some("apt"),
                Tool::Apk => Some("apk"),
                Tool::Yum => Some("yum"),
                _ => None,
            }
        })
        .collect();
    let programs = crate::advice::programs(&text);
    tools.iter().any(|tool| {
        programs.iter().any(|p| match *tool {
            "apt" => matches!(p.name, "apt-get" | "apt" | "dpkg"),
            "apk" => p.name == "apk",
            _ => matches!(p.name, "yum" | "dnf" | "microdnf" | "rpm"),
        })
    })
}

/// When a step in between uses the files, the only edit that keeps the image the same
/// is one `RUN` from the first step through the cleanup, in order.
fn merge_instead(
    cx: &mut Ctx<'_>,
    accepted: &[Claimed<'_>],
    first: usize,
    reader: usize,
    ui: usize,
) {
    let mut range = cx.located.between(first, ui, &cx.doc.instructions);
    range.push(ui);
    let result = if matches!(
        accepted.iter().find(|(_, d, _)| dest_index(*d) == first),
        Some((_, Dest::Copy(_), _))
    ) {
        Err(format!("line {} is a COPY", cx.line(first)))
    } else {
        super::merge::merge_run_range(cx, first, &range)
    };
    let reader_line = cx.line(reader);
    for (a, d, _) in accepted {
        let li = dest_index(*d);
        let lines: Vec<usize> = std::iter::once(li)
            .chain(range.iter().copied())
            .map(|i| cx.line(i))
            .collect();
        match &result {
            Ok(()) if li >= first => {
                let summary = format!(
                    "line {reader_line} uses the files between the two steps, so lines {} are \
                     merged into one RUN (in order) that ends with the cleanup",
                    lines
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                cx.change(a, lines, Some(a.bytes), summary, None);
            }
            Ok(()) => cx.refuse(
                a,
                lines,
                format!("line {reader_line} uses the files before the cleanup runs"),
            ),
            Err(why) => cx.refuse(
                a,
                lines,
                format!(
                    "line {reader_line} uses the files between the two steps, and merging \
                     them is not possible: {why}"
                ),
            ),
        }
    }
}

/// Whether the lower step already ends with the command this item would move there.
fn carries_already(cx: &Ctx<'_>, a: &Advice, d: Dest) -> bool {
    let li = dest_index(d);
    let Some(text) = cx.doc.text(li) else {
        return false;
    };
    match d {
        Dest::Copy(_) => {
            let ins = &cx.doc.instructions[li];
            CopyArgs::parse(ins)
                .is_some_and(|c| c.flag("--chmod").is_some() || c.flag("--chown").is_some())
        }
        Dest::Run(_) => {
            let lo = lower_of(a);
            if !cx.located.grown.get(lo).copied().unwrap_or(false) {
                return false;
            }
            let Ok(run) = RunText::parse(text) else {
                return false;
            };
            let sc = scan(&run.script, run.heredoc);
            claim(cx, a, d, &Cmd::all(&run, &sc)).is_ok()
        }
    }
}
