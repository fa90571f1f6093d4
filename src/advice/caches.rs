//! `cache-left-behind`: known cache and scratch locations that survive in the final
//! filesystem, with their bytes and the layers that left them.
//!
//! Every byte there is downloaded on every pull and never read at run time. The
//! locations are the ones package managers and build tools write by default; a file
//! counts only if it is live in the final image (a cache deleted later is a
//! `cleanup-in-later-layer` instead). Locations holding 0 bytes (apt's `lock`, empty
//! `partial/`) are not reported.

use std::collections::BTreeMap;

use crate::human::{human_bytes, layer_list};
use crate::report::{AdviceCode, Report};

use super::{Advice, Commands};

/// Which tool a cache location belongs to: decides the fix, and which hadolint rule
/// `hygiene` may attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    AptLists,
    AptArchives,
    Apk,
    Yum,
    Pip,
    Npm,
    Yarn,
    GoBuild,
    GoMod,
    Cargo,
    Maven,
    Gradle,
    Tmp,
    /// Anything else under a user's `~/.cache`.
    UserCache,
}

/// The location a live path belongs to (`/root/.cache/pip`, `/var/lib/apt/lists`),
/// and its tool; `None` if it is not a known cache.
pub(crate) fn location(path: &str) -> Option<(String, Tool)> {
    const FIXED: &[(&str, Tool)] = &[
        ("/var/lib/apt/lists", Tool::AptLists),
        ("/var/cache/apt", Tool::AptArchives),
        ("/var/cache/apk", Tool::Apk),
        ("/etc/apk/cache", Tool::Apk),
        ("/var/cache/yum", Tool::Yum),
        ("/var/cache/dnf", Tool::Yum),
        ("/usr/local/share/.cache/yarn", Tool::Yarn),
        ("/go/pkg/mod", Tool::GoMod),
        ("/root/go/pkg/mod", Tool::GoMod),
        ("/usr/local/cargo/registry", Tool::Cargo),
        ("/root/.cargo/registry", Tool::Cargo),
        ("/root/.m2/repository", Tool::Maven),
        ("/root/.gradle/caches", Tool::Gradle),
        ("/root/.npm", Tool::Npm),
        ("/tmp", Tool::Tmp),
        ("/var/tmp", Tool::Tmp),
    ];
    for (dir, tool) in FIXED {
        if under(path, dir) {
            return Some((dir.to_string(), *tool));
        }
    }
    // A home directory: /root or /home/USER.
    let (home, rest) = if let Some(rest) = path.strip_prefix("/root/") {
        ("/root".to_string(), rest)
    } else {
        let rest = path.strip_prefix("/home/")?;
        let (user, rest) = rest.split_once('/')?;
        (format!("/home/{user}"), rest)
    };
    if rest.starts_with(".npm/") {
        return Some((format!("{home}/.npm"), Tool::Npm));
    }
    let rest = rest.strip_prefix(".cache/")?;
    // One location per tool below ~/.cache: pip, yarn, go-build, or an app's own.
    let Some((tool_dir, _)) = rest.split_once('/') else {
        return Some((format!("{home}/.cache"), Tool::UserCache));
    };
    let tool = match tool_dir {
        "pip" => Tool::Pip,
        "yarn" => Tool::Yarn,
        "go-build" => Tool::GoBuild,
        _ => Tool::UserCache,
    };
    Some((format!("{home}/.cache/{tool_dir}"), tool))
}

fn under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

struct Found {
    tool: Tool,
    bytes: u64,
    files: u64,
    layers: Vec<usize>,
}

pub(crate) fn advise(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    // Paths lent one at a time: no allocation per file.
    report.files.walk(|f| {
        let Some((loc, tool)) = location(f.path) else {
            return;
        };
        let e = found.entry(loc).or_insert(Found {
            tool,
            bytes: 0,
            files: 0,
            layers: vec![],
        });
        e.bytes += f.bytes;
        e.files += 1;
        if !e.layers.contains(&f.layer) {
            e.layers.push(f.layer);
        }
    });
    found
        .into_iter()
        .filter(|(_, f)| f.bytes > 0)
        .map(|(loc, mut f)| {
            f.layers.sort_unstable();
            let by = layer_list(&f.layers);
            Advice {
                title: format!(
                    "{loc} holds {} in {} files left by {by}",
                    human_bytes(f.bytes),
                    f.files
                ),
                suggestion: fix(f.tool, &loc),
                paths: vec![loc],
                ..cmds.item(AdviceCode::CacheLeftBehind, &f.layers, f.bytes, f.files)
            }
        })
        .collect()
}

/// The concrete change for one tool's cache.
pub(crate) fn fix(tool: Tool, loc: &str) -> String {
    let mount = format!(
        "or keep the cache out of the image with a cache mount: \
         `RUN --mount=type=cache,target={loc} …`"
    );
    match tool {
        Tool::AptLists => format!(
            "End the RUN that runs apt-get install with `&& rm -rf /var/lib/apt/lists/*` \
             (hadolint DL3009), {mount}."
        ),
        Tool::AptArchives => format!(
            "End the RUN that runs apt-get install with `&& apt-get clean` (it empties \
             /var/cache/apt/archives), {mount}."
        ),
        Tool::Apk => "Use `apk add --no-cache …` (hadolint DL3019): it fetches the index \
                      without storing it or the packages."
            .to_string(),
        Tool::Yum => {
            format!("End the install RUN with `&& yum clean all` (or `dnf clean all`), {mount}.")
        }
        Tool::Pip => format!(
            "Use `pip install --no-cache-dir …` or set `ENV PIP_NO_CACHE_DIR=1` \
             (hadolint DL3042), {mount}."
        ),
        Tool::Npm => {
            format!("End the RUN that runs npm with `&& npm cache clean --force`, {mount}.")
        }
        Tool::Yarn => format!(
            "End the RUN that runs yarn with `&& yarn cache clean` (hadolint DL3060), {mount}."
        ),
        Tool::GoBuild | Tool::GoMod => format!(
            "Build in a builder stage and COPY --from it only the binary; in one stage, \
             `&& go clean -cache -modcache` at the end of the build RUN, {mount}."
        ),
        Tool::Cargo => {
            format!("Build in a builder stage and COPY --from it only the binary, {mount}.")
        }
        Tool::Maven | Tool::Gradle => {
            format!("Build in a builder stage and COPY --from it only the artifact, {mount}.")
        }
        Tool::Tmp => format!(
            "Delete what the step writes to {loc} at the end of the same RUN (`&& rm -rf \
             {loc}/*`), or use a tmpfs mount: `RUN --mount=type=tmpfs,target={loc} …`."
        ),
        Tool::UserCache => format!(
            "Delete {loc} at the end of the RUN that fills it (`&& rm -rf {loc}`), {mount}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::{file, report};

    #[test]
    fn locations_group_by_tool_directory() {
        assert_eq!(
            location("/root/.cache/pip/http/a/b"),
            Some(("/root/.cache/pip".into(), Tool::Pip))
        );
        assert_eq!(
            location("/home/app/.cache/yarn/v6/x"),
            Some(("/home/app/.cache/yarn".into(), Tool::Yarn))
        );
        assert_eq!(
            location("/var/lib/apt/lists/deb.debian.org_dists"),
            Some(("/var/lib/apt/lists".into(), Tool::AptLists))
        );
        assert_eq!(location("/tmpfile"), None);
        assert_eq!(location("/usr/lib/apt/methods/http"), None);
        assert_eq!(location("/root/.bashrc"), None);
    }

    #[test]
    fn empty_locations_are_not_reported() {
        let mut r = report(&["base", "/bin/sh -c apt-get update"]);
        r.files = vec![
            file("/var/lib/apt/lists/lock", 0, 1),
            file("/tmp/x", 10, 1),
            file("/tmp/y", 20, 0),
        ]
        .into();
        let a = advise(&r, &Commands::of(&r));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].paths, ["/tmp"]);
        assert_eq!((a[0].bytes, a[0].files), (30, 2));
        assert_eq!(
            a[0].layers.iter().map(|l| l.index).collect::<Vec<_>>(),
            [0, 1]
        );
    }
}
