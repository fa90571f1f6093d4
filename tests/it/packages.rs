//! Package attribution on images built in code from real package databases.
//!
//! Provenance: `tests/data/packages/bookworm/` is a subset of the databases of a
//! real Debian bookworm image (debootstrap minbase + `apt-get install nodejs npm
//! python3-pip python3-venv jq`, a venv with `pip install six attrs idna`, and
//! `npm install left-pad ms debug` in /srv/web), as kept in the team's shared
//! `package-dbs/`: the dpkg `status` stanzas, `info/*.list` files and
//! `diversions` of dash, jq, libjq1, libonig5 and python3-six exactly as dpkg
//! wrote them; the pip `RECORD`s of six and idna; the `package.json` of ms, debug
//! and left-pad; and `files.tsv`, that image's own listing (type, size, mode,
//! path, link target) of every file those databases name plus the install-time
//! `.pyc` files, the npm project files and a few unowned coreutils files.
//! Files are rebuilt at their real paths and sizes (content is filler); the
//! databases themselves keep their real bytes.

use std::path::Path;

use layergate_testkit::{oci_archive, Compression, Entry, ImageBuilder};
use serde_json::Value;

use crate::support::analyze_json;
use crate::support::fixtures::{layer, write};

fn data(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/packages/bookworm")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Deterministic filler of `size` bytes, different per path.
fn filler(path: &str, size: usize) -> Vec<u8> {
    let seed = path
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    (0..size).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// The four layers of the bookworm image, optionally without jq (for the base of
/// a comparison).
fn bookworm_layers(with_jq: bool, with_node: bool) -> Vec<(&'static str, Vec<Entry>)> {
    let dash_paths: Vec<String> = String::from_utf8(data("info/dash.list"))
        .unwrap()
        .lines()
        .map(|l| {
            let l = l.trim_start_matches('/');
            for d in ["bin/", "lib/", "sbin/"] {
                if let Some(rest) = l.strip_prefix(d) {
                    return format!("usr/{d}{rest}");
                }
            }
            l.to_string()
        })
        .collect();
    let jq_lists = ["jq.list", "libjq1:amd64.list", "libonig5:amd64.list"];
    let jq_paths: Vec<String> = jq_lists
        .iter()
        .flat_map(|l| {
            String::from_utf8(data(&format!("info/{l}")))
                .unwrap()
                .lines()
                .map(|l| {
                    l.trim_start_matches('/')
                        .replacen("lib/x86_64", "usr/lib/x86_64", 1)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut layers: Vec<Vec<Entry>> = vec![Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let tsv = String::from_utf8(data("files.tsv")).unwrap();
    for line in tsv.lines() {
        let t: Vec<&str> = line.split('\t').collect();
        let (kind, size, path, target) = (t[0], t[1].parse::<usize>().unwrap(), &t[3][1..], t[4]);
        let (i, wanted) = if path.starts_with("opt/venv/") {
            (2, true)
        } else if path.starts_with("srv/web/") {
            (3, with_node)
        } else if ["bin", "lib", "sbin", "lib64"].contains(&path)
            || dash_paths.iter().any(|p| p == path)
            || path.starts_with("usr/bin/sha")
            || path.starts_with("usr/share/man/man1/sha")
        {
            (0, true)
        } else {
            (1, with_jq || !jq_paths.iter().any(|p| p == path))
        };
        if !wanted {
            continue;
        }
        // Databases keep their real bytes; everything else is filler of the real size.
        let entry = if kind == "l" {
            Entry::symlink(path, target)
        } else if path.ends_with("/RECORD") {
            let dir = path.rsplit('/').nth(1).unwrap();
            Entry::file(path, data(&format!("venv/{dir}/RECORD")))
        } else if path.starts_with("srv/web/node_modules/") && path.ends_with("/package.json") {
            let name = path.rsplit('/').nth(1).unwrap();
            Entry::file(path, data(&format!("node/{name}/package.json")))
        } else {
            Entry::file(path, filler(path, size))
        };
        layers[i].push(entry);
    }
    let status = String::from_utf8(data("status")).unwrap();
    let stanzas: Vec<&str> = status
        .split("\n\n")
        .filter(|s| !s.trim().is_empty())
        .collect();
    let status_of = |names: &[&str]| {
        let mut s = String::new();
        for st in &stanzas {
            if names
                .iter()
                .any(|n| st.starts_with(&format!("Package: {n}\n")))
            {
                s.push_str(st);
                s.push_str("\n\n");
            }
        }
        s
    };
    layers[0].push(Entry::file("var/lib/dpkg/status", status_of(&["dash"])));
    layers[0].push(Entry::file(
        "var/lib/dpkg/info/dash.list",
        data("info/dash.list"),
    ));
    layers[0].push(Entry::file("var/lib/dpkg/diversions", data("diversions")));
    let mut installed = vec!["dash", "python3-six"];
    if with_jq {
        installed.extend(["jq", "libjq1", "libonig5"]);
        for l in jq_lists {
            layers[1].push(Entry::file(
                format!("var/lib/dpkg/info/{l}"),
                data(&format!("info/{l}")),
            ));
        }
    }
    layers[1].push(Entry::file("var/lib/dpkg/status", status_of(&installed)));
    layers[1].push(Entry::file(
        "var/lib/dpkg/info/python3-six.list",
        data("info/python3-six.list"),
    ));
    let cmds = [
        "debootstrap --variant=minbase bookworm",
        "RUN apt-get install -y python3-six jq",
        "RUN /opt/venv/bin/pip install six idna",
        "RUN npm install left-pad ms debug",
    ];
    cmds.into_iter().zip(layers).collect()
}

pub fn build(dir: &Path, name: &str, with_jq: bool, with_node: bool) -> String {
    let mut b = ImageBuilder::new(name);
    for (cmd, entries) in bookworm_layers(with_jq, with_node) {
        b = b.layer(layer(&entries, Compression::Gzip), cmd);
    }
    let image = b.build().unwrap();
    write(&dir.join(format!("{name}.tar")), |f| oci_archive(&image, f))
}

/// Every live byte is a package's or unowned, exactly once.
pub fn assert_sum_invariant(report: &Value) {
    let live = report["totals"]["live_bytes"].as_u64().unwrap();
    let totals = &report["package_totals"];
    let packages: u64 = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["live_bytes"].as_u64().unwrap())
        .sum();
    let unowned = totals["unowned_bytes"].as_u64().unwrap();
    assert_eq!(
        packages + unowned,
        live,
        "packages {packages} + unowned {unowned} != live {live}"
    );
    let per_eco: u64 = totals["ecosystems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["live_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(per_eco, packages);
}

fn package<'a>(report: &'a Value, eco: &str, name: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ecosystem"] == eco && p["name"] == name)
        .unwrap_or_else(|| panic!("no {eco} package {name} in {:#}", report["packages"]))
}

/// (live bytes, files, layer) of a package.
fn figures(report: &Value, eco: &str, name: &str) -> (u64, u64, u64) {
    let p = package(report, eco, name);
    (
        p["live_bytes"].as_u64().unwrap(),
        p["files"].as_u64().unwrap(),
        p["layer"].as_u64().unwrap(),
    )
}

/// The real bookworm databases attribute exact bytes per package: dpkg paths
/// through the merged-/usr symlinks, the dash diversion, the install-time `.pyc`
/// of python3-six, pip RECORDs in a venv, npm packages by directory.
#[test]
fn real_bookworm_databases_give_exact_bytes_per_package() {
    let dir = tempfile::tempdir().unwrap();
    let report = analyze_json(&build(dir.path(), "bookworm", true, true));
    assert_sum_invariant(&report);
    let expected: &[(&str, &str, (u64, u64, u64))] =
        &include!("../data/packages/bookworm/expected.rs");
    for (eco, name, want) in expected {
        assert_eq!(figures(&report, eco, name), *want, "{eco} {name}");
    }
    let six = package(&report, "deb", "python3-six");
    assert_eq!(six["version"], "1.16.0-4");
    assert_eq!(six["declared_bytes"], 63 * 1024);
    assert_eq!(
        six["compiled_bytes"], 46374,
        "the install-time six.cpython-311.pyc"
    );
    assert_eq!(
        package(&report, "pypi", "six")["location"],
        "/opt/venv/lib/python3.11/site-packages"
    );
    assert_eq!(package(&report, "npm", "debug")["version"], "4.4.3");
    assert_eq!(report["packages"].as_array().unwrap().len(), expected.len());
}

/// Analyses an image of one layer holding `entries`.
fn analyze_one(dir: &Path, name: &str, entries: Vec<Entry>) -> Value {
    let image = ImageBuilder::new(name)
        .layer(layer(&entries, Compression::Gzip), "RUN hostile")
        .build()
        .unwrap();
    let report = analyze_json(&write(&dir.join(format!("{name}.tar")), |f| {
        oci_archive(&image, f)
    }));
    assert_sum_invariant(&report);
    report
}

fn warnings(report: &Value) -> String {
    report["warnings"]
        .as_array()
        .map(|w| format!("{w:?}"))
        .unwrap_or_default()
}

const STANZA: &str = "Package: tool\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\nInstalled-Size: 1\n\n";

/// A 100 MB status file is over the capture bound: not read, said so, and every
/// byte still lands in packages or unowned.
#[test]
fn huge_status_file_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut status = STANZA.repeat(100_000_000 / STANZA.len() + 1);
    status.truncate(100_000_000);
    let report = analyze_one(
        dir.path(),
        "huge-status",
        vec![
            Entry::file("var/lib/dpkg/status", status),
            Entry::file("var/lib/dpkg/info/tool.list", "/usr/bin/tool\n"),
            Entry::file("usr/bin/tool", vec![1u8; 1000]),
        ],
    );
    assert!(
        warnings(&report).contains("/var/lib/dpkg/status is 100000000 bytes"),
        "{}",
        warnings(&report)
    );
    assert_eq!(report["packages"].as_array().unwrap().len(), 0);
    assert_eq!(report["package_totals"]["databases"][0]["read"], false);
}

/// A `.list` naming a million paths is read within its bound; only the paths
/// that exist count.
#[test]
fn list_naming_a_million_paths_counts_only_live_files() {
    let dir = tempfile::tempdir().unwrap();
    let list: String = (0..1_000_000).map(|i| format!("/m/{i}\n")).collect();
    let report = analyze_one(
        dir.path(),
        "million",
        vec![
            Entry::file("var/lib/dpkg/status", STANZA),
            Entry::file("var/lib/dpkg/info/tool:amd64.list", list),
            Entry::file("m/7", vec![1u8; 700]),
            Entry::file("m/999999", vec![1u8; 300]),
        ],
    );
    assert_eq!(figures(&report, "deb", "tool"), (1000, 2, 0));
}

/// RECORD entries climbing out of the root, malformed stanzas, non-UTF-8 names
/// and a package owning `/`: correct figures for the rest and warnings, no error.
#[test]
fn hostile_databases_give_warnings_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let site = "usr/lib/python3/site-packages";
    let mut status = b"garbage without a colon\n\nPackage: root-owner\nStatus: install ok installed\nVersion: 1\n\n".to_vec();
    status.extend_from_slice(b"Package: caf\xe9\x1b[31m\nStatus: install ok installed\nVersion: \xff\n\nVersion: 2\nDescription: no package field\n\n");
    let report = analyze_one(
        dir.path(),
        "hostile",
        vec![
            Entry::file("var/lib/dpkg/status", status),
            Entry::file(
                "var/lib/dpkg/info/root-owner.list",
                "/\n/.\n\n/etc\n/etc/hostname\n",
            ),
            Entry::file(b"var/lib/dpkg/info/caf\xe9\x1b[31m.list", b"/opt/caf\xe9\n"),
            Entry::file(b"opt/caf\xe9", vec![2u8; 50]),
            Entry::file("etc/hostname", "box\n"),
            Entry::file("etc/passwd", vec![b'x'; 100]),
            Entry::file(
                format!("{site}/evil-1.0.dist-info/RECORD"),
                "../../../../../../../etc/passwd,,\n\"unterminated,,\nevil.py,sha256=x,10\n",
            ),
            Entry::file(format!("{site}/evil.py"), vec![3u8; 10]),
        ],
    );
    let w = warnings(&report);
    assert!(w.contains("paths outside the root"), "{w}");
    assert!(w.contains("not `Field: value`"), "{w}");
    assert_eq!(
        figures(&report, "deb", "root-owner"),
        (4, 1, 0),
        "owns /etc/hostname only"
    );
    assert_eq!(
        figures(&report, "pypi", "evil"),
        (10, 1, 0),
        "evil.py, not /etc/passwd"
    );
    let weird = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str().unwrap().starts_with("caf"))
        .unwrap();
    assert_eq!(
        weird["name"], "caf\u{fffd}\u{fffd}[31m",
        "invalid UTF-8 and ESC replaced"
    );
    assert_eq!(
        weird["live_bytes"], 50,
        "the non-UTF-8 path is matched byte for byte"
    );
}

/// `diff` of two images built from the real databases: jq and the npm project
/// are new in HEAD; the Markdown comment has a package-changes section ranked by
/// bytes and the totals table a `packages` row. (docs/packages.md shows this section.)
#[test]
fn diff_shows_package_changes_ranked_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let base = build(dir.path(), "base", false, false);
    let head = build(dir.path(), "head", true, true);
    let out = crate::support::bin()
        .current_dir(dir.path())
        .args(["diff", "base.tar", "head.tar", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    let section: String = md
        .lines()
        .skip_while(|l| !l.starts_with("#### Package changes"))
        .take_while(|l| !l.starts_with("<details>"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(section);
    assert!(md.contains("| packages | 4 | 10 | +6 (+150.0 %) |"), "{md}");
    let json = crate::support::run(&["diff", &base, &head, "--format", "json"]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let changes = v["comparison"]["packages"]["changes"].as_array().unwrap();
    assert_eq!(changes[0]["name"], "libonig5");
    assert_eq!(changes[0]["delta"], 655590);
    assert_eq!(changes.len(), 6);
}

/// Package rules: forbid by glob, a budget per package, growth per package;
/// findings name the package and the layer that brought it.
#[test]
fn package_policy_rules_name_package_and_layer() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), "base", false, false);
    build(dir.path(), "head", true, true);
    std::fs::write(
        dir.path().join("p.yml"),
        "packages:\n  forbid: [\"libonig*\"]\n  budgets: [{name: \"idna\", max: 100kB, severity: warn}]\n  growth: 300kB\n",
    )
    .unwrap();
    let out = crate::support::bin()
        .current_dir(dir.path())
        .args([
            "diff", "base.tar", "head.tar", "--policy", "p.yml", "--format", "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::support::stderr(&out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let codes: Vec<&str> = findings.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        codes,
        [
            "forbidden-package",
            "package-growth",
            "package-growth",
            "package-budget"
        ],
        "{findings:#?}"
    );
    assert!(
        findings[0].1.contains("libonig5 6.9.8-1 (deb)") && findings[0].1.contains("from L1"),
        "{}",
        findings[0].1
    );
    assert!(
        findings[1].1.contains("libonig5") && findings[1].1.contains("from L1"),
        "{}",
        findings[1].1
    );
}

/// Alpine's installed database (see tests/data/packages/alpine/README.md for its
/// provenance): files under `F:` directories, `I:` as the declared size.
#[test]
fn alpine_installed_database_attributes_files() {
    let dir = tempfile::tempdir().unwrap();
    let installed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/packages/alpine/installed"),
    )
    .unwrap();
    let report = analyze_one(
        dir.path(),
        "alpine",
        vec![
            Entry::file("lib/apk/db/installed", installed),
            Entry::file("lib/ld-musl-x86_64.so.1", vec![1u8; 66_000]),
            Entry::symlink("lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"),
            Entry::file("lib/libz.so.1.3.1", vec![2u8; 9_000]),
            Entry::symlink("lib/libz.so.1", "libz.so.1.3.1"),
            Entry::file("bin/busybox", vec![3u8; 8_000]),
        ],
    );
    assert_eq!(figures(&report, "apk", "musl"), (66_000, 2, 0));
    assert_eq!(figures(&report, "apk", "zlib"), (9_000, 2, 0));
    assert_eq!(package(&report, "apk", "zlib")["declared_bytes"], 102_400);
    assert_eq!(
        package(&report, "apk", "musl")["version"],
        "1.2.4_git20230717-r4"
    );
    assert_eq!(
        report["package_totals"]["unowned_files"], 2,
        "busybox and the database itself"
    );
}
