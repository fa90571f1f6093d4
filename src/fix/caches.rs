//! `cache-left-behind`, and the apt/apk/dnf package lists among them: a cache the image
//! ships but never reads. The edit goes on the `RUN` that fills it:
//! - package lists and caches: removed at the end of that `RUN`
//!   (`rm -rf /var/lib/apt/lists/*`, `apt-get clean`, `dnf clean all`, …);
//! - temp folders: emptied at the end of that `RUN`;
//! - tool caches (pip, npm, go, cargo, `~/.cache/…`): a cache mount
//!   (`RUN --mount=type=cache,target=DIR`) when the file already uses BuildKit syntax,
//!   else `&& rm -rf DIR`.
//!
//! A step after it that names the folder (or, for package lists, installs without
//! refreshing them) may read the cache: then that producer is left alone.

use crate::advice::caches::{location, Tool};
use crate::advice::{parse_command, programs, Step};
use crate::report::Advice;

use super::doc::RunText;
use super::{Ctx, BUILDKIT_NOTE_MARK};

enum Edit {
    Append(String),
    Mount(String),
}

pub(super) fn apply(cx: &mut Ctx<'_>, items: &[&Advice]) {
    for a in items {
        let Some(loc) = a.paths.first() else { continue };
        let Some((_, tool)) = location(&format!("{loc}/-")) else {
            continue;
        };
        let mut done: Vec<(usize, usize)> = Vec::new();
        let mut already: Vec<usize> = Vec::new();
        let mut reasons: Vec<(Vec<usize>, String)> = Vec::new();
        let mut mounted = false;
        let mut commands: Vec<String> = Vec::new();
        for layer in a.layers.iter().map(|l| l.index) {
            let step = cx
                .report
                .layers
                .get(layer)
                .map(|l| parse_command(l.created_by.as_deref().unwrap_or("")).step);
            let i = match cx.instruction(layer) {
                Ok(i) => i,
                Err(reason) => {
                    reasons.push((vec![], reason));
                    continue;
                }
            };
            let line = cx.line(i);
            if step != Some(Step::Run) || cx.doc.instructions[i].keyword != "RUN" {
                reasons.push((
                    vec![line],
                    format!("L{layer} (line {line}) is not a RUN: its files come from the build context or another stage"),
                ));
                continue;
            }
            if let Some((later, why)) = later_reader(cx, i, loc, tool) {
                reasons.push((
                    vec![line, later],
                    format!("line {later} {why} after line {line}, so it may need the cache"),
                ));
                continue;
            }
            let Some(text) = cx.doc.text(cx.forward[i]).map(str::to_owned) else {
                continue;
            };
            let edit = edit_for(cx, tool, loc, &text);
            let result = match &edit {
                Edit::Append(cmd) => cx.append(cx.forward[i], cmd),
                Edit::Mount(flag) => mount(cx, cx.forward[i], flag, loc),
            };
            match result {
                Ok(true) => {
                    done.push((layer, line));
                    match edit {
                        Edit::Append(cmd) => {
                            if !commands.contains(&cmd) {
                                commands.push(cmd);
                            }
                        }
                        Edit::Mount(_) => mounted = true,
                    }
                }
                Ok(false) => already.push(line),
                Err(why) => reasons.push((vec![line], why)),
            }
        }
        if done.is_empty() {
            if !already.is_empty() && reasons.is_empty() {
                cx.already(a, already);
            } else if let Some((lines, reason)) = reasons.into_iter().next() {
                cx.refuse(a, lines, reason);
            } else if !already.is_empty() {
                cx.already(a, already);
            }
            continue;
        }
        let layers: Vec<usize> = done.iter().map(|(l, _)| *l).collect();
        let bytes: u64 = cx
            .report
            .files
            .iter()
            .filter(|f| layers.contains(&f.layer) && under(&f.path, loc))
            .filter(|f| mounted || removed_by(&commands, loc, &f.path))
            .map(|f| f.bytes)
            .sum();
        let lines: Vec<usize> = done.iter().map(|(_, l)| *l).collect();
        let on = lines
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (summary, note) = if mounted {
            (
                format!("a cache mount for {loc} on the RUN on line {on}"),
                Some(format!(
                    "{BUILDKIT_NOTE_MARK}, buildah or podman (RUN --mount), which this \
                     Dockerfile already uses."
                )),
            )
        } else {
            (
                format!(
                    "`{}` at the end of the RUN on line {on}",
                    commands.join(" && ")
                ),
                None,
            )
        };
        cx.change(a, lines, Some(bytes), summary, note);
    }
}

fn under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Whether the appended commands remove `path` (a `DIR/*` glob leaves dot-files).
fn removed_by(commands: &[String], loc: &str, path: &str) -> bool {
    commands.iter().any(|c| {
        if c.ends_with(&format!("{loc}/*")) {
            let rest = &path[loc.len() + 1..];
            !rest.starts_with('.')
        } else {
            true
        }
    })
}

fn edit_for(cx: &Ctx<'_>, tool: Tool, loc: &str, text: &str) -> Edit {
    let script = RunText::parse(text).map(|r| r.script).unwrap_or_default();
    let runs = |names: &[&str]| programs(&script).iter().any(|p| names.contains(&p.name));
    match tool {
        Tool::AptLists => Edit::Append("rm -rf /var/lib/apt/lists/*".to_string()),
        Tool::AptArchives if runs(&["apt-get", "apt"]) => Edit::Append("apt-get clean".to_string()),
        Tool::Yum if runs(&["dnf"]) => Edit::Append("dnf clean all".to_string()),
        Tool::Yum if runs(&["yum"]) => Edit::Append("yum clean all".to_string()),
        Tool::AptArchives | Tool::Apk | Tool::Yum | Tool::Tmp => {
            Edit::Append(format!("rm -rf {loc}/*"))
        }
        _ if cx.buildkit => Edit::Mount(format!("--mount=type=cache,target={loc}")),
        _ => Edit::Append(format!("rm -rf {}", super::shell_word(loc))),
    }
}

/// Adds the cache mount unless the `RUN` has one on that folder.
fn mount(cx: &mut Ctx<'_>, i: usize, flag: &str, loc: &str) -> Result<bool, String> {
    let line = cx.line(i);
    let text = cx
        .doc
        .text(i)
        .ok_or_else(|| format!("line {line} was merged away"))?
        .to_string();
    let mut run =
        RunText::parse(&text).map_err(|why| format!("line {line} cannot be edited: {why}"))?;
    let has = run.flags.iter().any(|f| {
        f.starts_with("--mount=")
            && f.split(',').any(|kv| {
                kv == format!("target={loc}")
                    || kv == format!("dst={loc}")
                    || kv == format!("destination={loc}")
            })
    });
    if has {
        return Ok(false);
    }
    run.add_flag(flag);
    cx.doc.set(i, run.join());
    Ok(true)
}

/// A later step that may read the cache: one naming the folder, or (package lists) an
/// install that does not refresh them first.
fn later_reader(cx: &Ctx<'_>, i: usize, loc: &str, tool: Tool) -> Option<(usize, &'static str)> {
    for b in cx.located.after(i, &cx.doc.instructions) {
        let ins = &cx.doc.instructions[b];
        let text = format!("{} {}", ins.args, ins.heredocs.join("\n"));
        if text.contains(loc) {
            return Some((ins.line, "names the folder"));
        }
        if ins.keyword != "RUN" {
            continue;
        }
        let progs = programs(&text);
        let installs_stale = |names: &[&str], refresh: &str, install: &[&str]| {
            let uses = |sub: &[&str]| {
                progs.iter().any(|p| {
                    names.contains(&p.name) && p.subcommand().is_some_and(|s| sub.contains(&s))
                })
            };
            uses(install) && !uses(&[refresh])
        };
        let stale = match tool {
            Tool::AptLists => installs_stale(
                &["apt-get", "apt"],
                "update",
                &["install", "upgrade", "dist-upgrade"],
            ),
            Tool::Apk => {
                installs_stale(&["apk"], "update", &["add", "upgrade"])
                    && !progs.iter().any(|p| p.name == "apk" && p.has("--no-cache"))
            }
            _ => false,
        };
        if stale {
            return Some((ins.line, "installs packages without refreshing the lists"));
        }
    }
    None
}
