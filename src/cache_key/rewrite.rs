//! The Dockerfile side of `cache-key`: find every download step (the advice's own
//! detection: `curl`/`wget` in a `RUN` without a pinned-hash check, `ADD <url>` without
//! `--checksum`, in every stage, continuations and heredocs included), resolve its URLs
//! from `ARG` defaults, and rewrite the file so each download `RUN` is preceded by a `COPY`
//! of its key files. An `ADD <url>` whose sha256 is known becomes `ADD --checksum=…`,
//! which needs no key file.

use std::collections::BTreeMap;

use crate::advice::{add_download, run_download};
use crate::dockerfile::{arg_defaults, expand, parse};

use super::key_name;

/// Where the key files land in the image: small, outside any application path.
pub(super) const KEY_DEST: &str = "/tmp/cache-keys/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownloadKind {
    /// `RUN curl …` / `RUN wget …`: keyed by a COPY of its key files.
    Run,
    /// `ADD <url>` without `--checksum`: pinned with `--checksum` when its digest is known.
    Add,
}

/// One download step of the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Download {
    /// 1-based line the instruction starts on.
    pub(crate) line: usize,
    pub(crate) kind: DownloadKind,
    /// `curl`, `wget` or `ADD`.
    pub(crate) tool: String,
    /// URLs with every `ARG` expanded.
    pub(crate) urls: Vec<String>,
    /// URLs that could not be expanded, with the variable that has no default.
    pub(crate) unresolved: Vec<(String, String)>,
}

/// The downloads of `text`, in file order.
pub(crate) fn plan(text: &str) -> Vec<Download> {
    let instructions = parse(text);
    let vars = arg_defaults(&instructions);
    let mut out = Vec::new();
    for (ins, vars) in instructions.iter().zip(&vars) {
        let (kind, tool, raw) = match ins.keyword.as_str() {
            "RUN" => match run_download(&ins.script()) {
                Some((tool, urls)) => (DownloadKind::Run, tool, urls),
                None => continue,
            },
            "ADD" => match add_download(&ins.args) {
                Some(urls) => (DownloadKind::Add, "ADD".to_string(), urls),
                None => continue,
            },
            _ => continue,
        };
        let mut urls = Vec::new();
        let mut unresolved = Vec::new();
        for url in raw {
            match expand(&url, vars) {
                Ok(u) => urls.push(u),
                Err(name) => unresolved.push((url, name)),
            }
        }
        out.push(Download {
            line: ins.line,
            kind,
            tool,
            urls,
            unresolved,
        });
    }
    out
}

/// `text` with a `COPY <key files> /tmp/cache-keys/` before every download `RUN` (unless
/// it is already there), and `--checksum` on every single-URL `ADD` whose digest is in
/// `checksums` (URL → sha256 hex). `key_dir` is the key files' folder relative to the
/// build context.
pub(crate) fn rewrite(
    text: &str,
    downloads: &[Download],
    key_dir: &str,
    checksums: &BTreeMap<String, String>,
) -> String {
    let instructions = parse(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + downloads.len());
    let key_dir = key_dir.trim_end_matches('/');
    let mut next_line = 1;
    for (at, ins) in instructions.iter().enumerate() {
        let Some(download) = downloads.iter().find(|d| d.line == ins.line) else {
            continue;
        };
        while next_line < ins.line {
            out.push(lines[next_line - 1].to_string());
            next_line += 1;
        }
        match download.kind {
            DownloadKind::Run if !download.urls.is_empty() => {
                let copy = copy_line(key_dir, &download.urls);
                let already = at
                    .checked_sub(1)
                    .map(|p| &instructions[p])
                    .is_some_and(|prev| {
                        prev.keyword == "COPY" && format!("COPY {}", prev.args) == copy
                    });
                if !already {
                    out.push(copy);
                }
            }
            DownloadKind::Add if download.urls.len() == 1 => {
                if let Some(hex) = checksums.get(&download.urls[0]) {
                    // The instruction is replaced whole, continuation lines included.
                    out.push(format!("ADD --checksum=sha256:{hex} {}", ins.args));
                    next_line = ins.end_line + 1;
                    continue;
                }
            }
            _ => {}
        }
    }
    while next_line <= lines.len() {
        out.push(lines[next_line - 1].to_string());
        next_line += 1;
    }
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    joined
}

/// `COPY <key files> /tmp/cache-keys/` for the download of `urls` (shared with `fix`).
pub(crate) fn copy_line(key_dir: &str, urls: &[String]) -> String {
    let mut names: Vec<String> = urls.iter().map(|u| key_name(u)).collect();
    names.dedup();
    let sources: Vec<String> = names.iter().map(|n| format!("{key_dir}/{n}")).collect();
    format!("COPY {} {KEY_DEST}", sources.join(" "))
}

/// A unified diff of `old` → `new`, labelled with the file's name.
pub(crate) fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &str = "ARG TOOL_VERSION=1.4.2\nFROM debian AS build\nARG TOOL_VERSION\nRUN apt-get update\nRUN curl -fsSL -o /t.tgz \\\n    https://dl.example.invalid/tool-${TOOL_VERSION}.tgz \\\n && tar xzf /t.tgz\nFROM busybox\nRUN <<EOF\nwget -q -O /bin/x http://h.invalid/x-latest\nchmod +x /bin/x\nEOF\nRUN wget http://h.invalid/$UNSET/y\nADD https://h.invalid/z.tgz /z.tgz\nRUN echo done\n";

    #[test]
    fn finds_downloads_in_every_stage_with_args_expanded() {
        let d = plan(MULTI);
        assert_eq!(d.len(), 4, "{d:#?}");
        assert_eq!((d[0].line, d[0].tool.as_str()), (5, "curl"));
        assert_eq!(d[0].urls, ["https://dl.example.invalid/tool-1.4.2.tgz"]);
        assert_eq!((d[1].line, d[1].tool.as_str()), (9, "wget"));
        assert_eq!(d[1].urls, ["http://h.invalid/x-latest"]);
        assert!(d[2].urls.is_empty());
        assert_eq!(
            d[2].unresolved,
            [("http://h.invalid/$UNSET/y".to_string(), "UNSET".to_string())]
        );
        assert_eq!((d[3].kind, d[3].line), (DownloadKind::Add, 14));
    }

    #[test]
    fn a_pinned_download_is_not_one() {
        let df = "FROM x\nRUN wget -O /f http://h/f && echo 'abc  /f' | sha256sum -c\n";
        assert!(plan(df).is_empty());
        assert!(plan("FROM x\nADD --checksum=sha256:ab http://h/f /f\n").is_empty());
    }

    #[test]
    fn rewrite_puts_the_key_copy_right_before_each_download() {
        let d = plan(MULTI);
        let mut sums = BTreeMap::new();
        sums.insert("https://h.invalid/z.tgz".to_string(), "cd".repeat(32));
        let new = rewrite(MULTI, &d, ".cache-keys", &sums);
        let lines: Vec<&str> = new.lines().collect();
        let k0 = key_name("https://dl.example.invalid/tool-1.4.2.tgz");
        assert_eq!(lines[4], format!("COPY .cache-keys/{k0} /tmp/cache-keys/"));
        assert!(lines[5].starts_with("RUN curl"));
        let k1 = key_name("http://h.invalid/x-latest");
        assert_eq!(lines[9], format!("COPY .cache-keys/{k1} /tmp/cache-keys/"));
        assert_eq!(lines[10], "RUN <<EOF");
        // The unresolvable download is left alone; the ADD is pinned.
        assert_eq!(lines[14], "RUN wget http://h.invalid/$UNSET/y");
        assert_eq!(
            lines[15],
            format!(
                "ADD --checksum=sha256:{} https://h.invalid/z.tgz /z.tgz",
                "cd".repeat(32)
            )
        );
        assert_eq!(lines.last(), Some(&"RUN echo done"));
        assert!(new.ends_with('\n'));
        // Idempotent: a second rewrite adds nothing.
        assert_eq!(rewrite(&new, &plan(&new), ".cache-keys", &sums), new);
    }

    #[test]
    fn the_diff_names_the_file() {
        let d = unified_diff("Dockerfile", "a\nb\n", "a\nc\nb\n");
        assert!(d.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n"), "{d}");
        assert!(d.contains("+c\n"));
    }
}
