//! The verification floor of the benchmark (`bench/run.sh`): the least work any
//! reader that verifies digests must do on an archive's layer blobs. Every blob
//! is read once, sha256-hashed as stored, decompressed (gzip or zstd, by its
//! magic bytes) and the tar sha256-hashed again; blobs are spread over the cores
//! with rayon. Same crates as layergate (flate2 with zlib-rs, zstd, sha2).
//! Nothing else: no tar walk, no content hashing, no report.
//!
//! Usage: cargo run --release --example verify-floor -- ARCHIVE.tar

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Passes bytes through, hashing them.
struct Hashing<R>(R, Sha256);

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.update(&buf[..n]);
        Ok(n)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: verify-floor ARCHIVE.tar")?;
    // Where each blob lies in the archive: layers are the blobs over 64 KiB (OCI
    // and Docker 25 forms) or the `.tar` members of a legacy `docker save`.
    let mut blobs = Vec::new();
    let mut archive = tar::Archive::new(File::open(&path)?);
    for e in archive.entries()? {
        let e = e?;
        let name = e.path()?;
        let layer = name.starts_with("blobs/") || name.extension().is_some_and(|x| x == "tar");
        if layer && e.size() > 64 * 1024 {
            blobs.push((e.raw_file_position(), e.size()));
        }
    }
    let start = Instant::now();
    let total: u64 = blobs
        .par_iter()
        .map(|&(offset, size)| -> io::Result<u64> {
            let mut f = File::open(&path)?;
            f.seek(SeekFrom::Start(offset))?;
            let mut raw = Hashing(
                BufReader::with_capacity(256 * 1024, f.take(size)),
                Sha256::new(),
            );
            let mut magic = [0u8; 4];
            raw.read_exact(&mut magic)?;
            let raw = io::Cursor::new(magic).chain(raw);
            let mut tar: Box<dyn Read> = match magic {
                [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(raw)),
                [0x28, 0xb5, 0x2f, 0xfd] => Box::new(zstd::stream::read::Decoder::new(raw)?),
                // A plain tar is its own diffID: one hash is all it needs.
                _ => Box::new(raw),
            };
            let plain = !matches!(magic, [0x1f, 0x8b, ..] | [0x28, 0xb5, 0x2f, 0xfd]);
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut n = 0u64;
            loop {
                let k = tar.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                if !plain {
                    h.update(&buf[..k]);
                }
                n += k as u64;
            }
            std::hint::black_box(h.finalize());
            Ok(n)
        })
        .sum::<io::Result<u64>>()?;
    println!(
        "floor: {} blobs, {} MB of tar, {:.3} s",
        blobs.len(),
        total / 1_000_000,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
