//! `layergate --help` and every subcommand's `--help` (nested ones included, found
//! from the "Commands:" section of each help) are insta snapshots; docs/ quotes
//! them from here (tests/it/docs.rs checks each quote equals its snapshot).

use std::path::Path;

use crate::support::{bin, stderr};

/// The help of `layergate CMD --help` (CMD may be empty or hold spaces).
fn help(cmd: &str) -> String {
    // No environment: clap prints the value of a flag's variable (`[env: X=value]`),
    // which must not make the snapshot depend on the shell running the tests.
    let out = bin()
        .env_clear()
        .args(cmd.split_whitespace())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{cmd} --help: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help lists under "Commands:", `help` left out.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// The snapshot name of a command: `layergate`, `layergate-diff`, `layergate-history-append`.
fn snapshot_name(cmd: &str) -> String {
    std::iter::once("layergate")
        .chain(cmd.split_whitespace())
        .collect::<Vec<_>>()
        .join("-")
}

/// The snapshotted help of `layergate CMD` ("" for the top level), as committed.
pub fn snapshot_text(cmd: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/it/snapshots/it__help__{}.snap",
        snapshot_name(cmd)
    ));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run the help tests)", file.display()));
    // The header is the YAML between the first two `---` lines.
    let body = text
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or_else(|| panic!("{}: no insta header", file.display()));
    body.to_string()
}

#[test]
fn every_help_is_snapshotted() {
    let mut queue = vec![String::new()];
    let mut seen = Vec::new();
    while let Some(cmd) = queue.pop() {
        let text = help(&cmd);
        for sub in subcommands(&text) {
            queue.push(format!("{cmd} {sub}").trim().to_string());
        }
        insta::assert_snapshot!(snapshot_name(&cmd), text);
        seen.push(cmd);
    }
    for cmd in ["analyze", "diff", "check", "init"] {
        assert!(seen.iter().any(|c| c == cmd), "{cmd}: {seen:?}");
    }
}
