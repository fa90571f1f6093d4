//! The local engine as a source: `docker-daemon:NAME[:TAG|@DIGEST]` (skopeo's name)
//! and `podman:NAME`, read through the Engine API (podman serves the same API).
//! `GET /images/{name}/json` gives the identity and `RepoDigests`; `GET
//! /images/{name}/get` streams a `docker save` archive that is scanned in one pass
//! as it arrives (`export.rs`), with no temporary copy, and matched against its own
//! `manifest.json` by the same code that reads a saved archive.
//!
//! - `endpoint`: where the engine listens (`DOCKER_HOST`, `DOCKER_CONTEXT`, `CONTAINER_HOST`).
//! - `client`: HTTP/1.1 over the socket on hyper, version negotiated from `/_ping`.
//! - `export`: the streamed archive and its scans.

mod client;
mod endpoint;
mod error;
mod export;

use std::sync::Arc;

pub(crate) use endpoint::Endpoint;
pub(crate) use error::EngineError;

use client::Client;
use export::{Export, StreamError};

use super::{docker_archive, Opened, SourceError, StreamScan};

/// Which engine a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    /// The transport prefix, also the report's `image.format`.
    pub(crate) fn transport(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker-daemon",
            EngineKind::Podman => "podman",
        }
    }

    /// The variable that points layergate at another engine.
    pub fn env(self) -> &'static str {
        match self {
            EngineKind::Docker => "DOCKER_HOST",
            EngineKind::Podman => "CONTAINER_HOST",
        }
    }
}

/// What the engine says about an image before it is exported.
#[derive(Debug, Clone)]
struct Inspect {
    id: String,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
}

/// A connected engine.
pub(crate) struct Engine {
    kind: EngineKind,
    client: Client,
}

impl Engine {
    /// Finds the engine from the environment and negotiates the API version.
    pub(crate) fn connect(kind: EngineKind) -> Result<Engine, EngineError> {
        let endpoint = endpoint::discover(kind, &endpoint::ProcessEnv)?;
        let client = Client::connect(endpoint, kind.env())?;
        Ok(Engine { kind, client })
    }

    pub(crate) fn address(&self) -> String {
        self.client.address()
    }

    /// Whether the engine holds `name` (used by the bare-name rule).
    pub(crate) fn has(&self, name: &str) -> Result<bool, EngineError> {
        match self.inspect(name) {
            Ok(_) => Ok(true),
            Err(EngineError::NoSuchImage { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn inspect(&self, name: &str) -> Result<Inspect, EngineError> {
        let v = match self
            .client
            .get_json(&format!("/images/{name}/json"), "inspect")?
        {
            Ok(v) => v,
            Err((404, _)) => return Err(self.no_such_image(name)),
            Err((status, message)) => {
                return Err(EngineError::Status {
                    address: self.address(),
                    what: format!("inspect {name}"),
                    status,
                    message,
                })
            }
        };
        let strings = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Inspect {
            id: v
                .get("Id")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_string(),
            repo_tags: strings("RepoTags"),
            repo_digests: strings("RepoDigests"),
        })
    }

    fn no_such_image(&self, name: &str) -> EngineError {
        EngineError::NoSuchImage {
            name: name.to_string(),
            address: self.address(),
            suggest: suggest_registry(name),
        }
    }

    /// Exports `name` and scans it on the way; `shown` is the reference as the user wrote it.
    pub(crate) fn open(
        &self,
        name: &str,
        shown: &str,
        scan: &StreamScan,
    ) -> Result<Opened, SourceError> {
        let inspect = self.inspect(name)?;
        let resp = self
            .client
            .get_api(&format!("/images/{name}/get"), "export")?;
        if resp.status == 404 {
            return Err(self.no_such_image(name).into());
        }
        if resp.status != 200 {
            let status = resp.status;
            return Err(EngineError::Status {
                address: self.address(),
                what: format!("export {name}"),
                status,
                message: self.client.read_error(resp),
            }
            .into());
        }
        let stream = self.client.stream(resp);
        let export = match Export::read(stream, shown, scan) {
            Ok(e) => Arc::new(e),
            Err(StreamError::Truncated(msg)) => {
                return Err(EngineError::Truncated {
                    address: self.address(),
                    name: name.to_string(),
                    msg,
                }
                .into())
            }
            Err(StreamError::Other(e)) => return Err(e),
        };
        // An export of one name holds one image; select it by its ID when it lists more.
        let id_hex = inspect.id.trim_start_matches("sha256:");
        let mut image = match docker_archive::resolve(&*export, None, shown) {
            Err(SourceError::Ambiguous { .. }) if !id_hex.is_empty() => {
                docker_archive::resolve(&*export, Some(id_hex), shown)?
            }
            other => other?,
        };
        image.info.format = self.kind.transport().to_string();
        image.info.repo_digests = inspect.repo_digests;
        if image.info.name.is_none() {
            image.info.name = inspect.repo_tags.into_iter().next();
        }
        Ok(Opened {
            image,
            blobs: Box::new(SharedExport(export)),
        })
    }
}

/// The blob side of an export, shareable between images of one run.
struct SharedExport(Arc<Export>);

impl super::BlobSource for SharedExport {
    fn open_layer(
        &self,
        layer: &super::LayerSource,
    ) -> Result<Box<dyn std::io::Read + Send + '_>, SourceError> {
        self.0.open_layer(layer)
    }

    fn scanned(
        &self,
        layer: &super::LayerSource,
    ) -> Option<Result<crate::scan::LayerScan, crate::scan::ScanError>> {
        self.0.scanned(layer)
    }
}

/// Opens `name` in the engine of `kind`.
pub(crate) fn open(
    kind: EngineKind,
    name: &str,
    shown: &str,
    scan: &StreamScan,
) -> Result<Opened, SourceError> {
    check_name(name, shown)?;
    Engine::connect(kind)?.open(name, shown, scan)
}

/// Names go into a URL path: only the characters a reference may hold.
pub(crate) fn check_name(name: &str, shown: &str) -> Result<(), SourceError> {
    let ok = !name.is_empty()
        && !name.starts_with(['/', '.', '-', ':', '@'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SourceError::BadReference(
            shown.to_string(),
            "expected NAME[:TAG|@DIGEST]".into(),
        ))
    }
}

/// Whether a bare argument reads as an image name rather than a file: `NAME:TAG` or
/// `NAME@DIGEST`, lowercase repository, no path-like start.
pub(crate) fn looks_like_name(s: &str) -> bool {
    if check_name(s, s).is_err() {
        return false;
    }
    let repo_end = match s.find('@') {
        Some(i) => i,
        None => match s.rfind(':') {
            // `host:port/repo` has its colon before the last slash: no tag.
            Some(i) if !s[i..].contains('/') => i,
            _ => return false,
        },
    };
    let repo = &s[..repo_end];
    let tag = &s[repo_end + 1..];
    let mut parts: Vec<&str> = repo.split('/').collect();
    // A registry host may be written in any case; repository paths are lowercase.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        parts.remove(0);
    }
    !tag.is_empty()
        && parts
            .iter()
            .all(|c| !c.is_empty() && !c.chars().any(|ch| ch.is_ascii_uppercase()))
}

/// `app:pr` → `docker.io/library/app:pr`, as a registry would resolve it.
fn suggest_registry(name: &str) -> String {
    let first = name.split('/').next().unwrap_or_default();
    let has_host = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    if has_host {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    }
}

impl From<EngineError> for SourceError {
    fn from(e: EngineError) -> Self {
        SourceError::Engine(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_need_a_tag_or_digest() {
        assert!(looks_like_name("app:pr"));
        assert!(looks_like_name("ghcr.io/o/app:1.2"));
        assert!(looks_like_name("localhost:5000/app:x"));
        assert!(looks_like_name(&format!("app@sha256:{}", "a".repeat(64))));
        assert!(!looks_like_name("app"));
        assert!(!looks_like_name("localhost:5000/app"));
        assert!(!looks_like_name("./app:pr"));
        assert!(!looks_like_name("/tmp/app:pr"));
        assert!(!looks_like_name("App:pr"));
        assert!(!looks_like_name("a b:c"));
    }

    #[test]
    fn suggestions_name_the_registry_a_pull_would_use() {
        assert_eq!(suggest_registry("app:pr"), "docker.io/library/app:pr");
        assert_eq!(suggest_registry("me/app:pr"), "docker.io/me/app:pr");
        assert_eq!(suggest_registry("ghcr.io/me/app:pr"), "ghcr.io/me/app:pr");
    }

    #[test]
    fn names_with_url_characters_are_refused() {
        assert!(check_name("app:pr", "x").is_ok());
        assert!(check_name("app?x=1", "x").is_err());
        assert!(check_name("../x", "x").is_err());
        assert!(check_name("", "x").is_err());
    }
}
