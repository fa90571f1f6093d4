//! The per-layer analysis cache: what one layer contributes to a report (its
//! [`LayerScan`]) stored once on disk, named by the digest of the stored blob it
//! came from, in a directory per cache format (`DIR/v1/sha256/HEX`).
//!
//! It sits beside the scanner, at the edge: `analyze` asks it for a blob before
//! opening the blob, and a hit is a `LayerScan` like any other. Nothing after the
//! scan knows where a scan came from.
//!
//! Rules that keep it from ever changing a figure:
//! - An entry is written only from a scan whose blob digest, size and diffID were
//!   verified against what the source promised; a hit is checked again against the
//!   descriptor (diffID, size, compression) before it is used.
//! - Every entry carries its format version, its key and a checksum (`entry.rs`);
//!   a torn, truncated, foreign or future entry is ignored and rewritten.
//! - Writes go to a temporary file in the same directory and are renamed into
//!   place, so a reader sees a whole entry or none, and no lock is ever taken:
//!   two CI jobs that scan the same blob both write it, and the last rename wins
//!   with identical content.
//! - Any trouble with the directory (read-only, full, missing, not a directory)
//!   turns the cache off for the rest of the run, with one warning.
//!
//! The size bound is kept by least-recently-used eviction: a hit touches the
//! entry's modification time, and after each write the oldest entries go until
//! the directory fits. Another job may evict an entry this one is about to read;
//! that is a miss, never an error.

mod entry;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

pub use entry::{EntryError, FORMAT};

use crate::image::{Algorithm, Digest};
use crate::scan::LayerScan;

/// The default size bound: 1 GB (a few hundred large layers' scans).
pub const DEFAULT_MAX_BYTES: u64 = 1_000_000_000;

/// `$XDG_CACHE_HOME/layergate`, else `$HOME/.cache/layergate` (the XDG base
/// directory rule: a relative XDG_CACHE_HOME is ignored).
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|h| h.join(".cache"))
    })?;
    Some(base.join("layergate"))
}

/// An open cache directory. Shared by the scanning threads; never fails a run.
#[derive(Debug)]
pub struct LayerCache {
    root: PathBuf,
    dir: PathBuf,
    max_bytes: u64,
    /// Set once writing failed: from then on the run goes on without storing.
    off: AtomicBool,
    /// The first problem met, for the binary to print once.
    warning: Mutex<Option<String>>,
    /// Hits and stores, for the progress line and tests.
    hits: std::sync::atomic::AtomicU64,
}

impl LayerCache {
    /// A cache in `root` holding at most `max_bytes`. Nothing is touched yet.
    pub fn new(root: &Path, max_bytes: u64) -> LayerCache {
        LayerCache {
            root: root.to_path_buf(),
            dir: root.join(format!("v{FORMAT}")),
            max_bytes,
            off: AtomicBool::new(false),
            warning: Mutex::new(None),
            hits: Default::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The first problem the cache met this run, taken once (the binary prints it).
    pub fn take_warning(&self) -> Option<String> {
        self.warning.lock().ok().and_then(|mut w| w.take())
    }

    /// How many scans came from the cache this run.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn warn(&self, msg: String) {
        if let Ok(mut w) = self.warning.lock() {
            w.get_or_insert(msg);
        }
    }

    fn path_of(&self, key: &Digest) -> PathBuf {
        let alg = match key.algorithm() {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        };
        self.dir.join(alg).join(key.hex())
    }

    /// The cached scan of the blob `key`, if a whole, current entry holds it. A
    /// damaged entry is a miss (and the scan that follows rewrites it).
    pub fn get(&self, key: &Digest) -> Option<LayerScan> {
        let path = self.path_of(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) if e.raw_os_error() == Some(20) => {
                // ENOTDIR: a file stands where a directory should.
                self.broken(&e);
                return None;
            }
            Err(e) => {
                self.warn(format!(
                    "layer cache: cannot read {}: {e}; the layer is scanned",
                    path.display()
                ));
                return None;
            }
        };
        match entry::decode(key, &bytes) {
            Ok(scan) => {
                // Least recently used: a hit is a use. A read-only cache cannot
                // record it; eviction order is then a little off, nothing more.
                if let Ok(f) = fs::File::options().write(true).open(&path) {
                    let _ = f.set_modified(SystemTime::now());
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(scan)
            }
            Err(e) => {
                self.warn(format!(
                    "layer cache: ignored entry {}: {e}; the layer is scanned and the entry rewritten",
                    path.display()
                ));
                None
            }
        }
    }

    /// Stores the verified scan of the blob `key`. Failure turns the cache off
    /// for the rest of the run (with one warning); the run itself goes on.
    pub fn put(&self, key: &Digest, scan: &LayerScan) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        let bytes = match entry::encode(key, scan) {
            Ok(b) => b,
            Err(e) => {
                self.warn(format!("layer cache: cannot encode a scan: {e}"));
                return;
            }
        };
        let path = self.path_of(key);
        if let Err(e) = write_atomically(&path, &bytes) {
            self.broken(&e);
            return;
        }
        self.evict();
    }

    fn broken(&self, e: &std::io::Error) {
        self.off.store(true, Ordering::Relaxed);
        self.warn(format!(
            "layer cache {} is unusable ({e}); continuing without it",
            self.root.display()
        ));
    }

    /// Removes the least recently used entries (of any format version) until the
    /// directory holds at most `max_bytes`. Races with other jobs are harmless: a
    /// file already gone is skipped.
    fn evict(&self) {
        let mut files = Vec::new();
        collect(&self.root, 0, &mut files);
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort_by_key(|f| f.2);
        for (path, len, _) in files {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

/// Every file under `dir` (entries and stray temporaries) with its size and
/// modification time; depth-bounded, so a strange tree cannot send us far.
fn collect(dir: &Path, depth: u32, out: &mut Vec<(PathBuf, u64, SystemTime)>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() && depth < 3 {
            collect(&e.path(), depth + 1, out);
        } else if meta.is_file() {
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((e.path(), meta.len(), mtime));
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so no reader ever sees part of an entry.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("entry path has no parent"))?;
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_data()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds_a_scan_and_ignores_garbage_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let scan = entry::tests::sample();
        let key = scan.blob_digest.clone();
        assert!(cache.get(&key).is_none());
        assert!(cache.take_warning().is_none(), "a plain miss is not news");
        cache.put(&key, &scan);
        let hit = cache.get(&key).unwrap();
        assert_eq!(format!("{hit:?}"), format!("{scan:?}"));
        assert_eq!(cache.hits(), 1);

        fs::write(cache.path_of(&key), b"garbage").unwrap();
        assert!(cache.get(&key).is_none());
        assert!(cache.take_warning().unwrap().contains("ignored entry"));
        cache.put(&key, &scan);
        assert!(cache.get(&key).is_some(), "rewritten");
    }

    #[test]
    fn eviction_drops_the_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut scan = entry::tests::sample();
        let one = entry::encode(&scan.blob_digest, &scan).unwrap().len() as u64;
        // Room for two entries, not three.
        let cache = LayerCache::new(dir.path(), one * 2 + one / 2);
        let mut keys = Vec::new();
        for i in 0..3u8 {
            scan.blob_digest = Digest::parse(&format!("sha256:{}", hex::encode([i; 32]))).unwrap();
            keys.push(scan.blob_digest.clone());
            cache.put(&scan.blob_digest, &scan);
            // Distinct modification times, oldest first.
            let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + u64::from(i));
            fs::File::options()
                .write(true)
                .open(cache.path_of(&scan.blob_digest))
                .unwrap()
                .set_modified(t)
                .unwrap();
            if i == 1 {
                // Use the first one: it is now more recent than the second.
                assert!(cache.get(&keys[0]).is_some());
            }
        }
        assert!(cache.path_of(&keys[0]).exists());
        assert!(!cache.path_of(&keys[1]).exists(), "least recently used");
        assert!(cache.path_of(&keys[2]).exists());
    }

    #[test]
    fn a_file_where_the_directory_should_be_turns_the_cache_off_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cache");
        fs::write(&root, b"not a directory").unwrap();
        let cache = LayerCache::new(&root, DEFAULT_MAX_BYTES);
        let scan = entry::tests::sample();
        assert!(cache.get(&scan.blob_digest).is_none());
        cache.put(&scan.blob_digest, &scan);
        cache.put(&scan.blob_digest, &scan);
        let w = cache.take_warning().unwrap();
        assert!(w.contains("continuing without it"), "{w}");
        assert!(cache.take_warning().is_none(), "said once");
    }
}
