//! The edge that writes a rewritten Dockerfile: a temporary file in the same folder,
//! given the replaced file's mode, then renamed over it, so a reader never sees half a
//! file and the file keeps its permissions.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `text` atomically, keeping its mode.
pub fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), permissions)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("Dockerfile");
        std::fs::write(&f, "FROM a\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
        replace(&f, "FROM b\n").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "FROM b\n");
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
