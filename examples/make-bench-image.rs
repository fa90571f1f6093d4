//! Writes a large docker-save archive (Docker 25 form, which dive also reads
//! with gzip layers) for the benchmark (`bench/run.sh`): several
//! gzip layers, thousands of files, compressible text and incompressible bytes,
//! and the usual kinds of waste (overwritten, re-chmodded, deleted, hidden by an
//! opaque directory). Layers stream to temporary files next to the output and
//! file contents are generated on the fly, so memory stays flat whatever the size.
//!
//! With a third argument `gzip` (default), `zstd` or `none` the layers are stored
//! so; with a fourth, `--head`, a second archive `OUT.head.tar` is written too: the
//! same image plus one 10 MB layer (a pull request's image for the warm-cache diff).
//!
//! Usage: cargo run --release --example make-bench-image -- OUT.tar [TOTAL_MB [gzip|zstd|none [--head]]]

use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};

use layergate_testkit::{docker25, Blob, Compression, Entry, ImageBuilder, Layer, LayerWriter};

/// Deterministic content: `text` is compressible log-like lines, otherwise
/// xorshift noise that gzip cannot shrink.
struct Content {
    state: u64,
    text: bool,
    line: Vec<u8>,
    pos: usize,
    n: u64,
}

impl Content {
    fn new(seed: u64, text: bool) -> Content {
        Content {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            text,
            line: Vec::new(),
            pos: 0,
            n: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.text {
            if self.pos == self.line.len() {
                self.n += 1;
                let r = self.next() % 1000;
                self.line = format!("{:08} INFO request {r} served from cache in 3ms\n", self.n)
                    .into_bytes();
                self.pos = 0;
            }
            let k = buf.len().min(self.line.len() - self.pos);
            buf[..k].copy_from_slice(&self.line[self.pos..self.pos + k]);
            self.pos += k;
            Ok(k)
        } else {
            let mut chunks = buf.chunks_exact_mut(8);
            for c in &mut chunks {
                c.copy_from_slice(&self.next().to_le_bytes());
            }
            let rem = chunks.into_remainder();
            let last = self.next().to_le_bytes();
            let n = rem.len();
            rem.copy_from_slice(&last[..n]);
            Ok(buf.len())
        }
    }
}

struct Bench {
    dir: PathBuf,
    compression: Compression,
    layers: Vec<(Layer, String)>,
}

impl Bench {
    /// Streams one gzip layer to a file; `fill` adds its entries.
    fn layer(
        &mut self,
        cmd: &str,
        fill: impl FnOnce(&mut Writer) -> layergate_testkit::Result<()>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let path = self.dir.join(format!("layer{}.blob", self.layers.len()));
        let out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let mut w = Writer {
            w: LayerWriter::new(out, self.compression)?,
            dirs: Default::default(),
        };
        fill(&mut w)?;
        let (out, info) = w.w.finish()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        eprintln!(
            "layer {}: {} MB stored, {} MB blob",
            self.layers.len(),
            info.tar_size >> 20,
            info.size >> 20
        );
        self.layers.push((
            Layer {
                blob: Blob::File(path),
                info,
            },
            cmd.to_string(),
        ));
        Ok(())
    }
}

/// A layer being written, with the directories it already holds.
struct Writer {
    w: LayerWriter<BufWriter<File>>,
    dirs: std::collections::HashSet<String>,
}

impl Writer {
    fn add(&mut self, e: &Entry) -> layergate_testkit::Result<()> {
        self.w.add(e)
    }

    /// Adds a generated file, preceded by entries for its parent directories, as
    /// `docker save` writes them (dive ignores files whose parents have no entry).
    fn file(
        &mut self,
        path: &str,
        size: u64,
        seed: u64,
        text: bool,
    ) -> layergate_testkit::Result<()> {
        for (i, c) in path.char_indices() {
            if c == '/' && self.dirs.insert(path[..i].to_string()) {
                self.w.add(&Entry::dir(&path[..i]))?;
            }
        }
        self.w
            .add_file_from(path, 0o644, size, Content::new(seed, text))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench/bench.docker25.tar".into()),
    );
    let total_mb: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(600);
    let compression = match args.next().as_deref() {
        None | Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        Some("none") => Compression::None,
        Some(other) => return Err(format!("compression {other}: gzip, zstd or none").into()),
    };
    let head = args.next().as_deref() == Some("--head");
    // Shares of the total: base 55 % (one layer over half the bytes, as real images
    // with a distribution or a runtime have), app 20 %, rewrite 10 %, cleanup 8 %, chmod 7 %.
    let mb = |pct: u64| total_mb * pct / 100 * 1024 * 1024;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("bench-layers");
    std::fs::create_dir_all(&dir)?;
    let mut b = Bench {
        dir: dir.clone(),
        compression,
        layers: Vec::new(),
    };

    // L0: a distribution: 4000 small text files and 200 binaries.
    b.layer("ADD rootfs.tar /", |w| {
        for i in 0..4000u64 {
            w.file(
                &format!("usr/share/doc/pkg{:04}/README", i),
                2048 + i % 4096,
                i,
                true,
            )?;
        }
        let each = mb(55).saturating_sub(4000 * 4096) / 200;
        for i in 0..200u64 {
            w.file(&format!("usr/lib/lib{i:03}.so"), each, 10_000 + i, false)?;
        }
        Ok(())
    })?;
    // L1: an application: 2000 assets, a package cache, a big binary.
    b.layer("RUN apt-get update && apt-get install -y app", |w| {
        for i in 0..2000u64 {
            w.file(
                &format!("app/assets/a{:04}.json", i),
                8192,
                20_000 + i,
                i % 2 == 0,
            )?;
        }
        w.file("var/cache/apt/archives/app.deb", mb(8), 30_000, false)?;
        w.file("var/lib/apt/lists/main_Packages", mb(4), 30_001, true)?;
        w.file(
            "app/bin/app",
            mb(20).saturating_sub(2000 * 8192 + mb(12)),
            30_002,
            false,
        )?;
        w.file("opt/data/model.bin", mb(12) / 2, 30_003, false)?;
        w.file("opt/data/weights.bin", mb(12) / 2, 30_004, false)?;
        Ok(())
    })?;
    // L2: a rebuild: the binary grows and 500 assets are rewritten.
    b.layer("COPY app /app", |w| {
        for i in 0..500u64 {
            w.file(
                &format!("app/assets/a{:04}.json", i),
                8192,
                40_000 + i,
                true,
            )?;
        }
        w.file(
            "app/bin/app",
            mb(10).saturating_sub(500 * 8192),
            40_999,
            false,
        )?;
        Ok(())
    })?;
    // L3: cleanup in a later layer: whiteouts and an opaque directory.
    b.layer("RUN rm -rf /var/cache/apt /var/lib/apt/lists/*", |w| {
        w.add(&Entry::whiteout("var/cache/apt"))?;
        w.add(&Entry::opaque("var/lib/apt/lists"))?;
        w.file("etc/app/config.yml", mb(8), 50_000, true)?;
        Ok(())
    })?;
    // L4: chmod of data files stores them again, unchanged.
    b.layer("RUN chmod -R g+w /opt/data", |w| {
        w.file("opt/data/model.bin", mb(12) / 2, 30_003, false)?;
        w.file("opt/data/weights.bin", mb(12) / 2, 30_004, false)?;
        Ok(())
    })?;

    let write =
        |layers: &[(Layer, String)], out: &Path| -> Result<(), Box<dyn std::error::Error>> {
            let mut ib = ImageBuilder::new("bench:latest");
            for (layer, cmd) in layers {
                ib = ib.layer(layer.clone(), cmd);
            }
            let image = ib.empty_step("CMD [\"/app/bin/app\"]").build()?;
            let f = BufWriter::with_capacity(1 << 20, File::create(out)?);
            docker25(&image, f)?
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all()?;
            Ok(())
        };
    write(&b.layers, &out)?;
    if head {
        // HEAD = BASE + one 10 MB layer of incompressible bytes.
        b.layer("COPY release-notes.bin /app/", |w| {
            w.file("app/release-notes.bin", 10_000_000, 60_000, false)
        })?;
        let head_out = out.with_extension("head.tar");
        write(&b.layers, &head_out)?;
        eprintln!("wrote {}", head_out.display());
    }
    std::fs::remove_dir_all(&dir)?;
    eprintln!(
        "wrote {} ({} MB)",
        out.display(),
        std::fs::metadata(&out)?.len() >> 20
    );
    Ok(())
}
