//! Choosing and building the decompressor for a layer blob: from the media type
//! when it says, from the magic bytes when it does not, never by trial and error.

use std::io::{self, BufRead, Read};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use zstd::zstd_safe::DCtx;

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

/// The process's one zstd decoding context, for the caller to decode a layer with.
///
/// A zstd decoder keeps its window (8 MiB for a large layer at the default level,
/// up to 2^[`Limits::zstd_window_log_max`] bytes) for as long as it decodes.
/// Scans take this one context in turn, so a run holds one window however many
/// layers and images it scans, allocated once and reused: two layers decoded at
/// once doubled the peak memory of a zstd image and gained no time, each layer's
/// own pipeline (read, decompress, walk) already keeping both cores busy; and a
/// window freed after each layer stayed resident in the allocator's per-thread
/// arenas, so a six-layer image held several.
pub(super) fn zstd_context() -> ZstdContext {
    static CONTEXT: OnceLock<Mutex<DCtx<'static>>> = OnceLock::new();
    WAITING.fetch_add(1, Ordering::SeqCst);
    let guard = CONTEXT
        .get_or_init(|| Mutex::new(DCtx::create()))
        .lock()
        // A scan that panicked mid-layer leaves nothing behind that matters: each
        // decoder resets the context's session before it starts.
        .unwrap_or_else(PoisonError::into_inner);
    WAITING.fetch_sub(1, Ordering::SeqCst);
    ZstdContext(guard)
}

/// Scans waiting for the zstd context.
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// The zstd context, held by one scan.
pub(super) struct ZstdContext(MutexGuard<'static, DCtx<'static>>);

impl Deref for ZstdContext {
    type Target = DCtx<'static>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ZstdContext {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for ZstdContext {
    /// With no scan waiting, the run's zstd layers are done (or the next one
    /// comes later): the window is freed now instead of held through the report.
    fn drop(&mut self) {
        if WAITING.load(Ordering::SeqCst) == 0 {
            *self.0 = DCtx::create();
        }
    }
}

/// Wraps `raw` in the decompressor for `compression`; a zstd layer is decoded
/// with `zstd` when given (see [`zstd_context`]), else with a context of its own.
pub(super) fn decoder<'a, R: BufRead + 'a>(
    raw: R,
    compression: Compression,
    limits: &Limits,
    zstd: Option<&'a mut DCtx<'static>>,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(raw),
        // Multi-member: concatenated gzip streams are one valid layer.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => {
            let mut d = match zstd {
                Some(context) => zstd::stream::read::Decoder::with_context(raw, context),
                None => zstd::stream::read::Decoder::with_buffer(raw)?,
            };
            d.window_log_max(limits.zstd_window_log_max)?;
            Box::new(d)
        }
    })
}
