//! Package-manager hygiene read from `created_by`, mapped to the hadolint rules users
//! know, and reported only where bytes in the image confirm it:
//!
//! | rule   | the command                              | confirmed by                         |
//! |--------|------------------------------------------|--------------------------------------|
//! | DL3009 | `apt-get install` / `apt-get update`     | `/var/lib/apt/lists` bytes from it   |
//! | DL3019 | `apk add` without `--no-cache`           | `/var/cache/apk` bytes from it       |
//! | DL3042 | `pip install` without `--no-cache-dir`   | `~/.cache/pip` bytes from it         |
//! | DL3060 | `yarn install/add` without `yarn cache clean` | yarn cache bytes from it        |
//! | DL3015 | `apt-get install` without `--no-install-recommends` | live bytes from that layer |
//!
//! The first four are the same bytes as a `cache-left-behind` (or, when deleted in
//! a later layer, a `cleanup-in-later-layer`) item, so they annotate that item
//! rather than count its bytes twice. DL3015 has no cache location: it becomes its
//! own `no-install-recommends` item with 0 bytes, since which of the installed bytes
//! are recommended packages cannot be told from the image.

use crate::human::human_bytes;
use crate::report::{AdviceCode, Report};

use super::caches::{location, Tool};
use super::command::Program;
use super::{Advice, Commands, Severity};

/// The hadolint rule a layer's command breaks for this cache, if it does.
fn rule_for(cmds: &Commands, layer: usize, tool: Tool) -> Option<(&'static str, String)> {
    let c = cmds.get(layer)?;
    let programs = c.programs();
    let find = |pred: &dyn Fn(&Program<'_>) -> bool| programs.iter().find(|p| pred(p)).cloned();
    match tool {
        Tool::AptLists => {
            find(&|p| is_apt(p) && matches!(p.subcommand(), Some("install" | "update"))).map(|p| {
                (
                    "DL3009",
                    format!(
                        "`{} {}` leaves the package lists in the layer",
                        p.name,
                        p.subcommand().unwrap_or_default()
                    ),
                )
            })
        }
        Tool::Apk => find(&|p| p.name == "apk" && p.subcommand() == Some("add"))
            .filter(|p| !p.has("--no-cache"))
            .map(|_| ("DL3019", "`apk add` runs without `--no-cache`".to_string())),
        Tool::Pip => find(&is_pip_install)
            .filter(|p| !p.has("--no-cache-dir") && !c.body.contains("PIP_NO_CACHE_DIR"))
            .map(|_| {
                (
                    "DL3042",
                    "`pip install` runs without `--no-cache-dir`".to_string(),
                )
            }),
        Tool::Yarn => find(&|p| {
            p.name == "yarn" && matches!(p.subcommand(), None | Some("install" | "add" | "global"))
        })
        .filter(|_| {
            !programs
                .iter()
                .any(|p| p.name == "yarn" && p.has("cache") && p.has("clean"))
        })
        .map(|_| {
            (
                "DL3060",
                "`yarn install` runs without `yarn cache clean`".to_string(),
            )
        }),
        _ => None,
    }
}

fn is_apt(p: &Program<'_>) -> bool {
    matches!(p.name, "apt-get" | "apt")
}

fn is_pip_install(p: &Program<'_>) -> bool {
    if p.name.starts_with("pip") {
        return p.subcommand() == Some("install");
    }
    if p.name.starts_with("python") {
        let mut it = p.args.iter().skip_while(|a| **a != "-m");
        return it.nth(1) == Some(&"pip") && p.has("install");
    }
    false
}

/// Attaches the rule to the cache and cleanup items whose bytes confirm it.
pub(super) fn annotate(cmds: &Commands, items: &mut [Advice]) {
    for item in items.iter_mut() {
        if item.hadolint.is_some() {
            continue;
        }
        let producers: Vec<usize> = match item.code {
            AdviceCode::CacheLeftBehind => item.layers.iter().map(|l| l.index).collect(),
            AdviceCode::CleanupInLaterLayer => {
                item.layers.first().map(|l| l.index).into_iter().collect()
            }
            _ => continue,
        };
        // A cache item's path is its location (a directory); a cleanup item's are files.
        let is_dir = item.code == AdviceCode::CacheLeftBehind;
        let tools: Vec<Tool> = item
            .paths
            .iter()
            .filter_map(|p| {
                let probe = if is_dir { format!("{p}/-") } else { p.clone() };
                location(&probe).map(|(_, t)| t)
            })
            .collect();
        let found = producers.iter().find_map(|&layer| {
            tools
                .iter()
                .find_map(|&t| rule_for(cmds, layer, t).map(|r| (layer, r)))
        });
        if let Some((layer, (rule, why))) = found {
            item.hadolint = Some(rule.to_string());
            item.suggestion = format!(
                "hadolint {rule}: in {}, {why}. {}",
                cmds.label(layer),
                item.suggestion
            );
        }
    }
}

/// DL3015 items: `apt-get install` without `--no-install-recommends` in a layer that
/// still holds installed bytes.
pub(super) fn advise(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let mut live = vec![0u64; cmds.len()];
    report.files.walk(|f| {
        if let Some(b) = live.get_mut(f.layer) {
            *b += f.bytes;
        }
    });
    (0..cmds.len())
        .filter(|&i| live[i] > 0)
        .filter(|&i| {
            cmds.get(i).is_some_and(|c| {
                c.programs().iter().any(|p| {
                    is_apt(p)
                        && p.subcommand() == Some("install")
                        && !p.has("--no-install-recommends")
                        && !p.args.iter().any(|a| a.contains("Install-Recommends"))
                })
            })
        })
        .map(|i| Advice {
            code: AdviceCode::NoInstallRecommends,
            severity: Severity::Info,
            title: format!(
                "L{i} runs apt-get install without --no-install-recommends and holds {} live",
                human_bytes(live[i])
            ),
            layers: vec![cmds.layer(i)],
            paths: vec![],
            bytes: 0,
            files: 0,
            suggestion: format!(
                "hadolint DL3015: add `--no-install-recommends` to the apt-get install of {}; \
                 recommended packages are installed by default and are rarely needed in an \
                 image. Their share of the layer cannot be read from the image, so no saving \
                 is claimed.",
                cmds.label(i)
            ),
            hadolint: Some("DL3015".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advice::testing::{dup, file, report, saving};
    use crate::advice::{advise as all, AdviceLayer};
    use crate::report::DuplicateKind;

    fn rules(a: &[Advice]) -> Vec<(&str, Option<&str>)> {
        a.iter()
            .map(|x| (x.code.as_str(), x.hadolint.as_deref()))
            .collect()
    }

    #[test]
    fn apt_install_with_lists_left_is_dl3009() {
        let mut r = report(&[
            "base",
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl",
        ]);
        r.files = vec![
            file("/var/lib/apt/lists/deb_Packages", 9 * 1024 * 1024, 1),
            file("/usr/bin/curl", 300_000, 1),
        ]
        .into();
        let a = all(&r);
        assert_eq!(rules(&a), [("cache-left-behind", Some("DL3009"))]);
        assert!(a[0].suggestion.starts_with("hadolint DL3009: in L1"));
    }

    #[test]
    fn apt_install_without_lists_is_not_dl3009() {
        let mut r = report(&[
            "base",
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*",
        ]);
        r.files = vec![file("/usr/bin/curl", 300_000, 1)].into();
        assert!(all(&r).is_empty());
    }

    #[test]
    fn lists_deleted_in_a_later_layer_are_dl3009_on_the_cleanup_item() {
        let mut r = report(&[
            "base",
            "/bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl",
            "/bin/sh -c rm -rf /var/lib/apt/lists/*",
        ]);
        let p = "/var/lib/apt/lists/deb_Packages";
        r.duplicates = vec![dup(p, DuplicateKind::Deleted, &[1], &[2], 5000)];
        r.merge_savings = vec![saving(1, 2, &[(p, 5000)], 1, 5000)];
        assert_eq!(
            rules(&all(&r)),
            [("cleanup-in-later-layer", Some("DL3009"))]
        );
    }

    #[test]
    fn pip_without_no_cache_dir_and_a_pip_cache_is_dl3042() {
        let mut r = report(&["base", "RUN /bin/sh -c pip install flask # buildkit"]);
        r.files = vec![file("/root/.cache/pip/http/x", 4096, 1)].into();
        assert_eq!(rules(&all(&r)), [("cache-left-behind", Some("DL3042"))]);
        let mut r = report(&["base", "/bin/sh -c python3 -m pip install flask"]);
        r.files = vec![file("/root/.cache/pip/http/x", 4096, 1)].into();
        assert_eq!(rules(&all(&r)), [("cache-left-behind", Some("DL3042"))]);
    }

    #[test]
    fn pip_cache_from_another_layer_is_not_blamed_on_pip() {
        let mut r = report(&[
            "base",
            "/bin/sh -c pip install --no-cache-dir flask",
            "/bin/sh -c cp -r /x /root/.cache/pip",
        ]);
        r.files = vec![file("/root/.cache/pip/x", 4096, 2)].into();
        assert_eq!(
            rules(&all(&r)),
            [("cache-left-behind", None), ("keep-separate", None)]
        );
    }

    #[test]
    fn apk_add_without_no_cache_and_an_apk_cache_is_dl3019() {
        let mut r = report(&["base", "/bin/sh -c apk update && apk add git"]);
        r.files = vec![file("/var/cache/apk/APKINDEX.tar.gz", 1_000_000, 1)].into();
        assert_eq!(rules(&all(&r)), [("cache-left-behind", Some("DL3019"))]);
        let mut r = report(&["base", "/bin/sh -c apk add --no-cache git"]);
        r.files = vec![file("/var/cache/apk/x", 10, 1)].into();
        assert_eq!(rules(&all(&r)), [("cache-left-behind", None)]);
    }

    #[test]
    fn yarn_without_cache_clean_and_a_yarn_cache_is_dl3060() {
        let mut r = report(&["base", "/bin/sh -c yarn install --frozen-lockfile"]);
        r.files = vec![file("/usr/local/share/.cache/yarn/v6/x", 2048, 1)].into();
        assert_eq!(rules(&all(&r)), [("cache-left-behind", Some("DL3060"))]);
    }

    #[test]
    fn install_recommends_needs_live_bytes_from_the_layer() {
        let mut r = report(&["base", "/bin/sh -c apt-get install -y curl"]);
        r.files = vec![file("/usr/bin/curl", 300_000, 1)].into();
        let a = all(&r);
        assert_eq!(rules(&a), [("no-install-recommends", Some("DL3015"))]);
        assert_eq!(a[0].bytes, 0);
        assert_eq!(
            a[0].layers,
            [AdviceLayer {
                index: 1,
                created_by: Some("/bin/sh -c apt-get install -y curl".into()),
                line: None,
            }]
        );
        // Everything that layer installed was later overwritten or removed.
        r.files = vec![file("/usr/bin/curl", 300_000, 0)].into();
        assert!(all(&r).is_empty());
    }
}
