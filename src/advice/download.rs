//! `download-without-cache-key`: a step that fetches from the network with nothing
//! in its cache key that changes when the remote file does.
//!
//! A `RUN curl …`/`RUN wget …` layer is cached on the command text alone, so once
//! built it is reused forever, whatever the URL now serves. Not flagged:
//! - a RUN that checks a pinned hash (`sha256sum -c`, `shasum -c`): the expected
//!   content is in the command text, so the text is a faithful cache key;
//! - `ADD --checksum=sha256:… <url>`.
//!
//! `ADD <url>` without `--checksum` is flagged at low severity: BuildKit revalidates
//! it by ETag, but nothing pins what it may fetch.

use super::{Advice, Commands, Severity, Step};
use crate::report::AdviceCode;

pub(super) fn advise(cmds: &Commands) -> Vec<Advice> {
    (0..cmds.len())
        .filter_map(|i| {
            let c = cmds.get(i)?;
            let (tool, urls, severity) = match c.step {
                Step::Run => {
                    let (tool, urls) = run_download(&c.body)?;
                    (tool, urls, Severity::Medium)
                }
                Step::Add => ("ADD".to_string(), add_download(&c.body)?, Severity::Low),
                _ => return None,
            };
            let what = if urls.is_empty() {
                "a URL".to_string()
            } else {
                urls.join(", ")
            };
            Some(Advice {
                code: AdviceCode::DownloadWithoutCacheKey,
                severity,
                title: format!(
                    "L{i} downloads {what} with {tool}: its cache key does not change when the \
                     remote file does"
                ),
                layers: vec![cmds.layer(i)],
                paths: vec![],
                bytes: 0,
                files: 0,
                suggestion: format!(
                    "{} is cached on its command text, so rebuilds keep serving the old download \
                     (or a new one appears silently on a cold cache). Give the build a cache key: \
                     (1) `ADD --checksum=sha256:<digest> <url> <dest>` pins the content; (2) \
                     `ADD <url> <dest>`, which BuildKit revalidates by ETag on every build; or (3) \
                     ADD a version or ETag file just before the download (`ADD <url>.sha256 \
                     /tmp/tool.sha256`) and verify against it, so a change invalidates the \
                     download step. `layergate cache-key --dockerfile Dockerfile --write` does \
                     (3) for you: it writes an ETag key file per URL and COPYs it right before \
                     the download; run it before every build.",
                    cmds.label(i)
                ),
                hadolint: None,
            })
        })
        .collect()
}

/// `(program, urls)` when a RUN script downloads without checking a pinned hash.
pub(crate) fn run_download(script: &str) -> Option<(String, Vec<String>)> {
    let programs = super::command::programs(script);
    let pinned = programs.iter().any(|p| {
        let hasher = matches!(
            p.name,
            "sha1sum" | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum" | "shasum" | "b2sum"
        );
        hasher && (p.has("-c") || p.has("--check") || p.has_prefix("--check"))
    });
    if pinned {
        return None;
    }
    let mut tool = None;
    let mut urls = Vec::new();
    for p in programs
        .iter()
        .filter(|p| matches!(p.name, "curl" | "wget"))
    {
        let found: Vec<&str> = p
            .args
            .iter()
            .copied()
            .filter(|a| a.contains("://") || a.starts_with('$') || a.starts_with("\"$"))
            .collect();
        if found.is_empty() {
            continue;
        }
        tool.get_or_insert(p.name);
        urls.extend(
            found
                .iter()
                .filter(|a| a.contains("://"))
                .map(|a| a.trim_matches(|c| c == '"' || c == '\'').to_string()),
        );
    }
    tool.map(|t| (t.to_string(), urls))
}

/// The URLs of an `ADD` without `--checksum`, if it fetches any.
pub(crate) fn add_download(args: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = args.split_whitespace().collect();
    if words.iter().any(|w| w.starts_with("--checksum")) {
        return None;
    }
    let urls: Vec<String> = words
        .iter()
        .filter(|w| !w.starts_with("--"))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://") || w.starts_with("git@"))
        .map(|w| w.to_string())
        .collect();
    (!urls.is_empty()).then_some(urls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::report;

    fn flagged(created_by: &str) -> Vec<Advice> {
        let r = report(&["base", created_by]);
        advise(&Commands::of(&r))
    }

    #[test]
    fn wget_with_build_args_prefix_is_flagged() {
        let a = flagged(
            "|1 TOOL_PORT=38517 /bin/sh -c mkdir -p /opt/tool  && wget -q -O /opt/tool/tool.bin \
             http://127.0.0.1:${TOOL_PORT}/tool.bin  && chmod 755 /opt/tool/tool.bin",
        );
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].code, "download-without-cache-key");
        assert_eq!(a[0].layers[0].index, 1);
        assert!(a[0]
            .title
            .contains("http://127.0.0.1:${TOOL_PORT}/tool.bin"));
        assert!(a[0].title.contains("wget"));
    }

    #[test]
    fn curl_in_classic_and_buildkit_history_is_flagged() {
        assert_eq!(
            flagged("/bin/sh -c curl -fsSL https://example.com/x.tgz | tar xz").len(),
            1
        );
        assert_eq!(
            flagged("RUN /bin/sh -c set -eux; curl -fsSLo /x \"$URL\" # buildkit").len(),
            1
        );
        assert_eq!(
            flagged("RUN |1 V=1 /bin/sh -c cd /x && /usr/bin/curl -O https://h/v1.zip # buildkit")
                .len(),
            1
        );
    }

    #[test]
    fn installing_curl_is_not_downloading() {
        assert!(flagged("/bin/sh -c apt-get install -y curl wget").is_empty());
        assert!(flagged("/bin/sh -c curl --version").is_empty());
    }

    #[test]
    fn a_pinned_hash_in_the_command_is_a_cache_key() {
        assert!(flagged(
            "/bin/sh -c curl -fsSLo /x.tgz https://h/x-1.2.tgz && echo \"ab12  /x.tgz\" | sha256sum -c -"
        )
        .is_empty());
    }

    #[test]
    fn add_url_without_checksum_is_flagged_low() {
        let a = flagged("ADD https://example.com/tool.tgz /opt/ # buildkit");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].severity, Severity::Low);
        let a = flagged("/bin/sh -c #(nop) ADD http://example.com/tool.tgz /opt/");
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn add_with_checksum_is_not_flagged() {
        assert!(flagged(
            "ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d \
             https://example.com/tool.tgz /opt/ # buildkit"
        )
        .is_empty());
        assert!(flagged("/bin/sh -c #(nop) ADD file:abc in /opt/ ").is_empty());
        assert!(flagged("COPY https-notes.txt /x # buildkit").is_empty());
    }
}
