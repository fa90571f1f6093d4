//! `--format html` in a real headless Chromium: the page loads from disk with no
//! console error, the treemap's cells for known paths of the real test images have
//! areas proportional to their bytes, clicks zoom and the breadcrumb goes back, a
//! hostile file name stays text, and a 200,000-file image opens (drawn, no error).
//! Screenshots of each view go to `target/html-report/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::browser::{Browser, Page};
use crate::support::{analyze_json, image, run, stderr};

/// Where the pages and screenshots of these tests are kept for a reviewer.
fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs layergate with `args` plus `--format html -o OUT` and returns OUT's URL.
fn page_file(name: &str, args: &[&str], want_code: i32) -> (PathBuf, String) {
    let out = out_dir().join(name);
    let mut all: Vec<&str> = args.to_vec();
    let o = out.display().to_string();
    all.extend(["--format", "html", "-o", &o]);
    let res = run(&all);
    assert_eq!(res.status.code(), Some(want_code), "{}", stderr(&res));
    let url = format!("file://{}", out.display());
    (out, url)
}

/// Cells drawn at `depth` below the zoomed directory: path → (value, area in px²).
fn cells(page: &mut Page<'_>, depth: u32) -> BTreeMap<String, (f64, f64)> {
    let v = page.eval(&format!(
        "[...document.querySelectorAll('#map .cell[data-depth=\"{depth}\"]')].map(c => {{ \
           const r = c.getBoundingClientRect(); \
           return [c.getAttribute('data-path'), Number(c.getAttribute('data-value')), r.width * r.height]; }})"
    ));
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().to_string(),
                (c[1].as_f64().unwrap(), c[2].as_f64().unwrap()),
            )
        })
        .collect()
}

/// Live bytes under `dir` in a report.
fn bytes_under(report: &Value, dir: &str) -> u64 {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let p = f["path"].as_str().unwrap();
            p == dir || p.starts_with(&prefix)
        })
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum()
}

/// Each cell's share of the drawn area matches its bytes' share of `total`
/// (within half a percentage point: borders are drawn inside the cells).
fn assert_proportional(
    cells: &BTreeMap<String, (f64, f64)>,
    report: &Value,
    total: u64,
    paths: &[&str],
) {
    let area: f64 = cells.values().map(|c| c.1).sum();
    for p in paths {
        let (_, a) = cells
            .get(*p)
            .unwrap_or_else(|| panic!("no cell for {p}; cells: {:?}", cells.keys()));
        let want = bytes_under(report, p) as f64 / total as f64;
        let got = a / area;
        assert!(
            (got - want).abs() < 0.005,
            "{p}: area share {got:.4}, bytes share {want:.4}"
        );
    }
}

fn crumbs(page: &mut Page<'_>) -> Vec<String> {
    let v = page.eval("[...document.querySelectorAll('#crumbs button')].map(b => b.textContent)");
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn assert_no_errors(page: &mut Page<'_>) {
    let errors = page.errors();
    assert!(errors.is_empty(), "the page reported errors: {errors:?}");
}

/// analyze: top-level cells are proportional to their bytes; clicking `/app/bin`
/// zooms in (breadcrumb `/ app bin`), where `/app/bin/app` is a cell; the
/// breadcrumb's root goes back; hovering shows the path and layer; painting wasted
/// copies brings back the deleted `/app/share/legacy.txt`.
#[test]
fn analyze_page_treemap_zooms_and_paints_waste() {
    let img = image("app-pr.oci.tar");
    let report = analyze_json(&img);
    let (_, url) = page_file("analyze-app-pr.html", &["analyze", &img], 0);
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1400, 1100);
    assert_no_errors(&mut page);
    let live = report["totals"]["live_bytes"].as_u64().unwrap();
    let top = cells(&mut page, 1);
    assert_proportional(&top, &report, live, &["/app", "/bin", "/root"]);
    assert_eq!(crumbs(&mut page), ["/"]);
    page.screenshot(&out_dir().join("analyze.png"));

    // /app is drawn as a frame holding /app/bin: click the nested cell.
    let (x, y) = page.centre("#map .cell[data-path=\"/app/bin\"]");
    page.click(x, y);
    assert_eq!(crumbs(&mut page), ["/", "app", "bin"]);
    let inner = cells(&mut page, 1);
    assert_proportional(
        &inner,
        &report,
        bytes_under(&report, "/app/bin"),
        &["/app/bin/app"],
    );
    let (x, y) = page.centre("#map .cell[data-path=\"/app/bin/app\"]");
    page.hover(x, y);
    let tip = page.eval("document.getElementById('tip').textContent");
    let tip = tip.as_str().unwrap();
    assert!(tip.contains("/app/bin/app") && tip.contains("L3"), "{tip}");
    page.screenshot(&out_dir().join("analyze-zoomed.png"));

    let (x, y) = page.centre("#crumbs button");
    page.click(x, y);
    assert_eq!(crumbs(&mut page), ["/"]);

    // Wasted copies: the deleted legacy.txt has no live bytes, so no cell until painted.
    let legacy = "#map .cell[data-path=\"/app/share/legacy.txt\"]";
    page.eval("location.hash = ''");
    let (x, y) = page.centre("#map .cell[data-path=\"/app/share\"]");
    page.click(x, y);
    assert_eq!(
        page.eval(&format!("!!document.querySelector('{legacy}')")),
        Value::Bool(false)
    );
    let (x, y) = page.centre("#wasted");
    page.click(x, y);
    assert_eq!(
        page.eval(&format!("!!document.querySelector('{legacy}')")),
        Value::Bool(true)
    );
    page.screenshot(&out_dir().join("analyze-wasted.png"));

    // Search finds a path and zooms to it.
    let (x, y) = page.centre("#search");
    page.click(x, y);
    page.type_text("feature.txt");
    let found =
        page.eval("[...document.querySelectorAll('#results button')].map(b => b.textContent)");
    assert_eq!(found, serde_json::json!(["/app/share/feature.txt"]));
    assert_no_errors(&mut page);
}

/// The map nests: a directory holding at least 0.5 % of the area draws its
/// contents inside its cell, level after level (not one flat cell per top-level
/// directory), and every nested level is proportional to its bytes.
#[test]
fn treemap_nests_directories_down_to_small_cells() {
    let img = image("app-pr.oci.tar");
    let report = analyze_json(&img);
    let (_, url) = page_file("analyze-app-pr-nested.html", &["analyze", &img], 0);
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1400, 1100);
    assert_no_errors(&mut page);
    let depth = page.eval(
        "Math.max(...[...document.querySelectorAll('#map .cell')].map(c => Number(c.getAttribute('data-depth'))))",
    );
    let depth = depth.as_u64().unwrap();
    assert!(depth >= 3, "deepest drawn level {depth}");
    // A frame's children share its inner area in proportion to their bytes.
    let frame = page.eval(
        "(() => { const f = [...document.querySelectorAll('#map .cell.frame[data-depth=\"2\"]')]\
           .sort((a, b) => b.getAttribute('data-value') - a.getAttribute('data-value'))[0]; \
           return f.getAttribute('data-path'); })()",
    );
    let frame = frame.as_str().unwrap().to_string();
    let inner: BTreeMap<String, (f64, f64)> = cells(&mut page, 3)
        .into_iter()
        .filter(|(p, _)| p.starts_with(&format!("{frame}/")))
        .collect();
    assert!(!inner.is_empty(), "no cell inside {frame}");
    let biggest = inner
        .iter()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .map(|(p, _)| p.clone())
        .unwrap();
    if !biggest.ends_with("(other)") {
        assert_proportional(&inner, &report, bytes_under(&report, &frame), &[&biggest]);
    }
    page.screenshot(&out_dir().join("analyze-nested.png"));
}

/// By package, on an image holding real dpkg, pip and npm databases: the table
/// lists every package with the report's live bytes, unowned bytes beside them,
/// and a total equal to the live bytes; the package map colours cells by
/// ecosystem and draws each package's files inside its cell.
#[test]
fn by_package_view_lists_packages_and_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let img = crate::packages::build(dir.path(), "bookworm-html", true, true);
    let report = analyze_json(&img);
    let (_, url) = page_file("analyze-packages.html", &["analyze", &img], 0);
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1400, 1100);
    assert_no_errors(&mut page);

    // The table: one row per package, the report's bytes.
    let rows = page.eval(
        "[...document.querySelectorAll('#packages tr')].slice(1).map(r => \
           [r.className, r.cells[0].textContent, r.cells[2].textContent, r.cells[3].getAttribute('data-bytes')])",
    );
    let rows = rows.as_array().unwrap();
    let packages = report["packages"].as_array().unwrap();
    assert_eq!(rows.len(), packages.len() + 2, "packages, unowned, total");
    let eco_name = |e: &str| {
        match e {
            "deb" => "dpkg",
            "pypi" => "pip",
            other => other,
        }
        .to_string()
    };
    for (row, p) in rows.iter().zip(packages) {
        let name = p["name"].as_str().unwrap();
        assert_eq!(row[0], "pkg");
        assert!(
            row[1].as_str().unwrap().starts_with(name),
            "{row:?} vs {name}"
        );
        assert_eq!(
            row[2],
            Value::from(eco_name(p["ecosystem"].as_str().unwrap()))
        );
        assert_eq!(
            row[3],
            Value::from(p["live_bytes"].as_u64().unwrap().to_string())
        );
    }
    let unowned = &rows[packages.len()];
    assert_eq!(
        unowned[3],
        Value::from(
            report["package_totals"]["unowned_bytes"]
                .as_u64()
                .unwrap()
                .to_string()
        )
    );
    let total = &rows[packages.len() + 1];
    assert_eq!(total[0], "total");
    assert_eq!(
        total[3],
        Value::from(report["totals"]["live_bytes"].as_u64().unwrap().to_string())
    );

    // The package map.
    let (x, y) = page.centre("#by-package");
    page.click(x, y);
    assert_no_errors(&mut page);
    assert_eq!(crumbs(&mut page), ["all packages"]);
    let ecos = page.eval(
        "[...new Set([...document.querySelectorAll('#map .cell')].map(c => c.getAttribute('data-eco')))].sort()",
    );
    assert_eq!(ecos, serde_json::json!(["dpkg", "npm", "pip", "unowned"]));
    // Each package's files are drawn with the bytes the report gives it: the
    // cells inside a package sum to its live bytes.
    let (jq, jq_files) = {
        let p = packages.iter().find(|p| p["name"] == "jq").unwrap();
        (
            p["live_bytes"].as_u64().unwrap(),
            p["files"].as_u64().unwrap(),
        )
    };
    let sums = page.eval(
        "(() => { const n = document.querySelector('#map .cell[data-path=\"package:deb/jq\"]').lgNode; \
           return [n.b, n.f, n.c.reduce((s, c) => s + c.b, 0), n.c.reduce((s, c) => s + c.f, 0), \
                   n.c.filter(c => !c.o).map(c => c.path)]; })()",
    );
    assert_eq!(sums[0], Value::from(jq));
    assert_eq!(sums[1], Value::from(jq_files));
    assert_eq!(sums[2], Value::from(jq));
    assert_eq!(sums[3], Value::from(jq_files));
    assert!(
        sums[4]
            .as_array()
            .unwrap()
            .contains(&Value::from("/usr/bin/jq")),
        "{sums}"
    );
    page.screenshot(&out_dir().join("analyze-packages.png"));

    // Clicking a package zooms into it: its files are the cells.
    let (x, y) = page.centre("#map .cell[data-path=\"package:deb/jq\"]");
    page.click(x, y);
    assert_eq!(crumbs(&mut page), ["all packages", "jq"]);
    assert!(cells(&mut page, 1).contains_key("/usr/bin/jq"));
    page.screenshot(&out_dir().join("analyze-packages-zoomed.png"));
    // Back to the directory map where it was.
    let (x, y) = page.centre("#by-dir");
    page.click(x, y);
    assert_eq!(crumbs(&mut page), ["/"]);
    assert_no_errors(&mut page);
}

/// diff: HEAD's map with growth painted, the removed file listed beside, the
/// totals with deltas and the history diff.
#[test]
fn diff_page_shows_growth_and_removals() {
    let (base, head) = (image("app-base.oci.tar"), image("app-pr.oci.tar"));
    let head_report = analyze_json(&head);
    let (_, url) = page_file(
        "diff-app.html",
        &["diff", &base, &head, "--policy", "examples/policy.yml"],
        1,
    );
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1400, 1300);
    assert_no_errors(&mut page);
    let live = head_report["totals"]["live_bytes"].as_u64().unwrap();
    assert_proportional(&cells(&mut page, 1), &head_report, live, &["/app", "/root"]);
    // The whole build cache is new: its cell is painted with growth.
    let g = page.eval(
        "(() => { const c = document.querySelector('#map .cell[data-path=\"/root\"]'); return c.lgNode.g === c.lgNode.b; })()",
    );
    assert_eq!(g, Value::Bool(true));
    let side = page.eval("document.getElementById('side').textContent");
    assert!(
        side.as_str().unwrap().contains("/app/share/legacy.txt"),
        "{side}"
    );
    let text = page.eval("document.getElementById('sections').textContent");
    let text = text.as_str().unwrap();
    for want in [
        "History diff",
        "size-growth",
        "forbidden-path",
        "before",
        "delta",
    ] {
        assert!(text.contains(want), "no {want:?} in the page");
    }
    page.screenshot(&out_dir().join("diff.png"));
}

/// check: the image's map, the verdict and the findings.
#[test]
fn check_page_shows_verdict_and_findings() {
    let img = image("app-pr.oci.tar");
    let (_, url) = page_file(
        "check-app-pr.html",
        &["check", &img, "--policy", "examples/policy.yml"],
        1,
    );
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1400, 1100);
    assert_no_errors(&mut page);
    let verdict = page.eval("document.getElementById('verdict').textContent");
    assert!(
        verdict.as_str().unwrap().starts_with('\u{2717}'),
        "{verdict}"
    );
    let text = page.eval("document.getElementById('sections').textContent");
    assert!(text.as_str().unwrap().contains("forbidden-path"));
    assert!(!cells(&mut page, 1).is_empty());
    page.screenshot(&out_dir().join("check.png"));
}

/// A file named like markup is shown as its name: no script runs, no element is
/// made from it, and search lists it as text.
#[test]
fn hostile_file_names_stay_text() {
    use crate::support::fixtures;
    use layergate_testkit::Entry;
    let names = [
        "/srv/<svg onload=window.pwned=1>",
        "/srv/<img src=x onerror=\"window.pwned=2\">",
        "/srv/\" onmouseover=\"window.pwned=3",
    ];
    let entries: Vec<Entry> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Entry::file(&n[1..], vec![b'x'; 1000 * (i + 1)]))
        .collect();
    let img = fixtures::image(
        "hostile",
        &[("RUN echo '<script>window.pwned=4</script>'", entries)],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = fixtures::write(&dir.path().join("hostile.tar"), |f| {
        layergate_testkit::oci_archive(&img, f)
    });
    let (file, url) = page_file("hostile.html", &["analyze", &path], 0);
    let html = std::fs::read_to_string(file).unwrap();
    assert!(!html.contains("<img src=x") && !html.contains("window.pwned=4</script>"));
    let mut browser = Browser::launch();
    let mut page = browser.open(&url, 1200, 900);
    let (x, y) = page.centre("#map .cell[data-path=\"/srv\"]");
    page.click(x, y);
    for n in names {
        let (x, y) = page.centre(&format!(
            "#map .cell[data-path={}]",
            serde_json::to_string(n).unwrap()
        ));
        page.hover(x, y);
    }
    let (x, y) = page.centre("#search");
    page.click(x, y);
    page.type_text("srv/");
    assert_eq!(page.eval("typeof window.pwned"), Value::from("undefined"));
    assert_eq!(
        page.eval("document.querySelectorAll('img, #map script').length"),
        Value::from(0)
    );
    let found = page
        .eval("[...document.querySelectorAll('#results button')].map(b => b.textContent).sort()");
    let mut want: Vec<&str> = names.to_vec();
    want.sort();
    assert_eq!(found, serde_json::json!(want));
    let layers = page.eval("document.getElementById('sections').textContent");
    assert!(layers
        .as_str()
        .unwrap()
        .contains("<script>window.pwned=4</script>"));
    assert_no_errors(&mut page);
    page.screenshot(&out_dir().join("hostile.png"));
}

/// 200,000 files in 200 directories (built in code): the page groups small files
/// into "other" cells, says so, stays under 2 MiB, and is drawn without error (how
/// fast is the benchmark's business, not a test's).
#[test]
fn two_hundred_thousand_files_open_in_a_page_under_two_mib() {
    use layergate_testkit::{Compression, Entry, LayerWriter};
    let dir = tempfile::tempdir().unwrap();
    let blob = dir.path().join("layer.tar.gz");
    let mut w = LayerWriter::new(std::fs::File::create(&blob).unwrap(), Compression::Gzip).unwrap();
    let n = 200_000usize;
    for i in 0..n {
        if i % 1000 == 0 {
            w.add(&Entry::dir(format!("data/d{:03}", i / 1000)))
                .unwrap();
        }
        // Mostly small files, a few large ones: a realistic spread of cell sizes.
        let size = if i % 997 == 0 {
            200_000
        } else {
            1 + (i * 7919) % 400
        };
        w.add(&Entry::file(
            format!("data/d{:03}/f{i}", i / 1000),
            vec![b'a'; size],
        ))
        .unwrap();
    }
    let (file, info) = w.finish().unwrap();
    drop(file);
    let layer = layergate_testkit::Layer {
        blob: layergate_testkit::Blob::File(blob),
        info,
    };
    let img = layergate_testkit::ImageBuilder::new("many")
        .layer(layer, "COPY data /data")
        .build()
        .unwrap();
    let path = crate::support::fixtures::write(&dir.path().join("many.tar"), |f| {
        layergate_testkit::oci_archive(&img, f)
    });
    let (file, url) = page_file("many-files.html", &["analyze", &path], 0);
    let size = std::fs::metadata(&file).unwrap().len();
    let mut browser = Browser::launch();
    // Drawn at all is the test (how fast is the benchmark's business): a hang fails
    // on the browser helper's own timeout.
    let mut page = browser.open(&url, 1400, 1000);
    assert_no_errors(&mut page);
    let note = page.eval("document.getElementById('mapnote').textContent");
    assert!(
        note.as_str().unwrap().contains("grouped into striped"),
        "{note}"
    );
    eprintln!("200,000-file page: {size} bytes");
    assert!(size < 2 << 20, "page is {size} bytes");
    page.screenshot(&out_dir().join("many-files.png"));
}

/// The page's data payload for a real image, pinned (the markup is free to change).
#[test]
fn analyze_payload_snapshot() {
    let report = analyze_json(&image("app-pr.oci.tar"));
    let mut report: layergate::Report = serde_json::from_value(report).unwrap();
    report.image.reference = "app-pr.oci.tar".into();
    let payload = layergate::analyze_payload(&report);
    insta::assert_json_snapshot!("html_payload_app_pr", payload);
}

/// One gate run writes the comment, links it to the published HTML report, and
/// writes that report beside it (`--html FILE`); a link that is not http(s) is a
/// usage error.
#[test]
fn comment_links_the_html_report_written_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let img = image("app-pr.oci.tar");
    let out = run(&[
        "check",
        &img,
        "--format",
        "markdown",
        "--html",
        html.to_str().unwrap(),
        "--html-url",
        "https://ci.example/run (1)/report.html",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("[Open the full HTML report](https://ci.example/run%20%281%29/report.html)"),
        "{md}"
    );
    assert!(md.contains("```mermaid\nxychart-beta\n"), "{md}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("layergate-data"));
    let bad = run(&["check", &img, "--html-url", "javascript:alert(1)"]);
    assert_eq!(bad.status.code(), Some(2));
}
