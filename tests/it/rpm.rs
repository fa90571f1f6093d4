//! RPM attribution on images built in code around real rpm databases.
//!
//! Provenance (tests/data/packages/rpm/README.md): `layer*.tsv`, the
//! `layer*.rpmdb.sqlite*` files and `Packages.{1234,4321}` were written by
//! Debian's rpm 4.18 (and Berkeley DB's `db_load`) running `make.sh`; the
//! expected figures beside them come from `rpm -q --qf` and from the kernel's
//! view of the root rpm installed into. `mariner`, `centos8` and `sle15` are
//! real distribution databases from go-rpmdb's test data (MIT), listed by rpm
//! (`distros.sh`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use layergate_testkit::{oci_archive, Compression, Entry, ImageBuilder};
use serde_json::Value;

use crate::packages::assert_sum_invariant;
use crate::support::analyze_json;
use crate::support::fixtures::{layer, write};

fn data(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/packages/rpm")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn unzst(rel: &str) -> Vec<u8> {
    zstd::decode_all(&data(rel)[..]).unwrap()
}

fn tsv(rel: &str) -> Vec<Vec<String>> {
    String::from_utf8(data(rel))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// One entry of a root listing (`find -printf '%y\t%s\t%i\t%T@\t%P\t%l'`).
#[derive(Clone, PartialEq)]
struct Listed {
    kind: String,
    size: usize,
    inode: String,
    mtime: String,
    target: String,
}

fn listing(n: usize) -> BTreeMap<String, Listed> {
    tsv(&format!("layer{n}.tsv"))
        .into_iter()
        .map(|t| {
            (
                t[4].clone(),
                Listed {
                    kind: t[0].clone(),
                    size: t[1].parse().unwrap(),
                    inode: t[2].clone(),
                    mtime: t[3].clone(),
                    target: t.get(5).cloned().unwrap_or_default(),
                },
            )
        })
        .collect()
}

/// What a database path holds in a layer.
enum Db {
    /// Filler like any other file.
    Filler,
    Bytes(Vec<u8>),
    /// Left out of the layer.
    Skip,
}

/// What the database files hold in each layer: `db(layer, path)`.
type DbBytes = dyn Fn(usize, &str) -> Db;

/// The layers rpm wrote (layer N = what changed between root snapshots N-1
/// and N, removals as whiteouts), files as filler of their real size,
/// databases as `db` gives them.
fn rpm_layers(upto: usize, db: &DbBytes) -> Vec<(String, Vec<Entry>)> {
    let mut out = Vec::new();
    let mut before: BTreeMap<String, Listed> = BTreeMap::new();
    for n in 0..=upto {
        let now = listing(n);
        let mut entries = Vec::new();
        let mut removed: Vec<&String> = before.keys().filter(|p| !now.contains_key(*p)).collect();
        removed.sort();
        let mut last: Option<&String> = None;
        for p in removed {
            if last.is_some_and(|l| p.starts_with(&format!("{l}/"))) {
                continue;
            }
            entries.push(Entry::whiteout(p));
            last = Some(p);
        }
        let mut first_of_inode: HashMap<&str, &str> = HashMap::new();
        for (path, l) in &now {
            if before.get(path) == Some(l) {
                continue;
            }
            let entry = match l.kind.as_str() {
                "d" => Entry::dir(path),
                "l" => Entry::symlink(path, &l.target),
                _ => match db(n, path) {
                    Db::Bytes(bytes) => Entry::file(path, bytes),
                    Db::Skip => continue,
                    Db::Filler => match first_of_inode.get(l.inode.as_str()) {
                        Some(first) => Entry::hardlink(path, first),
                        None => {
                            first_of_inode.insert(&l.inode, path);
                            Entry::file(path, vec![b'r'; l.size])
                        }
                    },
                },
            };
            entries.push(entry);
        }
        let cmd = match n {
            0 => "merged /usr",
            1 => "RUN rpm -i hello-1.0 libfoo-0.9~rc1 gone-1",
            2 => "RUN rpm -U hello-1.1 libfoo-0.9 && rpm -e gone && rpm -i --excludedocs docs",
            _ => "RUN rpm -i extra-3",
        };
        out.push((cmd.to_string(), entries));
        before = now;
    }
    out
}

/// The sqlite database each layer holds, with layer 3's uncheckpointed WAL.
fn sqlite_db(n: usize, path: &str) -> Db {
    match path {
        "var/lib/rpm/rpmdb.sqlite" => Db::Bytes(unzst(&format!("layer{n}.rpmdb.sqlite.zst"))),
        "var/lib/rpm/rpmdb.sqlite-wal" if n == 3 => Db::Bytes(unzst("layer3.rpmdb.sqlite-wal.zst")),
        _ => Db::Filler,
    }
}

/// `sqlite_db` with `f` applied to layer 3's WAL.
fn with_wal(f: fn(&mut Vec<u8>)) -> impl Fn(usize, &str) -> Db {
    move |n, path| match sqlite_db(n, path) {
        Db::Bytes(mut b) if path.ends_with("-wal") => {
            f(&mut b);
            Db::Bytes(b)
        }
        other => other,
    }
}

fn build(dir: &Path, name: &str, layers: Vec<(String, Vec<Entry>)>) -> String {
    let mut b = ImageBuilder::new(name);
    for (cmd, entries) in layers {
        b = b.layer(layer(&entries, Compression::Gzip), &cmd);
    }
    let image = b.build().unwrap();
    write(&dir.join(format!("{name}.tar")), |f| oci_archive(&image, f))
}

fn rpm_packages(report: &Value) -> Vec<&Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == "rpm")
        .collect()
}

fn package<'a>(report: &'a Value, name: &str) -> &'a Value {
    rpm_packages(report)
        .into_iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no rpm package {name} in {:#}", report["packages"]))
}

fn warnings(report: &Value) -> String {
    format!("{:?}", report["warnings"])
}

/// Per package (name, EVR, live bytes, files) as the generator measured them.
fn expected_layer3() -> Vec<(String, String, u64, u64)> {
    tsv("layer3.expected.tsv")
        .into_iter()
        .map(|t| {
            (
                t[0].clone(),
                t[1].clone(),
                t[2].parse().unwrap(),
                t[3].parse().unwrap(),
            )
        })
        .collect()
}

fn assert_layer3_figures(report: &Value) {
    assert_sum_invariant(report);
    let want = expected_layer3();
    assert_eq!(
        rpm_packages(report).len(),
        want.len(),
        "{:#}",
        report["packages"]
    );
    for (name, evr, bytes, files) in &want {
        let p = package(report, name);
        assert_eq!(p["version"], evr.as_str(), "{name}");
        assert_eq!(p["live_bytes"], *bytes, "{name}");
        assert_eq!(p["files"], *files, "{name}");
    }
    // SIZE as rpm reports it.
    for t in tsv("layer3.packages.tsv") {
        let p = package(report, &t[0]);
        assert_eq!(p["architecture"], t[2].as_str());
        assert_eq!(
            p["declared_bytes"],
            t[3].parse::<u64>().unwrap(),
            "{}",
            t[0]
        );
    }
}

/// An image built by real rpm in three steps (install; upgrade, erase and
/// `--excludedocs`; an install still in the WAL): per-package bytes equal what
/// the kernel saw in rpm's root — hard links once, the `%ghost` log rpm owns,
/// `/lib64` through the merged-/usr link, the excluded manual not counted —
/// and `extra`, committed only to the WAL, is there.
#[test]
fn real_rpm_sqlite_layers_give_exact_bytes_per_package() {
    let dir = tempfile::tempdir().unwrap();
    let image = build(dir.path(), "rpm", rpm_layers(3, &sqlite_db));
    let report = analyze_json(&image);
    assert_layer3_figures(&report);
    assert_eq!(package(&report, "hello")["layer"], 2);
    assert_eq!(package(&report, "extra")["layer"], 3);
    assert_eq!(
        report["package_totals"]["databases"],
        serde_json::json!([{"ecosystem": "rpm", "path": "/var/lib/rpm/rpmdb.sqlite", "read": true}])
    );
    assert_eq!(warnings(&report), "Null", "{}", warnings(&report));
}

/// A WAL whose header is damaged cannot be applied: the report says packages
/// may be missing instead of silently showing the checkpointed state.
#[test]
fn a_damaged_wal_is_a_warning_never_silently_stale() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = with_wal(|b| b[0] ^= 0xff);
    let report = analyze_json(&build(dir.path(), "damaged", rpm_layers(3, &damaged)));
    assert_sum_invariant(&report);
    let w = warnings(&report);
    assert!(w.contains("rpmdb.sqlite-wal not applied (WAL header is damaged): packages installed since rpm's last checkpoint may be missing"), "{w}");
    assert!(rpm_packages(&report).iter().all(|p| p["name"] != "extra"));
    assert_eq!(package(&report, "hello")["live_bytes"], 14626);
}

/// A WAL cut inside its last frame keeps the frames committed before it
/// (here: none after the cut, so `extra` is gone, without a panic or warning).
#[test]
fn a_wal_cut_mid_frame_applies_only_whole_committed_frames() {
    let dir = tempfile::tempdir().unwrap();
    let cut = with_wal(|b| b.truncate(b.len() - 100));
    let report = analyze_json(&build(dir.path(), "cut", rpm_layers(3, &cut)));
    assert_sum_invariant(&report);
    assert_eq!(rpm_packages(&report).len(), 3);
}

/// The same headers in Berkeley DB hash files that libdb wrote in both byte
/// orders give the same figures.
#[test]
fn berkeley_db_of_both_byte_orders_gives_the_same_figures() {
    for order in ["1234", "4321"] {
        let dir = tempfile::tempdir().unwrap();
        // Layer 3 replaces the sqlite database with the Berkeley DB one.
        let bdb = |n: usize, path: &str| -> Db {
            if n == 3 && path.starts_with("var/lib/rpm/rpmdb.sqlite") {
                Db::Skip
            } else {
                sqlite_db(n, path)
            }
        };
        let mut layers = rpm_layers(3, &bdb);
        layers[3]
            .1
            .push(Entry::whiteout("var/lib/rpm/rpmdb.sqlite"));
        layers[3].1.push(Entry::file(
            "var/lib/rpm/Packages",
            unzst(&format!("Packages.{order}.zst")),
        ));
        let report = analyze_json(&build(dir.path(), &format!("bdb{order}"), layers));
        assert_layer3_figures(&report);
        assert_eq!(
            report["package_totals"]["databases"][0]["path"],
            "/var/lib/rpm/Packages"
        );
    }
}

/// `diff` between the image after rpm's first step and after its last: rpm's
/// version order (`~` pre-release, epoch kept) calls libfoo upgraded, `gone`
/// removed, `docs` (a `^` snapshot) and `extra` added; the reverse is a downgrade.
#[test]
fn diff_orders_rpm_versions_and_lists_added_removed_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let base = build(dir.path(), "base", rpm_layers(1, &sqlite_db));
    let head = build(dir.path(), "head", rpm_layers(3, &sqlite_db));
    let changes = |a: &str, b: &str| -> Vec<(String, String, String, String)> {
        let out = crate::support::run(&["diff", a, b, "--format", "json", "--policy", "none"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            crate::support::stderr(&out)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut c: Vec<_> = v["comparison"]["packages"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
                (
                    s("name"),
                    s("kind"),
                    s("before_version"),
                    s("after_version"),
                )
            })
            .collect();
        c.sort();
        c
    };
    let t = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        changes(&base, &head),
        vec![
            t("docs", "added", "", "2^git1-1"),
            t("extra", "added", "", "3-1"),
            t("gone", "removed", "1-1", ""),
            t("hello", "upgraded", "1.0-1", "1.1-1"),
            t("libfoo", "upgraded", "1:0.9~rc1-1", "1:0.9-1"),
        ]
    );
    let back = changes(&head, &base);
    assert!(
        back.contains(&t("libfoo", "downgraded", "1:0.9-1", "1:0.9~rc1-1")),
        "{back:?}"
    );
}

/// Builds an image holding a distribution's database at `db_path` and the
/// files rpm lists for a few of its packages; returns the report and the
/// expected (live bytes, files) per package computed from rpm's listing.
fn distro(name: &str, db_path: &str, db: &str) -> (Value, BTreeMap<String, (u64, u64)>) {
    let mut entries = vec![Entry::file(db_path, unzst(db))];
    let mut want: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut inodes: HashMap<(String, String), String> = HashMap::new();
    let mut placed: HashMap<String, ()> = HashMap::new();
    for t in tsv(&format!("{name}.files.tsv")) {
        let (pkg, path, size, mode, state, flags, inode, link) = (
            &t[0],
            &t[2][1..],
            &t[3],
            &t[4],
            &t[5],
            &t[6],
            &t[7],
            t.get(8),
        );
        let w = want.entry(pkg.clone()).or_default();
        // Not installed (excluded, other colour), ghosts (not on disk), directories.
        if state != "0" || flags.contains('g') || mode.starts_with("40") {
            continue;
        }
        if placed.insert(path.to_string(), ()).is_some() {
            continue; // a path two listed packages share: the first keeps it
        }
        w.1 += 1;
        if mode.starts_with("120") {
            entries.push(Entry::symlink(path, link.unwrap()));
        } else if let Some(first) = inodes.get(&(pkg.clone(), inode.clone())) {
            entries.push(Entry::hardlink(path, first));
        } else {
            inodes.insert((pkg.clone(), inode.clone()), path.to_string());
            let size: usize = size.parse().unwrap();
            w.0 += size as u64;
            entries.push(Entry::file(path, vec![b'd'; size]));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let image = ImageBuilder::new(name)
        .layer(layer(&entries, Compression::Gzip), "ADD rootfs /")
        .build()
        .unwrap();
    let report = analyze_json(&write(&dir.path().join("i.tar"), |f| {
        oci_archive(&image, f)
    }));
    (report, want)
}

fn assert_distro(name: &str, db_path: &str, db: &str) {
    let (report, want) = distro(name, db_path, db);
    assert_sum_invariant(&report);
    assert_eq!(warnings(&report), "Null", "{name}: {}", warnings(&report));
    let all = tsv(&format!("{name}.packages.tsv"));
    assert_eq!(rpm_packages(&report).len(), all.len(), "{name}");
    for t in &all {
        let p = rpm_packages(&report)
            .into_iter()
            .find(|p| p["name"] == t[0].as_str() && p["version"] == t[1].as_str())
            .unwrap_or_else(|| panic!("{name}: no {} {}", t[0], t[1]));
        assert_eq!(
            p["declared_bytes"],
            t[3].parse::<u64>().unwrap(),
            "{}",
            t[0]
        );
        let (bytes, files) = want.get(&t[0]).copied().unwrap_or((0, 0));
        assert_eq!(
            (
                p["live_bytes"].as_u64().unwrap(),
                p["files"].as_u64().unwrap()
            ),
            (bytes, files),
            "{name} {}",
            t[0]
        );
    }
    assert!(
        want.values().any(|(b, _)| *b > 0),
        "{name}: files were placed"
    );
}

/// CBL-Mariner 2.0's `rpmdb.sqlite` (129 packages, b-tree with overflow pages).
#[test]
fn real_mariner_sqlite_database() {
    assert_distro(
        "mariner",
        "var/lib/rpm/rpmdb.sqlite",
        "mariner.rpmdb.sqlite.zst",
    );
}

/// CentOS 8's Berkeley DB `Packages` (libuuid only).
#[test]
fn real_centos8_berkeley_db() {
    assert_distro("centos8", "var/lib/rpm/Packages", "centos8.Packages.zst");
}

/// SUSE Linux Enterprise 15 BCI's ndb `Packages.db` (35 packages).
#[test]
fn real_sle15_ndb_database() {
    assert_distro(
        "sle15",
        "usr/lib/sysimage/rpm/Packages.db",
        "sle15.Packages.db.zst",
    );
}

/// Mariner distroless: only the manifest, packages with files not known.
#[test]
fn mariner_distroless_manifest_lists_packages_with_files_not_known() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "bash\t5.1.8-4.cm2\t1690000000\t1680000000\tMicrosoft Corporation\t(none)\t7357918\tx86_64\t0\tbash-5.1.8-4.cm2.src.rpm\n\
                    tzdata\t2023c-1.cm2\t1690000000\t1680000000\tMicrosoft Corporation\t(none)\t1946573\tnoarch\t0\ttzdata-2023c-1.cm2.src.rpm\n";
    let image = ImageBuilder::new("distroless")
        .layer(
            layer(
                &[
                    Entry::file("var/lib/rpmmanifest/container-manifest-2", manifest),
                    Entry::file("usr/bin/bash", vec![1u8; 5000]),
                ],
                Compression::Gzip,
            ),
            "ADD rootfs /",
        )
        .build()
        .unwrap();
    let report = analyze_json(&write(&dir.path().join("d.tar"), |f| {
        oci_archive(&image, f)
    }));
    assert_sum_invariant(&report);
    let bash = package(&report, "bash");
    assert_eq!(bash["files_known"], false);
    assert_eq!(bash["declared_bytes"], 7357918);
    assert_eq!(bash["version"], "5.1.8-4.cm2");
    assert_eq!(package(&report, "tzdata")["architecture"], "noarch");
    assert_eq!(
        report["package_totals"]["unowned_bytes"],
        5000 + manifest.len() as u64
    );
}

fn advice<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["advice"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["code"] == code)
        .collect()
}

/// rpm rewrote its database in each of the three install steps: the two dead
/// copies of the database files are one `package-db-churn` item naming the
/// layers and the fix.
#[test]
fn every_rpm_step_storing_the_database_again_is_package_db_churn() {
    let dir = tempfile::tempdir().unwrap();
    let report = analyze_json(&build(dir.path(), "churn", rpm_layers(3, &sqlite_db)));
    let items = advice(&report, "package-db-churn");
    assert_eq!(items.len(), 1, "{:#}", report["advice"]);
    let a = items[0];
    let layers: Vec<u64> = a["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["index"].as_u64().unwrap())
        .collect();
    assert_eq!(layers, [1, 2, 3]);
    // The copies written again: layer 1's and layer 2's rpmdb.sqlite (225 280 and
    // 233 472 bytes, as rpm wrote them) and layer 1's shared-memory index (32 768),
    // which layer 2 rewrote (layer 3 deletes the second: cleanup, not churn).
    assert_eq!(a["bytes"], 225_280 + 233_472 + 32_768);
    assert_eq!(a["files"], 3);
    assert!(a["suggestion"].as_str().unwrap().contains("one RUN"));
    assert!(advice(&report, "build-tools-in-final-stage").is_empty());
}

/// gcc, a `-dev` package and make installed by dpkg stay in the final image:
/// one `build-tools-in-final-stage` item with their live bytes and layer; the
/// runtime library beside them is not named.
#[test]
fn compilers_and_dev_packages_in_the_final_image_are_build_tools() {
    let dir = tempfile::tempdir().unwrap();
    let stanza = |n: &str| {
        format!("Package: {n}\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n")
    };
    let status: String = ["gcc-12", "libc6-dev", "make", "libc6"]
        .iter()
        .map(|n| stanza(n))
        .collect();
    let report = analyze_json(&build(
        dir.path(),
        "tools",
        vec![
            (
                "base".into(),
                vec![
                    Entry::file("var/lib/dpkg/status", stanza("libc6")),
                    Entry::file("var/lib/dpkg/info/libc6:amd64.list", "/usr/lib/libc.so.6\n"),
                    Entry::file("usr/lib/libc.so.6", vec![1u8; 2000]),
                ],
            ),
            (
                "RUN apt-get install -y gcc-12 libc6-dev make".into(),
                vec![
                    Entry::file("var/lib/dpkg/status", status),
                    Entry::file("var/lib/dpkg/info/gcc-12:amd64.list", "/usr/bin/gcc-12\n"),
                    Entry::file(
                        "var/lib/dpkg/info/libc6-dev:amd64.list",
                        "/usr/include/stdio.h\n",
                    ),
                    Entry::file("var/lib/dpkg/info/make:amd64.list", "/usr/bin/make\n"),
                    Entry::file("usr/bin/gcc-12", vec![2u8; 30_000]),
                    Entry::file("usr/include/stdio.h", vec![3u8; 3_000]),
                    Entry::file("usr/bin/make", vec![4u8; 7_000]),
                ],
            ),
        ],
    ));
    let items = advice(&report, "build-tools-in-final-stage");
    assert_eq!(items.len(), 1, "{:#}", report["advice"]);
    let a = items[0];
    assert_eq!(a["bytes"], 40_000);
    assert_eq!(a["files"], 3);
    assert_eq!(a["layers"][0]["index"], 1);
    assert_eq!(
        a["title"],
        "3 build-tool packages stay in the final image, 39.1 KiB: gcc-12 (29.3 KiB, L1), make (6.8 KiB, L1), libc6-dev (2.9 KiB, L1)"
    );
    // dpkg's status was stored again by the install step: its dead copy is churn.
    assert_eq!(advice(&report, "package-db-churn").len(), 1);
}

/// Every real database, damaged in thousands of deterministic ways (cut short,
/// bytes flipped, 32-bit fields set to 0xffffffff as a claimed length or page
/// would be), goes through its reader and the header parser without a panic
/// and never yields more headers than the intact file holds.
#[test]
fn damaged_real_databases_never_panic() {
    use layergate::rpm::{bdb, header, ndb, sqlite};
    type Read = fn(&[u8]) -> Option<Vec<Vec<u8>>>;
    let readers: [(&str, Read); 5] = [
        ("layer3.rpmdb.sqlite.zst", |b| {
            sqlite::read(b, None).ok().map(|r| r.blobs)
        }),
        ("mariner.rpmdb.sqlite.zst", |b| {
            sqlite::read(b, None).ok().map(|r| r.blobs)
        }),
        ("Packages.1234.zst", |b| bdb::read(b).ok().map(|r| r.blobs)),
        ("Packages.4321.zst", |b| bdb::read(b).ok().map(|r| r.blobs)),
        ("sle15.Packages.db.zst", |b| {
            ndb::read(b).ok().map(|r| r.blobs)
        }),
    ];
    for (file, read) in readers {
        let good = unzst(file);
        let intact = read(&good).unwrap().len();
        assert!(intact > 0, "{file}");
        let step = (good.len() / 300).max(1);
        let mut tried = 0;
        for at in (0..good.len()).step_by(step) {
            let mut cases = vec![good[..at].to_vec()];
            let mut flipped = good.clone();
            flipped[at] ^= 0xff;
            cases.push(flipped);
            if at + 4 <= good.len() {
                let mut huge = good.clone();
                huge[at..at + 4].copy_from_slice(&[0xff; 4]);
                cases.push(huge);
            }
            for case in cases {
                tried += 1;
                if let Some(blobs) = read(&case) {
                    assert!(blobs.len() <= intact + 1, "{file} at {at}: {}", blobs.len());
                    for b in &blobs {
                        let _ = header::parse(b);
                    }
                }
            }
        }
        assert!(tried > 800, "{file}: {tried}");
    }
    // The sqlite WAL too: damaged frames are ignored, never applied half.
    let db = unzst("layer3.rpmdb.sqlite.zst");
    let wal = unzst("layer3.rpmdb.sqlite-wal.zst");
    assert_eq!(sqlite::read(&db, Some(&wal)).unwrap().blobs.len(), 4);
    for at in (0..wal.len()).step_by(7) {
        let mut w = wal.clone();
        w[at] ^= 0x55;
        let rows = sqlite::read(&db, Some(&w)).unwrap();
        assert!((3..=4).contains(&rows.blobs.len()), "wal byte {at}");
    }
}

/// An overflow chain that points back at itself (CentOS 8's Berkeley DB, whose
/// libuuid header spans several overflow pages) stops at the loop with a
/// problem, never a hang or a panic.
#[test]
fn a_looping_overflow_chain_costs_one_package() {
    use layergate::rpm::bdb;
    let mut b = unzst("centos8.Packages.zst");
    let page = 4096;
    let intact = bdb::read(&b).unwrap().blobs.len();
    // The first overflow page (type 7) that continues on another page.
    let n = (1..b.len() / page)
        .find(|&n| b[n * page + 25] == 7 && b[n * page + 16..n * page + 20] != [0; 4])
        .expect("a chained overflow page");
    b[n * page + 16..n * page + 20].copy_from_slice(&(n as u32).to_le_bytes());
    let r = bdb::read(&b).unwrap();
    assert_eq!((intact, r.blobs.len()), (1, 0));
    assert!(r.problems[0].contains("reused"), "{:?}", r.problems);
}
