//! `layergate fix`: the advice an image got, turned into edits of the Dockerfile it was
//! built from. Pure: takes a report and the file's text, returns the rewritten text, the
//! changes (code, lines, predicted bytes saved) and, for every advice item it will not
//! touch, one reason. Reading the image, writing the file and proving the saving with
//! a rebuild are edges (`load`, `write`, `fix::prove`).
//!
//! One file per rewrite:
//! - `moves`: `cleanup-in-later-layer` and `attribute-only-copy` (a deletion or a
//!   chmod/chown moved into the step that made the files, or `COPY --chmod/--chown`);
//! - `merge`: `merge-pays` (never `keep-separate`);
//! - `caches`: `cache-left-behind` and the apt/apk/dnf package lists;
//! - `extra`: `download-without-cache-key` (the `cache-key` rewrite) and, with
//!   `--aggressive`, `--no-install-recommends`.
//!
//! Layers map to lines as the advice maps them (`locate`); an edit is made only where
//! that mapping is certain, everything else is kept byte for byte (`doc`, `script`), and
//! a rewritten file gives no further change (each rewrite checks for its own result).

mod caches;
mod content;
mod doc;
mod extra;
mod locate;
mod merge;
mod moves;
pub(crate) mod prove;
mod script;

use serde::Serialize;

use crate::report::{AdviceCode, Report};

use doc::Doc;
use locate::Located;

/// What `fix` may do beyond edits that keep the image's content.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also apply edits that change what is installed (`--no-install-recommends`).
    pub aggressive: bool,
    /// The key files' folder for download steps, relative to the build context.
    pub key_dir: String,
}

/// One edit, for one advice item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub code: AdviceCode,
    /// The layers the advice names.
    pub(crate) layers: Vec<usize>,
    /// The Dockerfile lines (first line of each instruction, as in the original file)
    /// the edit touches.
    pub lines: Vec<usize>,
    /// Stored bytes the edit is predicted to save; `null` when the edit is not about
    /// size or its share cannot be read from the image.
    pub bytes: Option<u64>,
    /// What the edit does, one line.
    pub summary: String,
    /// What the reader must know (a builder it needs, content it changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An advice item left alone, with the one reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub code: AdviceCode,
    pub layers: Vec<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) lines: Vec<usize>,
    pub reason: String,
}

/// Everything `fix` decided for one image and Dockerfile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub refused: Vec<Refusal>,
    /// Advice items whose edit the file already carries.
    pub(crate) already_applied: Vec<Refusal>,
    /// The sum of the changes' predicted bytes.
    pub predicted_bytes: u64,
    /// The rewritten file.
    #[serde(skip)]
    pub text: String,
}

impl Plan {
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }

    /// Whether any change needs BuildKit (or buildah/podman): `COPY --chmod`,
    /// `RUN --mount`.
    pub fn needs_buildkit(&self) -> bool {
        self.changes.iter().any(|c| {
            c.note
                .as_deref()
                .is_some_and(|n| n.contains(BUILDKIT_NOTE_MARK))
        })
    }
}

/// The words every "needs BuildKit" note starts with.
pub(crate) const BUILDKIT_NOTE_MARK: &str = "Needs BuildKit";

/// The order rewrites run in: moves first (they append to the steps merges then join),
/// merges next, then what appends to the merged steps.
const ORDER: &[AdviceCode] = &[
    AdviceCode::CleanupInLaterLayer,
    AdviceCode::AttributeOnlyCopy,
    AdviceCode::MergePays,
    AdviceCode::CacheLeftBehind,
    AdviceCode::DownloadWithoutCacheKey,
    AdviceCode::NoInstallRecommends,
];

/// The rewrite of `dockerfile` that applies `report`'s advice.
pub fn plan(report: &Report, dockerfile: &str, options: &Options) -> Plan {
    let doc = Doc::new(dockerfile);
    let located = Located::new(report, &doc.instructions);
    let n = doc.instructions.len();
    let mut cx = Ctx {
        report,
        buildkit: uses_buildkit(dockerfile, &doc.instructions),
        doc,
        located,
        forward: (0..n).collect(),
        options,
        original: dockerfile,
        plan: Plan {
            changes: Vec::new(),
            refused: Vec::new(),
            already_applied: Vec::new(),
            predicted_bytes: 0,
            text: String::new(),
        },
    };
    for code in ORDER {
        let items: Vec<&crate::report::Advice> =
            report.advice.iter().filter(|a| a.code == *code).collect();
        match code {
            AdviceCode::CleanupInLaterLayer | AdviceCode::AttributeOnlyCopy => {
                moves::apply(&mut cx, &items)
            }
            AdviceCode::MergePays => merge::apply(&mut cx, &items),
            AdviceCode::CacheLeftBehind => caches::apply(&mut cx, &items),
            AdviceCode::DownloadWithoutCacheKey => extra::downloads(&mut cx, &items),
            AdviceCode::NoInstallRecommends => extra::recommends(&mut cx, &items),
            _ => {}
        }
    }
    cx.plan.text = cx.doc.render();
    cx.plan.predicted_bytes = cx.plan.changes.iter().filter_map(|c| c.bytes).sum();
    cx.plan
}

/// A unified diff of the rewrite, labelled with the file's name.
pub fn unified_diff(name: &str, old: &str, new: &str) -> String {
    crate::cache_key::unified_diff(name, old, new)
}

/// The state the rewrites share.
pub(crate) struct Ctx<'a> {
    pub report: &'a Report,
    pub doc: Doc,
    pub(crate) located: Located,
    /// The file already uses BuildKit syntax (so cache mounts are welcome).
    pub(crate) buildkit: bool,
    /// Instruction → the instruction it was merged into (itself when not merged).
    pub(crate) forward: Vec<usize>,
    pub options: &'a Options,
    pub original: &'a str,
    pub plan: Plan,
}

impl Ctx<'_> {
    /// The instruction that made `layer`, if the mapping is certain; else the reason.
    pub(crate) fn instruction(&self, layer: usize) -> Result<usize, String> {
        let twice = |i: usize| {
            let matching = &self.located.matching[i];
            let names: Vec<String> = matching.iter().map(|l| format!("L{l}")).collect();
            format!(
                "line {} made several layers ({}): the same command twice, so which one \
                 holds the bytes cannot be told",
                self.doc.instructions[i].line,
                names.join(", ")
            )
        };
        let Some(i) = self.located.layer.get(layer).copied().flatten() else {
            if let Some(i) = self
                .located
                .matching
                .iter()
                .position(|m| m.contains(&layer))
            {
                return Err(twice(i));
            }
            return Err(format!(
                "L{layer} was not made by a line of this Dockerfile (a base-image layer, an \
                 ONBUILD trigger, or a line changed since the image was built)"
            ));
        };
        let ins = &self.doc.instructions[i];
        if self.located.matching[i].len() > 1 {
            return Err(twice(i));
        }
        if let Some(how) = self.located.shared(i, &self.doc.instructions) {
            return Err(format!(
                "line {} is in a stage another stage uses ({how}): editing it would change \
                 that stage too",
                ins.line
            ));
        }
        Ok(self.forward[i])
    }

    /// Appends `command` to the `RUN` at `i` unless it already runs it; `Ok(false)` when
    /// it did.
    pub(crate) fn append(&mut self, i: usize, command: &str) -> Result<bool, String> {
        let line = self.line(i);
        let text = self
            .doc
            .text(i)
            .ok_or_else(|| format!("line {line} was merged away"))?
            .to_string();
        let cannot = |why: String| format!("line {line} cannot be edited: {why}");
        let mut run = doc::RunText::parse(&text).map_err(cannot)?;
        let sc = run.scan().map_err(cannot)?;
        let want = script::words(command);
        if sc
            .units
            .iter()
            .any(|s| script::words(&run.script[s.start..s.end]) == want)
        {
            return Ok(false);
        }
        run.script = script::append_unit(&run.script, &sc.units, command, run.heredoc);
        self.doc.set(i, run.join());
        Ok(true)
    }

    pub(crate) fn line(&self, i: usize) -> usize {
        self.doc.instructions[i].line
    }

    pub(crate) fn refuse(&mut self, a: &crate::report::Advice, lines: Vec<usize>, reason: String) {
        self.plan.refused.push(Refusal {
            code: a.code,
            layers: a.layers.iter().map(|l| l.index).collect(),
            lines,
            reason,
        });
    }

    pub(crate) fn already(&mut self, a: &crate::report::Advice, lines: Vec<usize>) {
        self.plan.already_applied.push(Refusal {
            code: a.code,
            layers: a.layers.iter().map(|l| l.index).collect(),
            lines,
            reason: "the Dockerfile already carries this edit".to_string(),
        });
    }

    pub(crate) fn change(
        &mut self,
        a: &crate::report::Advice,
        lines: Vec<usize>,
        bytes: Option<u64>,
        summary: String,
        note: Option<String>,
    ) {
        let mut lines = lines;
        lines.sort_unstable();
        lines.dedup();
        self.plan.changes.push(Change {
            code: a.code,
            layers: a.layers.iter().map(|l| l.index).collect(),
            lines,
            bytes,
            summary,
            note,
        });
    }
}

/// Whether the file already uses syntax only BuildKit (or buildah) reads: a `syntax`
/// directive, heredocs, or `--mount`/`--chmod`/`--link`/`--checksum`/`--parents` flags.
fn uses_buildkit(text: &str, instructions: &[crate::dockerfile::Instruction]) -> bool {
    let directive = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#'))
        .any(|l| {
            l.trim_start_matches(['#', ' ', '\t'])
                .to_ascii_lowercase()
                .starts_with("syntax")
        });
    directive
        || instructions.iter().any(|ins| {
            !ins.heredocs.is_empty()
                || ins
                    .args
                    .split_whitespace()
                    .take_while(|w| w.starts_with("--"))
                    .any(|w| {
                        ["--mount", "--chmod", "--link", "--checksum", "--parents"]
                            .iter()
                            .any(|f| w.starts_with(f))
                    })
        })
}

/// Quotes a shell word when it needs it (globs stay bare: they must expand).
pub(crate) fn shell_word(w: &str) -> String {
    let plain = w.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '/' | '.' | '_' | '-' | '*' | '+' | ':' | '=' | ',' | '@' | '%'
            )
    });
    if plain && !w.is_empty() {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
