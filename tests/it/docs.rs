//! Docs that cannot rot: README.md and docs/*.md are read here as a reader would
//! and checked against the code.
//!
//! - Every relative link resolves to a file in the repository, and every `#anchor`
//!   to a heading (by GitHub's slug rules) or an `id` of the target page.
//! - Every shell block (```sh, ```bash, ```console, ```shell) is preceded by one of
//!   three markers: `<!-- test: exit=N prints="TEXT" -->` (the block runs here, in a
//!   scratch directory where `examples/` and `tests/` are the repository's, with this
//!   build's `layergate` first on PATH and `cargo run --release --` standing for it;
//!   the exit code must be N and TEXT a substring of its standard output or error),
//!   `<!-- ci-command -->` (each line is a line of `.ci/run`), or
//!   `<!-- illustrative -->` (shown, not run: it needs a network, an engine or a
//!   registry the tests do not give it). A fence without a language is refused, so a
//!   command cannot hide in one.
//! - `<!-- help: SUBCOMMAND -->` before a ```text block quotes that command's
//!   `--help`, equal to its snapshot in tests/it/snapshots (tests/it/help.rs);
//!   `<!-- snapshot: NAME -->` quotes the body of tests/it/snapshots/NAME.snap.
//! - The README's workflow and policy (between `readme-workflow`/`readme-policy`
//!   markers) are what the runners' tests run: the policy loads with the real loader
//!   and fails growth over 10 % only, the workflow has the trigger, permissions and
//!   action inputs it promises; the GitLab include names only inputs the component
//!   declares. The default policy shown is the one compiled in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every page of docs/, as (path relative to the root, text).
fn pages() -> Vec<(String, String)> {
    let mut names = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    names.extend(docs);
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(root().join(&n)).unwrap();
            (n, text)
        })
        .collect()
}

/// A fenced block: its info string, its lines, the line number (1-based) of its
/// opening fence and the last non-blank line before it.
struct Block {
    lang: String,
    body: String,
    line: usize,
    before: String,
}

/// The fenced blocks of a page, outermost only (a ```` fence may hold ``` ones).
fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        let ticks = t.chars().take_while(|&c| c == '`').count();
        if ticks >= 3 {
            let fence = &t[..ticks];
            let lang = t[ticks..].trim().to_string();
            let before = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
                .unwrap_or_default();
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && lines[i].trim() != fence {
                body.push(lines[i]);
                i += 1;
            }
            assert!(i < lines.len(), "unclosed fence at line {}", start + 1);
            out.push(Block {
                lang,
                body: dedent(&body),
                line: start + 1,
                before,
            });
        }
        i += 1;
    }
    out
}

/// Removes the indentation of the block's least indented line (blocks in lists).
fn dedent(lines: &[&str]) -> String {
    let n = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| format!("{}\n", l.get(n..).unwrap_or("")))
        .collect()
}

/// The page's lines with every fenced block left out.
fn outside_fences(text: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let ticks = t.chars().take_while(|&c| c == '`').count();
        match &fence {
            Some(f) if t.trim_end() == f => fence = None,
            Some(_) => {}
            None if ticks >= 3 => fence = Some(t[..ticks].to_string()),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The page's text outside fenced blocks and inline code, where links live.
fn prose(text: &str) -> String {
    let mut out = String::new();
    for line in outside_fences(text).lines() {
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// GitHub's anchor for a heading: the rendered text lower-cased, everything but
/// letters, digits, spaces, `-` and `_` dropped, spaces turned into `-`.
fn slug(heading: &str) -> String {
    // Rendered text: links keep their text, code spans and emphasis lose their marks.
    let mut text = String::new();
    let mut chars = heading.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '*' => {}
            '[' => {}
            ']' if chars.peek() == Some(&'(') => {
                for c in chars.by_ref() {
                    if c == ')' {
                        break;
                    }
                }
            }
            c => text.push(c),
        }
    }
    text.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor a page offers: heading slugs (a repeated slug gets `-1`, `-2`, …)
/// and explicit `id="…"`/`name="…"` attributes.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in outside_fences(text).lines() {
        let t = line.trim_start();
        let hashes = t.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            let s = slug(t[hashes..].trim());
            let n = seen.entry(s.clone()).or_insert(0);
            out.insert(if *n == 0 {
                s.clone()
            } else {
                format!("{s}-{n}")
            });
            *n += 1;
        }
        for attr in ["id=\"", "name=\""] {
            let mut rest = line;
            while let Some(p) = rest.find(attr) {
                rest = &rest[p + attr.len()..];
                if let Some(end) = rest.find('"') {
                    out.insert(rest[..end].to_string());
                }
            }
        }
    }
    out
}

/// Link targets in a page's prose: `[text](target)`, `![alt](target)`,
/// `src="target"` and `href="target"`.
fn links(text: &str) -> Vec<String> {
    let p = prose(text);
    let mut out = Vec::new();
    let mut rest = p.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            out.push(target.to_string());
        }
    }
    for attr in ["src=\"", "href=\""] {
        let mut rest = p.as_str();
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Comparing a pull request with its base: `diff` and `check`"),
        "comparing-a-pull-request-with-its-base-diff-and-check"
    );
    assert_eq!(
        slug("Starter policy: `layergate init`"),
        "starter-policy-layergate-init"
    );
    assert_eq!(slug("`cleanup-in-later-layer`"), "cleanup-in-later-layer");
    assert_eq!(
        slug("Size over time: `history append` and the trend"),
        "size-over-time-history-append-and-the-trend"
    );
    assert_eq!(
        slug("Package-manager hygiene (hadolint)"),
        "package-manager-hygiene-hadolint"
    );
    assert_eq!(slug("10 % and [a link](x.md)"), "10--and-a-link");
}

/// Every relative link and every anchor in README.md and docs/ resolves.
#[test]
fn links_and_anchors_resolve() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for (name, text) in pages() {
        let dir = Path::new(&name).parent().unwrap().to_path_buf();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file: PathBuf = if path.is_empty() {
                PathBuf::from(&name)
            } else {
                normalise(&dir.join(path))
            };
            let full = root().join(&file);
            if !full.exists() {
                broken.push(format!("{name}: {target}: no file {}", file.display()));
                continue;
            }
            if let Some(a) = anchor {
                let page = std::fs::read_to_string(&full).unwrap_or_default();
                if !anchors(&page).contains(a) {
                    broken.push(format!(
                        "{name}: {target}: no anchor #{a} in {}",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked > 50,
        "only {checked} links found: the parser is broken"
    );
}

/// `a/../b` → `b`, keeping a path that climbs out of the root visible as such.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

const SHELL: &[&str] = &["sh", "bash", "console", "shell"];

/// A `<!-- test: exit=N prints="TEXT" -->` marker: (N, TEXT).
fn test_marker(before: &str) -> Option<(i32, String)> {
    let inner = before
        .strip_prefix("<!-- test:")?
        .strip_suffix("-->")?
        .trim();
    let (exit, prints) = inner.split_once(' ')?;
    let code = exit.strip_prefix("exit=")?.parse().ok()?;
    let text = prints
        .trim()
        .strip_prefix("prints=\"")?
        .strip_suffix('"')?
        .to_string();
    // An empty TEXT would assert nothing about the output.
    (!text.is_empty()).then_some((code, text))
}

/// Every fence has a language, and every shell block is tested, a CI command or
/// marked illustrative; the tested ones run here and say what the docs say.
#[test]
fn command_blocks_are_run_or_marked_illustrative() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let ci_lines: BTreeSet<&str> = ci.lines().map(str::trim).collect();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_layergate")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut problems = Vec::new();
    let (mut ran, mut illustrative) = (0, 0);
    for (name, text) in pages() {
        for b in blocks(&text) {
            let at = format!("{name}:{}", b.line);
            if b.lang.is_empty() {
                problems.push(format!(
                    "{at}: a fence without a language (```text for output)"
                ));
                continue;
            }
            if !SHELL.contains(&b.lang.as_str()) {
                continue;
            }
            if b.before == "<!-- illustrative -->" {
                illustrative += 1;
            } else if b.before == "<!-- ci-command -->" {
                for line in b.body.lines().filter(|l| !l.trim().is_empty()) {
                    if !ci_lines.contains(line.trim()) {
                        problems.push(format!("{at}: `{line}` is not a line of .ci/run"));
                    }
                }
            } else if let Some((code, prints)) = test_marker(&b.before) {
                ran += 1;
                // A scratch directory per block: files one block writes never reach another.
                let scratch = tempfile::tempdir().unwrap();
                for d in ["examples", "tests"] {
                    std::os::unix::fs::symlink(root().join(d), scratch.path().join(d)).unwrap();
                }
                let script = b.body.replace("cargo run --release --", "layergate");
                let out = Command::new("sh")
                    .arg("-ec")
                    .arg(&script)
                    .current_dir(scratch.path())
                    .env("PATH", &path)
                    .env("LAYERGATE_NO_CACHE", "1")
                    .env_remove("GITHUB_ACTIONS")
                    .env_remove("GITLAB_CI")
                    .output()
                    .unwrap();
                let all = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                if out.status.code() != Some(code) {
                    problems.push(format!(
                        "{at}: exit {:?}, the docs say {code}:\n{script}{all}",
                        out.status.code()
                    ));
                } else if !all.contains(&prints) {
                    problems.push(format!("{at}: no {prints:?} in the output:\n{script}{all}"));
                }
            } else {
                problems.push(format!(
                    "{at}: a {} block needs `<!-- test: exit=N prints=\"…\" -->`, \
                     `<!-- ci-command -->` or `<!-- illustrative -->` on the line before it",
                    b.lang
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(ran >= 6, "only {ran} command blocks run");
    assert!(illustrative > 0);
}

/// What a quote marker says its block holds: `<!-- help: CMD -->` the
/// snapshotted `layergate CMD --help`, `<!-- snapshot: NAME -->` the body of
/// tests/it/snapshots/NAME.snap (output a test renders and checks).
fn quoted(before: &str) -> Option<(String, String)> {
    let inner = before.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    if let Some(cmd) = inner.strip_prefix("help:") {
        let cmd = cmd.trim();
        return Some((
            format!("layergate {cmd} --help"),
            crate::help::snapshot_text(cmd),
        ));
    }
    let name = inner.strip_prefix("snapshot:")?.trim();
    let file = root().join(format!("tests/it/snapshots/{name}.snap"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let body = text.splitn(3, "---\n").nth(2).unwrap_or_default();
    Some((
        format!("snapshot {name}"),
        body.trim_start_matches('\n').to_string(),
    ))
}

/// Blocks after a quote marker equal what they quote. `UPDATE_DOCS=1` rewrites
/// the quotes that differ (after the snapshots changed).
#[test]
fn quotes_equal_their_snapshots() {
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let (mut help, mut snapshots) = (0, 0);
    let mut stale = Vec::new();
    for (name, text) in pages() {
        let mut new_text = text.clone();
        for b in blocks(&text) {
            let Some((what, want)) = quoted(&b.before) else {
                continue;
            };
            if what.starts_with("layergate") {
                assert_eq!(
                    b.lang, "text",
                    "{name}:{}: help is quoted in ```text",
                    b.line
                );
                help += 1;
            } else {
                snapshots += 1;
            }
            if b.body.trim_end() == want.trim_end() {
                continue;
            }
            stale.push(format!("{name}:{}: {what}", b.line));
            // Blocks in lists are indented: the quote is written at the fence's indent.
            let open = text.lines().nth(b.line - 1).unwrap();
            let indent = &open[..open.len() - open.trim_start().len()];
            let fence = format!("{}\n{open}\n", b.before);
            let start = new_text
                .find(&fence)
                .map(|i| i + fence.len())
                .unwrap_or_else(|| panic!("{name}:{}: marker not on the line before", b.line));
            let ticks = open.trim_start().split(|c: char| c != '`').next().unwrap();
            let close = format!("{indent}{ticks}\n");
            let mut end = start;
            while !new_text[end..].starts_with(&close) {
                end += new_text[end..].find('\n').unwrap() + 1;
            }
            let body: String = want
                .trim_end()
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        "\n".to_string()
                    } else {
                        format!("{indent}{l}\n")
                    }
                })
                .collect();
            new_text.replace_range(start..end, &body);
        }
        if update && new_text != text {
            std::fs::write(root().join(&name), new_text).unwrap();
        }
    }
    assert!(help >= 3, "only {help} help quotes");
    assert!(snapshots >= 2, "only {snapshots} snapshot quotes");
    assert!(
        stale.is_empty() || update,
        "these quotes differ from their snapshots (UPDATE_DOCS=1 rewrites them):\n{}",
        stale.join("\n")
    );
}

/// The text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in the README,
/// inside its one fenced block.
fn readme_marked(name: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = format!("<!-- {name}:start -->");
    let end = format!("<!-- {name}:end -->");
    let a = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has {start}"))
        + start.len();
    let b = readme
        .find(&end)
        .unwrap_or_else(|| panic!("README has {end}"));
    let bs = blocks(&readme[a..b]);
    assert_eq!(bs.len(), 1, "one fenced block between the {name} markers");
    bs.into_iter().next().unwrap().body
}

/// The README's one-line policy loads with the real loader and holds exactly one
/// rule: compressed growth over 10 % (no byte floor) fails.
#[test]
fn readme_policy_fails_growth_over_ten_percent() {
    let text = readme_marked("readme-policy");
    assert_eq!(text.trim().lines().count(), 1, "a policy of one line");
    let p = layergate::load_policy_str(".layergate.yml", &text).unwrap();
    assert_eq!(p.rule_codes(), ["size-growth"]);
    assert!(p.drift.is_empty() && p.parity.is_none() && p.ignore.is_empty());
    let g: Vec<_> = p
        .growth
        .iter()
        .map(|g| (format!("{:?}", g.kind), g.max_bytes, g.max_percent))
        .collect();
    assert_eq!(g, [("Compressed".to_string(), None, Some(10.0))]);
    assert_eq!(format!("{:?}", p.growth[0].severity), "Fail");

    // And it does what it says on the real test images: app-pr is 84 % larger than
    // app-base (exit 1, size-growth), an image against itself passes.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".layergate.yml"), &text).unwrap();
    let base = crate::support::image("app-base.oci.tar");
    let head = crate::support::image("app-pr.oci.tar");
    for (b, h, code) in [(&base, &head, 1), (&base, &base, 0)] {
        let out = crate::support::bin()
            .current_dir(dir.path())
            .args(["diff", b, h, "--comment", "none"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            crate::support::stderr(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(".layergate.yml"), "{stdout}");
        assert_eq!(stdout.contains("size-growth"), code == 1, "{stdout}");
    }
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// The README's GitHub workflow is complete: a pull-request trigger, the
/// permissions it needs, a build of both images and the action at `@v0` with
/// inputs the action declares.
#[test]
fn readme_workflow_is_complete() {
    let wf = yaml(&readme_marked("readme-workflow"));
    assert_eq!(wf["on"], "pull_request");
    assert_eq!(
        wf["permissions"],
        serde_json::json!({"contents": "read", "pull-requests": "write", "packages": "read"})
    );
    let jobs = wf["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1);
    let steps = jobs.values().next().unwrap()["steps"].as_array().unwrap();
    let run: String = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        run.contains("docker build") && run.contains("$BASE_SHA"),
        "{run}"
    );
    let action = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("layergate/"))
        })
        .expect("a step uses the action");
    assert_eq!(action["uses"], "layergate/layergate@v0");
    let declared = yaml(&std::fs::read_to_string(root().join("action.yml")).unwrap());
    for (input, _) in action["with"].as_object().unwrap() {
        assert!(
            declared["inputs"].get(input).is_some(),
            "action.yml has no input {input}"
        );
    }
    for input in ["base", "head", "policy"] {
        assert!(action["with"].get(input).is_some(), "with: {input}");
    }
}

/// The README's GitLab pipeline (between `readme-gitlab` markers; `.ci/run` lints
/// it, and the README's workflow, against their schemas) includes the component
/// with inputs it declares, and waits for the job that builds the images.
#[test]
fn readme_gitlab_include_uses_declared_inputs() {
    let ci = yaml(&readme_marked("readme-gitlab"));
    let component = std::fs::read_to_string(root().join("templates/layergate.yml")).unwrap();
    let spec = yaml(component.split("\n---\n").next().unwrap());
    let include = &ci["include"][0];
    assert!(include["remote"]
        .as_str()
        .unwrap()
        .ends_with("/templates/layergate.yml"));
    for (input, _) in include["inputs"].as_object().unwrap() {
        assert!(
            spec["spec"]["inputs"].get(input).is_some(),
            "templates/layergate.yml declares no input {input}"
        );
    }
    assert_eq!(ci["layergate"]["needs"], serde_json::json!(["build-image"]));
    assert!(ci["build-image"]["script"].is_array());
}

/// The default policy docs/policy.md shows is the one compiled in.
#[test]
fn docs_show_the_default_policy() {
    let page = std::fs::read_to_string(root().join("docs/policy.md")).unwrap();
    let at = page
        .find("## Default policy")
        .expect("a Default policy section");
    let block = blocks(&page[at..])
        .into_iter()
        .find(|b| b.lang == "yaml")
        .unwrap();
    assert_eq!(block.body, layergate::DEFAULT_YAML);
}

/// The README's shape: short, with its contents, workflow and include early.
#[test]
fn readme_is_short_and_in_order() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let line_of = |needle: &str| {
        readme
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("README has a line starting {needle:?}"))
            + 1
    };
    assert!(readme.lines().count() <= 400);
    assert!(line_of("## Contents") <= 80);
    assert!(line_of("<!-- readme-workflow:start -->") <= 120);
    assert!(line_of("include:") <= 180);
    assert!(line_of("## Install") > line_of("include:"));
}

/// The "Package changes" section docs/packages.md shows is the snapshot the
/// packages test keeps of what `diff` renders.
#[test]
fn docs_show_the_package_changes_snapshot() {
    let snap =
        std::fs::read_to_string(root().join(
            "tests/it/snapshots/it__packages__diff_shows_package_changes_ranked_by_bytes.snap",
        ))
        .unwrap();
    let body = snap.splitn(3, "---\n").nth(2).unwrap().trim();
    let page = std::fs::read_to_string(root().join("docs/packages.md")).unwrap();
    assert!(
        page.contains(body),
        "docs/packages.md does not show the package-changes snapshot:\n{body}"
    );
}
