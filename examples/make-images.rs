//! The recipe for the example image pair in `examples/`: `base.oci.tar` and
//! `pr.oci.tar`, written with layergate's own testkit (no Docker), byte for byte
//! the same on every run. `examples/README.md` gives the Dockerfiles they stand for.
//!
//! Usage: cargo run --example make-images [-- OUT_DIR]   (default: examples/)

use std::path::PathBuf;

use layergate_testkit::{oci_archive, Compression, Entry, Image, ImageBuilder, Layer, Result};

const GZ: Compression = Compression::Gzip;

/// Incompressible bytes from a seed (xorshift), like a compiled binary or a
/// downloaded archive; the same seed always gives the same bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// Repetitive text, like a package index.
pub fn lines(line: &str, len: usize) -> Vec<u8> {
    line.bytes().cycle().take(len).collect()
}

/// The three layers base and pr share (same bytes, so same diffIDs, as a layer
/// cache would give).
fn common() -> Result<Vec<(Layer, &'static str)>> {
    Ok(vec![
        (
            Layer::build(
                &[
                    Entry::dir("bin"),
                    Entry::file("bin/busybox", noise(1, 6 * 1024)).mode(0o755),
                    Entry::hardlink("bin/sh", "bin/busybox"),
                    Entry::hardlink("bin/ls", "bin/busybox"),
                    Entry::dir("etc"),
                    Entry::file("etc/os-release", "NAME=\"Example\"\nID=example\n"),
                    Entry::symlink("usr/bin/env", "/bin/busybox"),
                ],
                GZ,
            )?,
            "ADD rootfs.tar /",
        ),
        (
            Layer::build(
                &[
                    Entry::dir("app"),
                    Entry::file("app/bin/app", noise(2, 4 * 1024)).mode(0o755),
                    Entry::file("app/share/readme.txt", lines("Example app.\n", 1024)),
                    Entry::file("app/share/legacy.txt", lines("legacy data\n", 2048)),
                ],
                GZ,
            )?,
            "COPY app/ /app/",
        ),
        (
            Layer::build(
                &[Entry::file(
                    "etc/app/app.conf",
                    "listen = 0.0.0.0:8080\nworkers = 4\n",
                )],
                GZ,
            )?,
            "RUN mkdir -p /etc/app && printf 'listen = 0.0.0.0:8080\\nworkers = 4\\n' > /etc/app/app.conf",
        ),
    ])
}

/// `examples/base.oci.tar`: the main branch's image.
pub fn base() -> Result<Image> {
    let mut b = ImageBuilder::new("example-app:base");
    for (layer, cmd) in common()? {
        b = b.layer(layer, cmd);
    }
    b.empty_step("CMD [\"/app/bin/app\"]").build()
}

/// `examples/pr.oci.tar`: the pull request's image. It adds a package install
/// whose cleanup runs in a later layer (the bytes stay stored), a tool fetched
/// with `wget` (no checksum, no cache key), and a grown `/app/bin/app`.
pub fn pr() -> Result<Image> {
    let mut b = ImageBuilder::new("example-app:pr");
    for (layer, cmd) in common()? {
        b = b.layer(layer, cmd);
    }
    b.layer(
        Layer::build(
            &[
                Entry::file(
                    "var/lib/apt/lists/deb.example.org_main_Packages",
                    lines("Package: build-essential\nVersion: 12.9\n\n", 8 * 1024),
                ),
                Entry::file(
                    "var/cache/apt/archives/build-essential_12.9_amd64.deb",
                    noise(3, 6 * 1024),
                ),
                Entry::file("usr/bin/cc", noise(4, 3 * 1024)).mode(0o755),
            ],
            GZ,
        )?,
        "RUN apt-get update && apt-get install -y build-essential",
    )
    .layer(
        Layer::build(
            &[Entry::file("opt/tool/tool.bin", noise(5, 4 * 1024)).mode(0o755)],
            GZ,
        )?,
        "RUN wget -q -O /opt/tool/tool.bin https://downloads.example.org/tool/latest/tool.bin",
    )
    .layer(
        Layer::build(
            &[Entry::file("app/bin/app", noise(6, 10 * 1024)).mode(0o755)],
            GZ,
        )?,
        "COPY app/bin/app /app/bin/app",
    )
    .layer(
        Layer::build(
            &[
                Entry::whiteout("var/lib/apt/lists"),
                Entry::whiteout("var/cache/apt"),
                Entry::whiteout("app/share/legacy.txt"),
            ],
            GZ,
        )?,
        "RUN rm -rf /var/lib/apt/lists /var/cache/apt /app/share/legacy.txt",
    )
    .empty_step("CMD [\"/app/bin/app\"]")
    .build()
}

/// The two archives, as bytes.
pub fn archives() -> Result<[(&'static str, Vec<u8>); 2]> {
    Ok([
        ("base.oci.tar", oci_archive(&base()?, Vec::new())?),
        ("pr.oci.tar", oci_archive(&pr()?, Vec::new())?),
    ])
}

#[allow(dead_code)]
fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples"));
    for (name, bytes) in archives()? {
        let path = dir.join(name);
        std::fs::write(&path, &bytes)?;
        println!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
