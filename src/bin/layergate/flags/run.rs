//! The flags that shape how a run works, never what it reports: the layer cache
//! (`--cache-dir`, `--no-cache`, `--cache-max`) and the progress display
//! (`--progress`, `--quiet`; drawn by `progress.rs`).
//!
//! Progress goes to standard error, never mixed into the report: on a
//! terminal, live bars (bytes read per layer, layers done, cache hits) drawn by
//! indicatif; off a terminal (CI logs) nothing unless `--progress` asks, and then
//! one plain line per finished layer, since redrawn bars make unreadable logs.
//! `--quiet` silences both. The scan only calls
//! [`Progress`](layergate::Progress).

use std::io::IsTerminal;
use std::sync::Arc;

use layergate::LayerCache;
use layergate::{Progress, RunOptions};

use super::progress::{Bars, Lines};

/// Command-line options of the layer cache.
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// Layer analysis cache directory [default: $XDG_CACHE_HOME/layergate or ~/.cache/layergate].
    #[arg(long, value_name = "DIR", env = "LAYERGATE_CACHE_DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Neither read nor write the layer analysis cache.
    #[arg(long, env = "LAYERGATE_NO_CACHE", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_cache: bool,
    /// Size bound of the cache; least recently used entries are evicted (e.g. 500MB, 2GB).
    #[arg(long, value_name = "SIZE", value_parser = layergate::parse_size, default_value = "1GB")]
    pub cache_max: u64,
}

impl CacheArgs {
    /// The cache these options ask for, or `None` with `--no-cache` (or when no
    /// location can be found: no `--cache-dir`, no XDG_CACHE_HOME and no HOME).
    fn open(&self) -> Option<LayerCache> {
        if self.no_cache {
            return None;
        }
        let dir = self
            .cache_dir
            .clone()
            .or_else(layergate::default_cache_dir)?;
        Some(LayerCache::new(&dir, self.cache_max))
    }
}

/// Prints the first problem the cache met this run, once, on standard error.
pub fn warn_once(run: &RunOptions) {
    if let Some(w) = run.cache.as_ref().and_then(|c| c.take_warning()) {
        eprintln!("layergate: warning: {w}");
    }
}

/// Command-line options of the progress display.
#[derive(Debug, Clone, clap::Args)]
pub struct ProgressArgs {
    /// Show progress on standard error even when it is not a terminal (plain lines).
    #[arg(long, conflicts_with = "quiet")]
    pub progress: bool,
    /// Show no progress.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The cache and progress display a command's options ask for.
pub fn run_options(cache: &CacheArgs, progress: &ProgressArgs) -> RunOptions {
    let tty = std::io::stderr().is_terminal();
    let shown: Option<Arc<dyn Progress>> = if progress.quiet {
        None
    } else if tty {
        Some(Arc::new(Bars::new()))
    } else if progress.progress {
        Some(Arc::new(Lines::default()))
    } else {
        None
    };
    RunOptions {
        cache: cache.open().map(Arc::new),
        progress: shown,
    }
}
