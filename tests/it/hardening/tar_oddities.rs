//! Tar oddities: streams real tools write that a naive reader gets wrong (no end
//! marker, trailing zeros, multi-member gzip, skippable zstd frames, long names,
//! PAX overrides, special files), and hostile extension headers that must be
//! refused within bounded memory.

use super::*;

/// Analyses one layer holding `tar` stored as `comp`; returns the report.
fn read_one(tar: &[u8], comp: Comp) -> Value {
    let (run, _, _d) = analyze_oci_archive(&oci(&[layer(tar, comp)]));
    assert_no_panic(&run);
    run.json()
}

fn three_files() -> Tar {
    let mut t = Tar::new();
    t.dir("d")
        .file("d/a", &[1; 700])
        .file("d/b", &[2; 300])
        .file("c", b"");
    t
}

/// Many writers omit the end-of-archive marker; the layer is still whole.
#[test]
fn tar_without_end_marker_reads_correctly() {
    let t = three_files();
    let report = read_one(&t.0, Comp::Gzip);
    assert_eq!(totals(&report), (1000, 1000, 0, 3));
    assert_eq!(report["layers"][0]["entries"], 4);
}

/// Trailing zero blocks after the end marker are padding, and part of the diffID.
#[test]
fn tar_with_trailing_zeros_reads_correctly() {
    let mut t = three_files();
    let mut bytes = t.end();
    bytes.extend_from_slice(&vec![0u8; 64 * 1024]);
    let report = read_one(&bytes, Comp::Plain);
    assert_eq!(totals(&report), (1000, 1000, 0, 3));
    assert_eq!(report["layers"][0]["tar_bytes"], bytes.len());
}

/// A gzip layer made of several members (pigz, concatenation) is one layer.
#[test]
fn multi_member_gzip_reads_correctly() {
    let tar = three_files().end();
    let (a, b) = tar.split_at(700);
    let mut bytes = gzip(a);
    bytes.extend_from_slice(&gzip(b));
    let blob = blob(bytes, sha256(&tar), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[blob]));
    assert_eq!(totals(&run.json()), (1000, 1000, 0, 3));
}

/// A zstd skippable frame (metadata some tools prepend) is skipped, not refused.
#[test]
fn zstd_skippable_frame_reads_correctly() {
    let tar = three_files().end();
    let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 8, 0, 0, 0];
    bytes.extend_from_slice(b"metadata");
    bytes.extend_from_slice(&zstd(&tar));
    for comp in [Comp::Zstd, Comp::Plain] {
        // Declared zstd, and sniffed (a legacy-style blob without a media type).
        let mut b = blob(bytes.clone(), sha256(&tar), Comp::Zstd);
        if comp == Comp::Plain {
            b.media_type = String::new();
        }
        let (run, _, _d) = analyze_oci_archive(&oci(&[b]));
        assert_eq!(totals(&run.json()), (1000, 1000, 0, 3));
    }
}

/// GNU long names (`L` members) name the next member; they are not members.
#[test]
fn gnu_long_names_read_correctly() {
    let long = format!("deep/{}/file.txt", "x".repeat(150));
    let mut t = Tar::new();
    t.gnu_long_name(long.as_bytes());
    t.file("placeholder", b"12345");
    let report = read_one(&t.end(), Comp::Gzip);
    assert_eq!(live_paths(&report), vec![format!("/{long}")]);
    assert_eq!(report["layers"][0]["entries"], 1);
    assert_eq!(totals(&report), (5, 5, 0, 1));
}

/// PAX `path` records override the ustar name.
#[test]
fn pax_long_path_reads_correctly() {
    let long = format!("opt/{}/bin", "y".repeat(300));
    let mut t = Tar::new();
    t.pax(&[("path", long.as_bytes())]);
    t.file("short", b"abc");
    let report = read_one(&t.end(), Comp::Zstd);
    assert_eq!(live_paths(&report), vec![format!("/{long}")]);
    assert_eq!(totals(&report), (3, 3, 0, 1));
}

/// PAX `size`, `uid` and `mtime` override the header: the size decides where the
/// next header is, and what the file holds.
#[test]
fn pax_size_uid_mtime_overrides_read_correctly() {
    let data = vec![9u8; 5000];
    let mut t = Tar::new();
    t.pax(&[
        ("size", b"5000"),
        ("uid", b"4294967295"),
        ("mtime", b"1700000000.123456789"),
    ]);
    // The ustar header says 0 bytes; the PAX record says 5000.
    let h = header(b"big.bin", REG, 0, b"");
    t.raw(&h, &data);
    t.file("after", b"xy");
    let report = read_one(&t.end(), Comp::Gzip);
    assert_eq!(totals(&report), (5002, 5002, 0, 2));
    assert_eq!(live_paths(&report), vec!["/after", "/big.bin"]);
}

/// A PAX global header (`g`) is metadata, not a member.
#[test]
fn pax_global_header_is_not_a_member() {
    let mut t = Tar::new();
    let body = pax_record("comment", b"made by a test");
    t.raw(
        &header(b"pax_global_header", b'g', body.len() as u64, b""),
        &body,
    );
    t.file("a", b"a");
    let report = read_one(&t.end(), Comp::Plain);
    assert_eq!(report["layers"][0]["entries"], 1);
    assert_eq!(totals(&report), (1, 1, 0, 1));
}

/// Device nodes, FIFOs, sockets-ish and unknown types are live non-file entries.
#[test]
fn special_entries_read_correctly() {
    let mut t = Tar::new();
    t.dir("dev")
        .entry(b"dev/null", CHR, b"", b"")
        .entry(b"dev/sda", BLK, b"", b"")
        .entry(b"run/fifo", FIFO, b"", b"")
        .entry(b"odd", b'Z', b"", b"")
        .file("real", b"1234");
    let report = read_one(&t.end(), Comp::Gzip);
    assert_eq!(totals(&report), (4, 4, 0, 5));
    let kinds: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "special").count(), 4);
}

/// The same path twice in one layer: the later entry wins, the earlier is waste.
#[test]
fn same_path_twice_in_one_layer_later_wins() {
    let mut t = Tar::new();
    t.file("etc/conf", &[1; 100]).file("etc/conf", &[2; 40]);
    let report = read_one(&t.end(), Comp::Gzip);
    assert_eq!(totals(&report), (140, 40, 100, 1));
    assert_eq!(report["files"][0]["bytes"], 40);
}

/// A PAX header claiming 256 MiB (zeros, a few hundred KiB gzipped) would be read
/// into memory whole; it is refused once it passes 1 MiB, and memory stays small.
#[test]
fn pax_header_with_absurd_size_is_refused_in_bounded_memory() {
    let size: u64 = 256 << 20;
    let mut bytes = gzip(&header(b"PaxHeaders/x", b'x', size, b""));
    bytes.extend_from_slice(&gzip_zeros_mib(256));
    let b = blob(bytes, sha256(b"never computed"), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(
        &run,
        &[
            &b.digest(),
            "PAX records, GNU long names",
            "exceed 1048576 bytes",
        ],
    );
    assert_rss_below(&run, 100);
}

/// The same bound holds for a GNU long name claiming gigabytes.
#[test]
fn gnu_long_name_with_absurd_size_is_refused() {
    let mut h = tar::Header::new_gnu();
    h.set_size(1 << 31);
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_cksum();
    let mut bytes = zstd(h.as_bytes());
    bytes.extend_from_slice(&zstd_zeros_mib(64));
    let b = blob(bytes, sha256(b"never"), Comp::Zstd);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "exceed 1048576 bytes"]);
    assert_rss_below(&run, 100);
}

/// A PAX size that disagrees with the data desyncs the stream: refused, not misread.
#[test]
fn pax_size_desyncing_the_stream_is_refused() {
    let mut t = Tar::new();
    t.pax(&[("size", b"100")]);
    t.file("a", &[7u8; 3000]); // the header says 3000, PAX says 100
    t.file("b", b"b");
    let b = layer(&t.end(), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "truncated or corrupt"]);
}

/// A PAX size of a terabyte on a small file is a truncated layer, not a hang.
#[test]
fn pax_size_claiming_a_terabyte_is_refused() {
    let mut t = Tar::new();
    t.pax(&[("size", b"1099511627776")]);
    t.file("a", &[7u8; 3000]);
    let b = layer(&t.end(), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(
        &run,
        &[&b.digest(), "/a holds", "its header says 1099511627776"],
    );
}

/// A PAX path longer than the memory bound (256 KiB, 64 × PATH_MAX) is refused
/// naming the entry; a path merely longer than PATH_MAX is read (see overlay.rs).
#[test]
fn name_longer_than_the_memory_bound_is_refused() {
    let long = "z/".repeat(140_000);
    let mut t = Tar::new();
    t.pax(&[("path", long.as_bytes())]);
    t.file("x", b"x");
    let b = layer(&t.end(), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(
        &run,
        &[&b.digest(), "entry /z/z/z", "longer than 262144 bytes"],
    );
}

/// The outer archive is bounded the same way: a PAX header of 32 MiB before
/// `index.json` is refused, naming the archive, without reading it into memory.
#[test]
fn outer_archive_pax_header_with_absurd_size_is_refused() {
    let files = oci(&[layer(&three_files().end(), Comp::Gzip)]);
    let mut bytes = header(b"PaxHeaders/big", b'x', 32 << 20, b"").to_vec();
    bytes.extend_from_slice(&vec![0u8; 32 << 20]);
    bytes.extend_from_slice(&archive(&files));
    let dir = scratch();
    let path = write(dir.path(), "image.tar", &bytes);
    let run = analyze(&path);
    assert_refused(&run, &[&path, "exceed 1048576 bytes"]);
    assert_rss_below(&run, 24);
}

/// A GNU sparse entry of one hole: `real` bytes apparent, nothing stored.
fn sparse_hole(name: &[u8], real: u64) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(0);
    h.set_mode(0o644);
    let g = h.as_gnu_mut().unwrap();
    g.set_real_size(real);
    g.sparse[0].set_offset(real);
    g.sparse[0].set_length(0);
    h.as_mut_bytes()[..name.len()].copy_from_slice(name);
    h.set_cksum();
    *h.as_bytes()
}

/// A small GNU sparse file (a hole, then nothing) reads with its apparent size.
#[test]
fn gnu_sparse_file_reads_with_its_apparent_size() {
    let mut t = Tar::new();
    t.raw(&sparse_hole(b"sparse.img", 1 << 20), b"");
    let report = read_one(&t.end(), Comp::Gzip);
    assert_eq!(totals(&report), (1 << 20, 1 << 20, 0, 1));
}

/// A sparse entry claiming a terabyte of holes would hash zeros for minutes: it
/// is refused at once, naming the entry.
#[test]
fn gnu_sparse_terabyte_of_holes_is_refused() {
    let mut t = Tar::new();
    t.raw(&sparse_hole(b"huge.img", 1 << 40), b"");
    let b = layer(&t.end(), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(
        &run,
        &[&b.digest(), "sparse entry /huge.img", "1099511627776 bytes"],
    );
}

/// Many sparse entries each under the per-entry bound must not add up to hours of
/// hashing zeros: the holes of one layer are bounded together, and the entry that
/// crosses the bound is refused before its zeros are hashed.
#[test]
fn gnu_sparse_holes_are_bounded_per_layer() {
    let mut t = Tar::new();
    t.raw(&sparse_hole(b"a.img", 1024), b"");
    t.raw(&sparse_hole(b"b.img", 8 << 30), b"");
    let b = layer(&t.end(), Comp::Gzip);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(
        &run,
        &[
            &b.digest(),
            "sparse entries expand to more than 8589934592 bytes of holes in one layer (at /b.img)",
        ],
    );
}
