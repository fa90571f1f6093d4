//! Overlay semantics on images built in code: whiteouts, opaque directories (also
//! at the root), hardlinks, symlinks, long and non-UTF-8 names, a path written
//! twice in one layer, and the per-layer change counts that follow from them.

use layergate_testkit::{Entry, Layer};
use serde_json::json;

use crate::support::fixtures::{analyze, dups, image, live};

const K: usize = 1024;

/// `.wh.NAME` removes a file and a whole directory from the layers below, and
/// what it removes is waste of the layer that stored it, counted once.
#[test]
fn whiteouts_delete_files_and_directories_below() {
    let r = analyze(&image(
        "wh:1",
        &[
            (
                "RUN make",
                vec![
                    Entry::file("srv/keep.bin", vec![1u8; 4 * K]),
                    Entry::file("srv/old.bin", vec![2u8; 8 * K]),
                    Entry::dir("srv/gone"),
                    Entry::file("srv/gone/a.bin", vec![3u8; 16 * K]),
                    Entry::file("srv/gone/sub/b.bin", vec![4u8; 2 * K]),
                ],
            ),
            (
                "RUN rm",
                vec![Entry::whiteout("srv/old.bin"), Entry::whiteout("srv/gone")],
            ),
        ],
    ));
    let t = &r["totals"];
    assert_eq!(t["uncompressed_bytes"], 30 * K);
    assert_eq!(t["live_bytes"], 4 * K);
    assert_eq!(t["wasted_bytes"], 26 * K);
    assert_eq!(t["files"], 1);
    assert!(live(&r, "/srv/gone/a.bin").is_none());
    for (path, bytes) in [
        ("/srv/old.bin", 8 * K),
        ("/srv/gone/a.bin", 16 * K),
        ("/srv/gone/sub/b.bin", 2 * K),
    ] {
        let d = dups(&r, path);
        assert_eq!(d.len(), 1, "{path}");
        assert_eq!(d[0]["kind"], "deleted");
        assert_eq!(d[0]["wasted_bytes"], bytes);
        assert_eq!(d[0]["layers"], json!([0]));
        assert_eq!(d[0]["by_layers"], json!([1]));
    }
    let l1 = &r["layers"][1];
    assert_eq!(l1["whiteouts"], 2);
    assert_eq!(l1["uncompressed_bytes"], 0);
    // old.bin, the gone directory entry and its two files (sub/ had no entry of its own).
    assert_eq!(l1["deleted"], 4);
    assert_eq!(r["layers"][0]["wasted_bytes"], 26 * K);
}

/// A whiteout applies to lower layers only, wherever it sits in the tar: a layer
/// that writes a path and whites it out keeps its own copy.
#[test]
fn whiteouts_apply_to_lower_layers_whatever_their_order() {
    let r = analyze(&image(
        "wh:2",
        &[
            ("COPY a", vec![Entry::file("a/x", vec![1u8; 100])]),
            (
                "RUN replace",
                vec![Entry::file("a/x", vec![2u8; 300]), Entry::whiteout("a/x")],
            ),
        ],
    ));
    assert_eq!(live(&r, "/a/x").unwrap()["bytes"], 300);
    assert_eq!(r["totals"]["wasted_bytes"], 100);
}

/// An opaque marker hides everything below its directory in lower layers but
/// keeps what its own layer adds there.
#[test]
fn opaque_directory_hides_lower_contents() {
    let r = analyze(&image(
        "opq:1",
        &[
            (
                "RUN fill",
                vec![
                    Entry::file("data/a", vec![1u8; 1000]),
                    Entry::file("data/sub/b", vec![2u8; 2000]),
                    Entry::file("datafile", vec![3u8; 50]),
                ],
            ),
            (
                "RUN rm -rf /data && mkdir /data && echo new > /data/new",
                vec![Entry::file("data/new", b"new\n"), Entry::opaque("data")],
            ),
        ],
    ));
    assert_eq!(r["totals"]["live_bytes"], 54);
    assert_eq!(r["totals"]["wasted_bytes"], 3000);
    assert!(
        live(&r, "/datafile").is_some(),
        "a sibling with a common prefix survives"
    );
    assert!(live(&r, "/data/new").is_some());
    assert_eq!(dups(&r, "/data/sub/b")[0]["kind"], "deleted");
    assert_eq!(r["layers"][1]["opaque_dirs"], 1);
    assert_eq!(r["layers"][1]["deleted"], 2);
}

/// An opaque marker at the root hides every lower layer: the image is what the
/// last layer holds.
#[test]
fn opaque_root_hides_every_lower_layer() {
    let r = analyze(&image(
        "opq:2",
        &[
            ("ADD base", vec![Entry::file("bin/sh", vec![1u8; 700])]),
            ("ADD more", vec![Entry::file("etc/x", vec![2u8; 300])]),
            (
                "ADD squashed",
                vec![Entry::opaque(""), Entry::file("only", vec![3u8; 10])],
            ),
        ],
    ));
    assert_eq!(r["totals"]["files"], 1);
    assert_eq!(r["totals"]["live_bytes"], 10);
    assert_eq!(r["totals"]["wasted_bytes"], 1000);
    let pairs: Vec<(u64, u64, u64)> = r["merge_savings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["lower"].as_u64().unwrap(),
                m["upper"].as_u64().unwrap(),
                m["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs, vec![(0, 2, 700), (1, 2, 300)]);
}

/// A hardlink is a second name for bytes already stored: it adds no bytes, is
/// no copy, and is listed as a hardlink; a symlink likewise holds no bytes.
#[test]
fn hardlinks_and_symlinks_add_no_bytes() {
    let r = analyze(&image(
        "links:1",
        &[(
            "RUN install",
            vec![
                Entry::file("usr/bin/busybox", vec![9u8; 10_000]).mode(0o755),
                Entry::hardlink("usr/bin/ls", "usr/bin/busybox"),
                Entry::hardlink("usr/bin/cat", "./usr/bin/busybox"),
                Entry::symlink("bin", "usr/bin"),
                Entry::symlink("usr/bin/sh", "/usr/bin/busybox"),
            ],
        )],
    ));
    let t = &r["totals"];
    assert_eq!(t["uncompressed_bytes"], 10_000);
    assert_eq!(t["live_bytes"], 10_000);
    assert_eq!(t["same_content_bytes"], 0);
    assert_eq!(t["files"], 5);
    assert_eq!(live(&r, "/usr/bin/ls").unwrap()["kind"], "hardlink");
    assert_eq!(live(&r, "/usr/bin/ls").unwrap()["bytes"], 0);
    assert_eq!(live(&r, "/bin").unwrap()["kind"], "symlink");
    let l0 = &r["layers"][0];
    assert_eq!(
        (
            l0["files"].as_u64(),
            l0["hardlinks"].as_u64(),
            l0["symlinks"].as_u64()
        ),
        (Some(1), Some(2), Some(2))
    );
    assert!(r["duplicates"].as_array().unwrap().is_empty());
}

/// Names longer than the 100-byte tar field arrive whole, whether carried by GNU
/// long-name records or PAX headers, for paths and link targets alike.
#[test]
fn long_gnu_and_pax_names_are_read_whole() {
    let deep = format!("opt/{}/", "d".repeat(120));
    let gnu = format!("{deep}gnu-{}.txt", "n".repeat(60));
    let pax = format!("{deep}pax-{}.txt", "p".repeat(60));
    let r = analyze(&image(
        "long:1",
        &[
            (
                "COPY . /opt",
                vec![
                    Entry::file(&gnu, vec![1u8; 11]),
                    Entry::file(&pax, vec![2u8; 22]).pax(),
                    Entry::hardlink(format!("{deep}link-{}", "l".repeat(80)), &pax).pax(),
                ],
            ),
            ("RUN rm", vec![Entry::whiteout(&gnu).pax()]),
        ],
    ));
    assert!(live(&r, &format!("/{pax}")).is_some());
    assert_eq!(
        live(&r, &format!("/{deep}link-{}", "l".repeat(80))).unwrap()["kind"],
        "hardlink"
    );
    assert_eq!(dups(&r, &format!("/{gnu}"))[0]["wasted_bytes"], 11);
    assert_eq!(r["totals"]["live_bytes"], 22);
}

/// Real layers hold paths longer than PATH_MAX (4096 bytes): tar writes them and
/// engines extract them with relative opens. Paths and link targets five times
/// that long, carried by PAX and by GNU records, are read exactly, byte for byte,
/// in every figure; refusing them would be an error where exact figures exist.
#[test]
fn paths_and_link_targets_far_beyond_path_max_are_read_exactly() {
    use layergate::Compression;
    use layergate::{scan_layer, Kind, Limits};
    const PATH_MAX: usize = 4096;
    // Components of 200 bytes (under NAME_MAX 255), 5 × PATH_MAX in all.
    let deep: String = (0..(5 * PATH_MAX / 201) + 1)
        .map(|i| format!("{}{i:03}/", "d".repeat(197)))
        .collect();
    assert!(deep.len() > 5 * PATH_MAX);
    let pax_file = format!("srv/{deep}pax.bin");
    let gnu_file = format!("srv/{deep}gnu.bin");
    let link_target = format!("/{pax_file}");
    let sym = "srv/short-link";
    let hard = format!("srv/{deep}hard.bin");
    let entries = vec![
        Entry::file(&pax_file, vec![1u8; 3000]).pax(),
        Entry::file(&gnu_file, vec![2u8; 5000]),
        Entry::symlink(sym, &link_target).pax(),
        Entry::hardlink(&hard, &pax_file),
    ];
    let r = analyze(&image(
        "long-paths:1",
        &[
            ("COPY . /srv", entries.clone()),
            ("RUN rm", vec![Entry::whiteout(&gnu_file).pax()]),
        ],
    ));
    let pax_live = live(&r, &format!("/{pax_file}")).expect("the long PAX path is live");
    assert_eq!(pax_live["bytes"], 3000);
    assert_eq!(pax_live["path"].as_str().unwrap().len(), pax_file.len() + 1);
    assert_eq!(
        live(&r, &format!("/{hard}")).unwrap()["kind"],
        "hardlink",
        "a hardlink named by a long path to a long path"
    );
    assert_eq!(live(&r, &format!("/{sym}")).unwrap()["kind"], "symlink");
    let gone = dups(&r, &format!("/{gnu_file}"));
    assert_eq!(gone.len(), 1, "the whiteout of a long GNU path finds it");
    assert_eq!(gone[0]["wasted_bytes"], 5000);
    let t = &r["totals"];
    assert_eq!(
        (t["uncompressed_bytes"].as_u64(), t["live_bytes"].as_u64()),
        (Some(8000), Some(3000))
    );
    assert_eq!(t["wasted_bytes"], 5000);
    // The link targets themselves, as the scanner reads them.
    let layer = Layer::build(&entries, Compression::Gzip).unwrap();
    let scan = scan_layer(
        layer.bytes().unwrap().as_slice(),
        Some(Compression::Gzip),
        &Limits::default(),
    )
    .unwrap();
    let records = scan.records.to_vec();
    let target_of = |path: &str| {
        records
            .iter()
            .find(|rec| &*rec.path == path.as_bytes())
            .map(|rec| rec.kind)
    };
    assert_eq!(
        target_of(sym),
        Some(Kind::Symlink {
            target: link_target.as_bytes()
        })
    );
    assert_eq!(
        target_of(&hard),
        Some(Kind::Hardlink {
            target: pax_file.as_bytes()
        })
    );
    assert!(target_of(&pax_file).is_some() && target_of(&gnu_file).is_some());
}

/// Names that are not UTF-8 are kept as bytes (so a whiteout still finds them)
/// and shown with `\xNN` escapes, as src/scan/path.rs documents.
#[test]
fn non_utf8_names_are_matched_as_bytes_and_shown_escaped() {
    let r = analyze(&image(
        "latin1:1",
        &[
            (
                "COPY",
                vec![
                    Entry::file(b"srv/caf\xe9.txt", vec![1u8; 64]),
                    Entry::file(b"srv/r\xe9sum\xe9.bin", vec![2u8; 128]),
                    Entry::file("srv/café.txt", vec![3u8; 32]),
                ],
            ),
            ("RUN rm", vec![Entry::whiteout(b"srv/r\xe9sum\xe9.bin")]),
        ],
    ));
    assert_eq!(live(&r, "/srv/caf\\xe9.txt").unwrap()["bytes"], 64);
    assert_eq!(live(&r, "/srv/café.txt").unwrap()["bytes"], 32);
    assert_eq!(dups(&r, "/srv/r\\xe9sum\\xe9.bin")[0]["wasted_bytes"], 128);
    assert_eq!(r["totals"]["files"], 2);
}

/// A tar may hold one path twice: the later entry wins, the earlier copy is
/// stored waste of that same layer, and the path counts as added once.
#[test]
fn same_path_twice_in_one_layer_keeps_the_last() {
    let r = analyze(&image(
        "twice:1",
        &[(
            "RUN build",
            vec![
                Entry::file("app/bin", vec![1u8; 500]),
                Entry::file("app/bin", vec![2u8; 700]),
                Entry::file("app/conf", b"same"),
                Entry::file("app/conf", b"same").mode(0o600),
            ],
        )],
    ));
    assert_eq!(live(&r, "/app/bin").unwrap()["bytes"], 700);
    assert_eq!(r["totals"]["wasted_bytes"], 504);
    let d = dups(&r, "/app/bin");
    assert_eq!(d[0]["kind"], "overwritten");
    assert_eq!(d[0]["layers"], json!([0]));
    assert_eq!(dups(&r, "/app/conf")[0]["kind"], "unchanged-copy");
    assert_eq!(r["layers"][0]["added"], 2);
    assert_eq!(r["layers"][0]["modified"], 0);
    assert!(
        r["merge_savings"].as_array().unwrap().is_empty(),
        "no pair of layers to merge"
    );
}

/// Entries that climb out of the root with `..` are read inside it and reported.
#[test]
fn entries_escaping_the_root_are_reported_not_followed() {
    let r = analyze(&image(
        "escape:1",
        &[(
            "ADD evil.tar /",
            vec![
                Entry::file("../../etc/evil", vec![1u8; 10]),
                Entry::file("ok", b"x"),
            ],
        )],
    ));
    assert!(live(&r, "/etc/evil").is_some());
    let warnings = r["warnings"].as_array().expect("a warning");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("climbs out of the root"));
}

/// Device nodes and FIFOs are live entries with no bytes.
#[test]
fn devices_and_fifos_are_special_entries_without_bytes() {
    let r = analyze(&image(
        "dev:1",
        &[(
            "ADD dev",
            vec![
                Entry::char_device("dev/null", 1, 3),
                Entry::block_device("dev/sda", 8, 0),
                Entry::fifo("run/initctl"),
            ],
        )],
    ));
    assert_eq!(r["totals"]["files"], 3);
    assert_eq!(r["totals"]["uncompressed_bytes"], 0);
    assert_eq!(r["totals"]["efficiency"], 1.0);
    assert_eq!(live(&r, "/dev/sda").unwrap()["kind"], "special");
}

/// Layers built by the testkit are read back with the digests it computed.
#[test]
fn testkit_layer_digests_match_what_layergate_reads() {
    let l = Layer::build(
        &[Entry::file("a", b"a")],
        layergate_testkit::Compression::Zstd,
    )
    .unwrap();
    let img = layergate_testkit::ImageBuilder::new("d:1")
        .layer(l.clone(), "ADD a")
        .build()
        .unwrap();
    let r = analyze(&img);
    assert_eq!(r["layers"][0]["digest"], l.info.digest.to_string());
    assert_eq!(r["layers"][0]["diff_id"], l.info.diff_id.to_string());
    assert_eq!(r["layers"][0]["compressed_bytes"], l.info.size);
    assert_eq!(r["layers"][0]["tar_bytes"], l.info.tar_size);
    assert_eq!(
        r["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
}
