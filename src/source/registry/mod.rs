//! The registry source: `docker://REGISTRY/REPO[:TAG|@DIGEST]`. Resolves the
//! reference to verified documents (index → manifest → config, every digest checked)
//! and a [`BlobSource`](crate::source::BlobSource) that streams layers over HTTP.
//! tokio lives only here: callers see the same synchronous `Opened` an archive gives,
//! so figures do not depend on where the image came from.
//!
//! - `target`: what a reference names (oci-client parses it), plain HTTP or TLS.
//! - `credentials`: flags, environment, Docker and podman configs.
//! - `client`: the runtime, authentication, retries, timeouts.
//! - `blobs`: layer streaming through a bounded channel, digests checked on the way.

mod blobs;
mod client;
pub(crate) mod credentials;
mod error;
mod target;

use std::collections::HashSet;
use std::sync::Arc;

pub(crate) use credentials::Credentials;
pub(crate) use error::RegistryError;

use crate::image::ImageInfo;
use crate::image::{parse_json, Descriptor, Digest, Index, Manifest, MediaType, Platform};

use super::{DocumentNames, OpenOptions, Opened, ResolvedImage, SourceError};
use blobs::RegistryBlobs;
use client::{edge, Client};
use target::Target;

/// What a registry needs beyond the platform: who we are and whom to trust over HTTP.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `--creds USER:PASS`; otherwise the environment and the Docker/podman configs.
    pub creds: Option<Credentials>,
    /// `--insecure-registry HOST[:PORT]`: plain HTTP (loopback always is).
    pub insecure: Vec<String>,
}

/// Every manifest kind we can read, indexes first so a multi-arch tag is not
/// down-converted by the registry.
const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Nested indexes deeper than this are refused (real ones nest once).
const MAX_INDEX_DEPTH: usize = 8;

/// Opens `rest` (the reference without `docker://`): fetches and verifies the
/// documents now; layers are pulled only when the scanner asks for them.
pub(crate) fn open(rest: &str, opts: &OpenOptions) -> Result<Opened, SourceError> {
    let target = Target::parse(rest, &opts.registry.insecure)?;
    let creds = credentials::resolve(&target.registry, opts.registry.creds.as_ref())?;
    let shown = format!("docker://{rest}");
    let edge = edge()?;
    let (client, image) = edge.rt.block_on(async {
        let client = Client::connect(target, creds).await?;
        let image = resolve(&client, opts, shown).await?;
        Ok::<_, SourceError>((client, image))
    })?;
    Ok(Opened {
        image,
        blobs: Box::new(RegistryBlobs {
            client: Arc::new(client),
        }),
    })
}

/// The platforms of a multi-arch reference (its index's entries, see
/// `oci_layout::listed`); `None` when it names one image, whose platform its config
/// says (the caller opens it to learn which).
pub(super) fn platforms(
    rest: &str,
    opts: &OpenOptions,
) -> Result<Option<Vec<Platform>>, SourceError> {
    let target = Target::parse(rest, &opts.registry.insecure)?;
    let creds = credentials::resolve(&target.registry, opts.registry.creds.as_ref())?;
    let edge = edge()?;
    edge.rt.block_on(async {
        let client = Client::connect(target, creds).await?;
        let target = &client.target;
        let src = target.name();
        let reference = &target.reference;
        let what = format!("manifest {reference}");
        let (bytes, header) = manifest_document(&client, reference, &what).await?;
        verify(
            &bytes,
            target.digest.as_ref().or(header.as_ref()),
            &format!("{src}: {what}"),
        )?;
        let value: serde_json::Value = parse_json(&bytes).map_err(|msg| bad(&src, &what, msg))?;
        if !is_index(&value) {
            return Ok(None);
        }
        let index: Index =
            serde_json::from_value(value).map_err(|e| bad(&src, &what, e.to_string()))?;
        Ok(Some(super::oci_layout::listed(&index.manifests)))
    })
}

/// The manifest or index `reference` names, and the digest the registry claims
/// for it (`Docker-Content-Digest`; a tag carries none of its own). Not yet verified.
async fn manifest_document(
    client: &Client,
    reference: &str,
    what: &str,
) -> Result<(Vec<u8>, Option<Digest>), SourceError> {
    let (bytes, headers) = client
        .document(
            &format!("manifests/{reference}"),
            MANIFEST_ACCEPT,
            what,
            crate::image::MAX_JSON_BYTES,
        )
        .await?;
    let header = headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Digest::parse(v).ok());
    Ok((bytes, header))
}

async fn resolve(
    client: &Client,
    opts: &OpenOptions,
    shown: String,
) -> Result<ResolvedImage, SourceError> {
    let target = &client.target;
    let src = target.name();
    let mut reference = target.reference.clone();
    let mut expected: Option<Descriptor> = None;
    let mut seen = HashSet::new();
    let (manifest_digest, manifest) = loop {
        let what = format!("manifest {reference}");
        let (bytes, header) = manifest_document(client, &reference, &what).await?;
        // Verify against what we asked for (a digest reference or index entry), else
        // against what the registry claims; tags carry no digest of their own.
        let want = expected
            .as_ref()
            .map(|d| d.digest.clone())
            .or_else(|| target.digest.clone())
            .or(header);
        let digest = verify(&bytes, want.as_ref(), &format!("{src}: {what}"))?;
        if let Some(d) = &expected {
            check_size(d, bytes.len() as u64, &format!("{src}: {what}"))?;
        }
        if !seen.insert(digest.clone()) || seen.len() > MAX_INDEX_DEPTH {
            return Err(bad(
                &src,
                &what,
                "indexes refer to each other in a cycle or nest too deep".into(),
            ));
        }
        let value: serde_json::Value = parse_json(&bytes).map_err(|msg| bad(&src, &what, msg))?;
        if is_index(&value) {
            let index: Index =
                serde_json::from_value(value).map_err(|e| bad(&src, &what, e.to_string()))?;
            let next = super::oci_layout::pick_platform(
                &index.manifests,
                opts,
                &format!("{src} (index {digest})"),
            )?
            .clone();
            reference = next.digest.to_string();
            expected = Some(next);
            continue;
        }
        let manifest: Manifest =
            serde_json::from_value(value).map_err(|e| bad(&src, &what, e.to_string()))?;
        break (digest, manifest);
    };

    let config_what = format!("config {}", manifest.config.digest);
    let (config_bytes, _) = client
        .document(
            &format!("blobs/{}", manifest.config.digest),
            &[],
            &config_what,
            crate::image::MAX_JSON_BYTES,
        )
        .await?;
    verify(
        &config_bytes,
        Some(&manifest.config.digest),
        &format!("{src}: {config_what}"),
    )?;
    check_size(
        &manifest.config,
        config_bytes.len() as u64,
        &format!("{src}: {config_what}"),
    )?;
    let names = DocumentNames {
        manifest: format!("{src}: manifest {manifest_digest}"),
        config: format!("{src}: {config_what}"),
    };
    let info = ImageInfo {
        name: Some(src),
        manifest_digest: Some(manifest_digest.clone()),
        ..ImageInfo::new(shown, "registry", manifest.config.digest.clone())
    };
    ResolvedImage::from_manifest(info, &manifest, &names, &config_bytes, |d| {
        Ok(d.digest.to_string())
    })
}

fn is_index(value: &serde_json::Value) -> bool {
    let declared = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .map(MediaType::parse);
    declared.as_ref().is_some_and(MediaType::is_index)
        || (value.get("manifests").is_some() && value.get("layers").is_none())
}

/// The digest of `bytes` (in the algorithm of `want`, sha256 without one), refusing
/// a mismatch.
fn verify(bytes: &[u8], want: Option<&Digest>, what: &str) -> Result<Digest, SourceError> {
    let Some(want) = want else {
        return Ok(Digest::sha256_of(bytes));
    };
    let mut h = want.hasher();
    h.update(bytes);
    let got = h.finish();
    if &got != want {
        return Err(SourceError::DigestMismatch {
            what: what.to_string(),
            expected: want.to_string(),
            actual: got.to_string(),
        });
    }
    Ok(got)
}

fn check_size(d: &Descriptor, actual: u64, what: &str) -> Result<(), SourceError> {
    match d.declared_size() {
        Some(declared) if declared != actual => Err(SourceError::SizeMismatch {
            what: what.to_string(),
            declared,
            actual,
        }),
        _ => Ok(()),
    }
}

fn bad(src: &str, what: &str, msg: String) -> SourceError {
    SourceError::BadDocument {
        what: format!("{src}: {what}"),
        msg,
    }
}
