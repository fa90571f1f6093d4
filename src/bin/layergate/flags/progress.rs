//! The progress display on standard error: live bars on a terminal (indicatif),
//! one plain line per finished layer in logs. The scan calls
//! [`Progress`](layergate::Progress); nothing here reaches the report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use layergate::Progress;

/// Live bars: one per layer being read, one for the run.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    layers: Mutex<Vec<Option<ProgressBar>>>,
    hits: AtomicU64,
}

impl Bars {
    pub fn new() -> Bars {
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
pub struct Lines {
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
            format!("{} read", layergate::human_bytes(read))
        };
        eprintln!("layergate: layer {done}/{total} {label}: {how}");
    }
}
