//! Policies at the public surface: every bad policy in `tests/policies/bad/` gives
//! its `FILE:LINE:COL: message` (exit 2), the examples load and judge real images,
//! dive's `.dive-ci` works unchanged, and hostile image content cannot break the
//! Markdown comment.

use std::path::Path;

use serde_json::Value;

use crate::support::{bin, image, run, stderr};

/// Every file of the corpus names the positions it must produce on its first
/// line (`# expect: 3:20 4:11`); the whole message list is snapshotted.
#[test]
fn bad_policies_report_every_problem_with_its_position() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus is there");
    for file in files {
        let rel = format!(
            "tests/policies/bad/{}",
            file.file_name().unwrap().to_str().unwrap()
        );
        let text = std::fs::read_to_string(&file).unwrap();
        let expect: Vec<&str> = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{rel}: first line must be `# expect: LINE:COL`"))
            .split_whitespace()
            .collect();
        let out = run(&["check", &image("app-base.docker.tar"), "--policy", &rel]);
        assert_eq!(out.status.code(), Some(2), "{rel}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{rel}: nothing on stdout");
        let err = stderr(&out);
        let got: Vec<String> = err
            .lines()
            .map(|l| {
                let rest = l
                    .strip_prefix(&format!("{rel}:"))
                    .unwrap_or_else(|| panic!("{rel}: every line starts with the file name: {l}"));
                let mut parts = rest.splitn(3, ':');
                format!("{}:{}", parts.next().unwrap(), parts.next().unwrap())
            })
            .collect();
        assert_eq!(got, expect, "{rel}: {err}");
        let name = format!(
            "bad_policy__{}",
            file.file_stem().unwrap().to_str().unwrap()
        );
        insta::assert_snapshot!(name, err);
    }
}

fn check_json(img: &str, policy: &str) -> (i32, Value) {
    let out = run(&["check", img, "--policy", policy, "--format", "json"]);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{}", stderr(&out));
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// dive users keep their file: its ratios and sizes apply to HEAD, judged on our
/// figures (app-pr: efficiency 91.55 % < 95 %; userWastedPercent over the layers
/// above L0 = 327 680 / 1 896 521 = 17.3 %, under 20 %).
#[test]
fn dive_ci_example_applies_to_head() {
    let (code, v) = check_json(&image("app-pr.docker.tar"), "examples/dive-ci.yml");
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["efficiency"]);
    assert!((v["findings"][0]["value"].as_f64().unwrap() - 91.552).abs() < 0.01);
    assert_eq!(v["findings"][0]["limit"], 95.0);
    let (code, v) = check_json(&image("cleanup-merged.docker.tar"), "examples/dive-ci.yml");
    assert_eq!(code, 0);
    assert!(codes(&v).is_empty());
}

/// dive's defaults (0.9, disabled, 0.1) apply to rules the file leaves out, and
/// `disabled` turns a rule off; the file is recognised by content, whatever its name.
#[test]
fn dive_defaults_and_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let only_bytes = dir.path().join("ci-settings");
    std::fs::write(&only_bytes, "rules:\n  highestWastedBytes: 1MB\n").unwrap();
    let (code, v) = check_json(
        &image("cleanup-split.oci.tar"),
        only_bytes.to_str().unwrap(),
    );
    assert_eq!(code, 1);
    // 60.8 % < 90 %, 1 572 864 > 1 MB, 1 572 864 / 2 031 616 = 77.4 % > 10 %.
    assert_eq!(
        codes(&v),
        ["efficiency", "wasted-bytes", "user-wasted-percent"]
    );
    let pct = v["findings"][2]["value"].as_f64().unwrap();
    assert!(
        (pct - 1_572_864.0 * 100.0 / 2_031_616.0).abs() < 1e-9,
        "{pct}"
    );
    let all_off = dir.path().join(".dive-ci");
    std::fs::write(
        &all_off,
        "rules:\n  lowestEfficiency: disabled\n  highestWastedBytes: disabled\n  highestUserWastedPercent: \"disabled\"\n",
    )
    .unwrap();
    let (code, v) = check_json(&image("cleanup-split.oci.tar"), all_off.to_str().unwrap());
    assert_eq!(code, 0);
    assert!(codes(&v).is_empty());
}

/// `check` applies the absolute limits of the examples; growth rules need a base
/// and are skipped.
#[test]
fn check_applies_absolute_limits_only() {
    let (code, v) = check_json(&image("app-pr.oci.tar"), "examples/policy.yml");
    assert_eq!(code, 1);
    assert_eq!(codes(&v), ["forbidden-path", "wasted-bytes"]);
    let (code, v) = check_json(&image("app-base.oci.tar"), "examples/policy-strict.yml");
    assert_eq!(code, 0, "app-base passes even the strict policy");
    assert!(codes(&v).is_empty());
}

/// Without `--policy`, `layergate.yml` in the current directory is the policy.
#[test]
fn default_policy_file_is_found_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("layergate.yml"), "limits:\n  layers: 4\n").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", &image("app-pr.oci.tar"), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&v), ["layer-count"]);
    std::fs::write(
        dir.path().join("layergate.yml"),
        "limits:\n  layers: many\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["check", &image("app-pr.oci.tar")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("layergate.yml:2:11: "),
        "{}",
        stderr(&out)
    );
}

/// A report whose file names and commands are hostile must not break a table row,
/// inject HTML or links, or close the history's code block.
#[test]
fn hostile_names_are_escaped_in_the_comment() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let out = run(&[
        "analyze",
        &image("app-base.oci.tar"),
        "--format",
        "json",
        "--output",
        base.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut head: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let evil = "/app/x|y`z<img src=x onerror=alert(1)>[click](http://evil)*_\n| inject |.txt";
    head["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"path": evil, "bytes": 10, "layer": 2, "kind": "file"}));
    head["history"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"created_by": "RUN echo ``` </details> <script>x</script>"}));
    let head_path = dir.path().join("head.json");
    std::fs::write(&head_path, serde_json::to_vec(&head).unwrap()).unwrap();
    let out = run(&[
        "diff",
        base.to_str().unwrap(),
        head_path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    // Inside the fenced history block text is inert; everywhere else no raw tag.
    let fence = md.find("````diff").expect("the fenced history diff");
    let close = fence + md[fence + 8..].find("\n````").expect("its closing fence") + 8;
    let outside = format!("{}{}", &md[..fence], &md[close + 5..]);
    assert!(
        !outside.contains("<img") && !outside.contains("<script"),
        "{md}"
    );
    assert!(!outside.contains("</details> <"), "{md}");
    assert!(!md.contains("](http"), "{md}");
    let row = md
        .lines()
        .find(|l| l.starts_with("| added |"))
        .expect("the added file's row");
    // An unescaped `|` would add a cell: 5 cells = 6 unescaped bars.
    let bars = row
        .match_indices('|')
        .filter(|(i, _)| *i == 0 || &row[i - 1..*i] != "\\")
        .count();
    assert_eq!(bars, 6, "{row}");
    assert!(
        md.contains("````diff"),
        "the fence outgrows the backticks: {md}"
    );
}

/// The comment stays under GitHub's limit however many long paths change, and
/// says that tables were cut.
#[test]
fn huge_comment_is_cut_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let out = run(&[
        "analyze",
        &image("app-base.oci.tar"),
        "--format",
        "json",
        "--output",
        base.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let mut head: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let files = head["files"].as_array_mut().unwrap();
    for i in 0..200 {
        let path = format!("/{}/{i}.bin", "deep/".repeat(800) + "x");
        files
            .push(serde_json::json!({"path": path, "bytes": 1000 + i, "layer": 2, "kind": "file"}));
    }
    let head_path = dir.path().join("head.json");
    std::fs::write(&head_path, serde_json::to_vec(&head).unwrap()).unwrap();
    let out = run(&[
        "diff",
        base.to_str().unwrap(),
        head_path.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.chars().count() <= 65_536, "{} chars", md.chars().count());
    assert!(md.contains("more file(s) left out"));
    assert!(md.contains("under GitHub's 65,536-character limit"));
    assert!(md.trim_end().ends_with("<!-- layergate:default -->"));
}

/// `--template` replaces the Markdown template and sees the same view model.
#[test]
fn custom_template_replaces_the_comment() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.md.j2");
    std::fs::write(
        &t,
        "{{ icon }} {{ headline }} ({{ files.total }} files) {{ marker }}\n",
    )
    .unwrap();
    let out = run(&[
        "diff",
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        "--format",
        "markdown",
        "--template",
        t.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "✅ image grew 1.2 MiB (+84.1 %) — all rules passed (5 files) <!-- layergate:default -->\n"
    );
}

/// Runs the binary in `dir` (so no policy file of the repository is found).
fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// No policy is not "everything passes": without `--policy` and without a file,
/// the documented default policy applies and says so (cleanup-split's efficiency
/// is 2 441 117 / 4 013 981 = 60.8 %, under the default's 90 %: a warning, exit 0);
/// `--policy none` turns it off.
#[test]
fn no_policy_applies_the_default_policy() {
    let dir = tempfile::tempdir().unwrap();
    let split = image("cleanup-split.oci.tar");
    let merged = image("cleanup-merged.docker.tar");
    let out = run_in(dir.path(), &["check", &split, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&v), ["efficiency"]);
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "warn");
    assert_eq!(f["limit"], 90.0);
    let eff = 2_441_117.0 * 100.0 / 4_013_981.0;
    assert!((f["value"].as_f64().unwrap() - eff).abs() < 1e-9, "{f}");
    assert_eq!(v["verdict"]["warned"], 1);

    let out = run_in(dir.path(), &["diff", &merged, &split]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l == "default policy"), "{text}");
    assert!(text.contains("1 warning"), "{text}");
    let out = run_in(
        dir.path(),
        &["diff", &merged, &split, "--format", "markdown"],
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("default policy"), "{md}");

    for cmd in [vec!["check", &split], vec!["diff", &merged, &split]] {
        let mut args = cmd.clone();
        args.extend(["--policy", "none", "--format", "json"]);
        let out = run_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(codes(&v).is_empty(), "{cmd:?}: {v}");
        let mut args = cmd;
        args.extend(["--policy", "none"]);
        let text = String::from_utf8(run_in(dir.path(), &args).stdout).unwrap();
        assert!(!text.contains("policy"), "no policy line: {text}");
    }
}

/// Each of the four file names is found and named in the output; two of them at
/// once is an error rather than a silent choice.
#[test]
fn every_policy_file_name_is_discovered_and_named() {
    let split = image("cleanup-split.oci.tar");
    for name in [
        ".layergate.yml",
        "layergate.yml",
        ".layergate.yaml",
        "layergate.yaml",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), "limits:\n  wasted_bytes: 1MB\n").unwrap();
        let out = run_in(dir.path(), &["check", &split]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("policy {name} (found in the current directory)")),
            "{name}: {text}"
        );
        assert!(text.contains("wasted-bytes"), "{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".layergate.yml"), "").unwrap();
    std::fs::write(dir.path().join("layergate.yml"), "").unwrap();
    let out = run_in(dir.path(), &["check", &split]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "layergate: more than one policy file in the current directory (.layergate.yml, layergate.yml): keep one, or pass --policy FILE\n"
    );
}

/// A misspelled advice code used to disable its rule without a word; now it is an
/// error at its position that lists every valid code (exit 2, nothing judged).
#[test]
fn misspelled_advice_code_is_an_error_listing_the_valid_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".layergate.yml"),
        "version: 1\nadvice:\n  cleanup-in-latr-layer: {max: 0, severity: fail}\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["check", &image("cleanup-split.oci.tar")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let valid = layergate::AdviceCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        stderr(&out),
        format!(".layergate.yml:3:3: unknown advice code `cleanup-in-latr-layer` (expected one of: {valid})\n")
    );
    // Spelled right, the same rule fails cleanup-split (1.5 MiB of cleanup advice).
    std::fs::write(
        dir.path().join(".layergate.yml"),
        "version: 1\nadvice:\n  cleanup-in-later-layer: {max: 0, severity: fail}\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["check", &image("cleanup-split.oci.tar"), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&v), ["advice-budget"]);
    assert_eq!(v["findings"][0]["value"], 1_572_864.0);
}

/// `init` writes each flavour's starter policy once, never over a file; what it
/// writes is found by discovery and judges a real image.
#[test]
fn init_writes_a_starter_policy_once_per_directory() {
    for flavour in [
        "generic", "debian", "alpine", "python", "node", "java", "go",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run_in(dir.path(), &["init", "--flavour", flavour]);
        assert_eq!(out.status.code(), Some(0), "{flavour}: {}", stderr(&out));
        // Pinned text (reviewed when it changes), not the function that writes it.
        let written = std::fs::read_to_string(dir.path().join(".layergate.yml")).unwrap();
        insta::assert_snapshot!(format!("init_{flavour}"), written);
        // cleanup-split (60.8 % efficiency, 1.5 MiB wasted, no ecosystem caches):
        // one warning under every flavour, whose budgets it stays under.
        let out = run_in(
            dir.path(),
            &["check", &image("cleanup-split.oci.tar"), "--format", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{flavour}: {}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(codes(&v), ["efficiency"], "{flavour}");
        let again = run_in(dir.path(), &["init", "--flavour", "go"]);
        assert_eq!(again.status.code(), Some(2));
        assert!(
            stderr(&again).contains(
                ".layergate.yml: cannot create the policy (init never overwrites a file)"
            ),
            "{}",
            stderr(&again)
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".layergate.yml")).unwrap(),
            written,
            "untouched"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("layergate.yml"), "limits: {}\n").unwrap();
    let out = run_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "layergate: .layergate.yml: cannot create the policy: layergate.yml is already the policy here\n"
    );
    assert!(!dir.path().join(".layergate.yml").exists());
}

/// The tables of finding codes (docs/policy.md) and advice codes (docs/advice.md)
/// list exactly the codes of the enums, in their order: the docs cannot drift
/// from the code.
#[test]
fn docs_list_exactly_the_codes() {
    let first_column = |page: &str, heading: &str| -> Vec<String> {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        let start = text
            .find(heading)
            .unwrap_or_else(|| panic!("{page} has {heading:?}"));
        text[start..]
            .lines()
            .skip_while(|l| !l.starts_with("| code |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                l.split('|')
                    .nth(1)
                    .unwrap()
                    .trim()
                    .trim_matches('`')
                    .to_string()
            })
            .collect()
    };
    let findings: Vec<&str> = layergate::FindingCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        first_column("docs/policy.md", "Finding codes (stable"),
        findings
    );
    let advice: Vec<&str> = layergate::AdviceCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        first_column("docs/advice.md", "Advice codes (stable"),
        advice
    );
}
