//! OCI index and manifest documents (also Docker's v2 schema, which has the same
//! shape), and the entries of a docker-save `manifest.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Digest, MediaType, Platform};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default = "empty_media_type")]
    pub media_type: MediaType,
    pub digest: Digest,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn empty_media_type() -> MediaType {
    MediaType::Other(String::new())
}

pub(super) const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub(super) const CONTAINERD_NAME: &str = "io.containerd.image.name";

impl Descriptor {
    pub(crate) fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).map(String::as_str)
    }

    pub(crate) fn image_name(&self) -> Option<&str> {
        self.annotations.get(CONTAINERD_NAME).map(String::as_str)
    }

    /// The declared size, refusing negative values.
    pub(crate) fn declared_size(&self) -> Option<u64> {
        self.size.and_then(|s| u64::try_from(s).ok())
    }
}

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// An OCI image manifest or a Docker v2 schema 2 manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// One image in a docker-save `manifest.json` (an array of these).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DockerSaveEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub(crate) repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Vec<String>,
    /// Docker 25+ records the layer media types and sizes here.
    #[serde(rename = "LayerSources", default)]
    pub(crate) layer_sources: Option<BTreeMap<String, Descriptor>>,
}
