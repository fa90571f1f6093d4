//! The one reader of the small files a user hands layergate (policies, templates, the
//! GitHub event payload, saved reports and verdicts, history files, Dockerfiles):
//! a real byte cap (the reported length is 0 for `/dev/zero` and a FIFO, so checking
//! it bounds nothing), and only regular files (a FIFO would hang the run, a device
//! would never end). Opened non-blocking, so even opening a FIFO cannot hang.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Largest text input (template, Dockerfile, comment Markdown): these are written
/// by people, a few kilobytes; 16 MiB is far beyond any of them.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl InputError {
    /// Whether the file does not exist (a discovered file that is absent is no error).
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// Reads `path` whole, refusing anything but a regular file and more than `limit` bytes.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text_capped(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read_capped(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

/// Opens `path` for reading if it is a regular file (symlinks followed).
pub(crate) fn open_regular(path: &Path) -> Result<File, InputError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    Err(InputError::NotRegular(if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_oversized_files_are_refused() {
        let e = read_capped(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file (a device)");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = read_capped(&fifo, 1024).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file (a FIFO)");
        let big = dir.path().join("big");
        std::fs::write(&big, [b'x'; 11]).unwrap();
        assert_eq!(
            read_capped(&big, 10).unwrap_err().to_string(),
            "larger than 10 bytes"
        );
        assert_eq!(read_capped(&big, 11).unwrap().len(), 11);
    }
}
