//! The history file on disk (an edge). Appends are one `write` of one whole line
//! to a file opened with `O_APPEND`, so parallel appenders interleave whole
//! lines. Trimming (`--keep`) rewrites the file through a renamed temporary file;
//! appenders and trimmers take a lock file (`FILE.lock`, created exclusively) so a
//! rewrite never loses a line appended meanwhile.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::history::{self, History, Record};
use super::FleetError;

/// How long to wait for another writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Largest history file read (a million records is ~300 MB; far beyond is not ours).
const MAX_HISTORY_BYTES: u64 = 512 << 20;

struct Lock {
    path: PathBuf,
}

impl Lock {
    fn take(file: &Path) -> Result<Lock, FleetError> {
        let mut name = file.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let start = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    // Who holds it, for whoever finds a stale one.
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if start.elapsed() > LOCK_WAIT {
                        return Err(FleetError::Locked { path });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => {
                    return Err(FleetError::Io {
                        path: path.display().to_string(),
                        source: e,
                    })
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FleetError + '_ {
    move |source| FleetError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads and parses a history file; a missing file is an empty history.
pub(crate) fn read(path: &Path) -> Result<History, FleetError> {
    let bytes = match crate::read::read_capped(path, MAX_HISTORY_BYTES) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(History::default()),
        Err(crate::read::InputError::TooLarge { .. }) => {
            return Err(FleetError::TooLarge {
                path: path.display().to_string(),
                limit: MAX_HISTORY_BYTES,
            })
        }
        Err(crate::read::InputError::Io(e)) => return Err(io(path)(e)),
        Err(e) => return Err(io(path)(std::io::Error::other(e.to_string()))),
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(history::parse(&path.display().to_string(), &text))
}

/// Whether `path` may be appended to: missing, empty, holding a record, or not a
/// single JSON document of another kind.
fn is_history(path: &Path) -> Result<bool, FleetError> {
    let existing = read(path)?;
    if existing.records().next().is_some() || existing.lines.is_empty() {
        return Ok(true);
    }
    let bytes = crate::read::read_capped(path, MAX_HISTORY_BYTES)
        .map_err(|e| io(path)(std::io::Error::other(e.to_string())))?;
    Ok(match crate::image::parse_json(&bytes) {
        Ok(serde_json::Value::Object(o)) => o.contains_key("layergate-history"),
        Ok(_) => false,
        Err(_) => true,
    })
}

/// Appends `records`, each with one `write`, then (with `keep`) trims every series
/// to its newest `keep` records. Returns the warnings about skipped lines.
pub(crate) fn append(
    path: &Path,
    records: &[Record],
    keep: Option<usize>,
) -> Result<Vec<String>, FleetError> {
    let _lock = Lock::take(path)?;
    // A file that holds no record and is one JSON document (a verdict or report
    // given as FILE by mistake: arguments swapped) is refused, never appended to.
    // Other lines not ours are kept and skipped, as everywhere in a history.
    if !is_history(path)? {
        return Err(FleetError::NotHistory {
            path: path.display().to_string(),
        });
    }
    {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io(path))?;
        for r in records {
            let line = r.to_line().map_err(|e| FleetError::Io {
                path: path.display().to_string(),
                source: e.into(),
            })?;
            let n = f.write(line.as_bytes()).map_err(io(path))?;
            if n != line.len() {
                return Err(FleetError::ShortWrite {
                    path: path.display().to_string(),
                });
            }
        }
        f.sync_data().map_err(io(path))?;
    }
    let h = read(path)?;
    if let Some(kept) = keep.and_then(|k| history::trimmed(&h, k)) {
        let mut text = String::new();
        for line in kept {
            text.push_str(&history::line_text(line).map_err(|e| FleetError::Io {
                path: path.display().to_string(),
                source: e.into(),
            })?);
        }
        // Through the one writer: a symlinked history file stays a symlink.
        crate::write::write_file(path, text.as_bytes()).map_err(io(path))?;
    }
    Ok(h.warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::history::record;

    /// Parallel jobs sharing one file must each leave their record.
    #[test]
    fn concurrent_appends_lose_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let first = record("img0", "first", "main", 0).to_line().unwrap();
        std::fs::write(&path, format!("foreign line\n{first}")).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let r = record(&format!("img{}", t % 2), &format!("{t}-{i}"), "main", i);
                        append(&path, &[r], Some(1000)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let h = read(&path).unwrap();
        assert_eq!(h.records().count(), 201);
        assert_eq!(h.warnings.len(), 1);
        append(&path, &[], Some(10)).unwrap();
        let h = read(&path).unwrap();
        assert_eq!(h.records().count(), 20);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("foreign line\n"));
        assert!(!dir.path().join("h.jsonl.lock").exists());
    }

    /// A file that holds no record (a verdict given as FILE) is refused and unchanged;
    /// an empty or missing one is a new history.
    #[test]
    fn a_file_that_is_not_a_history_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verdict.json");
        let verdict = "{\n  \"schema\": 2\n}\n";
        std::fs::write(&path, verdict).unwrap();
        let r = record("img", "c1", "main", 1);
        let e = append(&path, std::slice::from_ref(&r), None).unwrap_err();
        assert!(
            e.to_string().contains("not a layergate history file"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), verdict);
        let empty = dir.path().join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        append(&empty, std::slice::from_ref(&r), None).unwrap();
        append(&dir.path().join("new.jsonl"), &[r], None).unwrap();
    }
}
