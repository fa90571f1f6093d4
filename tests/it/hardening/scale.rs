//! Scale and limits: 200,000 files or whiteouts in one layer, 130 layers, and
//! gigabytes of zeros in a small compressed layer. Figures stay exact and memory stays
//! flat (the kernel's peak RSS). How long they take is the benchmark's business
//! (`bench/`); here only a hang fails, through the measured run's own timeout.

use super::*;

/// A layer of `n` one-byte files in directories of 1,000 (plus the directories).
fn many_files(n: usize) -> Vec<u8> {
    let mut t = Tar::new();
    for i in 0..n {
        if i % 1000 == 0 {
            t.dir(&format!("d{}", i / 1000));
        }
        t.file(&format!("d{}/f{i}", i / 1000), &[(i % 251) as u8]);
    }
    t.end()
}

/// 200,000 files in one layer: exact figures, no quadratic step, memory well
/// under 256 MiB.
#[test]
fn two_hundred_thousand_files_in_one_layer() {
    let n = 200_000;
    let (run, _, _d) = analyze_oci_archive(&oci(&[layer(&many_files(n), Comp::Gzip)]));
    let report = run.json();
    assert_eq!(totals(&report), (n as u64, n as u64, 0, n as u64));
    assert_eq!(report["layers"][0]["entries"], n + n / 1000);
    assert_rss_below(&run, 256);
}

/// 200,000 whiteouts deleting 200,000 files of the layer below.
#[test]
fn two_hundred_thousand_whiteouts_in_one_layer() {
    let n = 200_000;
    let base = many_files(n);
    let mut top = Tar::new();
    for i in 0..n {
        top.whiteout(&format!("d{}/f{i}", i / 1000));
    }
    let blobs = [layer(&base, Comp::Zstd), layer(&top.end(), Comp::Zstd)];
    let (run, _, _d) = analyze_oci_archive(&oci(&blobs));
    let report = run.json();
    assert_eq!(totals(&report), (n as u64, 0, n as u64, 0));
    assert_eq!(report["layers"][1]["whiteouts"], n);
    assert_eq!(report["layers"][1]["deleted"], n);
    assert_rss_below(&run, 256);
}

/// 130 layers (past overlayfs's 128), each overwriting one file: every layer but
/// the last is waste.
#[test]
fn one_hundred_thirty_layers() {
    let blobs: Vec<Blob> = (0..130)
        .map(|i| {
            let mut t = Tar::new();
            t.file("shared", &[i as u8; 10])
                .file(&format!("own{i}"), &[1; 3]);
            layer(&t.end(), if i % 2 == 0 { Comp::Gzip } else { Comp::Zstd })
        })
        .collect();
    let (run, _, _d) = analyze_oci_archive(&oci(&blobs));
    let report = run.json();
    assert_eq!(totals(&report), (130 * 13, 130 * 3 + 10, 129 * 10, 131));
    assert_eq!(report["layers"].as_array().unwrap().len(), 130);
    assert_eq!(report["layers"][129]["modified"], 1);
}

/// A tar of one `mib`-MiB file of zeros, as (header, zeros, trailer), with its diffID.
fn zeros_tar_parts(mib: usize) -> ([u8; 512], Vec<u8>, String) {
    let size = (mib as u64) << 20;
    let h = header(b"zeros.img", REG, size, b"");
    let trailer = vec![0u8; 1024];
    let mut hasher = Sha256::new();
    hasher.update(h);
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        hasher.update(&chunk);
    }
    hasher.update(&trailer);
    let diff_id = format!("sha256:{}", hex::encode(hasher.finalize()));
    (h, trailer, diff_id)
}

/// 2 GiB of zeros in a ~2 MiB gzip layer: streamed, so memory stays flat and the
/// figures are exact.
#[test]
fn two_gib_of_zeros_in_a_small_gzip_layer_streams() {
    let mib = 2048;
    let (h, trailer, diff_id) = zeros_tar_parts(mib);
    let mut bytes = gzip(&h);
    bytes.extend_from_slice(&gzip_zeros_mib(mib));
    bytes.extend_from_slice(&gzip(&trailer));
    assert!(bytes.len() < 4 << 20, "compressed {} bytes", bytes.len());
    let (run, _, _d) = analyze_oci_archive(&oci(&[blob(bytes, diff_id, Comp::Gzip)]));
    let report = run.json();
    let size = (mib as u64) << 20;
    assert_eq!(totals(&report), (size, size, 0, 1));
    assert_rss_below(&run, 64);
}

/// The same with zstd frames (1 GiB): the window limit does not stop a legitimate
/// stream, and memory stays flat.
#[test]
fn one_gib_of_zeros_in_a_small_zstd_layer_streams() {
    let mib = 1024;
    let (h, trailer, diff_id) = zeros_tar_parts(mib);
    let mut bytes = zstd(&h);
    bytes.extend_from_slice(&zstd_zeros_mib(mib));
    bytes.extend_from_slice(&zstd(&trailer));
    let (run, _, _d) = analyze_oci_archive(&oci(&[blob(bytes, diff_id, Comp::Zstd)]));
    let size = (mib as u64) << 20;
    assert_eq!(totals(&run.json()), (size, size, 0, 1));
    assert_rss_below(&run, 64);
}

/// The entry limit is an error naming the limit, not an allocation failure
/// (checked through the library with a small limit; the default is 2,000,000).
#[test]
fn entry_limit_is_an_error() {
    use layergate::{scan_layer, Limits};
    let limits = Limits {
        max_entries: 1000,
        ..Limits::default()
    };
    let tar = many_files(1000); // 1000 files + 1 directory
    let err = scan_layer(tar.as_slice(), None, &limits).unwrap_err();
    assert_eq!(err.to_string(), "layer has more than 1000 tar entries");
    assert_eq!(Limits::default().max_entries, 2_000_000);
}
