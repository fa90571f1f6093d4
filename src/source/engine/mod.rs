//! The local engine as a source: `docker-daemon:NAME[:TAG|@DIGEST]` (skopeo's name)
//! and `podman:NAME`, read through the Engine API (podman serves the same API).
//! `GET /images/{name}/json` gives the identity, the platform and `RepoDigests`;
//! `GET /images/{name}/get` (or `/images/get?names=…&names=…` for every image of a
//! run one engine holds, so shared layers come once) streams a `docker save` archive
//! that is scanned in one pass as it arrives (`export/`), with no temporary copy, and
//! matched against its own `manifest.json` by the same code that reads a saved archive.
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

use crate::image::Platform;

use super::{docker_archive, Opened, ResolvedImage, SourceError, StreamScan};

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
    pub(crate) fn env(self) -> &'static str {
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
    /// `Os`/`Architecture`/`Variant`, from the image's config; `None` when the engine
    /// names no OS.
    platform: Option<Platform>,
}

/// One image to read from an engine.
pub(crate) struct Wanted<'a> {
    /// The name the engine knows it by.
    pub(crate) name: &'a str,
    /// The reference as the user wrote it (`docker-daemon:app:pr`), for the report
    /// and for messages.
    pub(crate) shown: String,
    /// The platform asked for (`--platform`); `None` takes whatever the engine holds.
    pub(crate) platform: Option<&'a Platform>,
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

    pub(crate) fn kind(&self) -> EngineKind {
        self.kind
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

    /// The one platform the engine holds under `name`, asked of its inspect (no
    /// export); `None` when the engine does not say.
    pub(crate) fn platform(&self, name: &str) -> Result<Option<Platform>, EngineError> {
        Ok(self.inspect(name)?.platform)
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
        let string = |key: &str| {
            v.get(key)
                .and_then(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let platform = string("Os").map(|os| {
            Platform {
                os,
                architecture: string("Architecture").unwrap_or_default(),
                variant: string("Variant"),
            }
            .normalized()
        });
        Ok(Inspect {
            id: string("Id").unwrap_or_default(),
            repo_tags: strings("RepoTags"),
            repo_digests: strings("RepoDigests"),
            platform,
        })
    }

    fn no_such_image(&self, name: &str) -> EngineError {
        EngineError::NoSuchImage {
            name: name.to_string(),
            address: self.address(),
            suggest: suggest_registry(name),
        }
    }

    /// Exports every image of `wanted` in one request and scans it on the way, so
    /// layers they share cross the socket and are scanned once; the images come
    /// back in the order asked. A platform asked for is checked before the export
    /// (the inspect's) and after it (the exported config's).
    pub(crate) fn open_all(
        &self,
        wanted: &[Wanted<'_>],
        scan: &StreamScan,
    ) -> Result<Vec<Opened>, SourceError> {
        let mut inspects = Vec::new();
        for w in wanted {
            check_name(w.name, &w.shown)?;
            let inspect = self.inspect(w.name)?;
            if let Some(have) = &inspect.platform {
                check_platform(w.platform, have, &w.shown)?;
            }
            inspects.push(inspect);
        }
        let mut names: Vec<&str> = Vec::new();
        for w in wanted {
            if !names.contains(&w.name) {
                names.push(w.name);
            }
        }
        let shown: Vec<&str> = wanted.iter().map(|w| w.shown.as_str()).collect();
        let export = self.export(&names, &shown.join(", "), scan)?;
        let mut opened = Vec::new();
        for (w, inspect) in wanted.iter().zip(inspects) {
            let id_hex = inspect.id.trim_start_matches("sha256:");
            let image = if names.len() == 1 {
                // An export of one name holds one image; select it by its ID when it
                // lists more.
                match docker_archive::resolve(&*export, None, &w.shown) {
                    Err(SourceError::Ambiguous { .. }) if !id_hex.is_empty() => {
                        docker_archive::resolve(&*export, Some(id_hex), &w.shown)?
                    }
                    other => other?,
                }
            } else {
                match docker_archive::resolve_exported(&*export, id_hex, w.name, &w.shown)? {
                    Some(image) => image,
                    // Not told apart among the others: exported again, alone.
                    None => {
                        opened.extend(self.open_all(std::slice::from_ref(w), scan)?);
                        continue;
                    }
                }
            };
            opened.push(self.opened(image, inspect, w, &export)?);
        }
        Ok(opened)
    }

    /// `GET /images/{name}/get` for one name, `GET /images/get?names=…&names=…` for
    /// several (one archive, each layer once), read and scanned as it streams.
    fn export(
        &self,
        names: &[&str],
        shown: &str,
        scan: &StreamScan,
    ) -> Result<Arc<Export>, SourceError> {
        let path = match names {
            [one] => format!("/images/{one}/get"),
            // Names hold only `[A-Za-z0-9._-/:@]` (`check_name`): nothing to escape.
            many => format!(
                "/images/get?{}",
                many.iter()
                    .map(|n| format!("names={n}"))
                    .collect::<Vec<_>>()
                    .join("&")
            ),
        };
        let all = names.join(", ");
        let resp = self.client.get_api(&path, "export")?;
        if resp.status == 404 {
            return Err(self.no_such_image(&all).into());
        }
        if resp.status != 200 {
            let status = resp.status;
            return Err(EngineError::Status {
                address: self.address(),
                what: format!("export {all}"),
                status,
                message: self.client.read_error(resp),
            }
            .into());
        }
        let stream = self.client.stream(resp);
        match Export::read(stream, shown, scan) {
            Ok(e) => Ok(Arc::new(e)),
            Err(StreamError::Truncated(msg)) => Err(EngineError::Truncated {
                address: self.address(),
                name: all,
                msg,
            }
            .into()),
            Err(StreamError::Other(e)) => Err(e),
        }
    }

    /// An image resolved from the export, as the report shows it: where it came
    /// from, its registry digests, and the platform checked against its config.
    fn opened(
        &self,
        mut image: ResolvedImage,
        inspect: Inspect,
        wanted: &Wanted<'_>,
        export: &Arc<Export>,
    ) -> Result<Opened, SourceError> {
        let config = &image.config;
        let have = Platform {
            os: config.os.clone(),
            architecture: config.architecture.clone(),
            variant: config.variant.clone(),
        };
        check_platform(wanted.platform, &have, &wanted.shown)?;
        image.info.format = self.kind.transport().to_string();
        image.info.repo_digests = inspect.repo_digests;
        if image.info.name.is_none() {
            image.info.name = inspect.repo_tags.into_iter().next();
        }
        Ok(Opened {
            image,
            blobs: Box::new(SharedExport(Arc::clone(export))),
        })
    }
}

/// An engine keeps one platform under a name (and Docker 20.10's export takes no
/// platform): one asked for that is not the one held is an error, never another
/// platform's figures.
fn check_platform(
    want: Option<&Platform>,
    have: &Platform,
    shown: &str,
) -> Result<(), SourceError> {
    match want {
        Some(want) if !want.matches(have) => Err(SourceError::NoPlatform {
            source_name: shown.to_string(),
            wanted: want.to_string(),
            present: format!(
                "{} (an engine holds one platform per name)",
                have.normalized()
            ),
        }),
        _ => Ok(()),
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
