//! Image references, skopeo-style: `docker-archive:PATH[:NAME]`, `oci-archive:PATH[:NAME]`,
//! `oci:DIR[:TAG]`, `docker://REGISTRY/REPO[:TAG|@DIGEST]`, `docker-daemon:NAME[:TAG|@DIGEST]`,
//! `podman:NAME`, `report:FILE.json`, `-` for an archive on standard input, or a bare path
//! whose kind is detected from its content. A bare `NAME:TAG` that is not an existing file
//! is an image name: the local engine if it holds it, else a registry (`source::open_image`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::engine::{self, EngineKind};
use super::SourceError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    DockerArchive {
        path: PathBuf,
        name: Option<String>,
    },
    OciArchive {
        path: PathBuf,
        name: Option<String>,
    },
    OciLayout {
        dir: PathBuf,
        name: Option<String>,
    },
    Registry(String),
    /// `docker-daemon:NAME` or `podman:NAME`: an image in a local engine.
    Engine {
        kind: EngineKind,
        name: String,
    },
    /// A bare `NAME:TAG` or `NAME@DIGEST` that names no file.
    Name(String),
    Report(PathBuf),
    Stdin,
    /// No transport given: a directory is an OCI layout, a `.json` file a saved
    /// report, any other file an archive recognised by what it holds.
    Path(PathBuf),
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef, SourceError> {
        let bad = |why: &str| SourceError::BadReference(s.to_string(), why.to_string());
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s == "-" {
            return Ok(ImageRef::Stdin);
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
                return Err(bad("expected docker://REGISTRY/REPO[:TAG|@DIGEST]"));
            }
            return Ok(ImageRef::Registry(rest.to_string()));
        }
        for kind in [EngineKind::Docker, EngineKind::Podman] {
            if let Some(name) = s
                .strip_prefix(kind.transport())
                .and_then(|r| r.strip_prefix(':'))
            {
                engine::check_name(name, s)?;
                return Ok(ImageRef::Engine {
                    kind,
                    name: name.to_string(),
                });
            }
        }
        if let Some(rest) = s.strip_prefix("report:") {
            return non_empty(rest)
                .map(|p| ImageRef::Report(p.into()))
                .ok_or_else(|| bad("no file"));
        }
        for (prefix, kind) in [("docker-archive:", 0), ("oci-archive:", 1), ("oci:", 2)] {
            if let Some(rest) = s.strip_prefix(prefix) {
                let (path, name) = split_name(rest);
                let path = non_empty(path).ok_or_else(|| bad("no path"))?.into();
                return Ok(match kind {
                    0 => ImageRef::DockerArchive { path, name },
                    1 => ImageRef::OciArchive { path, name },
                    _ => ImageRef::OciLayout { dir: path, name },
                });
            }
        }
        let path = Path::new(s);
        if path.extension().is_some_and(|e| e == "json") && !path.is_dir() {
            return Ok(ImageRef::Report(path.into()));
        }
        if !path.exists() && engine::looks_like_name(s) {
            return Ok(ImageRef::Name(s.to_string()));
        }
        Ok(ImageRef::Path(path.into()))
    }

    pub(crate) fn is_report(&self) -> bool {
        matches!(self, ImageRef::Report(_))
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// `PATH:NAME` → (PATH, NAME), unless the path itself exists with the colon in it.
fn split_name(rest: &str) -> (&str, Option<String>) {
    if Path::new(rest).exists() {
        return (rest, None);
    }
    // A digest name (`sha256:…`) holds a colon of its own.
    for marker in [":sha256:", ":sha512:"] {
        if let Some(i) = rest.find(marker) {
            return (&rest[..i], Some(rest[i + 1..].to_string()));
        }
    }
    match rest.rsplit_once(':') {
        Some((p, n)) if !n.is_empty() && !n.contains('/') => (p, Some(n.to_string())),
        _ => (rest, None),
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, t: &str, p: &Path, n: &Option<String>| {
            write!(f, "{t}:{}", p.display())?;
            match n {
                Some(n) => write!(f, ":{n}"),
                None => Ok(()),
            }
        };
        match self {
            ImageRef::DockerArchive { path, name } => with(f, "docker-archive", path, name),
            ImageRef::OciArchive { path, name } => with(f, "oci-archive", path, name),
            ImageRef::OciLayout { dir, name } => with(f, "oci", dir, name),
            ImageRef::Registry(r) => write!(f, "docker://{r}"),
            ImageRef::Engine { kind, name } => write!(f, "{}:{name}", kind.transport()),
            ImageRef::Name(n) => write!(f, "{n}"),
            ImageRef::Report(p) => write!(f, "report:{}", p.display()),
            ImageRef::Stdin => write!(f, "-"),
            ImageRef::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_transport() {
        assert_eq!(ImageRef::parse("-").unwrap(), ImageRef::Stdin);
        assert_eq!(
            ImageRef::parse("oci:/no/such/layout:app-pr").unwrap(),
            ImageRef::OciLayout {
                dir: "/no/such/layout".into(),
                name: Some("app-pr".into())
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:/x/a.tar").unwrap(),
            ImageRef::DockerArchive {
                path: "/x/a.tar".into(),
                name: None
            }
        );
        let d = format!("oci:/l:sha256:{}", "a".repeat(64));
        assert_eq!(
            ImageRef::parse(&d).unwrap(),
            ImageRef::OciLayout {
                dir: "/l".into(),
                name: Some(format!("sha256:{}", "a".repeat(64)))
            }
        );
        assert_eq!(
            ImageRef::parse("docker://ghcr.io/o/a:1").unwrap(),
            ImageRef::Registry("ghcr.io/o/a:1".into())
        );
        assert_eq!(
            ImageRef::parse("base.json").unwrap(),
            ImageRef::Report("base.json".into())
        );
        assert_eq!(
            ImageRef::parse("report:b").unwrap(),
            ImageRef::Report("b".into())
        );
    }

    #[test]
    fn engine_transports_and_bare_names() {
        assert_eq!(
            ImageRef::parse("docker-daemon:app:pr").unwrap(),
            ImageRef::Engine {
                kind: EngineKind::Docker,
                name: "app:pr".into()
            }
        );
        assert_eq!(
            ImageRef::parse("podman:localhost/app:1").unwrap(),
            ImageRef::Engine {
                kind: EngineKind::Podman,
                name: "localhost/app:1".into()
            }
        );
        assert_eq!(
            ImageRef::parse("docker-daemon:app:pr").unwrap().to_string(),
            "docker-daemon:app:pr"
        );
        assert_eq!(
            ImageRef::parse("app:pr").unwrap(),
            ImageRef::Name("app:pr".into())
        );
        // An existing file wins over a name.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app:pr");
        std::fs::write(&file, b"x").unwrap();
        let shown = file.display().to_string();
        assert_eq!(ImageRef::parse(&shown).unwrap(), ImageRef::Path(file));
        // No tag: a path, as before.
        assert_eq!(
            ImageRef::parse("app.tar").unwrap(),
            ImageRef::Path("app.tar".into())
        );
    }

    #[test]
    fn refuses_empty_references() {
        for bad in [
            "",
            "oci:",
            "docker://",
            "report:",
            "docker-archive:",
            "docker-daemon:",
            "podman:",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}
