//! Writing key files: only when the validator changed, and atomically, so a build that
//! reads the directory meanwhile sees the old file or the new one, never half of one.

use std::path::{Path, PathBuf};

use super::{key_content, key_name, CacheKeyError, Validator};

/// What writing one key file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// No key file existed for this URL.
    New { path: PathBuf },
    /// The file already held this validator: not touched (content and mtime kept).
    Unchanged { path: PathBuf },
    /// The validator changed: the file was replaced. `old` is the previous validator line.
    Changed {
        path: PathBuf,
        old: String,
        new: String,
    },
}

impl Written {
    pub fn path(&self) -> &Path {
        match self {
            Written::New { path } | Written::Unchanged { path } | Written::Changed { path, .. } => {
                path
            }
        }
    }
}

/// Writes the key file for `url` into `dir` (created when missing).
pub(crate) fn write_key(
    dir: &Path,
    url: &str,
    validator: &Validator,
) -> Result<Written, CacheKeyError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CacheKeyError::Io { path, source }
    };
    let path = dir.join(key_name(url));
    let content = key_content(url, validator);
    let old = match std::fs::read_to_string(&path) {
        Ok(old) => Some(old),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // Unreadable or not UTF-8: replace it, as a changed key.
        Err(_) => Some(String::new()),
    };
    if old.as_deref() == Some(content.as_str()) {
        return Ok(Written::Unchanged { path });
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    crate::write::write_file(&path, content.as_bytes()).map_err(io(&path))?;
    Ok(match old {
        None => Written::New { path },
        Some(old) => Written::Changed {
            path,
            old: old.lines().last().unwrap_or("").to_string(),
            new: validator.line(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_then_unchanged_keeps_the_mtime_then_changed_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://h/tool";
        let v1 = Validator::ETag("\"1\"".into());
        let first = write_key(dir.path(), url, &v1).unwrap();
        assert!(matches!(first, Written::New { .. }));
        let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
        let before = mtime(first.path());
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = write_key(dir.path(), url, &v1).unwrap();
        assert!(matches!(again, Written::Unchanged { .. }));
        assert_eq!(
            mtime(again.path()),
            before,
            "an unchanged key is not rewritten"
        );
        let v2 = Validator::ETag("\"2\"".into());
        let changed = write_key(dir.path(), url, &v2).unwrap();
        assert_eq!(
            changed,
            Written::Changed {
                path: first.path().to_path_buf(),
                old: "etag \"1\"".into(),
                new: "etag \"2\"".into()
            }
        );
        assert_eq!(
            std::fs::read_to_string(changed.path()).unwrap(),
            "# http://h/tool\netag \"2\"\n"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
