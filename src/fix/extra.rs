//! The two rewrites that are not about stored bytes:
//! - `download-without-cache-key`: the `cache-key` rewrite (a `COPY` of the download's
//!   key file right before it), limited to the steps the advice names;
//! - `no-install-recommends`, only with `--aggressive`: `--no-install-recommends` after
//!   `apt-get install`. It changes what is installed, so it is never applied silently.

use crate::cache_key::{copy_line, plan as downloads_of, DownloadKind};
use crate::report::Advice;

use super::doc::RunText;
use super::script::words;
use super::Ctx;

pub(super) fn downloads(cx: &mut Ctx<'_>, items: &[&Advice]) {
    let found = downloads_of(cx.original);
    for a in items {
        let Some(layer) = a.layers.first().map(|l| l.index) else {
            continue;
        };
        let i = match cx.instruction(layer) {
            Ok(i) => i,
            Err(reason) => {
                cx.refuse(a, vec![], reason);
                continue;
            }
        };
        let line = cx.line(i);
        let Some(d) = found.iter().find(|d| d.line == line) else {
            cx.refuse(
                a,
                vec![line],
                format!("line {line} holds no download the cache-key rewrite recognises"),
            );
            continue;
        };
        if d.kind == DownloadKind::Add {
            cx.refuse(
                a,
                vec![line],
                format!(
                    "line {line} is an ADD of a URL: `layergate cache-key --hash --dockerfile \
                     FILE --write` pins it with --checksum, which needs the file's digest"
                ),
            );
            continue;
        }
        if let Some((url, var)) = d.unresolved.first() {
            cx.refuse(
                a,
                vec![line],
                format!(
                    "{url} names ${var}, which has no ARG default, so its key file cannot be named"
                ),
            );
            continue;
        }
        if d.urls.is_empty() {
            cx.refuse(
                a,
                vec![line],
                format!("line {line} downloads from no URL that can be read"),
            );
            continue;
        }
        let copy = copy_line(cx.options.key_dir.trim_end_matches('/'), &d.urls);
        let previous = i.checked_sub(1).and_then(|p| cx.doc.text(p));
        let at = cx.forward[i];
        if previous.is_some_and(|t| t.trim() == copy) || cx.doc.before(at).contains(&copy) {
            cx.already(a, vec![line]);
            continue;
        }
        cx.doc.insert_before(at, copy.clone());
        let note = format!(
            "Run `layergate cache-key --dockerfile FILE` before every build: it writes the \
             key file{} this COPY reads into {}.",
            if d.urls.len() == 1 { "" } else { "s" },
            cx.options.key_dir
        );
        cx.change(
            a,
            vec![line],
            None,
            format!(
                "`{copy}` before the download on line {line}, so a changed file invalidates it"
            ),
            Some(note),
        );
    }
}

pub(super) fn recommends(cx: &mut Ctx<'_>, items: &[&Advice]) {
    for a in items {
        let Some(layer) = a.layers.first().map(|l| l.index) else {
            continue;
        };
        let i = match cx.instruction(layer) {
            Ok(i) => cx.forward[i],
            Err(reason) => {
                cx.refuse(a, vec![], reason);
                continue;
            }
        };
        let line = cx.line(i);
        if !cx.options.aggressive {
            cx.refuse(
                a,
                vec![line],
                "--no-install-recommends changes what is installed; pass --aggressive to apply it"
                    .to_string(),
            );
            continue;
        }
        let Some(text) = cx.doc.text(i).map(str::to_owned) else {
            continue;
        };
        let edited = RunText::parse(&text).and_then(|mut run| {
            let sc = run.scan()?;
            let mut script = run.script.clone();
            let mut changed = false;
            for s in sc.units.iter().rev() {
                let unit = &run.script[s.start..s.end];
                if let Some(at) = install_word_end(unit) {
                    script.insert_str(s.start + at, " --no-install-recommends");
                    changed = true;
                }
            }
            run.script = script;
            Ok((changed, run.join()))
        });
        match edited {
            Ok((true, new)) => {
                cx.doc.set(i, new);
                cx.change(
                    a,
                    vec![line],
                    None,
                    format!("`--no-install-recommends` on the apt-get install of line {line}"),
                    Some(
                        "Changes what is installed: recommended packages are no longer pulled \
                         in. Check that the image still works; the saving is measured by a \
                         rebuild, not predicted."
                            .to_string(),
                    ),
                );
            }
            Ok((false, _)) => cx.already(a, vec![line]),
            Err(why) => cx.refuse(
                a,
                vec![line],
                format!("line {line} cannot be edited: {why}"),
            ),
        }
    }
}

/// In an `apt-get install …` command without `--no-install-recommends`, the byte offset
/// just after the word `install`.
fn install_word_end(unit: &str) -> Option<usize> {
    let w = words(unit);
    let program = w
        .iter()
        .position(|x| !x.contains('=') && !matches!(x.as_str(), "sudo" | "env"))?;
    let name = w[program].rsplit('/').next().unwrap_or("");
    if !matches!(name, "apt-get" | "apt") || !w.iter().any(|x| x == "install") {
        return None;
    }
    if w.iter()
        .any(|x| x == "--no-install-recommends" || x.contains("Install-Recommends"))
    {
        return None;
    }
    let mut from = 0;
    while let Some(p) = unit[from..].find("install") {
        let at = from + p;
        let end = at + "install".len();
        let before_ok = at == 0 || unit.as_bytes()[at - 1].is_ascii_whitespace();
        let after_ok = end == unit.len() || unit.as_bytes()[end].is_ascii_whitespace();
        if before_ok && after_ok {
            return Some(end);
        }
        from = end;
    }
    None
}
