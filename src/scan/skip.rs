//! A forward-only `Seek` over a stream, so the tar reader skips to each header by
//! reading into one buffer kept for the whole walk. Without it, the tar crate
//! skips by reading into a zeroed 32 KiB buffer of its own on every member, even
//! when there is nothing to skip: for a layer of a million empty files, zeroing
//! that buffer was a sixth of the whole scan.

use std::io::{self, Read, Seek, SeekFrom};

pub(super) struct Skipping<R> {
    inner: R,
    /// Bytes read so far: the position the tar reader is told after a skip.
    pos: u64,
    buf: Vec<u8>,
}

impl<R: Read> Skipping<R> {
    pub(super) fn new(inner: R) -> Skipping<R> {
        Skipping {
            inner,
            pos: 0,
            buf: Vec::new(),
        }
    }

    pub(super) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Skipping<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Skipping<R> {
    /// Only forward from the current position (all the tar reader asks for):
    /// the bytes in between are read, so every digest still sees them.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let SeekFrom::Current(ahead) = to else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a layer stream only skips forward",
            ));
        };
        let mut left = u64::try_from(ahead).map_err(|_| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                "a layer stream only skips forward",
            )
        })?;
        if left > 0 && self.buf.is_empty() {
            self.buf = vec![0; 32 * 1024];
        }
        while left > 0 {
            let want = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.buf.len());
            let n = self.inner.read(&mut self.buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF during skip",
                ));
            }
            self.pos += n as u64;
            left -= n as u64;
        }
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_forward_by_reading_and_refuses_anything_else() {
        let mut s = Skipping::new(&b"0123456789"[..]);
        let mut two = [0u8; 2];
        s.read_exact(&mut two).unwrap();
        assert_eq!(s.stream_position().unwrap(), 2);
        assert_eq!(s.seek(SeekFrom::Current(5)).unwrap(), 7);
        s.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"78");
        assert!(s.seek(SeekFrom::Current(-1)).is_err());
        assert!(s.seek(SeekFrom::Start(0)).is_err());
        assert!(s.seek(SeekFrom::Current(5)).is_err(), "past the end");
    }
}
