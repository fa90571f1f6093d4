//! One streaming pass over an engine's export (`GET /images/{name}/get`): a tar in the
//! `docker save` shape, legacy or Docker 25's OCI-in-docker-save (containerd image
//! store), whose `manifest.json` comes last. Nothing is written to disk and no layer
//! is held in memory: every member large enough to be a layer is scanned as it goes
//! by (the same `scan_layer` the archive reader feeds), small members (documents, and
//! the empty layers engines emit) are kept, and the manifest is matched at the end by
//! `docker_archive`, as for a saved archive.
//!
//! A stream cannot be read twice, so scans are handed to `analyze` through
//! [`BlobSource::scanned`] and verified there exactly like a layer read from a file.
//! An export that stops early is an error, never a smaller image: a member shorter
//! than its header says, a broken tar (a failed export is a tar with the engine's
//! error JSON spliced in and a clean HTTP end), or no `manifest.json` at the end.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{self, Cursor, Read};
use std::rc::Rc;
use std::sync::Mutex;

use crate::scan::{scan_layer_estimating, LayerScan, ScanError};
use crate::source::{scan_path, BlobSource, LayerSource, SourceError, Store, StreamScan};

/// Members up to this size are kept in memory rather than scanned on the fly: every
/// document, and the tiny empty layers (1 KiB tar, 32-byte gzip) engines write.
const KEEP_BYTES: u64 = 64 * 1024;

/// Most bytes kept in memory for one export (documents and tiny members).
const MAX_KEPT_BYTES: u64 = 256 << 20;

const MAX_SYMLINK_HOPS: usize = 16;

/// Bytes read after the end-of-archive block (Go's tar writer adds one more zero block).
const MAX_TRAILER_BYTES: u64 = 1 << 20;

/// What a streamed export left behind: small members in memory, scans of the rest.
pub(super) struct Export {
    /// Shown in messages (`docker-daemon:app:pr`).
    shown: String,
    kept: HashMap<String, Vec<u8>>,
    sizes: HashMap<String, u64>,
    scans: Mutex<HashMap<String, Result<LayerScan, ScanError>>>,
    /// Legacy saves link a repeated layer (`<id>/layer.tar -> ../<id2>/layer.tar`).
    links: HashMap<String, String>,
}

/// Why reading the stream stopped.
#[derive(Debug)]
pub(super) enum StreamError {
    /// The tar ended or broke early; the message says where.
    Truncated(String),
    Other(SourceError),
}

impl Export {
    /// Reads the whole export from `stream`, scanning layer-sized members on the way.
    pub(super) fn read(
        stream: impl Read,
        shown: &str,
        scan: &StreamScan,
    ) -> Result<Export, StreamError> {
        let mut export = Export {
            shown: shown.to_string(),
            kept: HashMap::new(),
            sizes: HashMap::new(),
            scans: Mutex::new(HashMap::new()),
            links: HashMap::new(),
        };
        let mut kept_bytes = 0u64;
        let mut scans = HashMap::new();
        let total = Rc::new(Cell::new(0u64));
        let stream = Tally {
            inner: stream,
            n: Rc::clone(&total),
        };
        // Where the last member (with its padding) ended: the end-of-archive block
        // must follow, or the stream was cut at a member boundary.
        let mut end_of_members = 0u64;
        let (guarded, budget) = crate::scan::HeaderGuard::new(stream);
        let mut archive = tar::Archive::new(guarded);
        let mut entries = archive
            .entries()
            .map_err(|e| StreamError::Truncated(e.to_string()))?;
        loop {
            budget.arm();
            let next = entries.next();
            budget.disarm();
            let Some(entry) = next else { break };
            let mut entry = entry.map_err(|e| {
                StreamError::Truncated(format!(
                    "not a tar past this point ({})",
                    crate::scan::clean_message(&e.to_string())
                ))
            })?;
            end_of_members = (entry.raw_file_position() + entry.size()).div_ceil(512) * 512;
            let name = scan_path(&entry.path_bytes());
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link_name_bytes() {
                    let base = match (kind.is_symlink(), name.rsplit_once('/')) {
                        (true, Some((dir, _))) => format!("{dir}/"),
                        _ => String::new(),
                    };
                    let mut joined = base.into_bytes();
                    joined.extend_from_slice(&target);
                    export.links.insert(name, scan_path(&joined));
                }
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                continue;
            }
            let size = entry.size();
            let mut counted = Counted {
                inner: &mut entry,
                n: 0,
            };
            let mut first = [0u8; 1];
            let keep = if size <= KEEP_BYTES {
                true
            } else {
                counted
                    .read_exact(&mut first)
                    .map_err(|e| short(&name, e))?;
                // A JSON document (a config in `blobs/`) starts with `{`; a layer
                // (tar, gzip, zstd) never does.
                first[0] == b'{' && size <= crate::image::MAX_JSON_BYTES
            };
            if keep {
                kept_bytes += size;
                if kept_bytes > MAX_KEPT_BYTES {
                    return Err(StreamError::Other(SourceError::TooLarge {
                        what: format!("{shown}: small members of the export"),
                        limit: MAX_KEPT_BYTES,
                    }));
                }
                let mut buf = Vec::with_capacity(size as usize);
                buf.extend_from_slice(&first[..usize::from(size > KEEP_BYTES)]);
                counted.read_to_end(&mut buf).map_err(|e| short(&name, e))?;
                if counted.n != size {
                    return Err(short_member(&name, counted.n, size));
                }
                export.sizes.insert(name.clone(), size);
                export.kept.insert(name, buf);
                continue;
            }
            // The member is handed to a scanner thread chunk by chunk: the socket (and
            // the tar walk) go on here while the other core hashes and parses.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(PIPE_CHUNKS);
            let (scan, fed) = std::thread::scope(|scope| {
                let scanner = scope.spawn(move || {
                    let reader = Cursor::new(first).chain(Piped {
                        rx,
                        buf: Cursor::new(Vec::new()),
                    });
                    scan_layer_estimating(reader, None, &scan.limits, scan.estimate_gzip)
                });
                let fed = feed(&mut counted, &tx);
                drop(tx);
                let scan = scanner.join().unwrap_or_else(|_| {
                    Err(ScanError::Io(io::Error::other("the layer scanner stopped")))
                });
                (scan, fed)
            });
            fed.map_err(|e| short(&name, e))?;
            if counted.n != size {
                return Err(short_member(&name, counted.n, size));
            }
            export.sizes.insert(name.clone(), size);
            scans.insert(name, scan);
        }
        if total.get() < end_of_members + 512 {
            return Err(StreamError::Truncated(
                "the tar ended without its end-of-archive block".into(),
            ));
        }
        // Read the answer to its end, so a connection that breaks after the last
        // member is still noticed; an engine pads with a few zero blocks at most.
        let mut rest = archive.into_inner().take(MAX_TRAILER_BYTES);
        io::copy(&mut rest, &mut io::sink()).map_err(|e| short("the end of the tar", e))?;
        export.scans = Mutex::new(scans);
        if !export.kept.contains_key("manifest.json") {
            return Err(StreamError::Truncated(
                "it ended without manifest.json".into(),
            ));
        }
        Ok(export)
    }

    /// The member a name stands for, through legacy links.
    fn canonical<'a>(&'a self, path: &'a str) -> &'a str {
        let mut p = path;
        for _ in 0..MAX_SYMLINK_HOPS {
            if self.sizes.contains_key(p) {
                return p;
            }
            match self.links.get(p) {
                Some(next) => p = next,
                None => return p,
            }
        }
        p
    }

    fn not_found(&self, path: &str) -> SourceError {
        SourceError::NotFound(format!("{}: {path}", self.shown))
    }
}

fn short(name: &str, e: io::Error) -> StreamError {
    StreamError::Truncated(format!(
        "{name}: {}",
        crate::scan::clean_message(&e.to_string())
    ))
}

fn short_member(name: &str, got: u64, want: u64) -> StreamError {
    StreamError::Truncated(format!("{name} ended after {got} of {want} bytes"))
}

/// Chunks in flight between the stream and the scanner thread (64 KiB each).
const PIPE_CHUNKS: usize = 16;
const PIPE_CHUNK_BYTES: usize = 64 * 1024;

/// Sends the whole member to the scanner; once the scanner is done (it stops at the
/// end of the layer's tar, or at an error) the rest is read and dropped here.
fn feed(from: &mut impl Read, tx: &std::sync::mpsc::SyncSender<Vec<u8>>) -> io::Result<()> {
    let mut open = true;
    loop {
        let mut chunk = vec![0u8; PIPE_CHUNK_BYTES];
        let n = from.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        chunk.truncate(n);
        if open && tx.send(chunk).is_err() {
            open = false;
        }
    }
}

/// The scanner's end of the pipe.
struct Piped {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    buf: Cursor<Vec<u8>>,
}

impl Read for Piped {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.buf.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(chunk) => self.buf = Cursor::new(chunk),
                // The feeder is done: end of the member.
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Counts every byte pulled from the stream.
struct Tally<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Counts the bytes read through it, so a member cut short is noticed.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

impl Store for Export {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let p = self.canonical(path);
        match self.kept.get(p) {
            Some(bytes) => Ok(Box::new(Cursor::new(bytes.as_slice()))),
            None if self.sizes.contains_key(p) => Err(SourceError::Unsupported(format!(
                "{}: {path} was scanned as it streamed by and cannot be read again",
                self.shown
            ))),
            None => Err(self.not_found(path)),
        }
    }

    fn read_small(&self, path: &str, limit: u64) -> Result<Vec<u8>, SourceError> {
        let p = self.canonical(path);
        match self.kept.get(p) {
            Some(bytes) if bytes.len() as u64 > limit => Err(SourceError::TooLarge {
                what: format!("{}: {path}", self.shown),
                limit,
            }),
            Some(bytes) => Ok(bytes.clone()),
            None if self.sizes.contains_key(p) => Err(SourceError::TooLarge {
                what: format!("{}: {path}", self.shown),
                limit,
            }),
            None => Err(self.not_found(path)),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.sizes
            .contains_key(self.canonical(&scan_path(path.as_bytes())))
    }

    fn size(&self, path: &str) -> Option<u64> {
        self.sizes
            .get(self.canonical(&scan_path(path.as_bytes())))
            .copied()
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }
}

impl BlobSource for Export {
    fn open_layer(&self, layer: &LayerSource) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        Store::open(self, &layer.locator)
    }

    fn scanned(&self, layer: &LayerSource) -> Option<Result<LayerScan, ScanError>> {
        let p = self.canonical(&layer.locator).to_string();
        let mut scans = self.scans.lock().unwrap_or_else(|e| e.into_inner());
        match scans.get(&p)? {
            Ok(scan) => Some(Ok(scan.clone())),
            Err(_) => scans.remove(&p),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
