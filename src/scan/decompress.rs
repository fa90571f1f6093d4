//! Choosing and building the decompressor for a layer blob: from the media type
//! when it says, from the magic bytes when it does not, never by trial and error.

use std::io::{self, BufRead, Read};

use crate::image::Compression;

/// Bounds that keep a hostile layer from costing unbounded memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest zstd window (log2 bytes) we agree to allocate. 2^27 = 128 MiB is
    /// zstd's own default ceiling for decoders.
    pub zstd_window_log_max: u32,
    /// Most tar members in one layer. Memory grows with entries (a few hundred
    /// bytes each, with the report), so this bounds it near 1 GiB.
    pub max_entries: u64,
    /// Longest member name or link target. Real layers do hold paths longer than
    /// PATH_MAX (4096): tar writes them and engines extract them with relative
    /// opens, so this is no validity check, only a bound on the memory one entry
    /// may cost: 64 × PATH_MAX, and a path and a link target of that length still
    /// fit the 1 MiB extension-header budget together.
    pub max_name_bytes: usize,
}

/// The default [`Limits::max_name_bytes`]: 256 KiB.
pub(super) const MAX_NAME_BYTES: usize = 64 * 4096;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            zstd_window_log_max: 27,
            max_entries: 2_000_000,
            max_name_bytes: MAX_NAME_BYTES,
        }
    }
}

/// Wraps `raw` in the decompressor for `compression`.
pub(super) fn decoder<'a, R: BufRead + 'a>(
    raw: R,
    compression: Compression,
    limits: &Limits,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(raw),
        // Multi-member: concatenated gzip streams are one valid layer.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(raw)?;
            d.window_log_max(limits.zstd_window_log_max)?;
            Box::new(d)
        }
    })
}
