//! The gzip size of a layer that is not stored gzip: what a registry push would
//! store (gzip, default level 6, as `docker push` and buildah compress plain
//! layers), measured by compressing the uncompressed tar in the same streaming
//! pass that scans it. Only layers whose compressed size must be compared with a
//! gzip-stored image ask for it (`analyze` decides from the manifests).

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use flate2::write::GzEncoder;

/// Counts bytes written, keeps none.
#[derive(Default)]
pub(super) struct Count(pub u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(super) type Estimate = Rc<RefCell<Option<GzEncoder<Count>>>>;

/// A new estimate, or none when not asked for.
pub(super) fn estimate(wanted: bool) -> Estimate {
    Rc::new(RefCell::new(wanted.then(|| {
        GzEncoder::new(Count::default(), flate2::Compression::default())
    })))
}

/// The compressed size, once the whole tar stream has passed.
pub(super) fn finish(est: &Estimate) -> io::Result<Option<u64>> {
    est.borrow_mut()
        .take()
        .map(|enc| enc.finish().map(|c| c.0))
        .transpose()
}

/// Feeds every byte read into the estimate's encoder.
pub(super) struct Estimating<R> {
    pub inner: R,
    pub(crate) est: Estimate,
}

impl<R: Read> Read for Estimating<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(enc) = self.est.borrow_mut().as_mut() {
            enc.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compressible input shrinks, and the figure is the size of a gzip member of it.
    #[test]
    fn estimates_the_gzip_member_size() {
        let est = estimate(true);
        let data = b"layergate ".repeat(10_000);
        let mut r = Estimating {
            inner: &data[..],
            est: Rc::clone(&est),
        };
        io::copy(&mut r, &mut io::sink()).unwrap();
        let size = finish(&est).unwrap().unwrap();
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&data).unwrap();
        // Fed in 8 KiB reads rather than one write, deflate may cut its blocks
        // elsewhere: a few bytes apart, never more.
        let whole = enc.finish().unwrap().len() as u64;
        assert!(size.abs_diff(whole) <= 32, "{size} vs {whole}");
        assert!(size < data.len() as u64 / 20);
        assert!(finish(&estimate(false)).unwrap().is_none());
    }
}
