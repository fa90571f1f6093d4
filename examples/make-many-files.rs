//! Writes the two per-file stress images of the benchmark (docs/cache-and-speed.md),
//! one gzip layer each, as a Docker 25 `docker save` archive. They cost nothing to
//! hash: what they measure is what layergate spends per tar member and per name byte.
//!
//! - `empty OUT [N]`: N (default 1,000,000) empty files, a thousand per directory
//!   (`d0000/f000000`), each directory entry before its files.
//! - `long OUT [N [NAME_BYTES [COMPONENT_BYTES]]]`: N (default 2,000) empty files whose
//!   names are NAME_BYTES (default 200,000) long and share all but their last
//!   component: one directory chain of components of COMPONENT_BYTES (default: the
//!   whole prefix in one component), then `f000000`. Every directory of the chain
//!   has its own entry, as `docker save` writes them.
//!
//! Usage: cargo run --release --example make-many-files -- empty /tmp/empty.tar
//!
//! The layer streams to a temporary file next to the output, so memory stays flat.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use layergate_testkit::{docker25, Blob, Compression, Entry, ImageBuilder, Layer, LayerWriter};

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn arg<T: std::str::FromStr>(args: &mut impl Iterator<Item = String>, default: T) -> Fallible<T>
where
    T::Err: std::error::Error + 'static,
{
    Ok(args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(default))
}

fn main() -> Fallible<()> {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_default();
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: make-many-files empty|long OUT …")?,
    );
    let blob = out.with_extension("layer.tmp");
    let mut w = LayerWriter::new(
        BufWriter::with_capacity(1 << 20, File::create(&blob)?),
        Compression::Gzip,
    )?;
    let cmd = match shape.as_str() {
        "empty" => {
            let n: u64 = arg(&mut args, 1_000_000)?;
            for i in 0..n {
                if i % 1000 == 0 {
                    w.add(&Entry::dir(format!("d{:04}", i / 1000)))?;
                }
                w.add(&Entry::file(format!("d{:04}/f{i:06}", i / 1000), b""))?;
            }
            format!("RUN touch {n} empty files")
        }
        "long" => {
            let n: u64 = arg(&mut args, 2_000)?;
            let name_bytes: usize = arg(&mut args, 200_000)?;
            let prefix_bytes = name_bytes.saturating_sub("/f000000".len()).max(1);
            let component: usize = arg(&mut args, prefix_bytes)?;
            let mut prefix = String::new();
            while prefix.len() < prefix_bytes {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                let k = component.min(prefix_bytes - prefix.len()).max(1);
                // Varied letters, so the directory names are not all one byte.
                let letter = (b'a' + (prefix.len() % 26) as u8) as char;
                prefix.extend(std::iter::repeat_n(letter, k));
                w.add(&Entry::dir(&prefix))?;
            }
            for i in 0..n {
                w.add(&Entry::file(format!("{prefix}/f{i:06}"), b""))?;
            }
            format!("RUN touch {n} files with {name_bytes}-byte names")
        }
        _ => return Err("usage: make-many-files empty|long OUT …".into()),
    };
    let (file, info) = w.finish()?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let layer = Layer {
        blob: Blob::File(blob.clone()),
        info,
    };
    let image = ImageBuilder::new("many-files:latest")
        .layer(layer, &cmd)
        .build()?;
    write(&image, &out)?;
    std::fs::remove_file(&blob)?;
    eprintln!(
        "wrote {} ({} KB)",
        out.display(),
        std::fs::metadata(&out)?.len() >> 10
    );
    Ok(())
}

fn write(image: &layergate_testkit::Image, out: &Path) -> Fallible<()> {
    let f = BufWriter::with_capacity(1 << 20, File::create(out)?);
    docker25(image, f)?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    Ok(())
}
