//! Property tests of the overlay through the real scanner: for random layers of
//! files, directories, links, whiteouts and opaque markers over a tiny name space
//! (so paths collide, change type and get deleted often):
//! - stored = live + wasted, where wasted is the sum of the dead copies;
//! - the figures do not depend on how a layer is stored (plain, gzip, zstd);
//! - the order of whiteouts inside a layer does not matter.

use layergate::Compression;
use layergate::Overlay;
use layergate::{scan_layer, LayerScan, Limits};
use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
enum Op {
    File(String, u8, u8),
    Dir(String),
    Symlink(String),
    Whiteout(String),
    Opaque(String),
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c", ".", ".."]), 1..4)
        .prop_map(|parts| parts.join("/"))
}

/// A path a whiteout can name: `.wh..` and `.wh...` are not whiteouts.
fn plain_path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4)
        .prop_map(|parts| parts.join("/"))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (path(), 0u8..20, any::<u8>()).prop_map(|(p, n, b)| Op::File(p, n, b)),
        1 => path().prop_map(Op::Dir),
        1 => path().prop_map(Op::Symlink),
        2 => plain_path().prop_map(Op::Whiteout),
        1 => prop::sample::select(vec!["", "a", "b/c"]).prop_map(|p| Op::Opaque(p.to_string())),
    ]
}

fn layers() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 0..12), 1..5)
}

fn tar_of(ops: &[Op]) -> Vec<u8> {
    let mut t = Tar::new();
    for op in ops {
        match op {
            Op::File(p, n, b) => t.file(p, &vec![*b; *n as usize]),
            Op::Dir(p) => t.dir(p),
            Op::Symlink(p) => t.symlink(p, "../target"),
            Op::Whiteout(p) => t.whiteout(p),
            Op::Opaque(p) if p.is_empty() => t.file(".wh..wh..opq", b""),
            Op::Opaque(p) => t.file(&format!("{p}/.wh..wh..opq"), b""),
        };
    }
    t.end()
}

fn scan(bytes: &[u8], declared: Option<Compression>) -> LayerScan {
    scan_layer(bytes, declared, &Limits::default()).expect("a generated layer scans")
}

/// What an overlay amounts to, for comparisons: live entries and dead bytes.
fn summary(o: &Overlay) -> (Vec<(Vec<u8>, usize)>, u64) {
    let live = o
        .live()
        .map(|(id, n)| (o.paths().path(id), n.layer))
        .collect();
    (live, o.dead.iter().map(|d| d.size).sum())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every stored byte is either live or a dead copy, exactly once.
    #[test]
    fn stored_is_live_plus_wasted(layers in layers()) {
        let scans: Vec<LayerScan> = layers.iter().map(|l| scan(&tar_of(l), None)).collect();
        let overlay = Overlay::apply(&scans);
        let stored: u64 = scans.iter().map(|s| s.regular_bytes).sum();
        let dead: u64 = overlay.dead.iter().map(|d| d.size).sum();
        prop_assert_eq!(stored, overlay.live_bytes() + dead);
        // Live entries come in the byte order of their paths (the report's file order).
        let (live, _) = summary(&overlay);
        prop_assert!(live.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// The same layers stored plain, gzip or zstd give the same records and overlay.
    #[test]
    fn figures_do_not_depend_on_the_compression(layers in layers()) {
        let tars: Vec<Vec<u8>> = layers.iter().map(|l| tar_of(l)).collect();
        let plain: Vec<LayerScan> = tars.iter().map(|t| scan(t, Some(Compression::None))).collect();
        let gz: Vec<LayerScan> = tars.iter().map(|t| scan(&gzip(t), Some(Compression::Gzip))).collect();
        let zs: Vec<LayerScan> = tars.iter().map(|t| scan(&zstd(t), None)).collect();
        for ((p, g), z) in plain.iter().zip(&gz).zip(&zs) {
            prop_assert_eq!(&p.records, &g.records);
            prop_assert_eq!(&p.records, &z.records);
            prop_assert_eq!(&p.diff_id, &g.diff_id);
            prop_assert_eq!(&p.diff_id, &z.diff_id);
            prop_assert_eq!((p.regular_bytes, p.entries), (g.regular_bytes, g.entries));
            prop_assert_eq!((p.regular_bytes, p.entries), (z.regular_bytes, z.entries));
        }
        let want = summary(&Overlay::apply(&plain));
        prop_assert_eq!(&want, &summary(&Overlay::apply(&gz)));
        prop_assert_eq!(&want, &summary(&Overlay::apply(&zs)));
    }

    /// Whiteouts apply to the layers below wherever they sit in their layer:
    /// moving them all to the front or the back changes nothing.
    #[test]
    fn whiteout_order_inside_a_layer_does_not_matter(layers in layers(), seed in any::<u64>()) {
        let is_wh = |op: &Op| matches!(op, Op::Whiteout(_) | Op::Opaque(_));
        let arrange = |front: bool| -> Vec<LayerScan> {
            layers
                .iter()
                .map(|l| {
                    let (mut wh, rest): (Vec<Op>, Vec<Op>) = l.iter().cloned().partition(is_wh);
                    // A seeded rotation, so the whiteouts' own order varies too.
                    if !wh.is_empty() {
                        let k = (seed as usize) % wh.len();
                        wh.rotate_left(if front { k } else { 0 });
                    }
                    let ops: Vec<Op> = if front {
                        wh.into_iter().chain(rest).collect()
                    } else {
                        rest.into_iter().chain(wh).collect()
                    };
                    scan(&tar_of(&ops), None)
                })
                .collect()
        };
        let (a, b) = (arrange(true), arrange(false));
        prop_assert_eq!(summary(&Overlay::apply(&a)), summary(&Overlay::apply(&b)));
    }
}

/// Every zstd layer of a run is decoded with one shared context, in turn: a
/// layer cut short mid-frame, or several scanned at once from many threads,
/// leave it as they found it: each layer scans as it does alone.
#[test]
fn zstd_layers_sharing_one_decoder_scan_as_they_do_alone() {
    let tars: Vec<Vec<u8>> = (0u8..6)
        .map(|i| {
            tar_of(&[
                Op::File("a".into(), 19, i),
                Op::Dir("b".into()),
                Op::File(format!("b/{i}"), i, 7),
            ])
        })
        .collect();
    let alone: Vec<LayerScan> = tars
        .iter()
        .map(|t| scan(t, Some(Compression::None)))
        .collect();
    let whole = zstd(&tars[0]);
    let cut = &whole[..whole.len() / 2];
    let err = scan_layer(cut, Some(Compression::Zstd), &Limits::default()).unwrap_err();
    assert!(!err.to_string().is_empty());
    let after = scan(&whole, Some(Compression::Zstd));
    assert_eq!(after.records, alone[0].records);
    assert_eq!(after.diff_id, alone[0].diff_id);
    std::thread::scope(|s| {
        let runs: Vec<_> = tars
            .iter()
            .map(|t| s.spawn(move || scan(&zstd(t), Some(Compression::Zstd))))
            .collect();
        for (run, want) in runs.into_iter().zip(&alone) {
            let got = run.join().unwrap();
            assert_eq!(got.records, want.records);
            assert_eq!(got.diff_id, want.diff_id);
        }
    });
}
