//! The layer rule of ARCHITECTURE.md ("Who may import whom"), checked against the
//! code: every `crate::` path in a library module's non-test code must name a module
//! its row allows, the table has no circle, and no two sibling files of a folder
//! import each other (directly or round a longer loop).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The table's rows: module → the modules it may import.
fn rules() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let start = doc
        .find("## Who may import whom")
        .expect("ARCHITECTURE.md has a \"## Who may import whom\" section");
    let mut rows = BTreeMap::new();
    for line in doc[start..].lines().skip(1) {
        if line.starts_with("## ") {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `module` | `a`, `b` |  → ["", "`module`", "`a`, `b`", ""]
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|s| s.trim().trim_matches('`').to_string())
                .filter(|s| !s.is_empty() && s != "—")
                .collect()
        };
        let module = cells[1].trim_matches('`').to_string();
        rows.insert(module, names(cells[2]));
    }
    assert!(rows.len() > 10, "the table has too few rows: {rows:?}");
    rows
}

/// The code before the first test module: tests may reach anywhere.
fn non_test(text: &str) -> &str {
    let cut = ["#[cfg(test)]", "#[cfg(all(test"]
        .iter()
        .filter_map(|m| text.find(m))
        .min()
        .unwrap_or(text.len());
    &text[..cut]
}

/// The first segment of every path that starts with `prefix` (`crate::`, `super::`),
/// grouped imports (`crate::{a::X, b}`) included.
fn heads(text: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let after = &rest[at + prefix.len()..];
        rest = after;
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            // Top-level items of the group: after `{` or a `,` at depth 0.
            let mut depth = 0usize;
            let mut expect = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect = true,
                    c if expect && !c.is_whitespace() => {
                        expect = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            out.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn library_files() -> Vec<PathBuf> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // `#[cfg(test)] mod tests;` files are tests, which may reach anywhere.
    files.retain(|f| !f.starts_with(src.join("bin")) && !f.ends_with("tests.rs"));
    files.sort();
    files
}

/// Top-level module of a file under `src/` (`src/scan/pipe.rs` → `scan`).
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(root().join("src")).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

#[test]
fn every_import_is_allowed_by_the_table() {
    let rules = rules();
    let mut broken = Vec::new();
    let mut seen = BTreeSet::new();
    for file in library_files() {
        let module = top_module(&file);
        if module == "lib" {
            continue; // the facade re-exports every module
        }
        seen.insert(module.clone());
        let Some(allowed) = rules.get(&module) else {
            broken.push(format!("{module}: no row in the table"));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for used in heads(non_test(&text), "crate::") {
            if used != module && !allowed.contains(&used) {
                let rel = file.strip_prefix(root()).unwrap().display().to_string();
                broken.push(format!(
                    "{rel} imports crate::{used}, not in {module}'s row"
                ));
            }
        }
    }
    for module in rules.keys() {
        if !seen.contains(module) {
            broken.push(format!("{module}: a row for a module that does not exist"));
        }
    }
    assert!(
        broken.is_empty(),
        "layer rule broken:\n{}",
        broken.join("\n")
    );
}

/// A circle in `graph`, if there is one, as the loop's nodes.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let from = path.iter().position(|n| n == node).unwrap();
                let mut found = path[from..].to_vec();
                found.push(node.to_string());
                return Some(found);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, state, path) {
                return Some(found);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if let Some(found) = visit(node, graph, &mut state, &mut Vec::new()) {
            return Some(found);
        }
    }
    None
}

#[test]
fn the_table_has_no_circle() {
    if let Some(found) = circle(&rules()) {
        panic!("the layer table has a circle: {}", found.join(" → "));
    }
}

#[test]
fn no_sibling_files_import_each_other() {
    // Folder → (file or subfolder name → the siblings it names). `mod.rs` is the
    // folder itself, which declares and re-exports its children: not a sibling.
    let src = root().join("src");
    let mut folders: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in library_files() {
        let dir = file.parent().unwrap().to_path_buf();
        if dir == src || file.file_name().unwrap() == "mod.rs" {
            continue;
        }
        let rel_dir = dir.strip_prefix(&src).unwrap();
        let module_path: Vec<String> = rel_dir
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let code = non_test(&text);
        let mut names = heads(code, "super::");
        names.extend(heads(code, &format!("crate::{}::", module_path.join("::"))));
        names.remove(&stem);
        folders.entry(dir).or_default().insert(stem, names);
    }
    // Files inside a subfolder count as that subfolder (`scan/x/a.rs` is `x` in `scan/`).
    let mut broken = Vec::new();
    let mut edges = 0;
    for (dir, files) in &folders {
        let siblings: BTreeSet<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                p.file_stem().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        let graph: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .map(|(f, names)| {
                let names = names
                    .iter()
                    .filter(|n| siblings.contains(*n) && *n != "mod")
                    .cloned()
                    .collect();
                (f.clone(), names)
            })
            .collect();
        edges += graph.values().map(BTreeSet::len).sum::<usize>();
        if let Some(found) = circle(&graph) {
            let rel = dir.strip_prefix(root()).unwrap().display().to_string();
            broken.push(format!("{rel}: {}", found.join(" → ")));
        }
    }
    assert!(
        broken.is_empty(),
        "sibling files in a circle:\n{}",
        broken.join("\n")
    );
    // The reader sees the imports between files at all (`walk` uses `pipe`, …).
    assert!(
        edges > 20,
        "only {edges} imports between sibling files found"
    );
}

#[test]
fn circle_finds_a_loop_and_only_a_loop() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(circle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn heads_reads_plain_and_grouped_paths() {
    let code = "use crate::scan::Kind;\nuse crate::{image::{Digest, Platform}, report};\n\
                fn f() { crate::text::human(1); a::crate::no(); }";
    let got: Vec<String> = heads(code, "crate::").into_iter().collect();
    assert_eq!(got, ["image", "report", "scan", "text"]);
}
