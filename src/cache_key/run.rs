//! `layergate cache-key` end to end: ask each URL's server, write the key files, and for
//! `--dockerfile` rewrite the download steps. Returns what happened line by line; the
//! binary prints it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    plan, rewrite, unified_diff, write_key, CacheKeyError, DownloadKind, FetchOptions, Fetcher,
    Validator, Written,
};

/// One validated `cache-key` invocation.
#[derive(Debug, Clone)]
pub struct Request {
    pub urls: Vec<String>,
    /// Key files' folder; with a Dockerfile, relative to its build context (its folder).
    pub dir: PathBuf,
    pub dockerfile: Option<PathBuf>,
    /// Apply the Dockerfile rewrite instead of only printing it.
    pub write: bool,
    pub fetch: FetchOptions,
}

/// What happened to one URL or step.
#[derive(Debug)]
pub enum Line {
    Key {
        url: String,
        written: Written,
    },
    Failed(CacheKeyError),
    /// A download whose URL names a variable with no `ARG` default.
    Unresolvable {
        line: usize,
        url: String,
        variable: String,
    },
    /// `ADD <url>` pinned with `--checksum` (no key file needed).
    Pinned {
        line: usize,
        url: String,
        sha256: String,
    },
    /// `ADD <url>` left as it is: the builder revalidates it; `--hash` would pin it.
    AddUnpinned {
        line: usize,
        url: String,
    },
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub lines: Vec<Line>,
    /// The Dockerfile rewrite as a unified diff (empty when nothing changes).
    pub diff: Option<String>,
    /// Whether the rewrite was written to the Dockerfile.
    pub applied: bool,
}

impl Outcome {
    /// Any URL that could not be keyed (exit 2).
    pub fn failed(&self) -> bool {
        self.lines.iter().any(|l| matches!(l, Line::Failed(_)))
    }
}

pub fn run(request: &Request) -> Result<Outcome, CacheKeyError> {
    let fetcher = Fetcher::new(request.fetch.clone())?;
    let mut outcome = Outcome::default();
    let Some(dockerfile) = &request.dockerfile else {
        if request.dir.is_relative() {
            refuse_links(Path::new("."), &request.dir)?;
        }
        for url in &request.urls {
            outcome.lines.push(key_one(&fetcher, &request.dir, url));
        }
        return Ok(outcome);
    };
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CacheKeyError::Io { path, source }
    };
    let text = std::fs::read_to_string(dockerfile).map_err(io(dockerfile))?;
    if request.dir.is_absolute()
        || request
            .dir
            .components()
            .any(|c| c == std::path::Component::ParentDir)
    {
        return Err(CacheKeyError::Io {
            path: request.dir.display().to_string(),
            source: std::io::Error::other(
                "the key folder must be inside the build context (a relative path without ..)",
            ),
        });
    }
    let context = dockerfile.parent().unwrap_or(Path::new("."));
    refuse_links(context, &request.dir)?;
    let on_disk = context.join(&request.dir);
    let downloads = plan(&text);
    let mut checksums = BTreeMap::new();
    for d in &downloads {
        for (url, variable) in &d.unresolved {
            outcome.lines.push(Line::Unresolvable {
                line: d.line,
                url: url.clone(),
                variable: variable.clone(),
            });
        }
        for url in &d.urls {
            match d.kind {
                DownloadKind::Run => outcome.lines.push(key_one(&fetcher, &on_disk, url)),
                DownloadKind::Add if request.fetch.hash && d.urls.len() == 1 => {
                    match fetcher.validator(url) {
                        Ok(Validator::Sha256(hex)) => {
                            checksums.insert(url.clone(), hex.clone());
                            outcome.lines.push(Line::Pinned {
                                line: d.line,
                                url: url.clone(),
                                sha256: hex,
                            });
                        }
                        Ok(_) => {}
                        Err(e) => outcome.lines.push(Line::Failed(e)),
                    }
                }
                DownloadKind::Add => outcome.lines.push(Line::AddUnpinned {
                    line: d.line,
                    url: url.clone(),
                }),
            }
        }
    }
    let dir_in_context = request.dir.to_string_lossy().replace('\\', "/");
    let new = rewrite(&text, &downloads, &dir_in_context, &checksums);
    if new != text {
        let name = dockerfile
            .file_name()
            .map_or("Dockerfile".into(), |n| n.to_string_lossy().into_owned());
        outcome.diff = Some(unified_diff(&name, &text, &new));
        // Key files first; the Dockerfile only when every one was written, so a
        // failed run never leaves a COPY of a key file that does not exist.
        if request.write && !outcome.failed() {
            crate::write::write_file(dockerfile, new.as_bytes()).map_err(io(dockerfile))?;
            outcome.applied = true;
        }
    }
    Ok(outcome)
}

/// The key folder must stay inside the build context: no component of it may be a
/// symlink (it would take the key files, and the `COPY`, somewhere else).
fn refuse_links(context: &Path, dir: &Path) -> Result<(), CacheKeyError> {
    let mut at = context.to_path_buf();
    for part in dir.components() {
        if matches!(part, std::path::Component::CurDir) {
            continue;
        }
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return Err(CacheKeyError::Io {
                path: at.display().to_string(),
                source: std::io::Error::other(
                    "is a symlink; the key folder must be a real folder inside the build context",
                ),
            }),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

fn key_one(fetcher: &Fetcher, dir: &Path, url: &str) -> Line {
    match fetcher.validator(url).and_then(|v| write_key(dir, url, &v)) {
        Ok(written) => Line::Key {
            url: url.to_string(),
            written,
        },
        Err(e) => Line::Failed(e),
    }
}
