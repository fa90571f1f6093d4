//! The flags that shape how a run works, never what it reports (part of the
//! binary): the layer cache (`--cache-dir`, `--no-cache`, `--cache-max`) and the
//! progress display.
//!
//! Progress goes to standard error, never mixed into the report: on a
//! terminal, live bars (bytes read per layer, layers done, cache hits) drawn by
//! indicatif; off a terminal (CI logs) nothing unless `--progress` asks, and then
//! one plain line per finished layer, since redrawn bars make unreadable logs.
//! `--quiet` silences both. The scan only calls
//! [`Progress`](crate::analyze::Progress).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::analyze::{Progress, RunOptions};
use crate::cache::LayerCache;

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
    #[arg(long, value_name = "SIZE", value_parser = crate::policy::units::parse_size, default_value = "1GB")]
    pub cache_max: u64,
}

impl CacheArgs {
    /// The cache these options ask for, or `None` with `--no-cache` (or when no
    /// location can be found: no `--cache-dir`, no XDG_CACHE_HOME and no HOME).
    fn open(&self) -> Option<LayerCache> {
        if self.no_cache {
            return None;
        }
        let dir = self.cache_dir.clone().or_else(crate::cache::default_dir)?;
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

/// Live bars: one per layer being read, one for the run.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    layers: Mutex<Vec<Option<ProgressBar>>>,
    hits: AtomicU64,
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} layers {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        total.set_prefix("scanning");
        Bars {
            multi,
            total,
            layers: Mutex::new(Vec::new()),
            hits: AtomicU64::new(0),
        }
    }

    fn bar(&self, layer: usize) -> Option<ProgressBar> {
        self.layers.lock().ok()?.get(layer).cloned().flatten()
    }
}

impl Progress for Bars {
    fn started(&self, layers: usize) {
        self.total.set_length(layers as u64);
        if let Ok(mut l) = self.layers.lock() {
            l.resize(layers, None);
        }
    }

    fn layer_started(&self, layer: usize, label: &str, bytes: Option<u64>) {
        let bar = self.multi.add(ProgressBar::new(bytes.unwrap_or(0)));
        let template = if bytes.is_some() {
            "{prefix:>10} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
        } else {
            "{prefix:>10} {msg} {bytes} {bytes_per_sec}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix("layer");
        bar.set_message(label.to_string());
        if let Ok(mut l) = self.layers.lock() {
            if let Some(slot) = l.get_mut(layer) {
                *slot = Some(bar);
            }
        }
    }

    fn layer_read(&self, layer: usize, bytes: u64) {
        if let Some(b) = self.bar(layer) {
            b.inc(bytes);
        }
    }

    fn layer_done(&self, layer: usize, cached: bool) {
        if let Some(b) = self.bar(layer) {
            b.finish_and_clear();
            self.multi.remove(&b);
        }
        if cached {
            let hits = self.hits.fetch_add(1, Ordering::Relaxed) + 1;
            self.total.set_message(format!("({hits} from cache)"));
        }
        self.total.inc(1);
        if self.total.position() >= self.total.length().unwrap_or(0) {
            self.total.finish_and_clear();
        }
    }
}

/// Plain lines for logs: one per finished layer.
#[derive(Default)]
struct Lines {
    layers: AtomicU64,
    done: AtomicU64,
    read: Mutex<Vec<(String, u64)>>,
}

impl Progress for Lines {
    fn started(&self, layers: usize) {
        self.layers.store(layers as u64, Ordering::Relaxed);
        if let Ok(mut r) = self.read.lock() {
            r.resize(layers, (String::new(), 0));
        }
    }

    fn layer_started(&self, layer: usize, label: &str, _bytes: Option<u64>) {
        if let Ok(mut r) = self.read.lock() {
            if let Some(slot) = r.get_mut(layer) {
                slot.0 = label.to_string();
            }
        }
    }

    fn layer_read(&self, layer: usize, bytes: u64) {
        if let Ok(mut r) = self.read.lock() {
            if let Some(slot) = r.get_mut(layer) {
                slot.1 += bytes;
            }
        }
    }

    fn layer_done(&self, layer: usize, cached: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.layers.load(Ordering::Relaxed);
        let (label, read) = self
            .read
            .lock()
            .ok()
            .and_then(|r| r.get(layer).cloned())
            .unwrap_or_default();
        let how = if cached {
            "from cache, not read".to_string()
        } else {
            format!("{} read", crate::text::human_bytes(read))
        };
        eprintln!("layergate: layer {done}/{total} {label}: {how}");
    }
}
