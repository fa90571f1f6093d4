use super::*;
use crate::image::{Compression, Digest};
use crate::scan::Record;

fn file(path: &str, size: u64, content: u8) -> Record<'static> {
    Record {
        path: path.as_bytes().into(),
        kind: Kind::File {
            size,
            hash: [content; 32],
            mode: 0o644,
        },
    }
}
fn dir(path: &str) -> Record<'static> {
    Record {
        path: path.as_bytes().into(),
        kind: Kind::Dir,
    }
}
fn wh(path: &str) -> Record<'static> {
    Record {
        path: path.as_bytes().into(),
        kind: Kind::Whiteout,
    }
}
fn opq(path: &str) -> Record<'static> {
    Record {
        path: path.as_bytes().into(),
        kind: Kind::Opaque,
    }
}

pub(crate) fn layer(records: Vec<Record<'static>>) -> LayerScan {
    let regular_bytes = records
        .iter()
        .map(|r| {
            if let Kind::File { size, .. } = r.kind {
                size
            } else {
                0
            }
        })
        .sum();
    LayerScan {
        blob_digest: Digest::sha256_of(b""),
        diff_id: Digest::sha256_of(b""),
        compression: Compression::None,
        compressed_bytes: 0,
        tar_bytes: 0,
        regular_bytes,
        entries: records.len() as u64,
        records: records.into_iter().collect(),
        captured: vec![],
        notes: vec![],
        gzip_estimate: None,
    }
}

fn stored(layers: &[LayerScan]) -> u64 {
    layers.iter().map(|l| l.regular_bytes).sum()
}

#[test]
fn whiteout_deletes_path_and_subtree_from_lower_layers() {
    let layers = [
        layer(vec![
            dir("a"),
            file("a/x", 10, 1),
            dir("a/sub"),
            file("a/sub/y", 5, 2),
            file("ab", 3, 3),
        ]),
        layer(vec![wh("a")]),
    ];
    let o = Overlay::apply(&layers);
    assert_eq!(o.live_bytes(), 3, "only the sibling `ab` survives");
    assert!(o
        .dead
        .iter()
        .all(|d| d.cause == Cause::Deleted && d.by == 1));
    assert_eq!(o.dead.len(), 2);
    assert_eq!(o.changes[1].deleted, 4);
}

#[test]
fn whiteout_order_inside_a_layer_does_not_matter() {
    let lower = layer(vec![file("d/f", 7, 1)]);
    let a_layers = [lower.clone(), layer(vec![wh("d/f"), file("d/f", 9, 2)])];
    let a = Overlay::apply(&a_layers);
    let b_layers = [lower, layer(vec![file("d/f", 9, 2), wh("d/f")])];
    let b = Overlay::apply(&b_layers);
    assert_eq!(a.live_bytes(), 9);
    assert_eq!(b.live_bytes(), 9);
}

#[test]
fn opaque_hides_lower_children_but_keeps_its_own_layer() {
    let layers = [
        layer(vec![
            dir("r"),
            file("r/old", 4, 1),
            file("r/s/deep", 6, 2),
            file("rr", 1, 3),
        ]),
        layer(vec![dir("r"), opq("r"), file("r/new", 2, 4)]),
    ];
    let o = Overlay::apply(&layers);
    assert_eq!(o.live_bytes(), 3);
    assert!(o.dead.iter().all(|d| d.cause == Cause::Hidden));
    assert_eq!(
        stored(&layers),
        o.live_bytes() + o.dead.iter().map(|d| d.size).sum::<u64>()
    );
}

#[test]
fn opaque_marker_at_the_root_hides_everything_below() {
    let layers = [
        layer(vec![file("a", 4, 1), file("b/c", 6, 2)]),
        layer(vec![opq(""), file("z", 1, 3)]),
    ];
    let o = Overlay::apply(&layers);
    assert_eq!(o.live_bytes(), 1);
}

#[test]
fn same_content_rewrite_is_an_unchanged_copy() {
    let o_layers = [
        layer(vec![file("p", 100, 7)]),
        layer(vec![file("p", 100, 7)]),
    ];
    let o = Overlay::apply(&o_layers);
    assert_eq!(
        o.dead,
        vec![Dead {
            path: o.paths().find(b"p").unwrap(),
            layer: 0,
            size: 100,
            cause: Cause::UnchangedCopy,
            by: 1
        }]
    );
    assert_eq!(o.changes[1].modified, 1);
}

#[test]
fn file_replacing_a_directory_drops_its_subtree_and_back() {
    let o_layers = [
        layer(vec![dir("d"), file("d/a", 5, 1)]),
        layer(vec![file("d", 2, 2)]),
        layer(vec![dir("d"), file("d/b", 3, 3)]),
    ];
    let o = Overlay::apply(&o_layers);
    assert_eq!(o.live_bytes(), 3);
    let causes: Vec<_> = o.dead.iter().map(|d| (d.layer, d.cause, d.by)).collect();
    assert_eq!(
        causes,
        vec![(0, Cause::Deleted, 1), (1, Cause::Overwritten, 2)]
    );
}

#[test]
fn later_entry_for_the_same_path_in_one_layer_wins() {
    let o_layers = [layer(vec![file("f", 5, 1), file("f", 8, 2)])];
    let o = Overlay::apply(&o_layers);
    assert_eq!(o.live_bytes(), 8);
    assert_eq!(o.dead[0].by, 0);
    assert_eq!(o.changes[0].added, 1);
}

#[test]
fn whiteout_of_a_path_that_never_existed_is_harmless() {
    let o_layers = [layer(vec![file("a", 1, 1)]), layer(vec![wh("nope/never")])];
    let o = Overlay::apply(&o_layers);
    assert_eq!(o.live_bytes(), 1);
    assert!(o.dead.is_empty());
}

/// 200 000 whiteouts in one layer each remove their file: every byte below is
/// dead, counted once. (What this asserts is the outcome; the time it takes is
/// bounded by the `hardening::scale` runs of the binary.)
#[test]
fn many_whiteouts_in_one_layer_remove_every_file_once() {
    let n = 200_000;
    let lower = layer((0..n).map(|i| file(&format!("d/f{i}"), 1, 1)).collect());
    let upper = layer((0..n).map(|i| wh(&format!("d/f{i}"))).collect());
    let o_layers = [lower, upper];
    let o = Overlay::apply(&o_layers);
    assert_eq!(o.live_bytes(), 0);
    assert_eq!(o.dead.len(), n);
}
