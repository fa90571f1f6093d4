//! The per-layer analysis cache: what one layer contributes to a report (its
//! [`LayerScan`]) stored once on disk, named by the digest of the stored blob it
//! came from, in a directory per cache format (`DIR/vN/sha256/HEX`).
//!
//! It sits beside the scanner, at the edge: `analyze` asks it for a blob before
//! opening the blob, and a hit is a `LayerScan` like any other. Nothing after the
//! scan knows where a scan came from.
//!
//! Rules that keep it from ever changing a figure:
//! - An entry is written only from a scan whose blob digest, size and diffID were
//!   verified against what the source promised; a hit is checked again against the
//!   descriptor (diffID, size, compression) before it is used.
//! - Every entry carries its format version, its key and a MAC keyed by the cache's
//!   secret (`DIR/secret`, 32 random bytes, mode 0600, made on first use): an entry
//!   written by anyone without the secret (another user, a job that could only write
//!   the directory) is ignored and rewritten, never used.
//! - Trusts no one: folders are made 0700; an entry is opened without following
//!   links and used only when it is a regular file owned by this user, not writable
//!   by group or others, and not larger than [`MAX_ENTRY_BYTES`] (a FIFO would hang
//!   the run, a link to `/dev/zero` would eat memory). Anything else is skipped with
//!   one warning. Folders of the cache that are symlinks, or owned by someone else,
//!   turn the cache off.
//! - Writes go to a temporary file in the same directory and are renamed into
//!   place, so a reader sees a whole entry or none, and no lock is ever taken.
//! - Any trouble with the directory (read-only, full, missing, not a directory)
//!   turns the cache off for the rest of the run, with one warning.
//!
//! The size bound is kept by least-recently-used eviction: a hit touches the
//! entry's modification time, and after each write the oldest entries go until
//! the directory fits. Eviction touches only the cache's own files: entries named
//! `vN/sha256/<64 hex>` (or sha512) and its own temporary files once they are an
//! hour old (a younger one may be another job's write in progress). Another job may
//! evict an entry this one is about to read; that is a miss, never an error.

pub(crate) mod entry;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

pub(crate) use entry::Secret;
pub(crate) use entry::FORMAT;

use crate::image::{Algorithm, Digest};
use crate::scan::LayerScan;

/// The default size bound: 1 GB (a few hundred large layers' scans).
#[cfg(test)]
pub(crate) const DEFAULT_MAX_BYTES: u64 = 1_000_000_000;

/// Largest entry read: the decoded limit is 1 GiB and scans compress well.
pub(crate) const MAX_ENTRY_BYTES: u64 = 512 << 20;

/// The name of the secret file in the cache root.
pub(crate) const SECRET_FILE: &str = "secret";

/// A temporary file younger than this may be another job's write in progress.
const STALE_TEMP: Duration = Duration::from_secs(3600);

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
    /// The secret, once the folders were checked (or why the cache cannot be used).
    secret: OnceLock<Result<Secret, String>>,
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
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
            secret: OnceLock::new(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The first problem the cache met this run, taken once (the binary prints it).
    pub fn take_warning(&self) -> Option<String> {
        self.warning.lock().ok().and_then(|mut w| w.take())
    }

    /// How many scans came from the cache this run.
    #[cfg(test)]
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn warn(&self, msg: String) {
        if let Ok(mut w) = self.warning.lock() {
            w.get_or_insert(msg);
        }
    }

    fn alg_dir(&self, alg: Algorithm) -> PathBuf {
        self.dir.join(match alg {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        })
    }

    fn path_of(&self, key: &Digest) -> PathBuf {
        self.alg_dir(key.algorithm()).join(key.hex())
    }

    /// The secret, after checking (and making) the folders; `None` turns the cache off.
    fn secret(&self) -> Option<Secret> {
        if self.off.load(Ordering::Relaxed) {
            return None;
        }
        match self.secret.get_or_init(|| self.open()) {
            Ok(s) => Some(*s),
            Err(why) => {
                self.off.store(true, Ordering::Relaxed);
                self.warn(format!(
                    "layer cache {} is unusable ({why}); continuing without it",
                    self.root.display()
                ));
                None
            }
        }
    }

    /// Makes the folders (0700) and reads or makes the secret. Every folder must be
    /// a directory owned by this user (the root may be reached through a symlink;
    /// the folders inside may not), and is made private if it is not.
    fn open(&self) -> Result<Secret, String> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true).mode(0o700);
        builder.create(&self.root).map_err(|e| e.to_string())?;
        own_dir(&self.root, true)?;
        for dir in [
            self.dir.clone(),
            self.alg_dir(Algorithm::Sha256),
            self.alg_dir(Algorithm::Sha512),
        ] {
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("{}: {e}", dir.display())),
            }
            own_dir(&dir, false)?;
        }
        read_or_make_secret(&self.root.join(SECRET_FILE))
    }

    /// The cached scan of the blob `key`, if a whole, current entry holds it. A
    /// damaged entry is a miss (and the scan that follows rewrites it).
    pub(crate) fn get(&self, key: &Digest) -> Option<LayerScan> {
        let secret = self.secret()?;
        let path = self.path_of(key);
        let bytes = match read_entry(&path) {
            Ok(b) => b,
            Err(Unusable::Missing) => return None,
            Err(Unusable::Io(e)) if e.raw_os_error() == Some(20) => {
                // ENOTDIR: a file stands where a directory should.
                self.broken(&e);
                return None;
            }
            Err(Unusable::Io(e)) => {
                self.warn(format!(
                    "layer cache: cannot read {}: {e}; the layer is scanned",
                    path.display()
                ));
                return None;
            }
            Err(Unusable::Untrusted(why)) => {
                self.warn(format!(
                    "layer cache: skipped entry {}: {why}; the layer is scanned",
                    path.display()
                ));
                return None;
            }
        };
        match entry::decode(key, &bytes, &secret) {
            Ok(scan) => {
                // Least recently used: a hit is a use. A read-only cache cannot
                // record it; eviction order is then a little off, nothing more.
                if let Ok(f) = fs::File::options()
                    .write(true)
                    .custom_flags(nofollow())
                    .open(&path)
                {
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
    pub(crate) fn put(&self, key: &Digest, scan: &LayerScan) {
        let Some(secret) = self.secret() else {
            return;
        };
        let bytes = match entry::encode(key, scan, &secret) {
            Ok(b) => b,
            Err(e) => {
                self.warn(format!("layer cache: cannot encode a scan: {e}"));
                return;
            }
        };
        let path = self.path_of(key);
        if let Err(e) = crate::write::replace_private(&path, &bytes) {
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
    /// directory holds at most `max_bytes`. Only the cache's own files are looked
    /// at (see the module comment). Races with other jobs are harmless: a file
    /// already gone is skipped.
    fn evict(&self) {
        let (mut files, stale) = own_files(&self.root);
        for t in stale {
            let _ = fs::remove_file(t);
        }
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

fn nofollow() -> i32 {
    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
}

/// Why an entry was not read.
enum Unusable {
    Missing,
    Io(std::io::Error),
    Untrusted(String),
}

/// Reads an entry: no links followed, a regular file of this user that nobody else
/// may write, at most [`MAX_ENTRY_BYTES`] (checked before and while reading).
fn read_entry(path: &Path) -> Result<Vec<u8>, Unusable> {
    let file = match fs::File::options()
        .read(true)
        .custom_flags(nofollow())
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        // ELOOP: the entry is a symlink.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(Unusable::Untrusted("a symlink".into()))
        }
        Err(e) => return Err(Unusable::Io(e)),
    };
    let meta = file.metadata().map_err(Unusable::Io)?;
    trusted(&meta).map_err(Unusable::Untrusted)?;
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Unusable::Io)?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(Unusable::Untrusted(format!(
            "larger than {MAX_ENTRY_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// Whether a file may be believed: regular, ours, writable by us only, not too large.
fn trusted(meta: &fs::Metadata) -> Result<(), String> {
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.uid() != euid() {
        return Err(format!("owned by uid {}, not by this user", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by group or others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    if meta.len() > MAX_ENTRY_BYTES {
        return Err(format!("larger than {MAX_ENTRY_BYTES} bytes"));
    }
    Ok(())
}

/// A folder of the cache: a directory owned by this user; a folder inside is made
/// private (0700) when it was not. `follow` (the root): may be a symlink to a
/// directory, and keeps its mode; folders inside may not be symlinks.
fn own_dir(dir: &Path, follow: bool) -> Result<(), String> {
    let meta = if follow {
        fs::metadata(dir)
    } else {
        fs::symlink_metadata(dir)
    }
    .map_err(|e| format!("{}: {e}", dir.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symlink", dir.display()));
    }
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if meta.uid() != euid() {
        return Err(format!(
            "{} is owned by uid {}, not by this user",
            dir.display(),
            meta.uid()
        ));
    }
    // The folders inside are the cache's own: made private. The root may be a folder
    // the user chose (`--cache-dir .`): its mode is theirs, and what is inside is
    // protected by the folders' modes, ownership checks and the secret.
    if !follow && meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Reads the cache's secret, or makes it (32 random bytes, mode 0600, created
/// exclusively so two jobs starting at once agree on one).
fn read_or_make_secret(path: &Path) -> Result<Secret, String> {
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    for _ in 0..3 {
        match fs::File::options()
            .read(true)
            .custom_flags(nofollow())
            .open(path)
        {
            Ok(f) => {
                let meta = f.metadata().map_err(|e| shown(&e))?;
                trusted(&meta).map_err(|e| shown(&e))?;
                if meta.mode() & 0o077 != 0 {
                    return Err(shown(&"readable by others; remove it"));
                }
                let mut secret = [0u8; 32];
                let mut bytes = Vec::new();
                f.take(33).read_to_end(&mut bytes).map_err(|e| shown(&e))?;
                if bytes.len() != 32 {
                    // Another job may be writing it right now.
                    std::thread::sleep(Duration::from_millis(50));
                    if bytes.is_empty() {
                        continue;
                    }
                    return Err(shown(&"not a cache secret; remove it"));
                }
                secret.copy_from_slice(&bytes);
                return Ok(secret);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                fs::File::open("/dev/urandom")
                    .and_then(|mut r| r.read_exact(&mut secret))
                    .map_err(|e| shown(&e))?;
                match crate::write::create_private(path, &secret) {
                    Ok(()) => return Ok(secret),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(shown(&e)),
                }
            }
            Err(e) => return Err(shown(&e)),
        }
    }
    Err(shown(&"unreadable"))
}

type Found = (PathBuf, u64, SystemTime);

/// The cache's own files: entries (`vN/ALG/HEX` regular files, any format version)
/// with size and modification time, and stale temporary files. Nothing else in the
/// tree is ever looked at, and no symlink is followed.
fn own_files(root: &Path) -> (Vec<Found>, Vec<PathBuf>) {
    let mut entries = Vec::new();
    let mut stale = Vec::new();
    let now = SystemTime::now();
    let Ok(versions) = fs::read_dir(root) else {
        return (entries, stale);
    };
    for v in versions.flatten() {
        let name = v.file_name();
        let Some(n) = name.to_str() else { continue };
        let is_version =
            n.len() > 1 && n.starts_with('v') && n[1..].bytes().all(|b| b.is_ascii_digit());
        if !is_version || !v.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for (alg, len) in [("sha256", 64), ("sha512", 128)] {
            let dir = v.path().join(alg);
            if !fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            let Ok(rd) = fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                let name = e.file_name();
                let Some(n) = name.to_str() else { continue };
                let Ok(meta) = e.metadata() else { continue };
                if !meta.is_file() {
                    continue;
                }
                let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                let is_entry =
                    n.len() == len && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if is_entry {
                    entries.push((e.path(), meta.len(), mtime));
                } else if n.starts_with(crate::write::TEMP_PREFIX)
                    && now.duration_since(mtime).is_ok_and(|age| age > STALE_TEMP)
                {
                    stale.push(e.path());
                }
            }
        }
    }
    (entries, stale)
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
        let one = entry::encode(&scan.blob_digest, &scan, &entry::tests::SECRET)
            .unwrap()
            .len() as u64;
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

    /// Eviction with a tiny bound deletes only the cache's own entries: the user's
    /// files beside and inside the cache, and fresh temporary files of other jobs, stay.
    #[test]
    fn eviction_touches_only_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Cargo.toml"), b"[package]").unwrap();
        fs::create_dir_all(root.join("src/bin")).unwrap();
        fs::write(root.join("src/main.rs"), b"fn main() {}").unwrap();
        fs::write(root.join("src/bin/x.rs"), b"fn main() {}").unwrap();
        let cache = LayerCache::new(root, 1);
        let scan = entry::tests::sample();
        cache.put(&scan.blob_digest, &scan);
        let alg = cache.alg_dir(Algorithm::Sha256);
        let fresh = alg.join(format!("{}other-job", crate::write::TEMP_PREFIX));
        fs::write(&fresh, b"in progress").unwrap();
        fs::write(alg.join("notes.txt"), b"mine").unwrap();
        cache.put(&scan.blob_digest, &scan);
        assert!(cache.take_warning().is_none());
        for kept in ["Cargo.toml", "src/main.rs", "src/bin/x.rs", "secret"] {
            assert!(root.join(kept).exists(), "{kept}");
        }
        assert!(fresh.exists() && alg.join("notes.txt").exists());
        assert!(!cache.path_of(&scan.blob_digest).exists(), "evicted");
    }

    /// A FIFO, a symlink to /dev/zero, another user's entry, a group-writable one
    /// and an entry sealed with another secret are all skipped, never used, and the
    /// run goes on (a FIFO does not hang it).
    #[test]
    fn untrusted_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::new(dir.path(), DEFAULT_MAX_BYTES);
        let scan = entry::tests::sample();
        let key = scan.blob_digest.clone();
        cache.put(&key, &scan);
        let path = cache.path_of(&key);
        let good = fs::read(&path).unwrap();

        type Damage<'a> = Box<dyn Fn() + 'a>;
        let cases: Vec<(&str, Damage)> = vec![
            (
                "symlink",
                Box::new(|| {
                    fs::remove_file(&path).unwrap();
                    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
                }),
            ),
            (
                "FIFO",
                Box::new(|| {
                    fs::remove_file(&path).unwrap();
                    let ok = std::process::Command::new("mkfifo")
                        .arg(&path)
                        .status()
                        .unwrap();
                    assert!(ok.success());
                }),
            ),
            (
                "group or others",
                Box::new(|| {
                    fs::remove_file(&path).unwrap();
                    fs::write(&path, &good).unwrap();
                    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
                }),
            ),
            (
                "MAC mismatch",
                Box::new(|| {
                    fs::remove_file(&path).unwrap();
                    let forged = entry::encode(&key, &scan, &[9; 32]).unwrap();
                    fs::write(&path, forged).unwrap();
                }),
            ),
        ];
        for (why, damage) in cases {
            damage();
            assert!(cache.get(&key).is_none(), "{why}");
            let w = cache.take_warning().unwrap_or_default();
            assert!(
                w.contains(why) || (why == "FIFO" && w.contains("not a regular file")),
                "{why}: {w}"
            );
        }
        if euid() == 0 {
            fs::remove_file(&path).unwrap();
            fs::write(&path, &good).unwrap();
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            assert!(cache.get(&key).is_none());
            assert!(cache.take_warning().unwrap().contains("owned by uid 65534"));
        }
        fs::remove_file(&path).unwrap();
        fs::write(&path, &good).unwrap();
        assert!(cache.get(&key).is_some(), "the genuine entry is used");
    }

    /// A symlinked folder inside the cache turns it off instead of being written through.
    #[test]
    fn a_symlinked_folder_turns_the_cache_off() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let root = dir.path().join("cache");
        fs::create_dir_all(root.join(format!("v{FORMAT}"))).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join(format!("v{FORMAT}/sha256"))).unwrap();
        let cache = LayerCache::new(&root, DEFAULT_MAX_BYTES);
        let scan = entry::tests::sample();
        cache.put(&scan.blob_digest, &scan);
        assert!(cache.take_warning().unwrap().contains("is a symlink"));
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
