//! Names and paths: `..`, absolute and `./` names, links pointing anywhere,
//! non-UTF-8 bytes, whiteouts of nothing, an opaque root, type changes across
//! layers, and names carrying Markdown/HTML. All are read, never followed, and
//! shown escaped.

use super::*;

fn read(layers: &[Vec<u8>]) -> Value {
    let blobs: Vec<Blob> = layers.iter().map(|t| layer(t, Comp::Gzip)).collect();
    let (run, _, _d) = analyze_oci_archive(&oci(&blobs));
    assert_no_panic(&run);
    run.json()
}

/// `..`, a leading `/` and `./` are normalised inside the root; a climb out is
/// clamped at the root and reported as a warning.
#[test]
fn dotdot_absolute_and_dot_names_are_normalised_inside_the_root() {
    let mut t = Tar::new();
    t.entry(b"../../etc/shadow", REG, b"s3cret", b"")
        .entry(b"/abs/file", REG, b"12", b"")
        .entry(b"./dot/./file", REG, b"123", b"")
        .entry(b"a/b/../c", REG, b"1", b"");
    let report = read(&[t.end()]);
    assert_eq!(
        live_paths(&report),
        vec!["/a/c", "/abs/file", "/dot/file", "/etc/shadow"]
    );
    assert_eq!(totals(&report), (12, 12, 0, 4));
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("/../../etc/shadow climbs out of the root"));
}

/// Links pointing outside the root or at nothing are recorded, never followed.
#[test]
fn links_outside_the_root_or_dangling_are_never_followed() {
    let mut t = Tar::new();
    t.symlink("etc/passwd-link", "../../../../etc/passwd")
        .symlink("abs", "/etc/shadow")
        .symlink("dangling", "no/such/file")
        .hardlink("hard-out", "../../etc/passwd")
        .hardlink("hard-missing", "nowhere")
        .file("real", b"data");
    let report = read(&[t.end()]);
    assert_eq!(totals(&report), (4, 4, 0, 6));
    let l = &report["layers"][0];
    assert_eq!(
        (l["symlinks"].as_u64(), l["hardlinks"].as_u64()),
        (Some(3), Some(2))
    );
}

/// Non-UTF-8 names are kept as bytes and shown escaped.
#[test]
fn non_utf8_names_are_shown_escaped() {
    let mut t = Tar::new();
    t.entry(b"caf\xe9/\xff\xfe.bin", REG, b"abc", b"")
        .entry("café/ok".as_bytes(), REG, b"d", b"");
    let report = read(&[t.end()]);
    // Sorted by raw bytes: UTF-8 `é` (c3 a9) before the lone byte e9.
    assert_eq!(
        live_paths(&report),
        vec!["/café/ok", "/caf\\xe9/\\xff\\xfe.bin"]
    );
}

/// Whiteouts of paths that never existed delete nothing and cost nothing.
#[test]
fn whiteouts_of_missing_paths_change_nothing() {
    let mut base = Tar::new();
    base.file("keep", &[1; 10]);
    let mut top = Tar::new();
    top.whiteout("ghost")
        .whiteout("dir/ghost")
        .file("new", &[2; 5]);
    let report = read(&[base.end(), top.end()]);
    assert_eq!(totals(&report), (15, 15, 0, 2));
    assert_eq!(report["layers"][1]["deleted"], 0);
    assert_eq!(report["layers"][1]["whiteouts"], 2);
}

/// An opaque marker at the root hides every lower layer.
#[test]
fn opaque_marker_at_the_root_hides_everything_below() {
    let mut base = Tar::new();
    base.dir("usr")
        .file("usr/big", &[1; 1000])
        .file("top", &[2; 24]);
    let mut top = Tar::new();
    top.file(".wh..wh..opq", b"").file("fresh", &[3; 7]);
    let report = read(&[base.end(), top.end()]);
    assert_eq!(totals(&report), (1031, 7, 1024, 1));
    assert_eq!(live_paths(&report), vec!["/fresh"]);
}

/// A directory replaced by a file, then by a directory again: each step kills
/// what was below, and only the last state is live.
#[test]
fn directory_replaced_by_file_and_back() {
    let mut l0 = Tar::new();
    l0.dir("x").file("x/inner", &[1; 100]);
    let mut l1 = Tar::new();
    l1.file("x", &[2; 10]);
    let mut l2 = Tar::new();
    l2.dir("x").file("x/again", &[3; 1]);
    let report = read(&[l0.end(), l1.end(), l2.end()]);
    assert_eq!(totals(&report), (111, 1, 110, 1));
    assert_eq!(live_paths(&report), vec!["/x/again"]);
}

/// Names carrying Markdown, HTML, pipes, backticks and newlines cannot break out
/// of the rendering: they are escaped and each table row stays one row.
#[test]
fn markdown_and_html_names_are_rendered_escaped() {
    let names: [&[u8]; 5] = [
        b"<img src=x onerror=alert(1)>",
        b"[x](javascript:alert(1))",
        b"a|b|c",
        b"```code```",
        b"line\nbreak",
    ];
    let mut l0 = Tar::new();
    let mut l1 = Tar::new();
    for n in names {
        l0.entry(n, REG, &[1; 50], b"");
        l1.entry(n, REG, &[2; 50], b"");
    }
    let blobs = vec![layer(&l0.end(), Comp::Gzip), layer(&l1.end(), Comp::Gzip)];
    let dir = scratch();
    let path = write(dir.path(), "image.tar", &archive(&oci(&blobs)));
    let md = run_measured(&["analyze", &path, "--format", "markdown"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    let md = String::from_utf8(md.stdout).unwrap();
    // Nothing a name carries becomes HTML, a link or a code span. The only fences are
    // the layer chart's own (```mermaid … ```), which holds layer labels, never names.
    assert!(!md.contains("<img"), "{md}");
    assert!(!md.contains("](javascript"), "{md}");
    let mut in_chart = false;
    for line in md.lines() {
        if line == "```mermaid" && !in_chart {
            in_chart = true;
        } else if line == "```" && in_chart {
            in_chart = false;
        } else {
            assert!(!line.contains("```"), "a fence from a name: {line}\n{md}");
            assert!(
                !in_chart || !line.contains("code"),
                "a name in the chart: {line}"
            );
        }
    }
    assert!(!in_chart, "the chart's fence is closed");
    assert!(md.contains("/line\\\\x0abreak"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("break")), "{md}");
    // Every duplicate row keeps its four columns: unescaped pipes are the separators.
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| overwritten"))
        .collect();
    assert_eq!(rows.len(), 5, "{md}");
    for row in rows {
        let separators = row
            .match_indices('|')
            .filter(|(i, _)| !row[..*i].ends_with('\\'))
            .count();
        assert_eq!(separators, 5, "{row}");
        assert!(row.contains("L0, L1"), "{row}");
    }
    let report = analyze(&path).json();
    assert_eq!(totals(&report), (500, 250, 250, 5));
}

/// A regular file named `./` would sit on the root: ignored with a warning, its
/// bytes neither stored nor live (found by the stored = live + wasted property).
#[test]
fn file_entry_naming_the_root_is_ignored_with_a_warning() {
    let mut t = Tar::new();
    t.entry(b"./", REG, &[5; 64], b"").file("a", b"abc");
    let report = read(&[t.end()]);
    assert_eq!(totals(&report), (3, 3, 0, 1));
    let w = report["warnings"][0].as_str().unwrap();
    assert!(w.contains("names the root itself"), "{w}");
}

/// A directory known only through its children (`d/x`, no `d/` entry) is
/// replaced whole by a later file `d` (found by the whiteout-order property).
#[test]
fn implied_directory_replaced_by_a_file() {
    let mut l0 = Tar::new();
    l0.file("d/x", &[1; 30]).file("d/y/z", &[2; 20]);
    let mut l1 = Tar::new();
    l1.file("d", &[3; 5]);
    let report = read(&[l0.end(), l1.end()]);
    assert_eq!(live_paths(&report), vec!["/d"]);
    assert_eq!(totals(&report), (55, 5, 50, 1));
}
