//! A bounded pipe between two threads of one layer's scan, so that reading and
//! hashing the blob, decompressing it, and walking the tar (hashing every file)
//! run at the same time on different cores instead of one after the other.
//!
//! Memory is bounded: at most [`DEPTH`] + 2 buffers of [`CHUNK`] bytes exist per
//! pipe, recycled from the reading end back to the writing end, so a layer of any
//! size costs the same. Either end may stop early: when the reader goes away the
//! writer's next send fails and it stops; when the writer stops (end of data or
//! an error, which it sends down the pipe) the reader sees it in order.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use crate::image::{Digest, Hasher};

/// Bytes per buffer: large enough that channel traffic is a rounding error,
/// small enough to stay in the L2 cache of the core that reads it next.
pub(super) const CHUNK: usize = 256 * 1024;
/// Buffers in flight between the two ends.
pub(super) const DEPTH: usize = 4;

type Msg = io::Result<Vec<u8>>;

/// The writing end.
pub(super) struct PipeWriter {
    tx: SyncSender<Msg>,
    pool: Receiver<Vec<u8>>,
    made: usize,
}

/// The reading end: a plain `Read`.
pub(super) struct PipeReader {
    rx: Receiver<Msg>,
    pool: Sender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

pub(super) fn pipe() -> (PipeWriter, PipeReader) {
    let (tx, rx) = sync_channel(DEPTH);
    let (ptx, prx) = channel();
    (
        PipeWriter {
            tx,
            pool: prx,
            made: 0,
        },
        PipeReader {
            rx,
            pool: ptx,
            buf: Vec::new(),
            pos: 0,
            done: false,
        },
    )
}

impl PipeWriter {
    /// An empty buffer of `CHUNK` capacity: a recycled one, a new one while
    /// fewer than DEPTH + 2 exist, else the next one the reader gives back.
    /// `None` when the reader is gone.
    fn buffer(&mut self) -> Option<Vec<u8>> {
        if let Ok(b) = self.pool.try_recv() {
            return Some(b);
        }
        if self.made < DEPTH + 2 {
            self.made += 1;
            return Some(Vec::with_capacity(CHUNK));
        }
        self.pool.recv().ok()
    }

    /// Ends the pipe with an error the reader will see.
    pub(super) fn fail(self, e: io::Error) {
        let _ = self.tx.send(Err(e));
    }

    /// Copies `src` into the pipe in full chunks until its end, hashing every
    /// byte on the way. Returns the digest and byte count, or `None` when the
    /// reader stopped early or `src` failed (the error went down the pipe).
    pub(super) fn pump<R: Read>(
        mut self,
        mut src: R,
        mut hasher: Option<Hasher>,
    ) -> Option<(Option<Digest>, u64)> {
        let mut total = 0u64;
        loop {
            let mut buf = self.buffer()?;
            // A recycled buffer comes back at the length it was filled to (a full
            // CHUNK but for the last one): its stale bytes are overwritten by the
            // reads below, so only a new buffer's bytes need initialising once.
            if buf.len() < CHUNK {
                buf.resize(CHUNK, 0);
            }
            let mut filled = 0;
            while filled < CHUNK {
                match src.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = self.tx.send(Err(e));
                        return None;
                    }
                }
            }
            buf.truncate(filled);
            if filled == 0 {
                return Some((hasher.map(Hasher::finish), total));
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&buf);
            }
            total += filled as u64;
            self.tx.send(Ok(buf)).ok()?;
        }
    }
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let avail = self.fill_buf()?;
        let n = out.len().min(avail.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// The decompressors read the chunks in place (`flate2::bufread`, zstd's
/// `with_buffer`) instead of copying them into a buffer of their own first.
impl BufRead for PipeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(&[]);
            }
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let old = std::mem::replace(&mut self.buf, next);
                    self.pos = 0;
                    // The writer may have stopped: then nobody wants it back.
                    let _ = self.pool.send(old);
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(&[]);
                }
            }
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Algorithm;

    #[test]
    fn carries_every_byte_in_order_and_hashes_them() {
        let data: Vec<u8> = (0..(CHUNK * 9 + 17)).map(|i| (i % 253) as u8).collect();
        let (w, mut r) = pipe();
        let got = std::thread::scope(|s| {
            let h = s.spawn(|| w.pump(data.as_slice(), Some(Hasher::new(Algorithm::Sha256))));
            let mut got = Vec::new();
            r.read_to_end(&mut got).unwrap();
            let (digest, n) = h.join().unwrap().unwrap();
            let mut want = Hasher::new(Algorithm::Sha256);
            want.update(&data);
            assert_eq!(digest.unwrap(), want.finish());
            assert_eq!(n, data.len() as u64);
            got
        });
        assert_eq!(got, data);
    }

    #[test]
    fn a_reader_that_stops_early_stops_the_writer() {
        let data = vec![0u8; CHUNK * 50];
        let (w, mut r) = pipe();
        std::thread::scope(|s| {
            let h = s.spawn(|| w.pump(data.as_slice(), None));
            let mut one = [0u8; 10];
            r.read_exact(&mut one).unwrap();
            drop(r);
            assert!(h.join().unwrap().is_none());
        });
    }

    #[test]
    fn a_source_error_reaches_the_reader() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let (w, mut r) = pipe();
        std::thread::scope(|s| {
            s.spawn(|| w.pump(Broken, None));
            let e = r.read_to_end(&mut Vec::new()).unwrap_err();
            assert_eq!(e.to_string(), "boom");
        });
    }
}
