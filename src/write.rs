//! The one writer of every file layergate produces (reports, HTML, Markdown, JUnit,
//! GitLab reports, merged comments, history rewrites, `init`, cache-key key files, the
//! Dockerfile rewrite, cache entries) and the one appender (job summary, step outputs).
//!
//! Rules, each learnt from a user's file lost:
//! - A target that exists and is not a regular file (a device such as `/dev/null`, a
//!   FIFO, `/dev/stdout`, anything reached through `/proc`) is written through, never
//!   replaced by a regular file.
//! - A regular target is replaced whole: a temporary file beside it, written, synced,
//!   given the replaced file's mode (a new file follows the umask), renamed over it.
//!   A reader sees the old file or the new one, never half of one.
//! - A symlinked target is followed: the file it points to is replaced, the link stays.
//! - A target that cannot be renamed over (a bind mount: `EBUSY`) is written in place.
//! - The temporary file is removed on error and on SIGINT/SIGTERM/SIGHUP.
//! - An append is one piece: on a short write (a full disk) the file is cut back to
//!   its length before, so no half line is left for the next reader.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, Once};

/// Every temporary file layergate creates starts with this, so the cache's eviction
/// and a person cleaning up can tell them apart from anything else.
pub(crate) const TEMP_PREFIX: &str = ".layergate-tmp-";

/// How many symlinks are followed before giving up (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Writes `bytes` to `path` by the rules above.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file_with(path, |w| w.write_all(bytes))
}

/// [`write_file`] with the bytes written by `fill` as they are made (a report of a
/// million files is written as it is serialised, never held whole). `fill` may run
/// twice: a target that cannot be renamed over is then written in place.
pub fn write_file_with(
    path: &Path,
    fill: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let target = resolve(path)?;
    match &target {
        Target::Through(p) => write_through(p, &fill),
        Target::Replace(p) => replace(p, &fill),
    }
}

/// Runs `fill` into `file` through a buffer.
fn fill_buffered(
    file: &mut File,
    fill: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut w)?;
    w.flush()
}

/// Appends `bytes` to `path` (created when missing, following the umask) in one
/// piece: when the write fails part-way the file is truncated back to where it was.
pub(crate) fn append_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o666)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        // A device or FIFO has no length to return to.
        file.write_all(bytes)?;
        return file.flush();
    }
    let before = meta.len();
    let written = file.write_all(bytes).and_then(|()| file.sync_data());
    if let Err(e) = written {
        let _ = file.set_len(before);
        let _ = file.sync_data();
        return Err(e);
    }
    Ok(())
}

/// Replaces exactly `path` (a symlink there is replaced, never followed) with a
/// file of mode 0600 holding `bytes`: the cache's entries, which only their owner
/// may read or write, whatever the umask.
pub(crate) fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    TempFile::create_with(folder_of(path), 0o600)?.commit(path, |file| {
        file.write_all(bytes)?;
        file.set_permissions(Permissions::from_mode(0o600))?;
        file.sync_data()
    })
}

/// The folder a temporary sibling of `path` is made in.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Creates `path` exclusively (no link followed, an existing file is `AlreadyExists`)
/// with mode 0600 and writes `bytes`: a secret. A failed write removes the file.
pub(crate) fn create_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let written = file
        .set_permissions(Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

enum Target {
    /// Exists and is not a regular file: open and write.
    Through(PathBuf),
    /// A regular file, or nothing yet: replace by rename.
    Replace(PathBuf),
}

/// Follows symlinks to the file that will be written. A chain that goes through
/// `/proc` or `/dev/fd` (how `/dev/stdout` is made) is a magic link: written through.
fn resolve(path: &Path) -> io::Result<Target> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if is_magic(&current) {
            return Ok(Target::Through(current));
        }
        match fs::symlink_metadata(&current) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::Replace(current)),
            Err(e) => return Err(e),
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = if link.is_absolute() {
                    link
                } else {
                    current
                        .parent()
                        .map_or_else(|| link.clone(), |dir| dir.join(&link))
                };
            }
            Ok(meta) if meta.is_file() => return Ok(Target::Replace(current)),
            Ok(meta) if meta.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "is a directory",
                ))
            }
            Ok(_) => return Ok(Target::Through(current)),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

fn is_magic(path: &Path) -> bool {
    let mut parts = path.components();
    matches!(parts.next(), Some(Component::RootDir))
        && match parts.next() {
            Some(Component::Normal(first)) if first == "proc" => true,
            Some(Component::Normal(first)) if first == "dev" => {
                matches!(parts.next(), Some(Component::Normal(n)) if n == "fd" || n == "stdout" || n == "stderr")
            }
            _ => false,
        }
}

fn write_through(path: &Path, fill: &dyn Fn(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    // No O_CREAT: the thing exists; no O_TRUNC: a FIFO or device has no length, and a
    // regular file reached through /proc is truncated below.
    let mut file = OpenOptions::new().write(true).open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() {
        file.set_len(0)?;
    }
    fill_buffered(&mut file, fill)?;
    if meta.is_file() {
        file.sync_data()?;
    }
    Ok(())
}

fn replace(path: &Path, fill: &dyn Fn(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let dir = folder_of(path);
    let old = fs::metadata(path).ok();
    let committed = TempFile::create(dir)?.commit(path, |file| {
        fill_buffered(file, fill)?;
        if let Some(old) = &old {
            // Keep what the user set: the mode exactly, and the owner when we may.
            file.set_permissions(Permissions::from_mode(old.mode() & 0o7777))?;
            let _ = std::os::unix::fs::fchown(&*file, Some(old.uid()), Some(old.gid()));
        }
        file.sync_all()
    });
    match committed {
        Ok(()) => {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        // A bind-mounted file cannot be renamed over: write it in place.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::BUSY.raw_os_error()) => {
            write_through(path, fill)
        }
        Err(e) => Err(e),
    }
}

/// A temporary file in flight: created exclusively with mode 0666 (the umask
/// applies), registered so a signal removes it.
struct TempFile {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl TempFile {
    fn create(dir: &Path) -> io::Result<TempFile> {
        TempFile::create_with(dir, 0o666)
    }

    fn create_with(dir: &Path, mode: u32) -> io::Result<TempFile> {
        install_signal_cleanup();
        let named = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .permissions(Permissions::from_mode(mode))
            .tempfile_in(dir)?;
        // Registered before anything is written, so a signal from now on removes it.
        let (file, path) = named.keep().map_err(|e| e.error)?;
        register(&path);
        Ok(TempFile {
            path,
            file: Mutex::new(Some(file)),
        })
    }

    fn file(&self) -> io::Result<File> {
        self.file
            .lock()
            .ok()
            .and_then(|mut f| f.take())
            .ok_or_else(|| io::Error::other("temporary file already used"))
    }

    /// Fills the file with `fill`, then renames it over `path`. On any failure the
    /// temporary file is removed and `path` is as it was.
    fn commit(self, path: &Path, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
        let filled = self.file().and_then(|mut file| fill(&mut file));
        match filled.and_then(|()| fs::rename(&self.path, path)) {
            Ok(()) => {
                self.forget();
                Ok(())
            }
            Err(e) => {
                self.remove();
                Err(e)
            }
        }
    }

    fn remove(self) {
        let _ = fs::remove_file(&self.path);
        unregister(&self.path);
    }

    fn forget(self) {
        unregister(&self.path);
    }
}

/// Temporary files to remove when a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

fn register(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(path.to_path_buf());
    }
}

fn unregister(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}

/// Registers a temporary file created elsewhere (the image spool) for removal on a signal.
pub(crate) fn register_temp(path: &Path) {
    install_signal_cleanup();
    register(path);
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporary files in flight, then die of
/// the signal as if no handler had been installed (the exit status tells the caller).
fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    HANDLER.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("layergate-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    if let Ok(p) = PENDING.lock() {
                        for path in p.iter() {
                            let _ = fs::remove_file(path);
                        }
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                    std::process::exit(128 + sig);
                }
            });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn umask_of(dir: &Path) -> u32 {
        let probe = dir.join("probe");
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&probe)
            .unwrap();
        let mode = fs::metadata(&probe).unwrap().mode() & 0o777;
        fs::remove_file(&probe).unwrap();
        0o666 & !mode
    }

    #[test]
    fn a_new_file_follows_the_umask_and_a_replaced_one_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let umask = umask_of(dir.path());
        let new = dir.path().join("new.json");
        write_file(&new, b"one").unwrap();
        assert_eq!(fs::metadata(&new).unwrap().mode() & 0o777, 0o666 & !umask);

        let old = dir.path().join("Dockerfile");
        fs::write(&old, b"FROM x\n").unwrap();
        fs::set_permissions(&old, Permissions::from_mode(0o640)).unwrap();
        write_file(&old, b"FROM y\n").unwrap();
        assert_eq!(fs::read(&old).unwrap(), b"FROM y\n");
        assert_eq!(fs::metadata(&old).unwrap().mode() & 0o7777, 0o640);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file left");
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn a_directory_is_refused_and_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(write_file(&sub, b"x").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn magic_links_are_written_through() {
        assert!(is_magic(Path::new("/dev/stdout")));
        assert!(is_magic(Path::new("/proc/self/fd/1")));
        assert!(!is_magic(Path::new("/dev/null")));
        assert!(!is_magic(Path::new("dev/stdout")));
    }

    #[test]
    fn append_adds_whole_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("summary.md");
        append_file(&f, b"a\n").unwrap();
        append_file(&f, b"b\n").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"a\nb\n");
    }
}
