//! Random access to the files of an archive or layout directory. A tar archive is
//! indexed once (name → offset, size); every blob is then read straight from the
//! archive file, several at once, without extracting anything.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::scan_path;
use super::SourceError;

pub(crate) trait Store: Sync + Send {
    /// Opens a file for streaming.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, SourceError>;
    /// Reads a whole small file, refusing one over `limit` bytes.
    fn read_small(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError>;
    fn exists(&self, path: &str) -> bool;
    fn size(&self, path: &str) -> Option<u64>;
    /// What to call this store in messages (the archive or directory path).
    fn describe(&self) -> String;
}

#[derive(Debug, Clone)]
struct Member {
    offset: u64,
    size: u64,
}

/// An indexed tar archive on disk (or stdin spooled to an unnamed temporary file).
pub(crate) struct TarStore {
    path: PathBuf,
    /// The file on disk (the spool for stdin).
    real_path: PathBuf,
    members: HashMap<String, Member>,
    /// Keeps a spooled stdin alive for as long as the store.
    _spool: Option<tempfile::NamedTempFile>,
}

const MAX_SYMLINK_HOPS: usize = 16;

/// Longest member name an archive may hold (Linux's PATH_MAX).
const MAX_MEMBER_NAME: usize = 4096;

impl TarStore {
    pub(crate) fn open(path: &Path) -> Result<TarStore, SourceError> {
        let io_err = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        if file.metadata().map_err(io_err)?.is_dir() {
            return Err(SourceError::NotAnImage(format!(
                "{}: a directory, not an archive (use oci:{})",
                path.display(),
                path.display()
            )));
        }
        Self::index(path.to_path_buf(), path.to_path_buf(), file, None)
    }

    /// Standard input is not seekable: it is copied once to an anonymous temporary
    /// file (the archive as is, nothing extracted) so its layers can be read in parallel.
    pub(crate) fn from_stdin() -> Result<TarStore, SourceError> {
        let io_err = |source| SourceError::Io {
            path: "<stdin>".into(),
            source,
        };
        let mut spool = tempfile::NamedTempFile::new().map_err(io_err)?;
        // A signal while standard input is copied removes the spool too.
        crate::write::register_temp(spool.path());
        io::copy(&mut io::stdin().lock(), spool.as_file_mut()).map_err(io_err)?;
        let file = spool.reopen().map_err(io_err)?;
        let real = spool.path().to_path_buf();
        Self::index("<stdin>".into(), real, file, Some(spool))
    }

    fn index(
        path: PathBuf,
        real_path: PathBuf,
        file: File,
        spool: Option<tempfile::NamedTempFile>,
    ) -> Result<TarStore, SourceError> {
        let archive_name = path.display().to_string();
        let corrupt = |msg: String| SourceError::CorruptArchive {
            archive: archive_name.clone(),
            msg,
        };
        let len = file
            .metadata()
            .map_err(|source| SourceError::Io {
                path: path.clone(),
                source,
            })?
            .len();
        if len == 0 {
            return Err(SourceError::NotAnImage(format!(
                "{archive_name}: empty file"
            )));
        }
        let mut head = [0u8; 512];
        let head_len = (&file).read(&mut head).unwrap_or(0);
        if let Some(c) = crate::image::Compression::sniff(&head[..head_len])
            .filter(|c| *c != crate::image::Compression::None)
        {
            return Err(SourceError::NotAnImage(format!(
                "{archive_name}: a {c:?}-compressed file, not a tar archive (decompress it first)"
            )));
        }
        (&file)
            .seek(SeekFrom::Start(0))
            .map_err(|source| SourceError::Io {
                path: path.clone(),
                source,
            })?;
        let mut members = HashMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let mut seen = 0usize;
        {
            // Headers and extension records are read into memory by the tar crate:
            // bound them (member content is only seeked over here).
            let (guarded, budget) = crate::scan::HeaderGuard::new(&file);
            let mut archive = tar::Archive::new(guarded);
            let mut entries = archive
                .entries_with_seek()
                .map_err(|e| corrupt(e.to_string()))?;
            loop {
                budget.arm();
                let next = entries.next();
                budget.disarm();
                let Some(entry) = next else { break };
                let entry = match entry {
                    Ok(entry) => entry,
                    // Nothing read yet: the file is not a tar at all.
                    Err(e) if crate::scan::is_headers_too_large(&e) => {
                        return Err(corrupt(e.to_string()))
                    }
                    Err(_) if seen == 0 => {
                        return Err(SourceError::NotAnImage(format!(
                            "{archive_name}: not a tar archive (no valid header at its start)"
                        )))
                    }
                    Err(e) => return Err(corrupt(crate::scan::clean_message(&e.to_string()))),
                };
                seen += 1;
                if entry.path_bytes().len() > MAX_MEMBER_NAME {
                    return Err(corrupt(format!(
                        "a member name is longer than {MAX_MEMBER_NAME} bytes"
                    )));
                }
                let name = scan_path(&entry.path_bytes());
                let etype = entry.header().entry_type();
                if etype.is_file() || etype.is_contiguous() {
                    let offset = entry.raw_file_position();
                    let size = entry.size();
                    if offset.checked_add(size).is_none_or(|end| end > len) {
                        return Err(corrupt(format!(
                            "{name} runs past the end of the archive (truncated?)"
                        )));
                    }
                    members.insert(name, Member { offset, size });
                } else if etype.is_symlink() || etype.is_hard_link() {
                    if let Some(target) = entry.link_name_bytes().map(|t| t.into_owned()) {
                        let base = if etype.is_symlink() {
                            name.rsplit_once('/')
                                .map(|(d, _)| format!("{d}/"))
                                .unwrap_or_default()
                        } else {
                            String::new()
                        };
                        let mut joined = base.into_bytes();
                        joined.extend_from_slice(&target);
                        links.push((name, scan_path(&joined)));
                    }
                }
            }
        }
        if members.is_empty() {
            return Err(SourceError::NotAnImage(format!(
                "{archive_name}: not a tar archive, or an empty one"
            )));
        }
        // Legacy docker-save has `<id>/layer.tar -> ../<diffid>.tar`: resolve links
        // to the member they name, hop by hop, bounded against loops.
        // A map, not a scan of the list per hop: an archive may hold many links.
        let link_map: HashMap<&str, &str> = links
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        for (name, target) in &links {
            let mut t = target.as_str();
            for _ in 0..MAX_SYMLINK_HOPS {
                if let Some(m) = members.get(t) {
                    let m = m.clone();
                    members.entry(name.clone()).or_insert(m);
                    break;
                }
                match link_map.get(t) {
                    Some(next) => t = next,
                    None => break,
                }
            }
        }
        Ok(TarStore {
            path,
            real_path,
            members,
            _spool: spool,
        })
    }

    fn member(&self, path: &str) -> Result<&Member, SourceError> {
        self.members
            .get(&scan_path(path.as_bytes()))
            .ok_or_else(|| SourceError::NotFound(format!("{}: {path}", self.path.display())))
    }
}

impl Store for TarStore {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let m = self.member(path)?;
        let io_err = |source| SourceError::Io {
            path: self.path.clone(),
            source,
        };
        // A fresh handle per blob: cloned handles share one file offset, and blobs
        // are read in parallel.
        let mut f = File::open(&self.real_path).map_err(io_err)?;
        f.seek(SeekFrom::Start(m.offset)).map_err(io_err)?;
        Ok(Box::new(f.take(m.size)))
    }

    fn read_small(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let m = self.member(path)?;
        if m.size > limit {
            return Err(SourceError::TooLarge {
                what: format!("{}: {path}", self.path.display()),
                limit,
            });
        }
        let mut buf = Vec::with_capacity(m.size as usize);
        self.open(path)?
            .read_to_end(&mut buf)
            .map_err(|source| SourceError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(buf)
    }

    fn exists(&self, path: &str) -> bool {
        self.members.contains_key(&scan_path(path.as_bytes()))
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.members
            .get(&scan_path(path.as_bytes()))
            .map(|m| m.size)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// An OCI layout directory.
pub(crate) struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub(crate) fn open(root: &Path) -> Result<DirStore, SourceError> {
        let meta = std::fs::metadata(root).map_err(|source| SourceError::Io {
            path: root.into(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(SourceError::NotAnImage(format!(
                "{}: not a directory",
                root.display()
            )));
        }
        Ok(DirStore {
            root: root.to_path_buf(),
        })
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, SourceError> {
        // Paths come from documents inside the layout: keep them inside it.
        let clean = scan_path(path.as_bytes());
        if clean.is_empty() || clean.split('/').any(|c| c == "..") || path.contains("..") {
            return Err(SourceError::NotFound(format!(
                "{}: {path} (outside the layout)",
                self.root.display()
            )));
        }
        Ok(self.root.join(clean))
    }
}

impl Store for DirStore {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let full = self.resolve(path)?;
        match File::open(&full) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(SourceError::NotFound(full.display().to_string()))
            }
            Err(source) => Err(SourceError::Io { path: full, source }),
        }
    }

    fn read_small(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let full = self.resolve(path)?;
        let size = self
            .size(path)
            .ok_or_else(|| SourceError::NotFound(full.display().to_string()))?;
        if size > limit {
            return Err(SourceError::TooLarge {
                what: full.display().to_string(),
                limit,
            });
        }
        let mut buf = Vec::new();
        self.open(path)?
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|source| SourceError::Io { path: full, source })?;
        Ok(buf)
    }

    fn exists(&self, path: &str) -> bool {
        self.resolve(path).map(|p| p.is_file()).unwrap_or(false)
    }

    fn size(&self, path: &str) -> Option<u64> {
        let full = self.resolve(path).ok()?;
        std::fs::metadata(full)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}
