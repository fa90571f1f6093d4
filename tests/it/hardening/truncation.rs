//! Truncation and corruption: a cut archive, a cut or damaged gzip or zstd layer,
//! a bad tar header checksum, files that are not archives or not images. All are
//! refused with exit 2 and one line naming the archive or layer.

use super::*;

fn small_layer() -> Vec<u8> {
    let mut t = Tar::new();
    t.dir("etc")
        .file("etc/a.txt", &[b'a'; 3000])
        .file("etc/b.txt", b"bee");
    t.end()
}

/// Runs an OCI archive whose single layer blob was replaced by `damaged`
/// (stored under the digest of the damaged bytes, so only the content is wrong).
fn with_damaged_layer(good: &Blob, damaged: Vec<u8>) -> (Run, tempfile::TempDir) {
    let b = Blob {
        bytes: damaged,
        ..good.clone()
    };
    let (run, _, dir) = analyze_oci_archive(&oci(&[b]));
    (run, dir)
}

/// An archive cut in the middle of a blob must not be read as a shorter image.
#[test]
fn archive_truncated_mid_blob_is_refused() {
    let files = oci(&[layer(&small_layer(), Comp::Gzip)]);
    let bytes = archive(&files);
    let dir = scratch();
    let path = write(dir.path(), "cut.tar", &bytes[..bytes.len() - 1536 - 100]);
    let run = analyze(&path);
    assert_refused(&run, &[&path, "truncated"]);
}

/// An archive cut inside a header block is refused as truncated, naming it.
#[test]
fn archive_truncated_inside_a_header_is_refused() {
    let files = oci(&[layer(&small_layer(), Comp::Gzip)]);
    let bytes = archive(&files);
    let dir = scratch();
    let path = write(dir.path(), "cut.tar", &bytes[..512 * 3 + 200]);
    let run = analyze(&path);
    assert_refused(&run, &[&path]);
}

/// A gzip layer cut short is refused, naming the layer's digest.
#[test]
fn gzip_layer_truncated_is_refused() {
    let good = layer(&small_layer(), Comp::Gzip);
    let cut = good.bytes[..good.bytes.len() / 2].to_vec();
    let digest = sha256(&cut);
    let (run, _d) = with_damaged_layer(&good, cut);
    assert_refused(&run, &["layer 0", &digest, "truncated or corrupt"]);
}

/// A zstd layer cut short is refused, naming the layer's digest.
#[test]
fn zstd_layer_truncated_is_refused() {
    let good = layer(&small_layer(), Comp::Zstd);
    let cut = good.bytes[..good.bytes.len() - 5].to_vec();
    let digest = sha256(&cut);
    let (run, _d) = with_damaged_layer(&good, cut);
    assert_refused(&run, &["layer 0", &digest, "truncated or corrupt"]);
}

/// A gzip member whose CRC does not match its content is corrupt, whatever the tar says.
#[test]
fn gzip_crc_error_is_refused() {
    let good = layer(&small_layer(), Comp::Gzip);
    let mut bad = good.bytes.clone();
    let n = bad.len();
    bad[n - 8] ^= 0xff; // CRC32 is the trailer's first 4 bytes
    let digest = sha256(&bad);
    let (run, _d) = with_damaged_layer(&good, bad);
    assert_refused(&run, &[&digest, "corrupt"]);
}

/// Garbage in the middle of a deflate stream is refused, not read as zeros.
#[test]
fn gzip_body_corruption_is_refused() {
    let good = layer(&small_layer(), Comp::Gzip);
    let mut bad = good.bytes.clone();
    for b in &mut bad[12..40] {
        *b = 0xff;
    }
    let digest = sha256(&bad);
    let (run, _d) = with_damaged_layer(&good, bad);
    assert_refused(&run, &[&digest, "corrupt"]);
}

/// A tar header inside a layer with a wrong checksum is refused.
#[test]
fn layer_tar_header_checksum_error_is_refused() {
    let mut tar = small_layer();
    tar[512 + 10] ^= 0x01; // a name byte of the second header, checksum left as is
    let b = layer(&tar, Comp::Plain);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "checksum"]);
}

/// A layer holding less content than its header promises (a cut plain tar).
#[test]
fn plain_layer_cut_inside_a_file_is_refused() {
    let tar = small_layer();
    let cut = tar[..512 * 3 + 1000].to_vec();
    let b = layer(&cut, Comp::Plain);
    let (run, _, _d) = analyze_oci_archive(&oci(&[b.clone()]));
    assert_refused(&run, &[&b.digest(), "truncated or corrupt"]);
}

/// An empty file is not an image.
#[test]
fn empty_file_is_refused() {
    let dir = scratch();
    let path = write(dir.path(), "empty.tar", b"");
    assert_refused(&analyze(&path), &[&path, "empty file"]);
}

/// A text file is not a tar, and the message says which file.
#[test]
fn non_tar_file_is_refused() {
    let dir = scratch();
    let text = "this is not an image\n".repeat(100);
    let path = write(dir.path(), "notes.tar", text.as_bytes());
    assert_refused(&analyze(&path), &[&path, "not a tar archive"]);
}

/// A gzip-compressed archive (`docker save | gzip`) is not a tar archive as is.
#[test]
fn compressed_outer_archive_is_refused() {
    let files = oci(&[layer(&small_layer(), Comp::Plain)]);
    let dir = scratch();
    let path = write(dir.path(), "image.tar.gz", &gzip(&archive(&files)));
    assert_refused(
        &analyze(&path),
        &[&path, "Gzip-compressed file", "decompress it first"],
    );
}

/// A valid tar of ordinary files is refused as "not an image".
#[test]
fn tar_that_is_not_an_image_is_refused() {
    let dir = scratch();
    let path = write(dir.path(), "src.tar", &small_layer());
    assert_refused(
        &analyze(&path),
        &[&path, "neither manifest.json (docker save) nor index.json"],
    );
}
