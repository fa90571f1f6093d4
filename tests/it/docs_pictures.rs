//! The README's two pictures, taken by these tests in the headless Chromium of
//! tests/it/support/browser.rs from the real test images app-base and app-pr, so
//! they show what layergate writes today:
//!
//! - `docs/img/comment.png`: the pull-request comment `diff` writes under
//!   `examples/policy.yml` (the one docs/diff.md shows as text), its Markdown turned
//!   into HTML by pulldown-cmark and drawn with GitHub-like CSS; the Mermaid layer
//!   chart is drawn here as the bar chart GitHub draws from it.
//! - `docs/img/html-report.png`: the `--format html` page of `analyze app-pr`.
//!
//! A picture is rewritten only when its bytes change, so a clean run leaves the
//! tree as it was unless the output did change.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::json;

use crate::support::browser::{Browser, Page};
use crate::support::{image, run, stderr};

fn img_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img")
}

/// Where the pages drawn for the pictures are kept for a reviewer.
fn work_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/docs-pictures");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `png` as docs/img/NAME unless the file holds exactly these bytes
/// already; atomically, mode 0644 (or the replaced file's).
fn keep(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
    let path = img_dir().join(name);
    if std::fs::read(&path).ok().as_deref() == Some(png) {
        return;
    }
    std::fs::create_dir_all(img_dir()).unwrap();
    let mode = std::fs::metadata(&path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644);
    let mut tmp = tempfile::NamedTempFile::new_in(img_dir()).unwrap();
    tmp.write_all(png).unwrap();
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .unwrap();
    tmp.persist(&path).unwrap();
}

/// The whole page at `width` CSS pixels: the viewport grows to the page's height.
fn full_page(page: &mut Page<'_>, width: u32) -> Vec<u8> {
    let h = page
        .eval("Math.ceil(document.documentElement.getBoundingClientRect().height)")
        .as_f64()
        .unwrap() as u32;
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": h, "deviceScaleFactor": 1, "mobile": false}),
    );
    page.png()
}

/// One `xychart-beta` block as GitHub draws it: bars per series, overlaid, the
/// second series (HEAD's new layers) in a second colour.
fn xychart_svg(src: &str) -> String {
    let list = |line: &str| -> Vec<String> {
        let (a, b) = (line.find('[').unwrap(), line.rfind(']').unwrap());
        line[a + 1..b]
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_string())
            .collect()
    };
    let mut title = String::new();
    let mut labels = Vec::new();
    let mut series: Vec<Vec<f64>> = Vec::new();
    for line in src.lines().map(str::trim) {
        if let Some(t) = line.strip_prefix("title ") {
            title = t.trim_matches('"').to_string();
        } else if line.starts_with("x-axis") {
            labels = list(line);
        } else if line.starts_with("bar") {
            series.push(list(line).iter().map(|v| v.parse().unwrap()).collect());
        }
    }
    assert!(
        !labels.is_empty() && !series.is_empty(),
        "not an xychart: {src}"
    );
    let max = series.iter().flatten().cloned().fold(1.0_f64, f64::max);
    let (w, h, left, top, bottom) = (640.0, 260.0, 60.0, 36.0, 40.0);
    let slot = (w - left - 10.0) / labels.len() as f64;
    let mut svg = format!(
        "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <text x=\"{}\" y=\"20\" text-anchor=\"middle\" class=\"title\">{}</text>",
        w / 2.0,
        escape(&title)
    );
    let plot = h - top - bottom;
    for (s, values) in series.iter().enumerate() {
        for (i, v) in values.iter().enumerate() {
            let bh = v / max * plot;
            let x = left + slot * i as f64 + slot * 0.15;
            svg += &format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" class=\"s{s}\"/>",
                top + plot - bh,
                slot * 0.7
            );
        }
    }
    for (i, l) in labels.iter().enumerate() {
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            left + slot * (i as f64 + 0.5),
            h - bottom + 18.0,
            escape(l)
        );
    }
    svg += &format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" class=\"axis\"/>\
         <line x1=\"{left}\" y1=\"{0}\" x2=\"{}\" y2=\"{0}\" class=\"axis\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{max:.0}</text></svg>",
        top + plot,
        w - 10.0,
        left - 6.0,
        top + 4.0
    );
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// CommonMark with GitHub's tables to HTML, Mermaid charts drawn as SVG.
fn comment_html(markdown: &str) -> String {
    let mut events = Vec::new();
    let mut chart: Option<String> = None;
    for e in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match e {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(ref lang)))
                if lang.as_ref() == "mermaid" =>
            {
                chart = Some(String::new())
            }
            Event::Text(ref t) if chart.is_some() => chart.as_mut().unwrap().push_str(t),
            Event::End(TagEnd::CodeBlock) if chart.is_some() => {
                events.push(Event::Html(xychart_svg(&chart.take().unwrap()).into()));
            }
            e => events.push(e),
        }
    }
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    format!(
        "<!DOCTYPE html><html data-ready=\"1\"><head><meta charset=\"utf-8\"><style>{CSS}</style></head>\
         <body><div class=\"comment\"><div class=\"head\"><b>github-actions</b> <span class=\"bot\">bot</span> commented</div>\
         <div class=\"body\">{body}</div></div></body></html>"
    )
}

/// Close to github.com's light theme for a comment.
const CSS: &str = "
body { margin: 0; padding: 16px; background: #fff; color: #1f2328;
  font: 14px/1.5 -apple-system, 'Segoe UI', 'Noto Sans', Helvetica, Arial, sans-serif, 'Noto Color Emoji'; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; }
.head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; color: #59636e;
  border-radius: 6px 6px 0 0; }
.head b { color: #1f2328; }
.bot { border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 7px; font-size: 12px; }
.body { padding: 16px; }
.body > :first-child { margin-top: 0; }
p, table, details, svg { margin: 0 0 16px; }
h4 { font-size: 1em; margin: 24px 0 16px; }
table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
code { font: 85% ui-monospace, 'DejaVu Sans Mono', monospace; background: rgba(129,139,152,.12);
  padding: .2em .4em; border-radius: 6px; }
summary { cursor: pointer; }
.chart text { font-size: 11px; fill: #59636e; }
.chart .title { font-size: 13px; fill: #1f2328; }
.chart .s0 { fill: #8fb8e8; } .chart .s1 { fill: #e8833a; }
.chart .axis { stroke: #8c959f; }
";

/// The comment of app-base → app-pr under examples/policy.yml, as GitHub shows it.
#[test]
fn comment_picture() {
    let out = run(&[
        "diff",
        &image("app-base.oci.tar"),
        &image("app-pr.oci.tar"),
        "--policy",
        "examples/policy.yml",
        "--format",
        "markdown",
        "--comment-key",
        "app",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        Path::new("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").exists(),
        "the comment's emoji need fonts-noto-color-emoji (.ci/run installs it)"
    );
    let html = comment_html(&md);
    assert!(
        html.contains("<svg class=\"chart\""),
        "the layer chart is drawn"
    );
    let file = work_dir().join("comment.html");
    std::fs::write(&file, &html).unwrap();
    let mut browser = Browser::launch();
    let mut page = browser.open(&format!("file://{}", file.display()), 900, 600);
    let headline = page.eval("document.querySelector('.body p').textContent");
    assert!(
        headline
            .as_str()
            .unwrap()
            .starts_with("❌ layergate: image grew"),
        "{headline}"
    );
    let errors = page.errors();
    assert!(errors.is_empty(), "{errors:?}");
    keep("comment.png", &full_page(&mut page, 900));
}

/// The HTML report of app-pr, as it opens.
#[test]
fn html_report_picture() {
    let file = work_dir().join("analyze-app-pr.html");
    let f = file.display().to_string();
    let out = run(&[
        "analyze",
        &image("app-pr.oci.tar"),
        "--format",
        "html",
        "-o",
        &f,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut browser = Browser::launch();
    let mut page = browser.open(&format!("file://{f}"), 1200, 760);
    let errors = page.errors();
    assert!(errors.is_empty(), "{errors:?}");
    let cells = page.eval("document.querySelectorAll('#map .cell').length");
    assert!(cells.as_u64().unwrap() > 3, "the treemap is drawn: {cells}");
    keep("html-report.png", &page.png());
}
