//! A reader that hashes and counts what passes through it, so digests are
//! verified in the same pass that scans the layer.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

use crate::image::{Digest, Hasher};

pub(super) struct Tally {
    hasher: Option<Hasher>,
    pub bytes: u64,
}

impl Tally {
    pub(super) fn finish(&mut self) -> Option<Digest> {
        self.hasher.take().map(Hasher::finish)
    }
}

/// Hashes every byte read through it into a shared [`Tally`], which the caller
/// keeps to read the digest once the stream has been consumed.
pub(super) struct HashingReader<R> {
    inner: R,
    tally: Rc<RefCell<Tally>>,
}

impl<R: Read> HashingReader<R> {
    pub(super) fn new(inner: R, hasher: Option<Hasher>) -> (Self, Rc<RefCell<Tally>>) {
        let tally = Rc::new(RefCell::new(Tally { hasher, bytes: 0 }));
        (
            HashingReader {
                inner,
                tally: Rc::clone(&tally),
            },
            tally,
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut t = self.tally.borrow_mut();
        t.bytes += n as u64;
        if let Some(h) = t.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}
