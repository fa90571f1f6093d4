//! A bound on what a tar reader may consume *between* two members: headers, PAX
//! records, GNU long names and sparse maps. The `tar` crate reads extension data
//! into memory whole, so without this a tiny compressed layer whose PAX header
//! claims gigabytes would cost gigabytes of memory. Member content is not bounded
//! here: the caller streams it.

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

/// Most bytes of headers and extension records that may precede one member. Real
/// PAX headers are a few hundred bytes; a path is at most a few KiB.
pub(super) const MAX_HEADER_BYTES: u64 = 1024 * 1024;

/// The error a [`HeaderGuard`] returns once the budget is spent; recognisable
/// through `io::Error::get_ref` after the tar crate hands it back.
#[derive(Debug, thiserror::Error)]
#[error("tar extension headers (PAX records, GNU long names) of one member exceed {MAX_HEADER_BYTES} bytes")]
pub struct HeadersTooLarge;

/// Switches the budget on while the tar reader looks for the next member.
#[derive(Clone, Default)]
pub(crate) struct Budget(Rc<Cell<Option<u64>>>);

impl Budget {
    /// Arms the budget: from now on reads count against it.
    pub(crate) fn arm(&self) {
        self.0.set(Some(MAX_HEADER_BYTES + 16 * 512));
    }

    /// Disarms it: member content flows freely.
    pub(crate) fn disarm(&self) {
        self.0.set(None);
    }
}

/// Passes reads through, failing once an armed budget is spent.
pub(crate) struct HeaderGuard<R> {
    inner: R,
    budget: Budget,
}

impl<R> HeaderGuard<R> {
    pub(crate) fn new(inner: R) -> (Self, Budget) {
        let budget = Budget::default();
        (
            HeaderGuard {
                inner,
                budget: budget.clone(),
            },
            budget,
        )
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.budget.0.get() {
            None => self.inner.read(buf),
            Some(0) if !buf.is_empty() => Err(io::Error::other(HeadersTooLarge)),
            Some(left) => {
                let cap = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = self.inner.read(&mut buf[..cap])?;
                self.budget.0.set(Some(left - n as u64));
                Ok(n)
            }
        }
    }
}

impl<R: Seek> Seek for HeaderGuard<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Whether an error the tar reader returned is a spent [`HeaderGuard`] budget.
pub(crate) fn is_headers_too_large(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<HeadersTooLarge>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armed_budget_stops_reads_and_disarmed_does_not() {
        let data = vec![7u8; (MAX_HEADER_BYTES as usize) * 2];
        let (mut g, budget) = HeaderGuard::new(data.as_slice());
        budget.arm();
        let err = io::copy(&mut g, &mut io::sink()).unwrap_err();
        assert!(is_headers_too_large(&err));
        budget.disarm();
        assert!(io::copy(&mut g, &mut io::sink()).unwrap() > 0);
    }
}
