//! Layers: a tar stream compressed as asked, with its blob digest and diffID
//! computed while it is written, so a layer of any size can stream to a file.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use super::entry::{write_member, Meta};
use super::{Compression, Entry, Result, TestkitError};
use layergate::Digest;

/// Where a layer's blob is: in memory, or in a file written by a [`LayerWriter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    Memory(Vec<u8>),
    File(PathBuf),
}

impl Blob {
    pub(super) fn open(&self) -> Result<Box<dyn Read + '_>> {
        Ok(match self {
            Blob::Memory(b) => Box::new(b.as_slice()),
            Blob::File(p) => {
                Box::new(std::fs::File::open(p).map_err(TestkitError::io(p.display().to_string()))?)
            }
        })
    }
}

/// The digests and size of a written layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// sha256 of the blob as stored (compressed).
    pub digest: Digest,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Bytes of the blob as stored.
    pub size: u64,
    /// Bytes of the uncompressed tar.
    pub tar_size: u64,
    pub compression: Compression,
}

impl LayerInfo {
    /// The OCI media type naming this layer's compression.
    pub fn media_type(&self) -> &'static str {
        match self.compression {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// A finished layer: its blob and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub blob: Blob,
    pub info: LayerInfo,
}

impl Layer {
    /// A layer holding `entries` in order, compressed as asked, built in memory.
    pub fn build(entries: &[Entry], compression: Compression) -> Result<Layer> {
        let mut w = LayerWriter::new(Vec::new(), compression)?;
        for e in entries {
            w.add(e)?;
        }
        let (blob, info) = w.finish()?;
        Ok(Layer {
            blob: Blob::Memory(blob),
            info,
        })
    }

    /// The blob bytes, read from memory or from its file.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.blob
            .open()?
            .read_to_end(&mut out)
            .map_err(TestkitError::io("layer blob"))?;
        Ok(out)
    }
}

/// A writer that hashes and counts what passes through it.
struct Counting<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Counting<W> {
    fn new(inner: W) -> Self {
        Counting {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn digest(&self) -> Result<Digest> {
        let hex = hex::encode(self.hasher.clone().finalize());
        Digest::parse(&format!("sha256:{hex}")).map_err(|e| TestkitError::Invalid(e.0))
    }
}

enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

impl<W: Write> Encoder<W> {
    fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(w) => w.finish(),
            Encoder::Zstd(w) => w.finish(),
        }
    }
}

/// Streams one layer into `W`: entries go through tar, the compressor, and two
/// hashers (diffID before compression, blob digest after). Nothing is buffered
/// beyond the compressor's window.
pub struct LayerWriter<W: Write> {
    tar: tar::Builder<Counting<Encoder<Counting<W>>>>,
    compression: Compression,
}

impl<W: Write> LayerWriter<W> {
    pub fn new(out: W, compression: Compression) -> Result<Self> {
        let sink = Counting::new(out);
        let encoder = match compression {
            Compression::None => Encoder::Plain(sink),
            // GzBuilder writes mtime 0 and no name: the same input gives the same bytes.
            Compression::Gzip => {
                Encoder::Gzip(flate2::GzBuilder::new().write(sink, flate2::Compression::new(6)))
            }
            Compression::Zstd => Encoder::Zstd(
                zstd::stream::write::Encoder::new(sink, 3)
                    .map_err(TestkitError::io("zstd encoder"))?,
            ),
        };
        let mut tar = tar::Builder::new(Counting::new(encoder));
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(LayerWriter { tar, compression })
    }

    pub fn add(&mut self, entry: &Entry) -> Result<()> {
        let data: &[u8] = match &entry.kind {
            super::EntryKind::File(c) => c,
            _ => &[],
        };
        write_member(&mut self.tar, &Meta::of(entry), data)
    }

    /// Adds a regular file whose `size` bytes come from `content`, for files too
    /// large to hold in memory.
    pub fn add_file_from(
        &mut self,
        path: impl AsRef<[u8]>,
        mode: u32,
        size: u64,
        content: impl Read,
    ) -> Result<()> {
        let path = path.as_ref();
        let meta = Meta {
            path,
            link: None,
            etype: tar::EntryType::Regular,
            mode,
            size,
            device: None,
            names: super::NameStyle::Gnu,
        };
        write_member(&mut self.tar, &meta, content.take(size))
    }

    /// Ends the tar stream and the compressed stream; returns the output and the
    /// layer's digests.
    pub fn finish(self) -> Result<(W, LayerInfo)> {
        let tar = self
            .tar
            .into_inner()
            .map_err(TestkitError::io("end of tar stream"))?;
        let diff_id = tar.digest()?;
        let tar_size = tar.bytes;
        let mut blob = tar
            .inner
            .finish()
            .map_err(TestkitError::io("end of compressed stream"))?;
        blob.flush().map_err(TestkitError::io("layer blob"))?;
        let digest = blob.digest()?;
        Ok((
            blob.inner,
            LayerInfo {
                digest,
                diff_id,
                size: blob.bytes,
                tar_size,
                compression: self.compression,
            },
        ))
    }
}
